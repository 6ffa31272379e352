# Sintel human sequences (paper: alley_2, bamboo_2, cave_2, cave_4, final
# pass): dense flow ground truth, no pose annotations; the refiner's pose
# comes from a frame estimator in `pose_estimators` or from `estimates_dir`.
dataset_type = 'SintelClipDataset'
data_root = 'data/sintel/training'

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
        pass_name='final',
        sequences=('alley_2', 'bamboo_2', 'cave_2', 'cave_4'),
        clip_length=10))
# mmengine builds a validation loop only from all three val_* keys
val_dataloader = test_dataloader
val_cfg = dict(type='ValLoop')

test_evaluator = [
    dict(
        type='PerCycleMetric',
        metric=dict(type='EndPointError', mode='dense')),
]
val_evaluator = test_evaluator
