"""User-facing inference API; it registers nothing (the estimators and
builders it re-exports live in :mod:`mmflowpose.models`)."""
from mmflowpose.models.builder import (ConfigError, build_model, init_model,
                                       load_config, resolve_config_path)
from mmflowpose.models.pose_estimators import (BasePoseEstimator,
                                               MediaPipePoseEstimator,
                                               MMPoseLiftingEstimator,
                                               build_pose_estimator)
from .inferencer import FlowPoseInferencer, build_refiner

__all__ = [
    'init_model', 'build_model', 'load_config', 'ConfigError',
    'resolve_config_path', 'FlowPoseInferencer', 'build_refiner',
    'BasePoseEstimator', 'MediaPipePoseEstimator', 'MMPoseLiftingEstimator',
    'build_pose_estimator'
]
