# Clips the project renders itself (no download, identical on every
# machine): a capsule body moving with procedural motion (walks and jumping
# jacks, not seen by the shipped networks' training runs with these seeds),
# seen by a perspective camera, with exact 3D joints, dense flow, occlusion
# and person masks. The 2D detections and initial 3D of each clip come from
# the estimator-noise model (datasets/synthetic/estimate_noise.py);
# configs with a lifter in `pose_estimators` lift the noisy 2D detections
# instead.
_base_ = ['./clip_evaluators.py']

dataset_type = 'SyntheticClipDataset'

test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='mmflowpose.clip_collate'),
    dataset=dict(
        type=dataset_type,
        pipeline=[dict(type='PackClipInputs')],
        motions=('procedural:walk', 'procedural:jumping_jacks'),
        num_clips=2,
        num_frames=12,
        image_size=(128, 160),
        seed=1000))
val_dataloader = test_dataloader
val_cfg = dict(type='ValLoop')

# exact ground truth everywhere: the pose metrics of the other clip datasets
# (clip_evaluators.py) and dense EPE on the person and the background
# separately
test_evaluator = _base_.pose_evaluators + [
    dict(
        type='PerCycleMetric',
        metric=dict(type='EndPointError', mode='human')),
]
val_evaluator = test_evaluator
