# Human3.6M clips, the paper's protocol: S9/S11, camera 60457274, every 5th
# frame (mmpose's converter keeps every 5th: annotation_body3d/fps10), 14
# joints, hip-aligned MPJPE; flow ground truth only at joints (sparse EPE).
# Prepare the data as in docs/en/datasets.md.
_base_ = ['./clip_evaluators.py']

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
        pipeline=[dict(type='PackClipInputs')],
        data_root=data_root,
        ann_file='annotation_body3d/fps10/h36m_test.npz',
        camera_param_file='annotation_body3d/cameras.pkl',
        detection_file=None,
        subjects=('S9', 'S11'),
        cameras=('60457274', ),
        frame_stride=1,
        clip_len=50,
    ))
# mmengine builds a validation loop only from all three val_* keys
val_dataloader = test_dataloader
val_cfg = dict(type='ValLoop')
