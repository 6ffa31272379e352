"""L_opt: projected joint motion should follow the optical flow."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmflowpose.registry import MODELS
from ..utils.checks import check_shape
from ..utils.sampling import sample_at_points
from .smooth_l1 import check_loss_args, masked_smooth_l1


def joint_flow_from_dense(flow: Tensor,
                          points2d: Tensor) -> Tuple[Tensor, Tensor]:
    """Sample dense pair flow at the joints of each pair's first frame.

    Args:
        flow (Tensor): (B, P, 2, H, W) flow in px, pair p = frame p -> p+1,
            channel 0 = x.
        points2d (Tensor): (B, P, J, 2) joints of the first frame of each
            pair, in px.

    Returns:
        tuple[Tensor, Tensor]: flow at the joints (B, P, J, 2) and
        in-image mask (B, P, J).
    """
    check_shape(flow, ['B', 'P', 2, 'H', 'W'], 'flow')
    check_shape(points2d, ['B', 'P', 'J', 2], 'points2d')
    B, P = points2d.shape[:2]
    if flow.shape[:2] != (B, P):
        raise ValueError(f'flow has {tuple(flow.shape[:2])} (B, P) pairs but '
                         f'the points give {(B, P)}')
    sampled, inside = sample_at_points(
        flow.reshape(B * P, *flow.shape[2:]), points2d.reshape(B * P, -1, 2))
    return sampled.view(points2d.shape), inside.view(points2d.shape[:-1])


def forward_backward_mask(forward: Tensor,
                          backward: Tensor,
                          thresh: float = 1.0) -> Tensor:
    """Consistent (non-occluded) joints by the forward-backward check.

    Convention: ``backward`` is the backward flow (frame t -> t-1) taken at
    the joint's forward end point; a joint passes when
    ``||forward + backward|| <= thresh`` px. Non-finite values fail.

    Args:
        forward (Tensor): (*, 2) forward flow at the joints (px).
        backward (Tensor): (*, 2) backward flow at the end points (px).
        thresh (float): round-trip error threshold in px. Defaults to 1.0.

    Returns:
        Tensor: (*) bool, True where the joint is consistent.
    """
    err = torch.linalg.vector_norm(forward + backward, dim=-1)
    return torch.isfinite(err) & (err <= thresh)


def flow_consistency_loss(points2d: Tensor,
                          flow: Optional[Tensor] = None,
                          joint_flow: Optional[Tensor] = None,
                          weights: Optional[Tensor] = None,
                          backward_flow: Optional[Tensor] = None,
                          backward_joint_flow: Optional[Tensor] = None,
                          occlusion_thresh: float = 1.0,
                          beta: float = 1.0) -> Tensor:
    """Smooth-L1 between projected joint motion and the flow at the joints.

    For each pair ``p`` (frame ``t - 1 = p`` to ``t = p + 1``) the motion
    ``x_t - x_{t-1}`` is compared with the forward flow taken at
    ``x_{t-1}``: sampled bilinearly from a dense ``flow`` (gradients flow
    through the sampling position too), or given per joint in
    ``joint_flow`` (sparse, e.g. H36M). Exactly one of the two is needed.

    Occlusion: with ``backward_flow`` (dense, sampled at ``x_{t-1} + f``)
    or ``backward_joint_flow`` (sparse, the backward flow at the joints of
    frame ``t``), joints failing :func:`forward_backward_mask` are ignored;
    the mask is computed without gradient. Joints sampled outside the
    image, and non-finite flow or points, are ignored.

    Args:
        points2d (Tensor): (B, T, J, 2) projected joints in px.
        flow (Tensor, optional): (B, P, 2, H, W) forward flow in px.
        joint_flow (Tensor, optional): (B, P, J, 2) forward flow at the
            joints of the first frame of each pair, in px.
        weights (Tensor, optional): (B, P, J) joint weights (e.g.
            confidences). Defaults to None (ones).
        backward_flow (Tensor, optional): (B, P, 2, H, W) backward flow
            (frame p+1 -> p) in px. Only with ``flow``.
        backward_joint_flow (Tensor, optional): (B, P, J, 2) backward flow
            at the joints of the second frame of each pair. Only with
            ``joint_flow``.
        occlusion_thresh (float): round-trip threshold in px. Defaults to
            1.0.
        beta (float): smooth-L1 threshold in px. Defaults to 1.0.

    Returns:
        Tensor: scalar weighted mean over pairs, joints and coordinates.
    """
    check_shape(points2d, ['B', 'T', 'J', 2], 'points2d')
    if (flow is None) == (joint_flow is None):
        raise ValueError('give exactly one of flow (B, P, 2, H, W) and '
                         'joint_flow (B, P, J, 2)')
    B, T, J = points2d.shape[:3]
    start = points2d[:, :-1]
    motion = points2d[:, 1:] - start
    valid = torch.ones(B, T - 1, J, dtype=torch.bool, device=points2d.device)
    if flow is not None:
        if flow.shape[:2] != (B, T - 1):
            raise ValueError(f'flow must have (B, P) = {(B, T - 1)} for '
                             f'{T} frames, got {tuple(flow.shape[:2])}')
        target, valid = joint_flow_from_dense(flow, start)
        if backward_flow is not None:
            if backward_flow.shape != flow.shape:
                raise ValueError('backward_flow must have the shape of flow '
                                 f'{tuple(flow.shape)}, got '
                                 f'{tuple(backward_flow.shape)}')
            with torch.no_grad():
                end = (start + target).detach()
                back, inside = joint_flow_from_dense(backward_flow, end)
                valid = valid & inside & forward_backward_mask(
                    target.detach(), back, occlusion_thresh)
    else:
        check_shape(joint_flow, ['B', 'P', 'J', 2], 'joint_flow')
        if joint_flow.shape != motion.shape:
            raise ValueError(f'joint_flow must have shape '
                             f'{tuple(motion.shape)} for {T} frames, got '
                             f'{tuple(joint_flow.shape)}')
        target = joint_flow
        if backward_joint_flow is not None:
            if backward_joint_flow.shape != joint_flow.shape:
                raise ValueError('backward_joint_flow must have the shape '
                                 f'of joint_flow {tuple(joint_flow.shape)}')
            valid = forward_backward_mask(joint_flow, backward_joint_flow,
                                          occlusion_thresh)
    w = valid.to(points2d.dtype)
    if weights is not None:
        if weights.shape != motion.shape[:-1]:
            raise ValueError(f'weights must have shape '
                             f'{tuple(motion.shape[:-1])}, got '
                             f'{tuple(weights.shape)}')
        w = torch.where(valid, weights.to(w.dtype), torch.zeros_like(w))
    return masked_smooth_l1(motion, target, w, beta)


@MODELS.register_module()
class FlowConsistencyLoss(nn.Module):
    """L_opt: smooth-L1 between joint motion and optical flow at joints.

    Args:
        loss_weight (float): multiplier. Defaults to 0.01 (paper, px).
        beta (float): smooth-L1 threshold in px. Defaults to 1.0.
        occlusion_thresh (float): forward-backward threshold in px, used
            when backward flow is given. Defaults to 1.0.
    """

    def __init__(self,
                 loss_weight: float = 0.01,
                 beta: float = 1.0,
                 occlusion_thresh: float = 1.0):
        super().__init__()
        check_loss_args(loss_weight, beta)
        if not occlusion_thresh > 0:
            raise ValueError('occlusion_thresh must be > 0 px, got '
                             f'{occlusion_thresh}')
        self.loss_weight = loss_weight
        self.beta = beta
        self.occlusion_thresh = occlusion_thresh

    def forward(self,
                points2d: Tensor,
                flow: Optional[Tensor] = None,
                joint_flow: Optional[Tensor] = None,
                weights: Optional[Tensor] = None,
                backward_flow: Optional[Tensor] = None,
                backward_joint_flow: Optional[Tensor] = None) -> Tensor:
        """See :func:`flow_consistency_loss`; returns a scalar."""
        return self.loss_weight * flow_consistency_loss(
            points2d, flow, joint_flow, weights, backward_flow,
            backward_joint_flow, self.occlusion_thresh, self.beta)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(loss_weight={self.loss_weight}, '
                f'beta={self.beta}, '
                f'occlusion_thresh={self.occlusion_thresh})')
