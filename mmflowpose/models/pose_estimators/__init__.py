from .frame_estimators import (BLAZEPOSE_IDS, NUM_JOINTS, BasePoseEstimator,
                               MediaPipePoseEstimator, MMPoseLiftingEstimator,
                               build_pose_estimator, empty_estimate)
from .mmpose_lifter import MMPoseLifter

__all__ = [
    'MMPoseLifter', 'BasePoseEstimator', 'MediaPipePoseEstimator',
    'MMPoseLiftingEstimator', 'build_pose_estimator', 'empty_estimate',
    'BLAZEPOSE_IDS', 'NUM_JOINTS'
]
