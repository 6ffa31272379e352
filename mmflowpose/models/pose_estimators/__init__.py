from .mmpose_lifter import MMPoseLifter

__all__ = ['MMPoseLifter']
