"""3D pose metrics: MPJPE, P-MPJPE, N-MPJPE and acceleration error.

Fields read from each data sample (a dict or a data-sample object):

- preferred: ``pred_pose3d`` and ``gt_pose3d``, (T, J, 3) or (J, 3) joints;
- mmpose style: ``pred_instances.keypoints`` and
  ``gt_instances.lifting_target``, same shapes (an extra leading instance
  axis is allowed).

A refiner's stacked prediction (C+1, T, J, 3) of every cycle (see
:class:`ClipDataSample`) is scored at its last cycle; wrap the metric in
``PerCycleMetric`` to score every cycle.

Optional ``pose_mask`` (T, J) / ``gt_instances.lifting_target_visible``
bool excludes joints. Poses are in metres; results are in mm
(``unit_scale=1000``). Each ``process`` adds error SUMS and joint COUNTS;
``compute_metrics`` divides the totals, so the result does not depend on
batch sizes. Nothing is parsed from file names.

Non-finite predictions are failures, never dropped: a scored joint (finite
ground truth, not masked) whose prediction is NaN/inf (MPJPE: that joint or
the root; P-/N-MPJPE: any joint of the frame, which the alignment uses;
acceleration: any joint of the 3 frames) is counted in
``<key>_nonfinite``, and then ``<key>`` itself is NaN (written as ``null``
to JSON) with the mean over the other joints in ``<key>_finite_only``.
Joints whose ground truth is non-finite are missing labels, not scored
(spread the same way).
"""
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from torch import Tensor

from mmflowpose.registry import METRICS
from ..functional.pose_errors import (acceleration_errors, mpjpe_errors,
                                      n_mpjpe_errors, p_mpjpe_errors)


def _get(sample, path: str):
    value = sample
    for key in path.split('.'):
        if isinstance(value, dict):
            if key not in value:
                return None
            value = value[key]
        else:
            value = getattr(value, key, None)
            if value is None:
                return None
    return value


def _tensor(value) -> Tensor:
    if isinstance(value, Tensor):
        return value.detach().cpu().double()
    return torch.as_tensor(np.asarray(value), dtype=torch.float64)


