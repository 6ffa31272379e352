"""A rendered clip's first frames at an integer fraction of its size,
ground truth included (the flow step's benchmark runs at the size its
settings were chosen at)."""
from typing import Tuple

import numpy as np


def shrink_clip(item: dict, keypoints, frames: int,
                factor: int) -> Tuple[dict, np.ndarray]:
    """The first ``frames`` frames of a clip at 1/``factor`` of its size.

    Frames are area-averaged; the exact flow is averaged over each
    ``factor`` x ``factor`` block and divided by ``factor``; a block is
    valid when all its pixels are and person where most are. Points map
    by pixel centres: ``(x + 0.5) / factor - 0.5``.

    Args:
        item (dict): a rendered clip (``inputs.frames`` (T, H, W, 3) uint8;
            ``data_samples`` with ``image_size``, ``gt_flow``
            (T-1, H, W, 2) px, ``gt_flow_valid`` (T-1, H, W),
            ``human_mask`` (T, H, W), ``gt_keypoints_2d`` (T, J, 2) px)
            and a ``name``.
        keypoints (array): (T, J, 2) px points to rescale with the clip.
        frames (int): frames kept from the start.
        factor (int): size divisor; must divide H and W and leave at
            least 32 x 32 px.

    Returns:
        tuple[dict, np.ndarray]: the small clip (same layout, fields above
        only) and ``keypoints`` rescaled (frames, J, 2).
    """
    import cv2
    sample = item['data_samples']
    H, W = sample['image_size']
    h, w = H // factor, W // factor
    if h * factor != H or w * factor != W or h < 32 or w < 32:
        raise ValueError(f'flow_step factor {factor} must divide the image '
                         f'size {H}x{W} and leave at least 32x32 px')

    def blocks(x):  # (N, H, W, ...) -> (N, h, w, ...) block means
        x = np.asarray(x, np.float32)[:, :H, :W]
        x = x.reshape(len(x), h, factor, w, factor, *x.shape[3:])
        return x.mean((2, 4))

    t, p = slice(0, frames), slice(0, frames - 1)
    small = [
        cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)
        for f in item['inputs']['frames'][t]
    ]

    def rescale(kp):
        return (np.asarray(kp, np.float32)[t] + 0.5) / factor - 0.5

    data = dict(
        image_size=(h, w),
        gt_flow=blocks(sample['gt_flow'][p]) / factor,
        gt_flow_valid=blocks(sample['gt_flow_valid'][p]) > 0.999,
        human_mask=blocks(sample['human_mask'][t]) > 0.5,
        gt_keypoints_2d=rescale(sample['gt_keypoints_2d']))
    return dict(name=item['name'], inputs=dict(frames=np.stack(small)),
                data_samples=data), rescale(keypoints)
