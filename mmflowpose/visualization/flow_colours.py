"""Flow colours with an explicit, robust scale and a colour-wheel legend.

``mmcv.flow2rgb`` divides a field by its own largest magnitude, so one
outlier pixel (65-81 px against a 99th percentile of 51 px in the demo)
leaves most of the field pale, and two flows coloured separately are not
comparable. Here a field is first divided by a chosen ``scale`` (a high
percentile of the magnitudes of all flows shown together) and clipped to
unit length; one extra pixel of length exactly 1 is appended before
``mmcv.flow2rgb``, so its own division is by 1 and the colour of a pixel
depends only on ``flow / scale``. Vectors longer than ``scale`` take the
fully saturated rim colour.

Colour convention (mmcv's wheel): white = no motion, hue = direction of
motion in the image (x right, y down), saturation = length / ``scale``.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np


def robust_scale(values: Sequence[np.ndarray],
                 percentile: float = 99.0,
                 floor: float = 0.1) -> float:
    """A high percentile of all ``values`` together (non-finite ignored),
    at least ``floor``."""
    if not 0 < percentile <= 100:
        raise ValueError(f'percentile must be in (0, 100], got {percentile}')
    flat = [np.asarray(v, np.float64).ravel() for v in values]
    flat = np.concatenate(flat) if flat else np.zeros(0)
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return float(floor)
    return float(max(np.percentile(flat, percentile), floor))


def robust_flow_scale(flows: Sequence[np.ndarray],
                      percentile: float = 99.0,
                      floor: float = 0.1) -> float:
    """A high percentile of the magnitudes of all ``flows`` together.

    Args:
        flows (sequence[np.ndarray]): (H, W, 2) px fields; non-finite
            pixels are ignored.
        percentile (float): in (0, 100]. Defaults to 99.
        floor (float): smallest scale returned, px (a still scene would
            otherwise amplify sub-pixel noise to full colour).
            Defaults to 0.1.

    Returns:
        float: scale in px.
    """
    return robust_scale(
        [np.linalg.norm(np.asarray(f, np.float32), axis=-1) for f in flows],
        percentile, floor)


def flow_to_rgb(flow: np.ndarray, scale: float) -> np.ndarray:
    """Colour an (H, W, 2) px flow with ``mmcv.flow2rgb`` at ``scale``.

    Args:
        flow (np.ndarray): (H, W, 2) px, channel 0 = x; NaN pixels are
            drawn black (mmcv's "unknown").
        scale (float): length in px that gets the full wheel colour.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    import mmcv
    flow = np.asarray(flow, np.float32)
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(f'flow must be (H, W, 2), got {flow.shape}')
    if not scale > 0:
        raise ValueError(f'scale must be > 0 px, got {scale!r}')
    unit = flow / np.float32(scale)
    length = np.linalg.norm(unit, axis=-1, keepdims=True)
    unit = np.where(length > 1, unit / np.maximum(length, 1e-12), unit)
    # the sentinel column holds one unit vector: flow2rgb's max is 1
    sentinel = np.zeros((flow.shape[0], 1, 2), np.float32)
    sentinel[0, 0, 0] = 1.0
    rgb = mmcv.flow2rgb(np.concatenate([unit, sentinel], axis=1))[:, :-1]
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def colour_wheel(radius: int) -> Tuple[np.ndarray, np.ndarray]:
    """The legend: a disk whose pixel at offset (dx, dy) from the centre is
    coloured as the flow (dx, dy) / ``radius`` at unit scale.

    Args:
        radius (int): disk radius, px.

    Returns:
        tuple[np.ndarray, np.ndarray]: (2r+1, 2r+1, 3) uint8 RGB and the
        (2r+1, 2r+1) bool disk mask.
    """
    radius = int(radius)
    if radius < 2:
        raise ValueError(f'radius must be >= 2 px, got {radius}')
    offsets = np.arange(-radius, radius + 1, dtype=np.float32)
    dx, dy = np.meshgrid(offsets, offsets)
    field = np.stack([dx, dy], -1) / radius
    mask = dx**2 + dy**2 <= radius**2
    return flow_to_rgb(field, 1.0), mask


def paste_wheel(panel: np.ndarray, text: str) -> np.ndarray:
    """Draw the colour wheel (radius ~ 1/9 of the panel height) in the
    bottom-right corner of ``panel``, in place, with ``text`` beside it.

    Returns:
        np.ndarray: ``panel``.
    """
    from .layout import put_text
    height, width = panel.shape[:2]
    radius = max(6, height // 9)
    wheel, mask = colour_wheel(radius)
    size = 2 * radius + 1
    top, left = height - size - 6, width - size - 6
    region = panel[top:top + size, left:left + size]
    region[mask] = wheel[mask]
    centre = (left + radius, top + radius)
    cv2.circle(panel, centre, radius, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.drawMarker(panel, centre, (0, 0, 0), cv2.MARKER_CROSS, 5, 1)
    if text:
        put_text(panel, text, bottom=True, right=True, margin=size + 12)
    return panel


def epe_map(flow: np.ndarray,
            gt: np.ndarray,
            valid: Optional[np.ndarray] = None) -> np.ndarray:
    """(H, W) end-point error in px; NaN where ``valid`` is False."""
    error = np.linalg.norm(
        np.asarray(flow, np.float32) - np.asarray(gt, np.float32), axis=-1)
    if valid is not None:
        error = np.where(np.asarray(valid, bool), error, np.nan)
    return error


def error_to_rgb(error: np.ndarray, scale: float) -> np.ndarray:
    """Colour an (H, W) error map (0 = black .. ``scale`` = bright yellow,
    inferno); NaN (no ground truth) is grey."""
    if not scale > 0:
        raise ValueError(f'scale must be > 0, got {scale!r}')
    unknown = ~np.isfinite(error)
    level = np.clip(np.nan_to_num(error) / scale * 255.0 + 0.5, 0, 255)
    bgr = cv2.applyColorMap(level.astype(np.uint8), cv2.COLORMAP_INFERNO)
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    rgb[unknown] = 128
    return rgb


def colour_bar(width: int, height: int) -> np.ndarray:
    """(height, width, 3) RGB strip of :func:`error_to_rgb`, 0 at left."""
    ramp = np.tile(np.linspace(0, 1, max(2, width)), (max(1, height), 1))
    return error_to_rgb(ramp, 1.0)
