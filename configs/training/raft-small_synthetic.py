# A small mmflow RAFT (RAFT-S widths: 1.1 M parameters, 8 GRU iterations)
# trained on CPU with mmengine's Runner and mmflow's SequenceLoss on frame
# pairs rendered by make_clip (SyntheticFlowDataset). For the offline demo
# and the benchmarks, not for real-world accuracy.
#   python tools/train_flow.py configs/training/raft-small_synthetic.py
_base_ = ['mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py']
default_scope = 'mmflowpose'

# runtime
max_iters = 700
val_interval = 350
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
    val_interval=val_interval)
log_processor = dict(by_epoch=False, window_size=20)
env_cfg = dict(
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=1),
    dist_cfg=dict(backend='gloo'))

# optimizer (mmflow's RAFT schedule: AdamW, clip 1.0)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=4e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=1.0))

# learning policy
param_scheduler = dict(
    _delete_=True,
    type='OneCycleLR',
    eta_max=4e-4,
    total_steps=max_iters + 10,
    pct_start=0.05,
    anneal_strategy='linear',
    by_epoch=False)

# hooks
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=val_interval,
        save_best='flow/EPE',
        rule='less',
        max_keep_ckpts=1),
    visualization=dict(
        _delete_=True, _scope_='mmflow', type='FlowVisualizationHook',
        draw=False))

# model settings: RAFT-S (Small encoders and update block, radius 3,
# bilinear upsampling) at 1/8 resolution
image_size = (96, 128)
model = dict(
    _delete_=True,
    _scope_='mmflow',
    type='RAFT',
    data_preprocessor=dict(
        type='FlowDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        bgr_to_rgb=False),
    num_levels=4,
    radius=3,
    cxt_channels=64,
    h_channels=96,
    encoder=dict(
        type='RAFTEncoder',
        in_channels=3,
        out_channels=128,
        net_type='Small',
        norm_cfg=dict(type='IN'),
        init_cfg=[
            dict(type='Kaiming', layer=['Conv2d'], mode='fan_out',
                 nonlinearity='relu'),
            dict(type='Constant', layer=['InstanceNorm2d'], val=1, bias=0)
        ]),
    cxt_encoder=dict(
        type='RAFTEncoder',
        in_channels=3,
        out_channels=160,
        net_type='Small',
        norm_cfg=dict(type='BN'),
        init_cfg=[
            dict(type='Kaiming', layer=['Conv2d'], mode='fan_out',
                 nonlinearity='relu'),
            dict(type='Constant', layer=['BatchNorm2d'], val=1, bias=0)
        ]),
    decoder=dict(
        type='RAFTDecoder',
        net_type='Small',
        num_levels=4,
        radius=3,
        iters=8,
        corr_op_cfg=dict(type='CorrLookup', align_corners=True),
        gru_type='Conv',
        flow_loss=dict(type='SequenceLoss', gamma=0.8, max_flow=400.0),
        act_cfg=dict(type='ReLU')),
    freeze_bn=False,
    train_cfg=dict(),
    test_cfg=dict(iters=8))

# base dataset settings: rendered once into data_root by tools/train_flow.py
dataset_type = 'SyntheticFlowDataset'
data_root = 'work_dirs/synthetic_flow_cache'
# Same held-out motions as the lifter (subject 07's walk, the backflip).
flow_cache = dict(
    mocap_root='../shared/fixtures/mocap/',
    splits=dict(
        train=[
            'assimp/01_01.bvh', 'bvh11/131_01.bvh',
            'animated_drawings/jumping_jacks.bvh',
            'gsimchoni_mocap/lambada.amc', 'gsimchoni_mocap/pirouette.amc',
            'usc_cs520_starter/09_06-run.amc',
            'usc_cs520_starter/131_04-dance.amc',
            'usc_cs520_starter/135_06-martialArts.amc', 'procedural:walk',
            'procedural:jumping_jacks'
        ],
        val=[
            'usc_cs520_starter/07_05-walk.amc', 'gsimchoni_mocap/backflip.amc'
        ]),
    clips_per_split=dict(train=100, val=16),
    frames_per_clip=5,
    # most clips orbit (1-4 deg/frame): with mostly static backgrounds the
    # L1 sequence loss is minimised by zero flow and training collapsed to
    # it (|pred| ~ 0.003 px after 900 iterations)
    camera_ranges=dict(orbit_prob=0.8, orbit_deg_per_frame=(1.0, 4.0)),
    image_size=image_size,
    seed=0)

# pipelines: mmflow transforms (the datasets are built in our scope, so
# each transform names mmflow's). No colour jitter: mmflow's ColorJitter
# needs torchvision.
train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal',
         _scope_='mmflow'),
    dict(type='Validation', max_flow=400.0, _scope_='mmflow'),
    dict(type='PackFlowInputs', _scope_='mmflow')
]
val_pipeline = [
    dict(type='InputPad', exponent=3, _scope_='mmflow'),
    dict(
        type='PackFlowInputs',
        _scope_='mmflow',
        meta_keys=('img1_path', 'img2_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'pad', 'pad_shape', 'flip',
                   'flip_direction', 'human_mask'))
]

# data loaders
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        _scope_='mmflowpose',
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
# batch 1: mmflow 1.0.0rc0's BaseDecoder.postprocess_result returns inside
# its loop, so only the first sample of a batch gets a prediction
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        _scope_='mmflowpose',
        data_root=data_root,
        split='val',
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

# evaluators (ours: sums and counts; EPE on and off the person)
val_evaluator = dict(
    _delete_=True, type='EndPointError', mode='human', _scope_='mmflowpose')
test_evaluator = val_evaluator
