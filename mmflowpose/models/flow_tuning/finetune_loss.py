"""The pixel loss of flow fine-tuning: smooth-L1 over weighted pixels."""
from typing import Optional, Union

import torch.nn.functional as F
from torch import Tensor


def weighted_smooth_l1(pred: Tensor,
                       target: Tensor,
                       weight: Optional[Tensor] = None,
                       beta: float = 1.0,
                       total: Optional[Union[Tensor, float]] = None) -> Tensor:
    """Mean smooth-L1 flow error over weighted pixels.

    .. math::
        L = \\frac{\\sum_p w_p \\sum_c \\mathrm{sl1}(f_{pc} - g_{pc})}
                  {\\max(\\sum_p w_p, \\epsilon)}

    Args:
        pred (Tensor): (N, 2, H, W) flow in px.
        target (Tensor): (N, 2, H, W) target flow in px.
        weight (Tensor, optional): (N, 1, H, W) or (N, H, W) pixel weights
            (bool or float). Defaults to None (all ones).
        beta (float): smooth-L1 transition in px. Defaults to 1.0.
        total (Tensor | float, optional): the denominator, when ``pred``
            is one part of a larger batch (the batch's weight sum, or its
            pixel count without ``weight``): the parts' losses then add up
            to the batch's. Defaults to None (this batch's own).

    Returns:
        Tensor: scalar loss.
    """
    per_pixel = F.smooth_l1_loss(
        pred, target, reduction='none', beta=beta).sum(1)  # (N, H, W)
    if weight is None:
        return per_pixel.mean() if total is None else per_pixel.sum() / total
    weight = weight.to(per_pixel.dtype).reshape(per_pixel.shape)
    if total is None:
        total = weight.sum()
    elif not isinstance(total, Tensor):
        total = per_pixel.new_tensor(float(total))
    return (per_pixel * weight).sum() / total.clamp(min=1e-6)
