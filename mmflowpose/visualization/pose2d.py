"""2D skeletons drawn with OpenCV, clipped to the frame.

OpenCV clips lines at the image border, so a joint far outside the frame
(an extrapolated wrist) never changes the picture's size, unlike a
matplotlib canvas whose extent can grow with the data.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np

#: Colours (RGB) of left / right / centre limbs, as in mmpose's H36M
#: metainfo: left blue, right orange-red, centre green.
LEFT, RIGHT, CENTRE = (0, 170, 255), (255, 80, 40), (60, 220, 60)


def bone_colours(joint_names: Sequence[str],
                 bones: Sequence[Tuple[int, int]]) -> list:
    """RGB colour of each bone from the side of its child joint."""
    colours = []
    for _, child in bones:
        name = joint_names[child]
        colours.append(
            LEFT if name.startswith('left') else RIGHT if name.
            startswith('right') else CENTRE)
    return colours


def _point(xy) -> Tuple[int, int]:
    # far-away points are clamped so that cv2's int conversion cannot
    # overflow; lines to them keep their direction inside the frame
    x, y = np.clip(np.asarray(xy, np.float64), -1e5, 1e5)
    return int(round(x)), int(round(y))


def draw_skeleton_2d(image: np.ndarray,
                     keypoints: np.ndarray,
                     scores: np.ndarray,
                     bones: Sequence[Tuple[int, int]],
                     colours: Sequence[Tuple[int, int, int]],
                     kpt_thr: float = 0.3,
                     thickness: int = 2) -> np.ndarray:
    """A copy of ``image`` with its skeleton drawn.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB.
        keypoints (np.ndarray): (J, 2) px (x, y); may lie outside.
        scores (np.ndarray): (J, ) scores; joints below ``kpt_thr`` and
            their bones are not drawn, nor non-finite joints.
        bones (sequence): (parent, child) joint ids.
        colours (sequence): RGB colour per bone.
        kpt_thr (float): score threshold. Defaults to 0.3.
        thickness (int): line width, px. Defaults to 2.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB, same size as ``image``.
    """
    out = np.ascontiguousarray(image).copy()
    keypoints = np.asarray(keypoints, np.float64)
    shown = (np.asarray(scores) >= kpt_thr) & np.isfinite(keypoints).all(-1)
    for (a, b), colour in zip(bones, colours):
        if shown[a] and shown[b]:
            cv2.line(out, _point(keypoints[a]), _point(keypoints[b]),
                     tuple(int(c) for c in colour), thickness, cv2.LINE_AA)
    radius = max(2, thickness)
    for j in np.flatnonzero(shown):
        cv2.circle(out, _point(keypoints[j]), radius, (255, 255, 255), -1,
                   cv2.LINE_AA)
    return out
