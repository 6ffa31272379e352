"""Masked, weighted smooth-L1 shared by the pose-optimisation losses."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def check_loss_args(loss_weight: float, beta: float) -> None:
    """Raise ``ValueError`` for a negative ``loss_weight`` or ``beta``."""
    if not loss_weight >= 0:
        raise ValueError(f'loss_weight must be >= 0, got {loss_weight}')
    if not beta >= 0:
        raise ValueError(f'beta must be >= 0, got {beta}')


def masked_smooth_l1(pred: Tensor,
                     target: Tensor,
                     weight: Optional[Tensor] = None,
                     beta: float = 1.0) -> Tensor:
    """Weighted mean smooth-L1 over items, ignoring non-finite entries.

    .. math::
        \\mathcal{L} = \\frac{\\sum_i w_i \\sum_c \\ell_\\beta(p_{ic} -
        t_{ic})}{C \\sum_i w_i},\\quad \\ell_\\beta(d) = \\begin{cases}
        0.5 d^2 / \\beta & |d| < \\beta\\\\ |d| - 0.5 \\beta &
        \\text{otherwise}\\end{cases}

    An item ``i`` (one row of the last axis) whose ``pred``, ``target`` or
    ``weight`` is not finite gets weight 0, and its values are replaced by
    0 before the difference, so neither the value nor the gradient can be
    NaN. With no weighted item the loss is 0 (still attached to ``pred``).
    With all weights 1 this equals ``F.smooth_l1_loss(pred, target)``;
    ``beta=0`` gives L1.

    Args:
        pred (Tensor): (*, C) predictions.
        target (Tensor): (*, C) targets, broadcastable to ``pred``.
        weight (Tensor, optional): (*) non-negative item weights,
            broadcastable to ``pred.shape[:-1]``. Defaults to None (ones).
        beta (float): smooth-L1 threshold, in the units of ``pred``.
            Defaults to 1.0.

    Returns:
        Tensor: scalar loss.
    """
    target = target.expand_as(pred)
    valid = torch.isfinite(pred).all(-1) & torch.isfinite(target).all(-1)
    if weight is None:
        weight = torch.ones_like(pred[..., 0])
    else:
        weight = weight.to(pred.dtype).expand(pred.shape[:-1])
    valid = valid & torch.isfinite(weight)
    zero = torch.zeros((), dtype=pred.dtype, device=pred.device)
    weight = torch.where(valid, weight, zero)
    pred = torch.where(valid[..., None], pred, zero)
    target = torch.where(valid[..., None], target, zero)
    per_item = F.smooth_l1_loss(
        pred, target, reduction='none', beta=beta).sum(-1)
    total = weight.sum()
    loss = (weight * per_item).sum()
    return loss / (pred.shape[-1] * total.clamp_min(1e-12))
