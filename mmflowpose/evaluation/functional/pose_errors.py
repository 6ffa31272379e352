"""3D pose errors in torch, shared by metrics and losses.

All functions take ``(*, T?, J, 3)`` joints in any unit and return
per-joint errors in that unit, so callers can accumulate sums and counts.
"""
from typing import Optional, Sequence

import torch
from torch import Tensor

from mmflowpose.models.utils.checks import check_shape
from mmflowpose.models.utils.geometry import procrustes_align


def _prepare(pred: Tensor, gt: Tensor, root_joint: Optional[int],
             joint_ids: Optional[Sequence[int]]):
    check_shape(pred, ['*', 'J', 3], 'pred')
    if pred.shape != gt.shape:
        raise ValueError(f'pred {tuple(pred.shape)} and gt '
                         f'{tuple(gt.shape)} must have the same shape')
    if root_joint is not None:
        pred = pred - pred[..., root_joint:root_joint + 1, :]
        gt = gt - gt[..., root_joint:root_joint + 1, :]
    if joint_ids is not None:
        index = torch.as_tensor(joint_ids, dtype=torch.long,
                                device=pred.device)
        pred, gt = pred.index_select(-2, index), gt.index_select(-2, index)
    return pred, gt


def mpjpe_errors(pred: Tensor,
                 gt: Tensor,
                 root_joint: Optional[int] = 0,
                 joint_ids: Optional[Sequence[int]] = None) -> Tensor:
    """Per-joint position errors after root alignment (Protocol #1).

    Args:
        pred (Tensor): (*, J, 3) predicted joints.
        gt (Tensor): (*, J, 3) ground-truth joints.
        root_joint (int, optional): joint subtracted from both before
            comparing; None compares absolute positions. Defaults to 0.
        joint_ids (sequence[int], optional): joints kept AFTER root
            alignment (e.g. the 14 H36M evaluation joints). Defaults to None.

    Returns:
        Tensor: (*, J') Euclidean errors in the input unit.
    """
    pred, gt = _prepare(pred, gt, root_joint, joint_ids)
    return torch.linalg.vector_norm(pred - gt, dim=-1)


def p_mpjpe_errors(pred: Tensor,
                   gt: Tensor,
                   joint_ids: Optional[Sequence[int]] = None) -> Tensor:
    """Per-joint errors after similarity (Procrustes) alignment (Protocol
    #2), batched SVD with the reflection fix (see ``procrustes_align``).

    Args:
        pred (Tensor): (*, J, 3) predicted joints.
        gt (Tensor): (*, J, 3) ground-truth joints.
        joint_ids (sequence[int], optional): joints used for alignment and
            error. Defaults to None (all).

    Returns:
        Tensor: (*, J') errors in the input unit.
    """
    pred, gt = _prepare(pred, gt, None, joint_ids)
    aligned = procrustes_align(pred, gt)
    return torch.linalg.vector_norm(aligned - gt, dim=-1)


def n_mpjpe_errors(pred: Tensor,
                   gt: Tensor,
                   root_joint: Optional[int] = 0,
                   joint_ids: Optional[Sequence[int]] = None,
                   eps: float = 1e-12) -> Tensor:
    """Per-joint errors after root alignment and the best scale.

    The scale ``s = <pred, gt> / <pred, pred>`` (per pose, over the kept
    joints) minimises ``||s * pred - gt||``; a zero pose gets ``s = 0``.

    Args:
        pred (Tensor): (*, J, 3) predicted joints.
        gt (Tensor): (*, J, 3) ground-truth joints.
        root_joint (int, optional): alignment joint. Defaults to 0.
        joint_ids (sequence[int], optional): kept joints. Defaults to None.
        eps (float): zero-pose guard. Defaults to 1e-12.

    Returns:
        Tensor: (*, J') errors in the input unit.
    """
    pred, gt = _prepare(pred, gt, root_joint, joint_ids)
    num = (pred * gt).sum((-1, -2), keepdim=True)
    den = (pred * pred).sum((-1, -2), keepdim=True)
    scale = torch.where(den > eps, num / den.clamp_min(eps),
                        torch.zeros_like(num))
    return torch.linalg.vector_norm(scale * pred - gt, dim=-1)


def acceleration_errors(pred: Tensor,
                        gt: Tensor,
                        root_joint: Optional[int] = None,
                        joint_ids: Optional[Sequence[int]] = None) -> Tensor:
    """Per-joint error of the second finite difference over time.

    Args:
        pred (Tensor): (*, T, J, 3) predicted sequences.
        gt (Tensor): (*, T, J, 3) ground-truth sequences.
        root_joint (int, optional): alignment joint; None keeps the global
            motion. Defaults to None.
        joint_ids (sequence[int], optional): kept joints. Defaults to None.

    Returns:
        Tensor: (*, T - 2, J') errors in input units per frame^2 (empty for
        T < 3).
    """
    check_shape(pred, ['*', 'T', 'J', 3], 'pred')
    pred, gt = _prepare(pred, gt, root_joint, joint_ids)

    def accel(x):
        return x[..., 2:, :, :] - 2 * x[..., 1:-1, :, :] + x[..., :-2, :, :]

    return torch.linalg.vector_norm(accel(pred) - accel(gt), dim=-1)
