"""End-point errors of optical flow (pure torch, shared by metrics).

Flow is (N, 2, H, W) in px with channel 0 = x. Masks are bool (N, H, W)
(an (N, 1, H, W) mask is accepted). Functions return per-item SUMS and
COUNTS so that callers can reduce over a whole dataset exactly; the
``*_epe`` helpers divide them for a batch.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from mmflowpose.models.utils.checks import check_shape
from mmflowpose.models.utils.sampling import sample_at_points


def _mask(mask: Optional[Tensor], flow: Tensor, name: str) -> Tensor:
    n, _, height, width = flow.shape
    if mask is None:
        return torch.ones(n, height, width, dtype=torch.bool,
                          device=flow.device)
    if mask.dim() == 4:
        check_shape(mask, [n, 1, height, width], name)
        mask = mask[:, 0]
    check_shape(mask, [n, height, width], name)
    return mask.bool()


def endpoint_error(pred: Tensor, gt: Tensor) -> Tensor:
    """Per-pixel end-point error.

    Args:
        pred (Tensor): (N, 2, H, W) predicted flow, px.
        gt (Tensor): (N, 2, H, W) ground-truth flow, px.

    Returns:
        Tensor: (N, H, W) Euclidean error in px.
    """
    check_shape(pred, ['N', 2, 'H', 'W'], 'pred')
    check_shape(gt, list(pred.shape), 'gt')
    return (pred - gt).norm(dim=1)


def epe_sum_count(pred: Tensor,
                  gt: Tensor,
                  mask: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Sum of EPE and number of pixels inside ``mask``, per item.

    Args:
        pred (Tensor): (N, 2, H, W) predicted flow, px.
        gt (Tensor): (N, 2, H, W) ground-truth flow, px.
        mask (Tensor, optional): (N, H, W) bool pixels to score (e.g. valid
            GT). Defaults to None (all pixels).

    Returns:
        tuple[Tensor, Tensor]: error sums (N,) in px and pixel counts (N,)
        (long).
    """
    error = endpoint_error(pred, gt)
    mask = _mask(mask, pred, 'mask')
    total = torch.where(mask, error, torch.zeros_like(error)).sum((1, 2))
    return total, mask.sum((1, 2))


def dense_epe(pred: Tensor, gt: Tensor,
              valid: Optional[Tensor] = None) -> Tensor:
    """Mean EPE over all valid pixels of the batch (NaN if none).

    Args:
        pred (Tensor): (N, 2, H, W) predicted flow, px.
        gt (Tensor): (N, 2, H, W) ground-truth flow, px.
        valid (Tensor, optional): (N, H, W) bool. Defaults to None.

    Returns:
        Tensor: scalar EPE in px, pixels weighted equally across items.
    """
    total, count = epe_sum_count(pred, gt, valid)
    return total.sum() / count.sum()


def human_epe(pred: Tensor,
              gt: Tensor,
              human_mask: Tensor,
              valid: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Mean EPE inside and outside a human mask.

    Args:
        pred (Tensor): (N, 2, H, W) predicted flow, px.
        gt (Tensor): (N, 2, H, W) ground-truth flow, px.
        human_mask (Tensor): (N, H, W) bool, True on the person.
        valid (Tensor, optional): (N, H, W) bool valid GT. Defaults to None.

    Returns:
        tuple[Tensor, Tensor]: scalar EPE inside and outside (px).
    """
    valid = _mask(valid, pred, 'valid')
    human = _mask(human_mask, pred, 'human_mask')
    s_in, c_in = epe_sum_count(pred, gt, valid & human)
    s_out, c_out = epe_sum_count(pred, gt, valid & ~human)
    return s_in.sum() / c_in.sum(), s_out.sum() / c_out.sum()


def sparse_epe(pred: Tensor,
               points: Tensor,
               gt_displacement: Tensor,
               valid: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """EPE at sparse points (e.g. joints), flow sampled bilinearly.

    Convention: as :func:`sample_at_points` (pixel centres at integer
    coordinates); points outside the image are excluded.

    Args:
        pred (Tensor): (N, 2, H, W) predicted flow, px.
        points (Tensor): (N, J, 2) positions (x, y) in frame t, px.
        gt_displacement (Tensor): (N, J, 2) true motion t -> t+1, px.
        valid (Tensor, optional): (N, J) bool. Defaults to None.

    Returns:
        tuple[Tensor, Tensor]: errors (N, J) in px (0 where excluded) and
        the mask (N, J) bool of scored points.
    """
    check_shape(pred, ['N', 2, 'H', 'W'], 'pred')
    check_shape(points, [pred.shape[0], 'J', 2], 'points')
    check_shape(gt_displacement, list(points.shape), 'gt_displacement')
    sampled, inside = sample_at_points(pred, points.to(pred.dtype))
    mask = inside & torch.isfinite(gt_displacement).all(-1)
    if valid is not None:
        check_shape(valid, list(points.shape[:2]), 'valid')
        mask = mask & valid.bool()
    error = (sampled - gt_displacement.to(sampled.dtype)).norm(dim=-1)
    error = torch.where(mask, error, torch.zeros_like(error))
    return error, mask
