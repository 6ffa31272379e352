"""The flow panels of the grid: base, refined, their difference, EPE.

Every function takes flows already shrunk to the panel's resolution
(values still in input px) except :func:`epe_panels`, which computes the
printed means at full resolution.
"""
from typing import Optional, Tuple

import numpy as np

from .flow_colours import (colour_bar, epe_map, error_to_rgb, flow_to_rgb,
                           paste_wheel, robust_flow_scale, robust_scale)
from .layout import blank_panel, fit, put_text, resize


def flow_pictures(flow_init: np.ndarray,
                  flow: np.ndarray,
                  percentile: float = 99.0) -> tuple:
    """Base flow, refined flow and their difference, (h, w, 2) px each.

    The two flows share one scale, the ``percentile`` of their magnitudes
    together; the difference (refined - base) has its own (at least
    0.05 px, so that equal flows give a white picture).

    Returns:
        tuple: three (h, w, 3) uint8 RGB pictures and a dict with ``scale``
        (shared colour scale, px), ``diff_scale`` and ``diff_mean`` (mean
        |refined - base|, px).
    """
    scale = robust_flow_scale([flow_init, flow], percentile)
    diff = np.asarray(flow, np.float32) - np.asarray(flow_init, np.float32)
    diff_scale = robust_flow_scale([diff], percentile, floor=0.05)
    info = dict(
        scale=scale,
        diff_scale=diff_scale,
        diff_mean=float(np.nanmean(np.linalg.norm(diff, axis=-1))))
    return (flow_to_rgb(flow_init, scale), flow_to_rgb(flow, scale),
            flow_to_rgb(diff, diff_scale), info)


def flow_panels(flow_init: np.ndarray,
                flow: np.ndarray,
                size: Tuple[int, int],
                percentile: float = 99.0) -> tuple:
    """Labelled base, refined and difference panels with wheel legends.

    Returns:
        tuple: (base, refined, difference) (H, W, 3) uint8 RGB panels of
        ``size`` and the info dict of :func:`flow_pictures`.
    """
    rgb_init, rgb_flow, rgb_diff, info = flow_pictures(flow_init, flow,
                                                       percentile)
    note = f'p{percentile:g} = {info["scale"]:.1f} px'
    base = put_text(paste_wheel(fit(rgb_init, size), note), 'base flow')
    refined = put_text(paste_wheel(fit(rgb_flow, size), note), 'refined flow')
    diff = fit(rgb_diff, size)
    put_text(diff, 'refined - base flow')
    put_text(diff, f'mean |diff| {info["diff_mean"]:.2f} px', line=1)
    paste_wheel(diff, f'p{percentile:g} = {info["diff_scale"]:.2f} px')
    return base, refined, diff, info


def epe_panels(size: Tuple[int, int],
               scale: float,
               flow_init: Optional[np.ndarray],
               flow: Optional[np.ndarray],
               gt_flow: Optional[np.ndarray],
               valid: Optional[np.ndarray] = None,
               human_mask: Optional[np.ndarray] = None,
               percentile: float = 99.0) -> Tuple[np.ndarray, np.ndarray]:
    """End-point error maps of the base and refined flow, one colour scale.

    Args:
        size (tuple[int, int]): panel (H, W).
        scale (float): panel px per input px.
        flow_init, flow, gt_flow (np.ndarray, optional): (H, W, 2) px at
            input resolution; any None gives two blank panels.
        valid (np.ndarray, optional): (H, W) bool pixels with ground truth
            (others grey).
        human_mask (np.ndarray, optional): (H, W) bool: the EPE on the
            person is printed too.
        percentile (float): of both error maps, the top of the colour
            scale. Defaults to 99.

    Returns:
        tuple[np.ndarray, np.ndarray]: base and refined panels.
    """
    if gt_flow is None or flow_init is None or flow is None:
        blank = blank_panel(size, 'no ground-truth flow')
        return blank, blank.copy()
    errors = [epe_map(f, gt_flow, valid) for f in (flow_init, flow)]
    top = robust_scale(errors, percentile)
    panels = []
    for name, error in zip(('base', 'refined'), errors):
        small = resize(error.astype(np.float32), scale)
        panel = fit(error_to_rgb(small, top), size)
        panels.append(panel)
        put_text(panel, _epe_text(name, error, human_mask))
        bar_h, bar_w = max(6, size[0] // 30), size[1] // 3
        panel[-bar_h - 6:-6, -bar_w - 6:-6] = colour_bar(bar_w, bar_h)
        put_text(
            panel,
            f'0 - {top:.1f} px',
            bottom=True,
            right=True,
            margin=bar_w + 12)
    return panels[0], panels[1]


def _epe_text(name: str, error: np.ndarray,
              human_mask: Optional[np.ndarray]) -> str:
    text = f'EPE {name}: {np.nanmean(error):.2f} px'
    if human_mask is not None:
        person = error[np.asarray(human_mask, bool)]
        if np.isfinite(person).any():
            text += f' (person {np.nanmean(person):.2f})'
    return text


__all__ = ['epe_panels', 'flow_panels', 'flow_pictures']
