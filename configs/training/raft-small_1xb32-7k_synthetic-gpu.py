# The recipe of the shipped checkpoints/raft-small_synthetic.pth: the same
# RAFT-S as raft-small_synthetic.py trained on one GPU (an H200) with
# batch 32 for 7075 iterations, on 96x128 clips and 160x224 crops of
# 192x256 clips (half the batches each), people larger in frame.
#   python tools/train_flow.py \
#       configs/training/raft-small_1xb32-7k_synthetic-gpu.py \
#       --device cuda:0 --out checkpoints/raft-small_synthetic.pth
# Validation: the 16 held-out clips (64 pairs, 96x128) of
# raft-small_synthetic.py, unchanged. checkpoints/README.md has the numbers.
_base_ = ['./raft-small_synthetic.py']

custom_imports = dict(
    imports=['mmflowpose.datasets.source_batch_sampler'],
    allow_failed_imports=False)

# runtime (the GPU run stopped on a wall-clock budget after 7075 steps)
max_iters = 7075
val_interval = 1000
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(checkpoint=dict(interval=val_interval))

# optimizer: AdamW 4e-4, weight decay 1e-4, gradient clip 1 (the base's)

# learning policy: linear one-cycle, 5% warm-up from lr / 25, down to
# lr / 25 / 1e4 at the last step
param_scheduler = dict(
    eta_max=4e-4,
    total_steps=max_iters,
    pct_start=0.05,
    div_factor=25.0,
    final_div_factor=1e4)

# data: training clips in two caches (one per size), rendered with the GPU
# run's cameras: elevation -5..30 deg, 3-6 m, the person filling 60-98% of
# the frame, 67% orbiting at 0.5-4.5 deg/frame; the validation cache is
# the base config's (cameras of render_flow_cache with its overrides)
train_motions = [
    'assimp/01_01.bvh', 'bvh11/131_01.bvh',
    'animated_drawings/jumping_jacks.bvh', 'gsimchoni_mocap/lambada.amc',
    'gsimchoni_mocap/pirouette.amc', 'usc_cs520_starter/09_06-run.amc',
    'usc_cs520_starter/131_04-dance.amc',
    'usc_cs520_starter/135_06-martialArts.amc', 'procedural:walk',
    'procedural:jumping_jacks'
]
train_ranges = dict(
    elevation_deg=(-5.0, 30.0),
    distance=(3.0, 6.0),
    fill=(0.6, 0.98),
    orbit_prob=0.67,
    orbit_deg_per_frame=(0.5, 4.5))
small_root = 'work_dirs/synthetic_flow_gpu_96x128'
large_root = 'work_dirs/synthetic_flow_gpu_192x256'
train_cache = dict(
    mocap_root='../shared/fixtures/mocap/',
    splits=dict(train=train_motions),
    frames_per_clip=5,
    camera_ranges=train_ranges)
flow_cache = [
    # the base config's validation clips (its data_root, cameras, seed;
    # a clip's seed follows its split's position, so train is listed)
    dict(
        mocap_root='../shared/fixtures/mocap/',
        splits=dict(
            train=train_motions,
            val=[
                'usc_cs520_starter/07_05-walk.amc',
                'gsimchoni_mocap/backflip.amc'
            ]),
        clips_per_split=dict(train=0, val=16),
        frames_per_clip=5,
        camera_ranges=dict(orbit_prob=0.8, orbit_deg_per_frame=(1.0, 4.0)),
        image_size=(96, 128),
        seed=0),
    dict(train_cache, data_root=small_root, image_size=(96, 128),
         clips_per_split=dict(train=1111), seed=1000),
    dict(train_cache, data_root=large_root, image_size=(192, 256),
         clips_per_split=dict(train=1110), seed=1001),
]

# pipelines: mmflow's transforms; flips on both sizes, 160x224 random crops
# of the large clips. The GPU run's brightness/contrast jitter is left out
# (mmflow's ColorJitter needs torchvision).
flip = dict(type='RandomFlip', prob=0.5, direction='horizontal',
            _scope_='mmflow')
check = dict(type='Validation', max_flow=400.0, _scope_='mmflow')
pack = dict(type='PackFlowInputs', _scope_='mmflow')
train_dataloader = dict(
    batch_size=32,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    # a batch holds one size (SourceBatchSampler buckets by dataset; the
    # DataLoader then takes no drop_last of its own)
    batch_sampler=dict(type='SourceBatchSampler', _scope_='mmflowpose'),
    drop_last=False,
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(type='SyntheticFlowDataset', _scope_='mmflowpose',
                 data_root=small_root, split='train',
                 pipeline=[flip, check, pack]),
            dict(type='SyntheticFlowDataset', _scope_='mmflowpose',
                 data_root=large_root, split='train',
                 pipeline=[
                     dict(type='RandomCrop', crop_size=(160, 224),
                          _scope_='mmflow'), flip, check, pack
                 ]),
        ]))
