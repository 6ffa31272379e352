from .estimator_base import (NUM_JOINTS, BasePoseEstimator,
                             build_pose_estimator, empty_estimate)
from .mediapipe_estimator import BLAZEPOSE_IDS, MediaPipePoseEstimator
from .mmpose_estimator import MMPoseLiftingEstimator
from .mmpose_lifter import MMPoseLifter

__all__ = [
    'MMPoseLifter', 'BasePoseEstimator', 'MediaPipePoseEstimator',
    'MMPoseLiftingEstimator', 'build_pose_estimator', 'empty_estimate',
    'BLAZEPOSE_IDS', 'NUM_JOINTS'
]
