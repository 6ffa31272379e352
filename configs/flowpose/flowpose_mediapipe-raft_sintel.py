# BlazePose (mediapipe; 2D detections and 3D from the frames) + RAFT on the
# Sintel human sequences, where the paper reports flow only (dense EPE).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/sintel_clips.py',
    '../_base_/models/flownets.py', '../_base_/models/flowpose_refiner.py'
]

model = dict(
    pose_estimators=[dict(type='MediaPipePoseEstimator')],
    flow_networks=[{{_base_.raft_mixed}}],
    # Sintel frames are 1024x436: a few-pixel squares (design notes)
    sketch_head=dict(square_size=5))
