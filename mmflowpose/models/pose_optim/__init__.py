from .pose_optimizer import PoseOptimizer

__all__ = ['PoseOptimizer']
