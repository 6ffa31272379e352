# Per-cycle metrics for H36M-17 clips: MPJPE and P-MPJPE on the paper's 14
# joints (hip-aligned), acceleration error, and EPE at the joints (sparse: the
# flow ground truth of H36M and 3DPW exists only there).
_eval_joints = ('right_hip', 'right_knee', 'right_foot', 'left_hip',
                'left_knee', 'left_foot', 'thorax', 'head', 'left_shoulder',
                'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow',
                'right_wrist')
# pose metrics every clip dataset with 3D ground truth reports
pose_evaluators = [
    dict(
        type='PerCycleMetric',
        metric=dict(
            type='MPJPEMetric', root_joint=0, joint_names=_eval_joints)),
    dict(
        type='PerCycleMetric',
        metric=dict(
            type='PMPJPEMetric', root_joint=0, joint_names=_eval_joints)),
    dict(type='PerCycleMetric', metric=dict(type='AccelErrorMetric')),
]
test_evaluator = pose_evaluators + [
    dict(
        type='PerCycleMetric',
        metric=dict(type='EndPointError', mode='sparse')),
]
val_evaluator = test_evaluator
