"""Working resolution: flow is computed on resized frames, results are not.

Flow networks cost memory and time that grow with the frame size (RAFT's
correlation volume grows with its square), so the refiner runs them on frames
whose longest side is at most ``max_side`` and maps everything back to the
original pixels. One convention throughout, the one of
``F.interpolate(align_corners=False)`` and mmcv's ``imresize``: pixel centres
sit at ``i + 0.5``, so a point ``x`` of the original image is at
``(x + 0.5) * sx - 0.5`` in the resized one, with ``sx = w / W``, and a
displacement scales by ``sx`` alone.

All functions are pure, batch-first and keep the inputs' device and dtype.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def working_size(size: Tuple[int, int],
                 max_side: Optional[int]) -> Tuple[int, int]:
    """(h, w) with the longest side at most ``max_side``, aspect kept.

    Args:
        size (tuple[int, int]): (H, W) of the frames in px.
        max_side (int, optional): the longest side allowed; None or a size
            already within it keeps ``size``.

    Returns:
        tuple[int, int]: (h, w), each at least 1.
    """
    height, width = int(size[0]), int(size[1])
    if max_side is None or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_frames(frames: Tensor, size: Tuple[int, int]) -> Tensor:
    """(T, 3, H, W) 0-255 frames -> (T, 3, h, w) float32, anti-aliased.

    Frames are converted one at a time so a window of uint8 frames never
    exists as a whole float copy at full resolution.
    """
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames.float()
    out = frames.new_empty((frames.shape[0], frames.shape[1], *size),
                           dtype=torch.float32)
    for i in range(frames.shape[0]):
        out[i] = F.interpolate(
            frames[i:i + 1].float(),
            size=tuple(size),
            mode='bilinear',
            align_corners=False,
            antialias=True)[0]
    return out


def scale_points(points: Tensor, src: Tuple[int, int],
                 dst: Tuple[int, int]) -> Tensor:
    """(..., 2) px points (x, y) of a ``src`` (H, W) image in ``dst`` px."""
    scale = points.new_tensor([dst[1] / src[1], dst[0] / src[0]])
    return (points + 0.5) * scale - 0.5


def resize_flow(flow: Tensor, size: Tuple[int, int]) -> Tensor:
    """(N, 2, h, w) px flow -> (N, 2, H, W) px flow of a ``size`` image.

    Bilinear resampling of the field; channel 0 (x) is multiplied by
    ``W / w`` and channel 1 (y) by ``H / h`` so values stay in the new
    image's pixels.
    """
    if tuple(flow.shape[-2:]) == tuple(size):
        return flow
    height, width = flow.shape[-2:]
    scale = flow.new_tensor([size[1] / width,
                             size[0] / height]).view(1, 2, 1, 1)
    return F.interpolate(
        flow, size=tuple(size), mode='bilinear', align_corners=False) * scale


def resize_mask(mask: Tensor, size: Tuple[int, int]) -> Tensor:
    """(N, 1, h, w) bool mask -> (N, 1, H, W) bool, nearest neighbour."""
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask.bool()
    return F.interpolate(
        mask.float(), size=tuple(size), mode='nearest').bool()


def person_box(mask: Tensor, margin: float = 0.25, min_side: int = 64,
               multiple: int = 8) -> Optional[Tuple[int, int, int, int]]:
    """Box (y0, y1, x0, x1) around every True pixel of (N, 1, H, W) masks.

    The box of the union over the N pairs grows by ``margin`` of its size
    on every side (so the flow network sees context around the limbs), to
    at least ``min_side`` px and to a multiple of ``multiple`` (the flow
    net's padding unit) where the image allows, and is clipped to it.

    Returns:
        tuple[int, int, int, int] | None: the crop, or None when the mask
        is empty (nothing to fine-tune towards).
    """
    height, width = mask.shape[-2:]
    union = mask.reshape(-1, height, width).any(0)
    rows = torch.nonzero(union.any(1)).flatten()
    cols = torch.nonzero(union.any(0)).flatten()
    if rows.numel() == 0:
        return None
    # two scalar reads per window: the crop bounds must be Python ints
    bounds = torch.stack([rows[0], rows[-1], cols[0], cols[-1]]).tolist()
    y0, y1, x0, x1 = bounds
    return (*_grow(y0, y1 + 1, height, margin, min_side, multiple),
            *_grow(x0, x1 + 1, width, margin, min_side, multiple))


def _grow(lo: int, hi: int, limit: int, margin: float, min_side: int,
          multiple: int) -> Tuple[int, int]:
    side = hi - lo
    side = max(side + 2 * int(round(margin * side)), min_side)
    side = min(-(-side // multiple) * multiple, limit)
    centre = (lo + hi) // 2
    start = min(max(centre - side // 2, 0), limit - side)
    return start, start + side
