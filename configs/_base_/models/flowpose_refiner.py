# The refinement loop with the paper's settings (BMVC 2022); leaf configs
# add pose_estimators and flow_networks.
model = dict(
    type='FlowPoseRefiner',
    num_cycles=2,
    skeleton='h36m',
    pose_optimizer=dict(
        type='PoseOptimizer',
        camera='weak',
        # the solver's optimiser, built through mmengine's OptimWrapper
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
        max_steps=1500,
        flow_loss=dict(type='FlowConsistencyLoss', loss_weight=0.01),
        reprojection_loss=dict(type='Reprojection2DLoss', loss_weight=0.01),
        pose3d_loss=dict(type='Pose3DConsistencyLoss', loss_weight=400.),
        temporal_loss=dict(type='TemporalLoss'),
    ),
    # 22 points per bone written into ~30 px squares (paper); scale them
    # down for low-resolution video (see docs/en/configs.md)
    sketch_head=dict(
        type='PoseSketchFlowHead',
        points_per_bone=22,
        square_size=31,
        score_thr=0.3),
    # the optimiser comes from mmengine's OPTIMIZERS through an OptimWrapper
    # (an `lr` key, still accepted, overrides its learning rate)
    flow_finetuner=dict(
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-5)),
        passes=3,
        batch_size=2,
        bn_mode='eval'),
)
