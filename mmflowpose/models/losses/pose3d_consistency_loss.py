"""L_3D: keep the optimised 3D joints close to the initial estimate."""
from typing import Optional

import torch.nn as nn
from torch import Tensor

from mmflowpose.registry import MODELS
from ..utils.checks import check_shape
from .smooth_l1 import check_loss_args, masked_smooth_l1


def pose3d_consistency_loss(pose: Tensor,
                            init_pose: Tensor,
                            weights: Optional[Tensor] = None,
                            beta: float = 1.0) -> Tensor:
    """Smooth-L1 distance of the 3D joints to the initial 3D estimate.

    Args:
        pose (Tensor): (B, T, J, 3) optimised joints (metres).
        init_pose (Tensor): (B, T, J, 3) initial joints (metres); non-finite
            joints are ignored.
        weights (Tensor, optional): (B, T, J) joint weights. Defaults to
            None (ones).
        beta (float): smooth-L1 threshold in metres. Defaults to 1.0.

    Returns:
        Tensor: scalar weighted mean over joints and coordinates.
    """
    check_shape(pose, ['*', 'J', 3], 'pose')
    if init_pose.shape != pose.shape:
        raise ValueError(f'init_pose must have the shape of pose '
                         f'{tuple(pose.shape)}, got {tuple(init_pose.shape)}')
    return masked_smooth_l1(pose, init_pose, weights, beta)


@MODELS.register_module()
class Pose3DConsistencyLoss(nn.Module):
    """L_3D: smooth-L1 between optimised and initial 3D joints.

    Args:
        loss_weight (float): multiplier. Defaults to 400.0 (paper, metres).
        beta (float): smooth-L1 threshold in metres. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 400.0, beta: float = 1.0):
        super().__init__()
        check_loss_args(loss_weight, beta)
        self.loss_weight = loss_weight
        self.beta = beta

    def forward(self,
                pose: Tensor,
                init_pose: Tensor,
                weights: Optional[Tensor] = None) -> Tensor:
        """(B, T, J, 3) x2 (+ (B, T, J) weights) -> scalar."""
        return self.loss_weight * pose3d_consistency_loss(
            pose, init_pose, weights, self.beta)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(loss_weight={self.loss_weight}, '
                f'beta={self.beta})')
