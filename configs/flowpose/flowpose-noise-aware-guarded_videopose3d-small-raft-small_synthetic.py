# The offline evaluation of flowpose_videopose3d-small-raft-small_synthetic.py
# with both directions of the method as this project measured them best:
# - pose from flow: the noise-aware pose step (every term a robust negative
#   log-likelihood in units of its measured noise, warm-started cycles,
#   forward-backward confidences from the backward flow);
# - flow from pose: the guarded flow step (the sketch paints capsules along
#   the limbs only where the network's own flow fails its checks, the flow
#   head is fine-tuned with a distillation term that keeps the background,
#   and a self-supervised guard rolls back a step that does not help).
# Settings from docs/en/results (chosen on validation motions, not on these
# clips). About 3 min on 2 CPU cores, most of it in fine-tuning.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/synthetic_clips.py',
    '../_base_/models/offline_nets.py',
    '../_base_/models/flowpose_refiner_noise-aware.py'
]

model = dict(
    num_cycles=2,
    pose_estimators=[{{_base_.videopose3d_small}}],
    flow_networks=[{{_base_.raft_small}}],
    pose_optimizer=dict(max_steps=300),
    # capsules along the limbs (radius 2% of the person's size) replace the
    # squares; paint only where the network's warping error exceeds 5
    sketch_head=dict(
        square_size=3, square_scale=0.03, limb_scale=0.02, photo_thr=5.0),
    flow_finetuner=dict(
        lr=3e-4,
        passes=10,
        batch_size=4,
        beta=0.1,
        sequence_gamma=0.8,
        trainable=('decoder.flow_pred.', ),
        distill_weight=2.0),
    flow_step=dict(
        guard=dict(bg_tol=0.01, fb_tol=0.1),
        guard_margin=0.1,
        fuse_window=1,
        fuse_margin=0.5))
