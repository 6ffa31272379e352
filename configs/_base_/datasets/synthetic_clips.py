# Clips the project renders itself (no download, identical on every
# machine): a capsule body moving with procedural motion (walks and jumping
# jacks, not seen by the shipped networks' training runs with these seeds),
# seen by a perspective camera, with exact 3D joints, dense flow, occlusion
# and person masks. The 2D detections and initial 3D of each clip come from
# the estimator-noise model (datasets/estimate_noise.py); configs with a
# lifter in `pose_estimators` lift the noisy 2D detections instead.
dataset_type = 'SyntheticClipDataset'

test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='mmflowpose.clip_collate'),
    dataset=dict(
        type=dataset_type,
        motions=('procedural:walk', 'procedural:jumping_jacks'),
        num_clips=2,
        num_frames=12,
        image_size=(128, 160),
        seed=1000))
val_dataloader = test_dataloader
val_cfg = dict(type='ValLoop')

# exact ground truth everywhere: MPJPE / P-MPJPE on the 14 evaluation joints
# (hip-aligned), acceleration error, and dense EPE on the person and the
# background separately
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
        metric=dict(type='EndPointError', mode='human')),
]
val_evaluator = test_evaluator
