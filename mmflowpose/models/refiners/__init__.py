from .flowpose_refiner import FlowPoseRefiner

__all__ = ['FlowPoseRefiner']
