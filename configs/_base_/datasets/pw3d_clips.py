# 3DPW test clips (one person per clip). Ground truth: SMPL joints mapped to
# H36M-17 (see mmflowpose/datasets/pw3d_clips.py); detections: 3DPW's
# OpenPose 2D poses. Flow ground truth only at joints (sparse EPE).
_base_ = ['./clip_evaluators.py']

dataset_type = 'PW3DClipDataset'
data_root = 'data/3dpw/'

test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='mmflowpose.clip_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        clip_len=50,
        pipeline=[dict(type='PackClipInputs')]))
# mmengine builds a validation loop only from all three val_* keys
val_dataloader = test_dataloader
val_cfg = dict(type='ValLoop')
