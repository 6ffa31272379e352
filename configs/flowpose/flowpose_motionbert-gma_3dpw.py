# MotionBERT (H36M fine-tuned) + GMA on 3DPW.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/pw3d_clips.py',
    '../_base_/models/flownets.py', '../_base_/models/lifters.py',
    '../_base_/models/flowpose_refiner.py'
]

model = dict(
    pose_estimators=[{{_base_.motionbert}}],
    flow_networks=[{{_base_.gma_mixed}}])
