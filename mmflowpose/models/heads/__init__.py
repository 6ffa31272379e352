from .pose_sketch_head import PoseSketchFlowHead

__all__ = ['PoseSketchFlowHead']
