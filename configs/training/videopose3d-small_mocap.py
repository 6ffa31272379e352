# VideoPose3D (mmpose PoseLifter + TCN, 27 frames) at 1/4 width, trained on
# CPU with mmengine's Runner on 2D->3D pairs made from CMU mocap seen
# through random perspective cameras (MocapLiftingDataset). For the offline
# demo and the benchmarks, not for real-world accuracy.
#   python tools/train_lifter.py configs/training/videopose3d-small_mocap.py
_base_ = [
    'mmpose::body_3d_keypoint/video_pose_lift/h36m/'
    'video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py'
]
default_scope = 'mmflowpose'

# runtime
max_iters = 4000
val_interval = 1000
train_cfg = dict(
    _delete_=True, by_epoch=False, max_iters=max_iters,
    val_interval=val_interval)
log_processor = dict(by_epoch=False, window_size=50)
env_cfg = dict(
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=1),
    dist_cfg=dict(backend='gloo'))

# optimizer
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))

# learning policy: x0.1 over the run (mmpose: 0.975 per epoch for 80)
param_scheduler = [
    dict(
        type='ExponentialLR',
        gamma=0.1**(1.0 / max_iters),
        by_epoch=False,
        end=max_iters)
]
auto_scale_lr = dict(enable=False, base_batch_size=1024)

# hooks
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=val_interval,
        save_best='MPJPE',
        rule='less',
        max_keep_ckpts=1),
    logger=dict(type='LoggerHook', interval=50))

# codec settings
codec = dict(
    type='VideoPoseLifting',
    num_keypoints=17,
    zero_center=True,
    root_index=0,
    remove_root=False)

# model settings: 1/4 of the width of the mmpose config (1024 -> 256)
model = dict(
    backbone=dict(stem_channels=256),
    head=dict(in_channels=256, decoder=codec))

# base dataset settings
dataset_type = 'MocapLiftingDataset'
data_root = '../shared/fixtures/mocap/'
metainfo = dict(from_file='configs/_base_/datasets/h36m.py')
# Held out: subject 07 (walk, no other clip of it) and the backflip (a
# motion unlike any training clip), so validation measures generalisation
# to a new body and a new movement. Everything else trains.
train_clips = [
    'assimp/01_01.bvh',
    'bvh11/131_01.bvh',
    'animated_drawings/jumping_jacks.bvh',
    'gsimchoni_mocap/lambada.amc',
    'gsimchoni_mocap/pirouette.amc',
    'usc_cs520_starter/09_06-run.amc',
    'usc_cs520_starter/131_04-dance.amc',
    'usc_cs520_starter/135_06-martialArts.amc',
] + [f'procedural:{kind}:{seed}' for kind in ('walk', 'jumping_jacks')
     for seed in range(4)]
val_clips = [
    'usc_cs520_starter/07_05-walk.amc',
    'gsimchoni_mocap/backflip.amc',
]

# pipelines: a mirrored camera. 2D x flips about the image centre (px) and
# 3D x about the optical axis (camera metres), as VideoPose3D does. (The
# mmpose config flips both about x = 0.5, which sends flipped 2D inputs
# ~1000 px off the image; its 'root' mode fails on (T, K, 2) inputs.)
image_size = (1000, 1000)
train_pipeline = [
    dict(
        type='RandomFlipAroundRoot',
        keypoints_flip_cfg=dict(
            center_mode='static', center_x=(image_size[1] - 1) / 2.0),
        target_flip_cfg=dict(center_mode='static', center_x=0.0)),
    dict(type='GenerateTarget', encoder=codec),
    dict(
        type='PackPoseInputs',
        meta_keys=('id', 'category_id', 'target_img_path', 'flip_indices',
                   'target_root'))
]
val_pipeline = [
    dict(type='GenerateTarget', encoder=codec),
    dict(
        type='PackPoseInputs',
        meta_keys=('id', 'category_id', 'target_img_path', 'flip_indices',
                   'target_root'))
]

# data loaders
train_dataloader = dict(
    _delete_=True,
    batch_size=128,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        _scope_='mmflowpose',
        clips=train_clips,
        data_root=data_root,
        seq_len=27,
        causal=False,
        fps=50.0,
        noise_std=2.0,
        camera_ranges=dict(image_size=image_size),
        metainfo=metainfo,
        pipeline=train_pipeline))
val_dataloader = dict(
    _delete_=True,
    batch_size=256,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        _scope_='mmflowpose',
        clips=val_clips,
        data_root=data_root,
        seq_len=27,
        causal=False,
        fps=50.0,
        noise_std=2.0,
        cameras_per_sample=4,
        camera_ranges=dict(image_size=image_size),
        seed=1,
        metainfo=metainfo,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

# evaluators (ours: no file-name parsing; mm)
val_evaluator = [
    dict(type='MPJPEMetric', _scope_='mmflowpose'),
    dict(type='PMPJPEMetric', _scope_='mmflowpose')
]
test_evaluator = val_evaluator
