# 3DPW test clips (one person per clip). Ground truth: SMPL joints mapped to
# H36M-17 (see mmflowpose/datasets/pw3d_clips.py); detections: 3DPW's
# OpenPose 2D poses. Flow ground truth only at joints (sparse EPE).
dataset_type = 'PW3DClipDataset'
data_root = 'data/3dpw/'

test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='mmflowpose.clip_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', clip_len=50))
val_dataloader = test_dataloader

_eval_joints = ('right_hip', 'right_knee', 'right_foot', 'left_hip',
                'left_knee', 'left_foot', 'thorax', 'head', 'left_shoulder',
                'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow',
                'right_wrist')
test_evaluator = [
    dict(
        type='PerCycleMetric',
        metric=dict(
            type='MPJPEMetric', root_joint=0, joint_names=_eval_joints)),
    dict(
        type='PerCycleMetric',
        metric=dict(
            type='PMPJPEMetric', root_joint=0, joint_names=_eval_joints)),
    dict(type='PerCycleMetric', metric=dict(type='AccelErrorMetric')),
    dict(
        type='PerCycleMetric',
        per_pair=True,
        metric=dict(type='EndPointError', mode='sparse')),
]
val_evaluator = test_evaluator
