"""The pose sketch as motion: arrows along the bones, over the frame.

The sketch head writes, along every bone, the displacement of the refined
joints' projections from frame t to t+1 into the target flow (inside the
sketch mask). This panel draws that displacement as arrows from points
along each bone at frame t, coloured with the flow panels' colours and
scale (so an arrow and the flow under it can be compared directly), and
lengthened by a stated gain because a few pixels of motion would otherwise
be invisible. The mask is tinted lightly so its extent is still visible.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .flow_colours import flow_to_rgb


def bone_points(points: np.ndarray,
                bones: Sequence[Tuple[int, int]],
                shown: np.ndarray,
                per_bone: int = 3) -> np.ndarray:
    """Points interpolated along the shown bones.

    Args:
        points (np.ndarray): (..., J, 2) px.
        bones (sequence): (parent, child) joint ids.
        shown (np.ndarray): (J, ) bool joints to use.
        per_bone (int): points per bone, both ends included. Defaults to 3.

    Returns:
        np.ndarray: (..., N, 2) px, N = per_bone x shown bones.
    """
    weights = np.linspace(0.0, 1.0, per_bone)[:, None]
    chunks = [(1 - weights) * points[..., a, None, :] +
              weights * points[..., b, None, :] for a, b in bones
              if shown[a] and shown[b]]
    if not chunks:
        return np.zeros(points.shape[:-2] + (0, 2))
    return np.concatenate(chunks, axis=-2)


def arrow_gain(displacements: np.ndarray, panel_height: int,
               scale: float) -> float:
    """Gain that makes the 90th-percentile arrow ~1/16 of the panel high.

    Args:
        displacements (np.ndarray): (N, 2) in panel px.
        panel_height (int): px.
        scale (float): panel px per input px (for the floor of 0.5 input
            px, so still sketches are not blown up).

    Returns:
        float: integer-valued gain >= 1.
    """
    lengths = np.linalg.norm(displacements, axis=-1)
    typical = np.percentile(lengths, 90) if lengths.size else 0.0
    typical = max(float(typical), 0.5 * scale)
    return float(max(1, round(panel_height / 16.0 / typical)))


def draw_sketch_arrows(image: np.ndarray,
                       mask: Optional[np.ndarray],
                       starts: np.ndarray,
                       displacements: np.ndarray,
                       flow_scale: float,
                       panel_scale: float = 1.0,
                       gain: Optional[float] = None) -> tuple:
    """Darkened frame, tinted mask, one arrow per sketch point.

    Args:
        image (np.ndarray): (h, w, 3) uint8 RGB frame at panel resolution.
        mask (np.ndarray, optional): (h, w) bool sketch mask at that
            resolution.
        starts (np.ndarray): (N, 2) points of frame t, input px.
        displacements (np.ndarray): (N, 2) motion t -> t+1, input px.
        flow_scale (float): colour scale of the flow panels, input px.
        panel_scale (float): panel px per input px. Defaults to 1.
        gain (float, optional): arrow lengthening; default
            :func:`arrow_gain`.

    Returns:
        tuple[np.ndarray, float]: (h, w, 3) uint8 RGB and the gain used.
    """
    # a darker frame lets white (slow) and coloured arrows stand out
    out = (np.asarray(image, np.float32) * 0.45).astype(np.uint8)
    if mask is not None:
        mask = np.asarray(mask, bool)
        out[mask] = (0.6 * out[mask] + 0.4 * 160).astype(np.uint8)
    starts = np.asarray(starts, np.float64) * panel_scale
    moves = np.asarray(displacements, np.float64) * panel_scale
    keep = np.isfinite(starts).all(-1) & np.isfinite(moves).all(-1)
    starts, moves = starts[keep], moves[keep]
    if gain is None:
        gain = arrow_gain(moves, out.shape[0], panel_scale)
    if len(starts) == 0:
        return out, gain
    colours = flow_to_rgb(
        np.asarray(displacements, np.float32)[keep][None], flow_scale)[0]
    thick = max(1, out.shape[0] // 180)
    for start, move, colour in zip(starts, moves, colours):
        tip = start + gain * move
        length = float(np.linalg.norm(tip - start))
        if not (np.abs(tip) < 1e5).all() or length < 1:
            continue
        # heads of a fixed size (tipLength is relative to the length)
        head = min(0.4, 3.0 * thick / length + 0.1)
        cv2.arrowedLine(
            out, (int(round(start[0])), int(round(start[1]))),
            (int(round(tip[0])), int(round(tip[1]))),
            tuple(int(c) for c in colour),
            thick,
            cv2.LINE_AA,
            tipLength=head)
    return out, gain


def grid_samples(flow: np.ndarray, mask: np.ndarray,
                 step: int) -> Tuple[np.ndarray, np.ndarray]:
    """Points on a ``step`` px grid inside ``mask`` and ``flow`` there.

    Used when the sketch's joints are not known: the flow inside the mask
    then stands for the sketch's motion.

    Args:
        flow (np.ndarray): (H, W, 2) px.
        mask (np.ndarray): (H, W) bool.
        step (int): grid spacing, px.

    Returns:
        tuple[np.ndarray, np.ndarray]: (N, 2) points (x, y) and (N, 2)
        flow vectors, px.
    """
    step = max(1, int(step))
    grid = np.zeros_like(np.asarray(mask, bool))
    grid[step // 2::step, step // 2::step] = True
    ys, xs = np.nonzero(grid & np.asarray(mask, bool))
    points = np.stack([xs, ys], -1).astype(np.float64)
    return points, np.asarray(flow)[ys, xs].astype(np.float64)


def sketch_motion_panel(small: np.ndarray,
                        scale: float,
                        size: Tuple[int, int],
                        bones: Sequence[Tuple[int, int]],
                        shown: np.ndarray,
                        flow_scale: float,
                        mask: Optional[np.ndarray] = None,
                        sketch_keypoints: Optional[np.ndarray] = None,
                        small_flow: Optional[np.ndarray] = None) -> np.ndarray:
    """The labelled sketch panel of the grid.

    Args:
        small (np.ndarray): (h, w, 3) uint8 RGB frame at panel resolution.
        scale (float): panel px per input px.
        size (tuple[int, int]): panel (H, W).
        bones (sequence): (parent, child) joint ids.
        shown (np.ndarray): (J, ) bool joints the sketch used.
        flow_scale (float): colour scale of the flow panels, input px.
        mask (np.ndarray, optional): (H, W) bool sketch mask, input size.
        sketch_keypoints (np.ndarray, optional): (2, J, 2) input px joints
            at t and t+1 the sketch was drawn from.
        small_flow (np.ndarray, optional): (h, w, 2) refined flow at panel
            resolution, drawn inside the mask without ``sketch_keypoints``.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    from .layout import blank_panel, fit, put_text, resize
    small_mask = None
    if mask is not None:
        small_mask = resize(
            np.asarray(mask, np.uint8), scale, cv2.INTER_NEAREST) > 0
    if sketch_keypoints is not None:
        starts, ends = bone_points(
            np.asarray(sketch_keypoints, np.float64), bones, shown)
        moves = ends - starts
        label = 'pose sketch: motion t->t+1'
    elif small_mask is not None and small_flow is not None:
        starts, moves = grid_samples(small_flow, small_mask,
                                     max(4, size[0] // 24))
        starts = starts / scale
        label = 'sketch mask: refined flow'
    else:
        return blank_panel(size, 'no sketch')
    drawn, gain = draw_sketch_arrows(small, small_mask, starts, moves,
                                     flow_scale, scale)
    panel = put_text(fit(drawn, size), label)
    return put_text(panel, f'arrows x{gain:.0f}', line=1)
