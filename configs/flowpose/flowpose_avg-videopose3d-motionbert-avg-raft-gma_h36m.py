# Avg(VideoPose3D, MotionBERT) + Avg(RAFT, GMA) on Human3.6M: the paper's
# ensemble rows (3D estimates and flows are averaged before refinement; each
# flow network is fine-tuned on the sketch drawn over its own flow).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/h36m_clips.py',
    '../_base_/models/flownets.py', '../_base_/models/lifters.py',
    '../_base_/models/flowpose_refiner.py'
]

model = dict(
    pose_estimators=[{{_base_.videopose3d_243}}, {{_base_.motionbert}}],
    flow_networks=[{{_base_.raft_mixed}}, {{_base_.gma_mixed}}])
