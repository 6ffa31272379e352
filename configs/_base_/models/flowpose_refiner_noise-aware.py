# The refinement loop with noise-aware weights (issue 13): every term of the
# pose step is a robust negative log-likelihood in units of its measurement
# noise (mmflowpose/models/pose_optim/noise_aware_objective.py). The paper's
# fixed weights stay in flowpose_refiner.py (the ``paper`` preset).
_base_ = ['./flowpose_refiner.py']
model = dict(
    # each cycle continues from the previous one; the anchors to the
    # initial estimate keep their weight (annealing was picked on the
    # benchmark's validation clips from 1.0/0.85/0.7/0.5: 1.0 won for both
    # estimators); the backward flow gives forward-backward confidences
    warm_start=True,
    anchor_anneal=1.0,
    backward_flow=True,
    pose_optimizer=dict(
        _delete_=True,
        type='PoseOptimizer',
        camera='weak',
        # the solver's optimiser, built through mmengine's OptimWrapper
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
        max_steps=1500,
        weighting='noise_aware',
        noise=dict(
            # px noise of the detections and of the flow at the joints:
            # measured on each clip (no ground truth needed)
            sigma_2d='auto',
            sigma_flow='auto',
            # 3D noise levels (metres) calibrated on the accuracy
            # benchmark's VALIDATION clips for the small trained lifter
            # (benchmarks/accuracy.py, docs/en/results/results.json:
            # setups.<lifter>.calibration); recalibrate for another
            # estimator with pose_optim.calibrate_pose_noise
            sigma_3d=0.027,
            sigma_vel=0.010,
            sigma_acc=0.005)))
