from .noise_aware_objective import NoiseAwareObjective
from .noise_levels import (calibrate_pose_noise, detection_noise,
                           flow_confidence, flow_noise)
from .pose_optimizer import PoseOptimizer

__all__ = [
    'PoseOptimizer', 'NoiseAwareObjective', 'calibrate_pose_noise',
    'detection_noise', 'flow_confidence', 'flow_noise'
]
