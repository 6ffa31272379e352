"""One place that runs any mmflow network on raw frames.

Normalisation follows the network's own ``data_preprocessor`` (mean/std and
channel order); padding makes H and W multiples of what the architecture
needs; the result is the final flow at full input resolution in px, whatever
the network's output format (RAFT/GMA: a list of per-iteration full-resolution
flows; PWC-Net-like decoders: a dict of levels scaled by ``flow_div``).
"""
from typing import List, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmflowpose.models.utils.checks import check_shape


def flow_pad_multiple(net: nn.Module) -> int:
    """H and W multiple that ``net`` needs: 8 for RAFT/GMA, else 64.

    RAFT-type networks work at 1/8 resolution; pyramid networks (PWC-Net,
    FlowNet, LiteFlowNet) downsample six times, so 64 is safe for them.
    """
    from mmflow.models.flow_estimators import RAFT
    return 8 if isinstance(net, RAFT) else 64


def _preprocessor(net: nn.Module):
    pre = getattr(net, 'data_preprocessor', None)
    if pre is None:
        raise ValueError(f'{type(net).__name__} has no data_preprocessor; '
                         'flow_forward needs an mmflow FlowEstimator')
    return pre


def normalize_frames(net: nn.Module, frames: Tensor,
                     channel_order: str = 'rgb') -> Tensor:
    """Normalise (N, 3, H, W) 0-255 frames as ``net``'s data_preprocessor.

    mmflow's loaders read images with mmcv (BGR) and the preprocessor flips
    them to RGB only when ``bgr_to_rgb``/``rgb_to_bgr`` is set; so a network
    consumes RGB when its preprocessor converts and BGR otherwise. Frames
    are flipped here to match, then ``(x - mean) / std`` is applied. The
    preprocessor's training noise (``sigma_range``) is not applied.

    Args:
        net (nn.Module): mmflow flow estimator.
        frames (Tensor): (N, 3, H, W) uint8 or float frames, 0-255.
        channel_order (str): ``'rgb'`` or ``'bgr'``, the frames' order.
            Defaults to ``'rgb'``.

    Returns:
        Tensor: (N, 3, H, W) float32 normalised frames.
    """
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got "
                         f'{channel_order!r}')
    pre = _preprocessor(net)
    wants = 'rgb' if getattr(pre, 'channel_conversion', False) else 'bgr'
    x = frames.float()
    if wants != channel_order:
        x = x.flip(1)
    if getattr(pre, '_enable_normalize', False):
        x = (x - pre.mean.to(x)) / pre.std.to(x)
    return x


def _final_flows(net: nn.Module, out, size) -> List[Tensor]:
    """Full-resolution px flows from a 'tensor' mode output."""
    if isinstance(out, Tensor):
        out = [out]
    if isinstance(out, dict):
        decoder = getattr(net, 'decoder', None)
        level = getattr(decoder, 'end_level', None)
        if level not in out:
            level = max(out, key=lambda k: out[k].shape[-1])
        out = [out[level]]
        scale = float(getattr(decoder, 'flow_div', 1.))
    else:
        scale = 1.
    flows = []
    for flow in out:
        if tuple(flow.shape[-2:]) != tuple(size):
            # As mmflow's BaseDecoder.predict_by_feat: bilinear resize,
            # values are already in full-resolution px after flow_div.
            flow = F.interpolate(
                flow, size=size, mode='bilinear', align_corners=False)
        flows.append(flow * scale if scale != 1. else flow)
    return flows


def flow_forward(net: nn.Module,
                 frame1: Tensor,
                 frame2: Tensor,
                 channel_order: str = 'rgb',
                 pad_multiple: Optional[int] = None,
                 return_all: bool = False) -> Union[Tensor, List[Tensor]]:
    """Flow from ``frame1`` to ``frame2`` with any mmflow network.

    Gradients flow through (wrap in ``torch.no_grad()`` for inference).

    Args:
        net (nn.Module): mmflow flow estimator (``mode='tensor'`` forward).
        frame1 (Tensor): (N, 3, H, W) uint8 or float frames at t, 0-255.
        frame2 (Tensor): (N, 3, H, W) frames at t+1, same size.
        channel_order (str): order of the frames' channels, ``'rgb'`` or
            ``'bgr'``. Defaults to ``'rgb'``.
        pad_multiple (int, optional): pad H and W (replicate, centred) to a
            multiple of this; by default :func:`flow_pad_multiple`.
        return_all (bool): return every prediction (one per RAFT
            iteration; a single one for other networks). Defaults to False.

    Returns:
        Tensor | list[Tensor]: final flow (N, 2, H, W) in px, channel 0 = x,
        or the list of all predictions when ``return_all``.
    """
    check_shape(frame1, ['N', 3, 'H', 'W'], 'frame1')
    check_shape(frame2, list(frame1.shape), 'frame2')
    height, width = frame1.shape[-2:]
    multiple = pad_multiple or flow_pad_multiple(net)
    # no tensor made just to learn the device (it would be a host one)
    param = next(net.parameters(), None)
    device = frame1.device if param is None else param.device
    x1 = normalize_frames(net, frame1.to(device), channel_order)
    x2 = normalize_frames(net, frame2.to(device), channel_order)
    pad_h = (-height) % multiple
    pad_w = (-width) % multiple
    pad = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
    inputs = torch.cat([x1, x2], dim=1)
    if pad_h or pad_w:
        inputs = F.pad(inputs, pad, mode='replicate')
    out = net(inputs, mode='tensor')
    flows = _final_flows(net, out, inputs.shape[-2:])
    flows = [
        f[..., pad[2]:pad[2] + height, pad[0]:pad[0] + width] for f in flows
    ]
    return flows if return_all else flows[-1]
