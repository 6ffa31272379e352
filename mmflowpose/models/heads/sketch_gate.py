"""Where the pose sketch should replace the network's flow.

Pure tensor functions on (N, 2, H, W) flows in px (channel 0 = x) and
(N, 1, H, W) bool masks.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from mmflowpose.models.flow_tuning.flow_checks import (fb_inconsistent,
                                                       photometric_error)
from mmflowpose.models.utils.checks import check_shape

Frames = Optional[Tuple[Tensor, Tensor]]


def gate_sketch(sketch: Tensor,
                mask: Tensor,
                base_flow: Tensor,
                frames: Frames = None,
                backward_flow: Optional[Tensor] = None,
                photo_thr: Optional[float] = None,
                photo_window: int = 5,
                photo_gain: bool = True,
                fb_alpha: float = 0.01,
                fb_beta: float = 0.5) -> Tensor:
    """Keep the sketch pixels where the pose beats the network's flow.

    The base flow is distrusted where its forward-backward check fails
    (``backward_flow`` given) or its local warping error exceeds
    ``photo_thr`` (``frames`` given); with neither test available every
    pixel is distrusted. With ``frames`` and ``photo_gain``, a pixel is
    kept only if the sketch also warps frame t+1 onto frame t better than
    the base flow there.

    Args:
        sketch (Tensor): (N, 2, H, W) sketch flow, px.
        mask (Tensor): (N, 1, H, W) bool sketch mask.
        base_flow (Tensor): (N, 2, H, W) network flow t -> t+1, px.
        frames (tuple[Tensor, Tensor], optional): (N, 3, H, W) frames at t
            and t+1, 0-255. Defaults to None.
        backward_flow (Tensor, optional): (N, 2, H, W) network flow
            t+1 -> t, px. Defaults to None.
        photo_thr (float, optional): warping-error threshold (0-255
            colour units, :func:`photometric_error`). Defaults to None.
        photo_window (int): window of the warping error, px. Defaults to 5.
        photo_gain (bool): require the sketch to warp better. Defaults to
            True.
        fb_alpha (float): relative tolerance of :func:`fb_inconsistent`.
            Defaults to 0.01.
        fb_beta (float): its absolute tolerance, px^2. Defaults to 0.5.

    Returns:
        Tensor: (N, 1, H, W) bool gated mask.
    """
    check_shape(base_flow, ['N', 2, 'H', 'W'], 'base_flow')
    check_shape(mask, [base_flow.shape[0], 1, *base_flow.shape[-2:]], 'mask')
    base = base_flow.to(sketch.dtype)
    distrust = None
    if backward_flow is not None:
        check_shape(backward_flow, list(base_flow.shape), 'backward_flow')
        distrust = fb_inconsistent(base, backward_flow.to(base), fb_alpha,
                                   fb_beta)
    if frames is not None:
        frame1, frame2 = frames
        check_shape(frame1, [base.shape[0], 3, *base.shape[-2:]],
                    'frames[0]')
        err_base, _ = photometric_error(frame1, frame2, base, photo_window)
        if photo_thr is not None:
            high = err_base > photo_thr
            distrust = high if distrust is None else distrust | high
    if distrust is not None:
        mask = mask & distrust
    if frames is not None and photo_gain:
        composed = torch.where(mask, sketch, base)
        err_sketch, _ = photometric_error(frame1, frame2, composed,
                                          photo_window)
        mask = mask & (err_sketch < err_base)
    return mask


def compose_sketch(base_flow: Tensor, sketch: Tensor, mask: Tensor) -> Tensor:
    """Target flow: the sketch where the mask is set, else base flow.

    Args:
        base_flow (Tensor): (N, 2, H, W) network flow, px.
        sketch (Tensor): (N, 2, H, W) sketch flow, px.
        mask (Tensor): (N, 1, H, W) bool sketch mask.

    Returns:
        Tensor: (N, 2, H, W) target flow in px.
    """
    check_shape(base_flow, ['N', 2, 'H', 'W'], 'base_flow')
    check_shape(sketch, list(base_flow.shape), 'sketch')
    check_shape(mask, [base_flow.shape[0], 1, *base_flow.shape[2:]], 'mask')
    return torch.where(mask.bool(), sketch.to(base_flow.dtype), base_flow)
