from .pose_sketch_head import PoseSketchFlowHead
from .sketch_paint import paint_capsules, paint_squares

__all__ = ['PoseSketchFlowHead', 'paint_capsules', 'paint_squares']
