from mmflowpose.models.utils.keypoint_box import bbox_diagonal
from .pose_sketch_head import PoseSketchFlowHead
from .sketch_gate import compose_sketch, gate_sketch
from .sketch_joints import confident_joints, points_along_bones
from .sketch_paint import paint_capsules, paint_squares

__all__ = [
    'PoseSketchFlowHead', 'paint_capsules', 'paint_squares', 'gate_sketch',
    'compose_sketch', 'bbox_diagonal', 'confident_joints',
    'points_along_bones'
]
