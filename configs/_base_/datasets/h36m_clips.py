# Human3.6M clips, the paper's protocol: S9/S11, camera 60457274, every 5th
# frame (mmpose's converter keeps every 5th: annotation_body3d/fps10), 14
# joints, hip-aligned MPJPE; flow ground truth only at joints (sparse EPE).
# Prepare the data as in docs/en/datasets.md.
dataset_type = 'H36MClipDataset'
data_root = 'data/h36m/'

test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='mmflowpose.clip_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotation_body3d/fps10/h36m_test.npz',
        camera_param_file='annotation_body3d/cameras.pkl',
        detection_file=None,
        subjects=('S9', 'S11'),
        cameras=('60457274', ),
        frame_stride=1,
        clip_len=50,
    ))
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
    # flow ground truth exists only at the joints: sparse EPE
    dict(
        type='PerCycleMetric',
        per_pair=True,
        metric=dict(type='EndPointError', mode='sparse')),
]
val_evaluator = test_evaluator
