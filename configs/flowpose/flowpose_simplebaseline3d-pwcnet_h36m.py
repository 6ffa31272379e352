# SimpleBaseline3D (single frame) + PWC-Net on Human3.6M.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/h36m_clips.py',
    '../_base_/models/flownets.py', '../_base_/models/lifters.py',
    '../_base_/models/flowpose_refiner.py'
]

model = dict(
    pose_estimators=[{{_base_.simplebaseline3d}}],
    flow_networks=[{{_base_.pwcnet_sintel}}])