class _PoseErrorMetric(BaseMetric):
    """Shared gathering of 3D pose errors (sums and counts).

    Args:
        root_joint (int, optional): root-alignment joint. Defaults to 0.
        joint_names (sequence[str], optional): joints scored (after root
            alignment), e.g. ``H36M_EVAL_JOINT_NAMES``. Defaults to None.
        skeleton (str): mmpose metainfo that names the joints. Defaults to
            'h36m'.
        unit_scale (float): multiplier to the reported unit. Defaults to
            1000 (metres -> mm).
        collect_device (str): see ``BaseMetric``. Defaults to 'cpu'.
        prefix (str, optional): see ``BaseMetric``. Defaults to None.
    """
    key = 'error'
    min_frames = 1

    def __init__(self,
                 root_joint: Optional[int] = 0,
                 joint_names: Optional[Sequence[str]] = None,
                 skeleton: str = 'h36m',
                 unit_scale: float = 1000.0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not unit_scale > 0:
            raise ValueError(f'unit_scale must be > 0, got {unit_scale}')
        self.root_joint = root_joint
        self.joint_ids = None
        if joint_names is not None:
            from mmflowpose.models.utils.skeleton import load_skeleton
            self.joint_ids = load_skeleton(skeleton).joint_ids(joint_names)
        self.unit_scale = unit_scale

    def errors(self, pred: Tensor, gt: Tensor) -> Tensor:
        raise NotImplementedError

    def _mask(self, mask: Tensor, shape) -> Tensor:
        if self.joint_ids is not None:
            mask = mask[..., self.joint_ids]
        return mask

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            pred = _get(sample, 'pred_pose3d')
            gt = _get(sample, 'gt_pose3d')
            mask = _get(sample, 'pose_mask')
            if pred is None or gt is None:
                pred = _get(sample, 'pred_instances.keypoints')
                gt = _get(sample, 'gt_instances.lifting_target')
                mask = _get(sample, 'gt_instances.lifting_target_visible')
            if pred is None or gt is None:
                raise ValueError(
                    'data sample needs pred_pose3d and gt_pose3d, or '
                    'pred_instances.keypoints and '
                    'gt_instances.lifting_target')
            pred, gt = _tensor(pred), _tensor(gt)
            if pred.ndim == gt.ndim + 1 and pred.shape[1:] == gt.shape:
                pred = pred[-1]  # a refiner's cycles: score the last one
            if pred.shape != gt.shape or pred.shape[-1] != 3:
                raise ValueError(f'prediction {tuple(pred.shape)} and ground '
                                 f'truth {tuple(gt.shape)} must both be '
                                 '(..., J, 3)')
            # Non-finite joints never reach the error functions (Procrustes'
            # SVD fails on them): they are replaced by finite stand-ins and
            # the error entries they would touch are marked afterwards.
            pred_bad = ~torch.isfinite(pred).all(-1)  # (..., J)
            gt_bad = ~torch.isfinite(gt).all(-1)
            gt_safe = torch.where(gt_bad[..., None], torch.zeros_like(gt), gt)
            pred_safe = torch.where(pred_bad[..., None], gt_safe, pred)
            err = self.errors(pred_safe, gt_safe)  # (..., [T'], J')
            # a missing label is not scored; a non-finite prediction where
            # the label exists is the prediction's failure
            scored = ~self._spread(gt_bad, err.shape)
            if mask is not None:
                m = self._mask(_tensor(mask) > 0, err.shape)
                if err.shape != m.shape:  # acceleration: 3 frames needed
                    m = m[..., 2:, :] & m[..., 1:-1, :] & m[..., :-2, :]
                scored = scored & m
            failed = scored & (self._spread(pred_bad, err.shape)
                               | ~torch.isfinite(err))
            valid = scored & ~failed
            err = torch.where(valid, err, torch.zeros_like(err))
            self.results.append(
                dict(
                    sum=float(err.sum()),
                    count=int(valid.sum()),
                    nonfinite=int(failed.sum())))

    def _spread(self, bad: Tensor, shape) -> Tensor:
        """Error entries (``shape``) touched by non-finite joints ``bad``
        (..., J): by default every joint of the frame (the alignment uses
        them all)."""
        return bad.any(-1, keepdim=True).expand(shape)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        total = sum(r['sum'] for r in results)
        count = sum(r['count'] for r in results)
        nonfinite = sum(r.get('nonfinite', 0) for r in results)
        mean = self.unit_scale * total / count if count else float('nan')
        metrics = {self.key: mean, f'{self.key}_nonfinite': nonfinite}
        if nonfinite:
            warnings.warn(
                f'{self.key}: {nonfinite} of {nonfinite + count} scored '
                'joint errors are non-finite (NaN/inf predictions); '
                f'{self.key} is NaN, {self.key}_finite_only is the mean of '
                'the rest')
            metrics[self.key] = float('nan')
            metrics[f'{self.key}_finite_only'] = mean
        return metrics


@METRICS.register_module()
class MPJPEMetric(_PoseErrorMetric):
    """MPJPE (Protocol #1): root-aligned mean joint error, in mm."""
    key = 'MPJPE'

    def errors(self, pred, gt):
        return mpjpe_errors(pred, gt, self.root_joint, self.joint_ids)

    def _spread(self, bad, shape):
        # only the root alignment spreads a joint's failure
        spread = bad if self.joint_ids is None else bad[..., self.joint_ids]
        if self.root_joint is not None:
            spread = spread | bad[..., self.root_joint:self.root_joint + 1]
        return spread.expand(shape)


@METRICS.register_module()
class PMPJPEMetric(_PoseErrorMetric):
    """P-MPJPE (Protocol #2): error after Procrustes alignment, in mm."""
    key = 'P-MPJPE'

    def errors(self, pred, gt):
        return p_mpjpe_errors(pred, gt, self.joint_ids)


@METRICS.register_module()
class NMPJPEMetric(_PoseErrorMetric):
    """N-MPJPE: root-aligned error after the best scale, in mm."""
    key = 'N-MPJPE'

    def errors(self, pred, gt):
        return n_mpjpe_errors(pred, gt, self.root_joint, self.joint_ids)


@METRICS.register_module()
class AccelErrorMetric(_PoseErrorMetric):
    """Acceleration error in mm/frame^2 over (T, J, 3) sequences.

    ``root_joint`` defaults to None here (global motion kept).
    """
    key = 'AccelError'

    def __init__(self, root_joint: Optional[int] = None, **kwargs):
        super().__init__(root_joint=root_joint, **kwargs)

    def errors(self, pred, gt):
        if pred.ndim < 3:
            raise ValueError('acceleration error needs (T, J, 3) sequences, '
                             f'got {tuple(pred.shape)}')
        return acceleration_errors(pred, gt, self.root_joint, self.joint_ids)

    def _spread(self, bad, shape):
        # an acceleration reads frames t-2..t
        frame = bad.any(-1)
        window = frame[..., 2:] | frame[..., 1:-1] | frame[..., :-2]
        return window[..., None].expand(shape)
