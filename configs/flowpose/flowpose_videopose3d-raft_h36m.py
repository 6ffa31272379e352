# VideoPose3D (243 frames, CPN fine-tuned) + RAFT on Human3.6M (paper's main
# H36M setting). Swap either network with --cfg-options, e.g.
#   model.flow_networks.0.config=mmflow::gma/gma_8xb2_120k_mixed-368x768.py
#   model.flow_networks.0.checkpoint=<gma weights>
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/h36m_clips.py',
    '../_base_/models/flownets.py', '../_base_/models/lifters.py',
    '../_base_/models/flowpose_refiner.py'
]

model = dict(
    pose_estimators=[{{_base_.videopose3d_243}}],
    flow_networks=[{{_base_.raft_mixed}}])
