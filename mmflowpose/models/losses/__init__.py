from .flow_consistency_loss import (FlowConsistencyLoss,
                                    flow_consistency_loss,
                                    forward_backward_mask,
                                    joint_flow_from_dense)
from .pose3d_consistency_loss import (Pose3DConsistencyLoss,
                                      pose3d_consistency_loss)
from .reprojection_2d_loss import Reprojection2DLoss, reprojection_2d_loss
from .robust_nll import (acceleration_prior_loss, robust_nll,
                         velocity_anchor_loss)
from .smooth_l1 import masked_smooth_l1
from .temporal_loss import (TemporalLoss, bone_length_loss,
                            reference_bone_lengths, temporal_loss,
                            temporal_smoothness_loss)

__all__ = [
    'FlowConsistencyLoss', 'flow_consistency_loss', 'forward_backward_mask',
    'joint_flow_from_dense', 'Pose3DConsistencyLoss',
    'pose3d_consistency_loss', 'Reprojection2DLoss', 'reprojection_2d_loss',
    'masked_smooth_l1', 'robust_nll', 'velocity_anchor_loss',
    'acceleration_prior_loss', 'TemporalLoss', 'bone_length_loss',
    'reference_bone_lengths', 'temporal_loss', 'temporal_smoothness_loss'
]
