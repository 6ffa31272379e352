"""Per-frame and per-cycle error curves of one refined clip.

Reads the :class:`ClipDataSample` that ``FlowPoseRefiner.predict`` returns
(or its dict): the ground truth and the stacked per-cycle predictions, and
returns plain numpy curves for :func:`plot_clip_curves` (numpy only here,
where the curves leave for matplotlib). The errors come from the same
functions as the metrics (``mpjpe_errors``, ``endpoint_error``,
``sparse_epe``).
"""
from typing import Dict, Optional

import numpy as np
import torch
from torch import Tensor

from mmflowpose.evaluation.functional.flow_errors import (endpoint_error,
                                                          sparse_epe)
from mmflowpose.evaluation.functional.pose_errors import mpjpe_errors


def _get(sample, key: str) -> Optional[Tensor]:
    """A field as a float64 CPU tensor (bool kept), or None."""
    value = sample.get(key)
    if value is None:
        return None
    value = torch.as_tensor(value).detach().cpu()
    return value if value.dtype == torch.bool else value.double()


def gaussian_smooth(poses: np.ndarray, sigma: float) -> np.ndarray:
    """(T, J, 3) poses smoothed over time with a Gaussian of ``sigma``
    frames (edges: nearest value), the simple baseline a refiner should
    beat."""
    from scipy.ndimage import gaussian_filter1d
    if sigma <= 0:
        return np.asarray(poses, np.float64)
    return gaussian_filter1d(
        np.asarray(poses, np.float64), sigma, axis=0, mode='nearest')


def mpjpe_per_frame(pred, gt, mask: Optional[Tensor] = None) -> np.ndarray:
    """(T, ) root-aligned mean joint error in mm of (T, J, 3) metres."""
    errors = 1000.0 * mpjpe_errors(
        torch.as_tensor(pred, dtype=torch.float64),
        torch.as_tensor(gt, dtype=torch.float64))
    if mask is None:
        return errors.mean(-1).numpy()
    weight = torch.as_tensor(mask, dtype=torch.float64)
    return ((errors * weight).sum(-1) / weight.sum(-1).clamp(min=1)).numpy()


def epe_per_pair(flow: Tensor, gt: Tensor, mask: Tensor) -> np.ndarray:
    """(P, ) mean EPE in px of (P, 2, H, W) flows inside (P, H, W) masks
    (NaN for a pair with no pixel in its mask)."""
    error = endpoint_error(flow.double(), gt.double())
    count = mask.sum((1, 2))
    total = torch.where(mask, error, torch.zeros_like(error)).sum((1, 2))
    return torch.where(count > 0, total / count.clamp(min=1),
                       torch.full_like(total, float('nan'))).numpy()


def clip_curves(sample, sigma: float = 2.0) -> Dict:
    """Curves of one clip for :func:`plot_clip_curves`.

    Args:
        sample (ClipDataSample | dict): one ``FlowPoseRefiner.predict``
            output (``pred_pose3d`` (C+1, T, J, 3), optional ``pred_flow``
            (C+1, P, 2, H, W)) with its ground truth.
        sigma (float): Gaussian smoother width, frames. Defaults to 2.

    Returns:
        dict: any of ``mpjpe`` (dict name -> (T, ) mm: ``initial``,
        ``refined``, ``smoothed initial``), ``epe`` (dict name -> (P, ) px:
        ``base``/``refined`` x ``person``/``background``, or at the
        ``joints``), ``cycles`` (dict name -> (C+1, ): ``MPJPE (mm)``,
        ``EPE ... (px)``) and ``sigma``; empty when the clip has no ground
        truth.
    """
    poses, flows = _get(sample, 'pred_pose3d'), _get(sample, 'pred_flow')
    curves = dict(sigma=float(sigma))
    gt_pose = _get(sample, 'gt_pose3d')
    if gt_pose is not None and poses is not None:
        mask = _get(sample, 'pose_mask')
        smooth = gaussian_smooth(poses[0].numpy(), sigma)
        curves['mpjpe'] = {
            'initial': mpjpe_per_frame(poses[0], gt_pose, mask),
            'refined': mpjpe_per_frame(poses[-1], gt_pose, mask),
            f'initial, Gaussian \u03c3={sigma:g}':
            mpjpe_per_frame(smooth, gt_pose, mask),
        }
        curves['cycles'] = {
            'MPJPE (mm)':
            np.array([mpjpe_per_frame(p, gt_pose, mask).mean() for p in poses])
        }
    gt_flow = _get(sample, 'gt_flow')
    if flows is not None and gt_flow is not None:
        valid = _get(sample, 'gt_flow_valid')
        valid = torch.ones(flows.shape[1:2] + flows.shape[3:],
                           dtype=torch.bool) if valid is None else valid
        human = _get(sample, 'human_mask')
        regions = {'all': valid}
        if human is not None:
            human = human[:len(gt_flow)]  # pair p: frame p's mask
            regions = {'person': valid & human, 'background': valid & ~human}
        curves['epe'] = {
            f'{name} {region}': epe_per_pair(flow, gt_flow, mask)
            for name, flow in (('base', flows[0]), ('refined', flows[-1]))
            for region, mask in regions.items()
        }
        per_cycle = curves.setdefault('cycles', {})
        for region, mask in regions.items():
            per_cycle[f'EPE {region} (px)'] = np.array(
                [np.nanmean(epe_per_pair(f, gt_flow, mask)) for f in flows])
    elif flows is not None and sample.get('gt_joint_flow') is not None:
        gt_joint = _get(sample, 'gt_joint_flow')
        points = _get(sample, 'gt_keypoints_2d')[:len(gt_joint)]
        valid = _get(sample, 'gt_joint_flow_valid')
        per_cycle = []
        for flow in flows:
            error, scored = sparse_epe(flow, points, gt_joint, valid)
            per_cycle.append(
                (error.sum(-1) / scored.sum(-1).clamp(min=1)).numpy())
        curves['epe'] = {
            'base joints': per_cycle[0],
            'refined joints': per_cycle[-1]
        }
        curves.setdefault('cycles', {})['EPE joints (px)'] = np.array(
            [e.mean() for e in per_cycle])
    return curves if len(curves) > 1 else {}
