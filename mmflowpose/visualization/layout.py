"""Panel geometry and labels shared by every panel of the grid.

A panel keeps the input's aspect ratio and is at most ``max_size``; text
is sized from the panel height, so labels stay readable whether the input
is 320 px wide or 1080p (which is shrunk to the same panel size).
"""
from typing import Tuple

import cv2
import numpy as np

#: Grey of a panel without content (no flow for the last frame).
BLANK = 96


def auto_panel_size(image_size: Tuple[int, int],
                    max_size: Tuple[int, int] = (360, 640),
                    min_size: int = 180) -> Tuple[int, int]:
    """(H, W) of a panel that shows an ``image_size`` (H, W) frame whole.

    The input's aspect ratio is kept; the panel is the input itself when it
    fits in ``max_size``, otherwise the largest shrunk copy that fits (a
    1280 x 720 frame gives 640 x 360 panels, so a 3-column grid is 1920 px
    wide); sides are even (video codecs) and at least ``min_size``.

    Args:
        image_size (tuple[int, int]): (H, W) of the input frames, px.
        max_size (tuple[int, int]): largest (H, W) of a panel, px.
            Defaults to (360, 640).
        min_size (int): smallest side of a panel, px (smaller inputs are
            enlarged so that text and legends fit). Defaults to 180.

    Returns:
        tuple[int, int]: panel (H, W) in px.
    """
    height, width = (int(v) for v in image_size)
    if height < 1 or width < 1:
        raise ValueError(f'image_size must be (H, W) > 0, got {image_size}')
    scale = min(1.0, max_size[0] / height, max_size[1] / width)
    # tiny inputs are enlarged so that labels and legends still fit
    scale = max(scale, min_size / min(height, width))
    even = [
        max(min_size, 2 * int(round(v * scale / 2))) for v in (height, width)
    ]
    return even[0], even[1]


def fit(image: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Letterbox ``image`` (h, w, 3) into a (H, W) = ``size`` panel."""
    height, width = size
    scale = min(height / image.shape[0], width / image.shape[1])
    new_w = max(1, int(round(image.shape[1] * scale)))
    new_h = max(1, int(round(image.shape[0] * scale)))
    if (new_h, new_w) == image.shape[:2]:
        resized = image
    else:
        resized = cv2.resize(
            image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    panel = np.zeros((height, width, 3), np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    panel[top:top + new_h, left:left + new_w] = resized
    return panel


def resize(image: np.ndarray,
           scale: float,
           interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    """Resize (h, w, ...) by ``scale`` (no-op for 1)."""
    if abs(scale - 1.0) < 1e-6:
        return image
    width = max(1, int(round(image.shape[1] * scale)))
    height = max(1, int(round(image.shape[0] * scale)))
    return cv2.resize(image, (width, height), interpolation=interpolation)


def font_scale(panel_height: int) -> float:
    """OpenCV font scale for a panel: a line is ~6% of the panel height
    (about 17 px on the 360 px panels of 720p and 1080p input)."""
    return max(0.4, panel_height / 500.0)


def line_height(panel_height: int) -> int:
    """Pixel height of one text line at :func:`font_scale`."""
    return int(round(30 * font_scale(panel_height))) + 4


def put_text(panel: np.ndarray,
             text: str,
             line: int = 0,
             colour=(255, 255, 255),
             right: bool = False,
             bottom: bool = False,
             margin: int = 6) -> np.ndarray:
    """Write ``text`` in place: white on a dark outline, readable on both
    the white flow panels and dark frames.

    Args:
        panel (np.ndarray): (H, W, 3) uint8 RGB, drawn on in place.
        text (str): one line.
        line (int): line number from the top (or bottom). Defaults to 0.
        colour (tuple): RGB text colour. Defaults to white.
        right (bool): align to the right edge. Defaults to False.
        bottom (bool): count lines from the bottom edge. Defaults to False.
        margin (int): gap to the right edge when ``right``, px.
            Defaults to 6.

    Returns:
        np.ndarray: ``panel``.
    """
    height, width = panel.shape[:2]
    scale = font_scale(height)
    thick = max(1, int(round(scale * 1.6)))
    (text_w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale,
                                     thick)
    step = line_height(height)
    x = width - text_w - margin if right else 6
    y = height - 8 - line * step if bottom else step - 4 + line * step
    for ink, extra in (((0, 0, 0), 2 * thick + 1), (colour, thick)):
        cv2.putText(panel, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, ink,
                    extra, cv2.LINE_AA)
    return panel


def blank_panel(size: Tuple[int, int], text: str = '') -> np.ndarray:
    """A uniform grey (H, W, 3) panel with an optional label."""
    panel = np.full(tuple(size) + (3, ), BLANK, np.uint8)
    return put_text(panel, text) if text else panel
