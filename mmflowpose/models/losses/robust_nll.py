"""Robust negative log-likelihood terms in units of measurement noise.

Each residual is divided by the noise level ``sigma`` of what produced it
(px for detections and flow, metres for a lifter's 3D error), so a term is
dimensionless and two terms can be added without hand-tuned weights: near
zero a term is the Gaussian negative log-likelihood ``0.5 (r / sigma)^2``,
beyond ``delta`` noise levels it grows linearly (Huber), so outliers (a
wrong detection, an occluded joint's flow) cost what a heavy-tailed noise
model says rather than what a Gaussian says.
"""
from typing import Optional, Union

import torch
from torch import Tensor

from ..utils.checks import check_shape
from .smooth_l1 import masked_smooth_l1

Sigma = Union[float, Tensor]


def _broadcast_sigma(sigma: Sigma, ref: Tensor) -> Tensor:
    """``sigma`` as a tensor broadcastable to ``ref`` (B, ..., C)."""
    sigma = torch.as_tensor(sigma, dtype=ref.dtype, device=ref.device)
    if sigma.dim() == 1 and ref.dim() > 1:
        # one value per clip: (B,) -> (B, 1, ..., 1)
        sigma = sigma.view(-1, *([1] * (ref.dim() - 1)))
    if not bool((sigma > 0).all()):
        raise ValueError('noise levels (sigma) must be > 0, got '
                         f'{sigma.min().item()}')
    return sigma


def robust_nll(pred: Tensor,
               target: Tensor,
               sigma: Sigma,
               weight: Optional[Tensor] = None,
               delta: float = 2.0) -> Tensor:
    """Huber NLL of ``(pred - target) / sigma``, summed over coordinates.

    .. math::
        \\mathcal{L} = \\frac{\\sum_i w_i \\sum_c h_\\delta((p_{ic} -
        t_{ic}) / \\sigma)}{\\sum_i w_i},\\quad h_\\delta(d) =
        \\begin{cases} 0.5 d^2 & |d| < \\delta \\\\ \\delta (|d| - 0.5
        \\delta) & \\text{otherwise}\\end{cases}

    Items (rows of the last axis) with non-finite values or weights are
    ignored, as in :func:`masked_smooth_l1`.

    Args:
        pred (Tensor): (B, ..., C) predictions.
        target (Tensor): (B, ..., C) targets (broadcastable).
        sigma (float | Tensor): noise level in the units of ``pred``: a
            scalar, a (B,) per-clip value or anything broadcastable.
        weight (Tensor, optional): (B, ...) item weights (confidences).
            Defaults to None (ones).
        delta (float): where the loss turns linear, in noise levels.
            Defaults to 2.0.

    Returns:
        Tensor: scalar weighted mean over items (per-item NLL, summed over
        the C coordinates).
    """
    if not delta > 0:
        raise ValueError(f'delta must be > 0, got {delta}')
    sigma = _broadcast_sigma(sigma, pred)
    # smooth-L1 with beta=delta is h_delta / delta; the mean is over items
    # and coordinates, hence the factor C * delta
    return pred.shape[-1] * delta * masked_smooth_l1(
        pred / sigma, target / sigma, weight, delta)


def velocity_anchor_loss(pose: Tensor,
                         init_pose: Tensor,
                         sigma: Sigma,
                         delta: float = 2.0) -> Tensor:
    """NLL of the frame-to-frame change of the correction ``pose - init``.

    An estimator's error is temporally correlated (a lifter sees
    overlapping windows): ``e_t - e_{t-1}`` is much smaller than ``e_t``.
    So the correction applied to the initial estimate should change slowly
    too, while the correction itself may be large (a static bias).

    Args:
        pose (Tensor): (B, T, J, 3) optimised joints (metres).
        init_pose (Tensor): (B, T, J, 3) initial joints (metres).
        sigma (float | Tensor): std of the error's frame-to-frame change
            (metres), scalar or (B,).
        delta (float): Huber threshold in noise levels. Defaults to 2.0.

    Returns:
        Tensor: scalar; 0 (attached to ``pose``) for a single frame.
    """
    check_shape(pose, ['B', 'T', 'J', 3], 'pose')
    if init_pose.shape != pose.shape:
        raise ValueError(f'init_pose must have the shape of pose '
                         f'{tuple(pose.shape)}, got {tuple(init_pose.shape)}')
    correction = pose - init_pose
    change = correction[:, 1:] - correction[:, :-1]
    return robust_nll(change, torch.zeros_like(change), sigma, None, delta)


def acceleration_prior_loss(pose: Tensor,
                            sigma: Sigma,
                            delta: float = 2.0) -> Tensor:
    """NLL of the joints' second differences under a motion prior.

    Args:
        pose (Tensor): (B, T, J, 3) joints (metres).
        sigma (float | Tensor): std of true joint acceleration (metres per
            frame^2), scalar or (B,).
        delta (float): Huber threshold in noise levels. Defaults to 2.0.

    Returns:
        Tensor: scalar; 0 (attached to ``pose``) for fewer than 3 frames.
    """
    check_shape(pose, ['B', 'T', 'J', 3], 'pose')
    accel = pose[:, 2:] - 2 * pose[:, 1:-1] + pose[:, :-2]
    return robust_nll(accel, torch.zeros_like(accel), sigma, None, delta)
