"""A fixed pixel budget for fine-tuning passes, whatever the input.

Back-propagating through a flow network (RAFT keeps every iteration's
activations) costs memory in proportion to the pixels of a forward pass:
pairs x H x W. With a fixed number of pairs per step that grows with the
crop around the person, so a larger person would need more memory. A
budget of ``max_pixels`` per pass bounds it instead:

- a step's pairs are split into passes of at most ``max_pixels`` pixels
  whose gradients add up to the step's (each pass divides its loss sums by
  the whole step's normalisers, so the step is the same as one pass over
  all its pairs: :func:`loss_totals`);
- pairs larger than the budget on their own are resized to fit
  (:func:`fit_pairs`, flow values scaled with the image), one step's pairs
  at a time, so the resized copies do not grow with the number of pairs.
"""
import math
from typing import Optional, Tuple

import torch.nn.functional as F
from torch import Tensor


def pairs_per_pass(height: int, width: int,
                   max_pixels: Optional[int]) -> Optional[int]:
    """Pairs of ``height`` x ``width`` px in one pass (None: no budget)."""
    if max_pixels is None:
        return None
    return max(1, int(max_pixels) // (int(height) * int(width)))


def fit_size(height: int, width: int,
             max_pixels: Optional[int]) -> Tuple[int, int]:
    """(h, w) of a pair of at most ``max_pixels`` pixels, aspect kept."""
    if max_pixels is None or height * width <= max_pixels:
        return height, width
    scale = math.sqrt(max_pixels / (height * width))
    # floor so the product stays within the budget; 8 px is RAFT's cell
    return max(8, int(height * scale)), max(8, int(width * scale))


def fit_pairs(size: Tuple[int, int], frame1: Tensor, frame2: Tensor,
              target: Tensor, weight: Optional[Tensor],
              mask: Optional[Tensor]) -> tuple:
    """Resize (P, C, H, W) frames, target flow, weight and mask to ``size``.

    Frames are averaged (anti-aliased bilinear), the target flow is
    resampled and its x / y values scaled by the width / height ratios (px
    of the new size), a weight is area-averaged and a bool mask takes the
    nearest pixel, so the sketch keeps its share of the pixels.
    """
    height, width = target.shape[-2:]
    if (height, width) == tuple(size):
        return frame1, frame2, target, weight, mask

    def image(x: Tensor) -> Tensor:
        return F.interpolate(x.float(), size=size, mode='bilinear',
                             align_corners=False, antialias=True)

    scale = target.new_tensor([size[1] / width,
                               size[0] / height]).view(1, 2, 1, 1)
    target = F.interpolate(target.float(), size=size, mode='bilinear',
                           align_corners=False) * scale
    if weight is not None:
        weight = F.interpolate(weight.float(), size=size, mode='area')
    if mask is not None:
        mask = F.interpolate(mask.float(), size=size, mode='nearest') > 0.5
    return image(frame1), image(frame2), target, weight, mask


def loss_totals(num_pixels: int, weight: Optional[Tensor],
                mask: Optional[Tensor]) -> tuple:
    """Normalisers of a step's loss terms over all its pairs.

    Without ``mask``: the weight sum (or the pixel count); with a sketch
    ``mask``: the weighted sketch pixels and the weighted other pixels
    (the two terms of :meth:`FlowFinetuner.loss`).
    """
    if mask is None:
        return (num_pixels if weight is None else weight.float().sum(), )
    mask = mask.float()
    if weight is None:
        return mask.sum(), (1 - mask).sum()
    weight = weight.float().reshape(mask.shape)
    return (mask * weight).sum(), ((1 - mask) * weight).sum()
