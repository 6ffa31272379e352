"""Sampling a dense field (e.g. optical flow) at pixel positions.

Conventions (``style.md``): flow is ``(N, 2, H, W)`` in pixels with
channel 0 = x; points are pixels ``(x, y)`` with pixel centres at integer
coordinates. Pure tensor functions: inputs are never modified; device and
dtype follow the inputs.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import check_shape


def sample_at_points(flow: Tensor, points: Tensor) -> Tuple[Tensor, Tensor]:
    """Bilinearly sample a dense field at pixel positions.

    Convention: pixel centres sit at integer coordinates, so ``(0, 0)`` is
    the centre of the top-left pixel and ``(W - 1, H - 1)`` the bottom-right
    one (``grid_sample`` with ``align_corners=True``). Points outside
    ``[0, W - 1] x [0, H - 1]`` get zero and ``False`` in the mask.

    Args:
        flow (Tensor): (N, C, H, W) field, e.g. flow in px with channel 0 = x.
        points (Tensor): (N, J, 2) pixel coordinates (x, y).

    Returns:
        tuple[Tensor, Tensor]: sampled values (N, J, C) and in-bounds mask
        (N, J); points outside the image get zero.

    Example:
        >>> flow = torch.arange(6.).view(1, 1, 2, 3)
        >>> sample_at_points(flow, torch.tensor([[[0.5, 1.0]]]))[0]
        tensor([[[3.5000]]])
    """
    check_shape(flow, ['N', 'C', 'H', 'W'], 'flow')
    check_shape(points, ['N', 'J', 2], 'points')
    if points.shape[0] != flow.shape[0]:
        raise ValueError(f'flow has {flow.shape[0]} items but points has '
                         f'{points.shape[0]}')
    height, width = flow.shape[-2:]
    x, y = points[..., 0], points[..., 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    inside = inside & torch.isfinite(x) & torch.isfinite(y)
    # Map pixels to [-1, 1]; a 1-pixel axis maps its only pixel to 0.
    grid_x = 2 * x / max(width - 1, 1) - 1
    grid_y = 2 * y / max(height - 1, 1) - 1
    grid = torch.stack([grid_x, grid_y], dim=-1)
    grid = torch.where(inside[..., None], grid, torch.zeros_like(grid))
    sampled = F.grid_sample(
        flow, grid[:, :, None, :], mode='bilinear', align_corners=True)
    sampled = sampled[..., 0].transpose(1, 2)  # (N, J, C)
    sampled = sampled * inside[..., None].to(sampled.dtype)
    return sampled, inside
