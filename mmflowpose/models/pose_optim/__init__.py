from .noise_aware_objective import NoiseAwareObjective
from .noise_levels import (calibrate_detection_noise, calibrate_flow_floor,
                           calibrate_pose_noise, detection_noise,
                           flow_confidence, flow_noise, subject_scale)
from .per_frame_reference import PerFrameReferenceOptimizer
from .pose_optimizer import PoseOptimizer

__all__ = [
    'PoseOptimizer', 'PerFrameReferenceOptimizer', 'NoiseAwareObjective',
    'calibrate_pose_noise', 'detection_noise', 'flow_confidence', 'flow_noise',
    'calibrate_flow_floor', 'subject_scale', 'calibrate_detection_noise'
]
