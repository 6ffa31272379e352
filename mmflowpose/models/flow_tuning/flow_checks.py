"""Self-supervised checks of a flow field: warping and forward-backward.

Both need no ground truth, so they can decide at test time where a flow
network is trustworthy (the sketch's gate) and whether a fine-tuned network
got better (the flow step's guard).

Convention: flow (N, 2, H, W) in px, channel 0 = x, forward t -> t+1; the
backward flow goes t+1 -> t. Pixel centres sit at integer coordinates, as
in :func:`mmflowpose.models.utils.sampling.sample_at_points`.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmflowpose.models.utils.checks import check_shape


def backward_warp(image: Tensor, flow: Tensor) -> Tuple[Tensor, Tensor]:
    """Sample ``image`` at ``x + flow(x)`` (bilinear).

    Args:
        image (Tensor): (N, C, H, W) field on the target frame.
        flow (Tensor): (N, 2, H, W) flow in px from the source frame.

    Returns:
        tuple[Tensor, Tensor]: warped (N, C, H, W) and in-bounds mask
        (N, 1, H, W) bool; out-of-image samples read 0.
    """
    check_shape(image, ['N', 'C', 'H', 'W'], 'image')
    check_shape(flow, [image.shape[0], 2, *image.shape[-2:]], 'flow')
    height, width = image.shape[-2:]
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=flow.dtype, device=flow.device),
        torch.arange(width, dtype=flow.dtype, device=flow.device),
        indexing='ij')
    x = xs + flow[:, 0]
    y = ys + flow[:, 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    grid = torch.stack([2 * x / max(width - 1, 1) - 1,
                        2 * y / max(height - 1, 1) - 1], dim=-1)
    warped = F.grid_sample(image.to(flow.dtype), grid, mode='bilinear',
                           padding_mode='zeros', align_corners=True)
    return warped, inside[:, None]


def local_mean(value: Tensor, window: int) -> Tensor:
    """Box-filtered (N, C, H, W) field; windows are clipped at borders."""
    if window <= 1:
        return value
    return F.avg_pool2d(value, window, stride=1, padding=window // 2,
                        count_include_pad=False)[..., :value.shape[-2],
                                                 :value.shape[-1]]


def photometric_error(frame1: Tensor,
                      frame2: Tensor,
                      flow: Tensor,
                      window: int = 1) -> Tuple[Tensor, Tensor]:
    """Per-pixel warping error of ``flow`` between two frames.

    The error is the mean absolute colour difference between frame t and
    frame t+1 sampled at ``x + flow(x)``, in the frames' units (0-255),
    optionally averaged over a ``window`` x ``window`` neighbourhood: a
    single pixel can match by chance, a patch rarely does.

    Args:
        frame1 (Tensor): (N, 3, H, W) frames at t, 0-255.
        frame2 (Tensor): (N, 3, H, W) frames at t+1, 0-255.
        flow (Tensor): (N, 2, H, W) forward flow in px.
        window (int): side of the averaging window in px (odd).
            Defaults to 1.

    Returns:
        tuple[Tensor, Tensor]: error (N, 1, H, W) and the mask (N, 1, H, W)
        of pixels whose flow lands inside frame t+1.
    """
    check_shape(frame1, ['N', 3, 'H', 'W'], 'frame1')
    check_shape(frame2, list(frame1.shape), 'frame2')
    warped, inside = backward_warp(frame2.to(flow.dtype), flow)
    error = (frame1.to(flow.dtype) - warped).abs().mean(1, keepdim=True)
    return local_mean(error, int(window)), inside


def forward_backward_error(flow_fwd: Tensor,
                           flow_bwd: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Forward-backward residual ``|f(x) + b(x + f(x))|`` in px.

    Args:
        flow_fwd (Tensor): (N, 2, H, W) flow t -> t+1 in px.
        flow_bwd (Tensor): (N, 2, H, W) flow t+1 -> t in px.

    Returns:
        tuple[Tensor, Tensor, Tensor]: residual (N, 1, H, W) px, the
        squared magnitude ``|f|^2 + |b(x + f)|^2`` (N, 1, H, W) px^2 used by
        the relative test, and the in-bounds mask (N, 1, H, W).
    """
    check_shape(flow_fwd, ['N', 2, 'H', 'W'], 'flow_fwd')
    check_shape(flow_bwd, list(flow_fwd.shape), 'flow_bwd')
    bwd, inside = backward_warp(flow_bwd, flow_fwd)
    residual = (flow_fwd + bwd).norm(dim=1, keepdim=True)
    magnitude = flow_fwd.square().sum(1, keepdim=True) + \
        bwd.square().sum(1, keepdim=True)
    return residual, magnitude, inside


def fb_inconsistent(flow_fwd: Tensor,
                    flow_bwd: Tensor,
                    alpha: float = 0.01,
                    beta: float = 0.5) -> Tensor:
    """Pixels failing the forward-backward check (Sundaram et al. 2010).

    A pixel fails when ``|f + b(x + f)|^2 > alpha (|f|^2 + |b(x + f)|^2) +
    beta`` (px^2) or when its flow leaves the image (nothing to check it
    against).

    Args:
        flow_fwd (Tensor): (N, 2, H, W) flow t -> t+1 in px.
        flow_bwd (Tensor): (N, 2, H, W) flow t+1 -> t in px.
        alpha (float): relative tolerance. Defaults to 0.01.
        beta (float): absolute tolerance in px^2. Defaults to 0.5.

    Returns:
        Tensor: (N, 1, H, W) bool, True where the check fails.
    """
    residual, magnitude, inside = forward_backward_error(flow_fwd, flow_bwd)
    return (residual.square() > alpha * magnitude + beta) | ~inside


def fuse_flows(frame1: Tensor,
               frame2: Tensor,
               base: Tensor,
               candidate: Tensor,
               region: Tensor,
               window: int = 5,
               margin: float = 0.0) -> Tuple[Tensor, Tensor]:
    """Per pixel, take ``candidate`` where it warps better than ``base``.

    Inside ``region`` a pixel takes the candidate flow when its local
    warping error (:func:`photometric_error`, ``window``) is lower than the
    base flow's by more than ``margin``; everywhere else the base flow is kept
    unchanged, so a candidate that drifted off the region cannot leak.

    Args:
        frame1 (Tensor): (N, 3, H, W) frames at t, 0-255.
        frame2 (Tensor): (N, 3, H, W) frames at t+1, 0-255.
        base (Tensor): (N, 2, H, W) flow kept by default, px.
        candidate (Tensor): (N, 2, H, W) proposed flow, px.
        region (Tensor): (N, 1, H, W) bool pixels the candidate may take.
        window (int): side of the error window (odd). Defaults to 5.
        margin (float): required fall of the error, 0-255 colour units: on
            flat, well-matched background both errors are near zero and a
            chance difference must not switch the flow. Defaults to 0.0.

    Returns:
        tuple[Tensor, Tensor]: fused flow (N, 2, H, W) px and the mask
        (N, 1, H, W) of pixels that took the candidate.
    """
    check_shape(candidate, list(base.shape), 'candidate')
    check_shape(region, [base.shape[0], 1, *base.shape[-2:]], 'region')
    err_base, _ = photometric_error(frame1, frame2, base, window)
    err_cand, _ = photometric_error(frame1, frame2, candidate.to(base),
                                    window)
    take = region.bool() & (err_cand + margin < err_base)
    return torch.where(take, candidate.to(base), base), take
