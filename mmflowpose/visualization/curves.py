"""Per-frame and per-cycle error curves of one refined clip.

Reads one output dict of ``FlowPoseRefiner.predict`` (the clip's ground
truth fields, ``cycles`` views and the ``refinement`` result) and returns
plain numpy curves for :func:`plot_clip_curves`. The errors come from the
same functions as the metrics (``mpjpe_errors``, ``endpoint_error``).
"""
from typing import Dict, Optional

import numpy as np
import torch

from mmflowpose.evaluation.functional.flow_errors import endpoint_error
from mmflowpose.evaluation.functional.pose_errors import mpjpe_errors


def _array(value) -> Optional[np.ndarray]:
    if value is None:
        return None
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _chw(flow: np.ndarray) -> torch.Tensor:
    """(P, H, W, 2) numpy -> (P, 2, H, W) float32 tensor."""
    flow = np.ascontiguousarray(flow, np.float32)
    return torch.from_numpy(flow).permute(0, 3, 1, 2)


def gaussian_smooth(poses: np.ndarray, sigma: float) -> np.ndarray:
    """(T, J, 3) poses smoothed over time with a Gaussian of ``sigma``
    frames (edges: nearest value), the simple baseline a refiner should
    beat."""
    from scipy.ndimage import gaussian_filter1d
    if sigma <= 0:
        return np.asarray(poses, np.float64)
    return gaussian_filter1d(
        np.asarray(poses, np.float64), sigma, axis=0, mode='nearest')


def mpjpe_per_frame(pred: np.ndarray,
                    gt: np.ndarray,
                    mask: Optional[np.ndarray] = None) -> np.ndarray:
    """(T, ) root-aligned mean joint error in mm of (T, J, 3) metres."""
    errors = mpjpe_errors(
        torch.as_tensor(np.asarray(pred, np.float64)),
        torch.as_tensor(np.asarray(gt, np.float64))).numpy()
    errors = errors * 1000.0
    if mask is None:
        return errors.mean(-1)
    weight = np.asarray(mask, np.float64)
    return (errors * weight).sum(-1) / np.maximum(weight.sum(-1), 1)


def epe_per_pair(flow: np.ndarray, gt: np.ndarray,
                 mask: np.ndarray) -> np.ndarray:
    """(P, ) mean EPE in px of (P, H, W, 2) flows inside (P, H, W) masks
    (NaN for a pair with no pixel in its mask)."""
    error = endpoint_error(_chw(flow), _chw(gt)).numpy()
    mask = np.asarray(mask, bool)
    count = mask.sum((1, 2))
    total = np.where(mask, error, 0).sum((1, 2))
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def joint_epe_per_pair(pred: np.ndarray,
                       gt: np.ndarray,
                       valid: Optional[np.ndarray] = None) -> np.ndarray:
    """(P, ) mean EPE in px of (P, J, 2) flows sampled at joints."""
    error = np.linalg.norm(np.asarray(pred, np.float64) - gt, axis=-1)
    weight = np.ones_like(error) if valid is None else np.asarray(
        valid, np.float64)
    return (error * weight).sum(-1) / np.maximum(weight.sum(-1), 1)


def clip_curves(output: Dict, sigma: float = 2.0) -> Dict:
    """Curves of one clip for :func:`plot_clip_curves`.

    Args:
        output (dict): one ``FlowPoseRefiner.predict`` output.
        sigma (float): Gaussian smoother width, frames. Defaults to 2.

    Returns:
        dict: any of ``mpjpe`` (dict name -> (T, ) mm: ``initial``,
        ``refined``, ``smoothed initial``), ``epe`` (dict name -> (P, ) px:
        ``base``/``refined`` x ``person``/``background``, or at the
        ``joints``), ``cycles`` (dict name -> (C+1, ): ``MPJPE (mm)``,
        ``EPE ... (px)``) and ``sigma``; empty when the clip has no ground
        truth.
    """
    views = output.get('cycles') or []
    refinement = output.get('refinement') or {}
    curves = dict(sigma=float(sigma))
    gt_pose = _array(output.get('gt_pose3d'))
    if gt_pose is not None and views:
        mask = _array(output.get('pose_mask'))
        poses = [_array(v['pred_pose3d']) for v in views]
        curves['mpjpe'] = {
            'initial':
            mpjpe_per_frame(poses[0], gt_pose, mask),
            'refined':
            mpjpe_per_frame(poses[-1], gt_pose, mask),
            f'initial, Gaussian \u03c3={sigma:g}':
            mpjpe_per_frame(gaussian_smooth(poses[0], sigma), gt_pose, mask),
        }
        curves['cycles'] = {
            'MPJPE (mm)':
            np.array([mpjpe_per_frame(p, gt_pose, mask).mean() for p in poses])
        }
    gt_flow = _array(output.get('gt_flow'))
    flows = [_array(refinement.get('flow_init'))
             ] + [_array(c.get('flow')) for c in refinement.get('cycles', [])]
    if gt_flow is not None and flows[0] is not None:
        valid = _array(output.get('gt_flow_valid'))
        valid = np.ones(gt_flow.shape[:3], bool) if valid is None else \
            valid.astype(bool)
        human = _array(output.get('human_mask'))
        regions = {'all': valid}
        if human is not None:
            human = human[:len(gt_flow)].astype(bool)
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
    elif output.get('gt_joint_flow') is not None and views and \
            views[0].get('pred_joint_flow') is not None:
        gt_joint = _array(output['gt_joint_flow'])
        valid = _array(output.get('gt_joint_flow_valid'))
        per_view = [
            joint_epe_per_pair(_array(v['pred_joint_flow']), gt_joint, valid)
            for v in views
        ]
        curves['epe'] = {
            'base joints': per_view[0],
            'refined joints': per_view[-1]
        }
        curves.setdefault('cycles', {})['EPE joints (px)'] = np.array(
            [e.mean() for e in per_view])
    return curves if len(curves) > 1 else {}
