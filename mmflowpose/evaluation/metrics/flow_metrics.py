"""End-point error of optical flow as an mmengine metric.

Fields read from each data sample (a :class:`ClipDataSample`, its dict, or
an mmflow ``FlowDataSample``; tensors or numpy arrays), by their
:class:`ClipDataSample` names: one frame pair or a clip's P pairs:

- ``pred_flow`` (P, 2, H, W) or (2, H, W) px, or mmflow's
  ``pred_flow_fw.data``;
- ``gt_flow``, same layout, or mmflow's ``gt_flow_fw.data``;
- optional ``gt_flow_valid`` (P, H, W) bool (or ``gt_valid_fw.data``);
- mode ``'masked'``: ``eval_mask`` (P, H, W) bool, pixels to score;
- mode ``'human'``: ``human_mask`` (T, H, W) bool, True on the person
  (pair p uses frame p's mask; (P, H, W) is accepted too);
- mode ``'sparse'``: ``gt_keypoints_2d`` (T, J, 2) px (pair p samples the
  flow at frame p's joints), ``gt_joint_flow`` (P, J, 2) px true motion,
  optional ``gt_joint_flow_valid`` (P, J) bool; ``gt_flow`` is not needed.

A refiner's stacked ``pred_flow`` (C+1, P, 2, H, W) of every cycle is
scored at its last cycle; wrap the metric in ``PerCycleMetric`` to score
every cycle.

``process`` adds error SUMS and pixel/point COUNTS; ``compute_metrics``
divides the totals, so results do not depend on batch sizes, clip lengths
or how many valid pixels each sample has. A scored pixel/point whose
predicted flow is non-finite is a failure: counted in ``EPE_nonfinite``,
and ``EPE`` is then NaN (``null`` in JSON) with the mean of the rest in
``EPE_finite_only``.
"""
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from torch import Tensor

from mmflowpose.registry import METRICS
from ..functional.flow_errors import endpoint_error, sparse_epe

MODES = ('dense', 'masked', 'human', 'sparse')


def _field(sample, *paths: str):
    for path in paths:
        value = sample
        for key in path.split('.'):
            if isinstance(value, dict):
                value = value.get(key)
            else:
                value = getattr(value, key, None)
            if value is None:
                break
        if value is not None:
            return value
    return None


def _finite_sum_count(error: Tensor, mask: Tensor) -> Tuple[float, int, int]:
    """(sum over finite scored errors, their count, non-finite count)."""
    finite = torch.isfinite(error)
    mask = mask.bool()
    kept = torch.where(mask & finite, error, torch.zeros_like(error))
    return (float(kept.sum()), int((mask & finite).sum()),
            int((mask & ~finite).sum()))


def _tensor(value, name: str, dtype=torch.float64) -> Tensor:
    if isinstance(value, Tensor):
        return value.detach().cpu().to(dtype)
    try:
        return torch.as_tensor(np.asarray(value), dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f'{name} must be an array, got '
                         f'{type(value).__name__}') from error


@METRICS.register_module()
class EndPointError(BaseMetric):
    """Mean end-point error (px) over all scored pixels or points.

    Args:
        mode (str): ``'dense'`` (valid GT pixels), ``'masked'`` (valid and
            ``eval_mask``), ``'human'`` (inside/outside ``human_mask``) or
            ``'sparse'`` (at ``gt_points``). Defaults to ``'dense'``.
        collect_device (str): see ``BaseMetric``. Defaults to ``'cpu'``.
        prefix (str, optional): see ``BaseMetric``. Defaults to None.

    Returns from ``compute_metrics``: ``{'EPE': px}``; mode ``'human'``
    adds ``'EPE_inside'`` and ``'EPE_outside'``. A value with no scored
    pixel is NaN.
    """
    default_prefix: Optional[str] = 'flow'

    def __init__(self,
                 mode: str = 'dense',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self.mode = mode

    def _required(self, sample, name: str, *paths: str):
        value = _field(sample, name, *paths)
        if value is None:
            raise ValueError(f'EndPointError(mode={self.mode!r}) needs '
                             f'{name!r} in every data sample')
        return value

    def _pairs(self, sample, name: str, num: int, ndim: int,
               dtype=torch.float64) -> Tensor:
        """Field ``name`` with a leading pair axis of ``num``: a single
        pair's value gains the axis, a per-frame one (``num + 1`` entries)
        loses its last frame."""
        value = _tensor(self._required(sample, name), name, dtype)
        if value.ndim == ndim - 1:
            value = value[None]
        if value.ndim != ndim or len(value) not in (num, num + 1):
            raise ValueError(f'{name} has shape {tuple(value.shape)}; '
                             f'expected {ndim} axes with {num} pairs (or '
                             f'{num + 1} frames) first')
        return value[:num]

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            pred = _tensor(
                self._required(sample, 'pred_flow', 'pred_flow_fw.data'),
                'pred_flow')
            pred = pred[None] if pred.ndim == 3 else pred  # (P, 2, H, W)
            if pred.ndim == 5:  # a refiner's cycles: score the last one
                pred = pred[-1]
            if self.mode == 'sparse':
                self.results.append(self._sparse(sample, pred))
                continue
            gt = _tensor(
                self._required(sample, 'gt_flow', 'gt_flow_fw.data'),
                'gt_flow')
            gt = gt[None] if gt.ndim == 3 else gt
            if gt.shape != pred.shape:
                raise ValueError(f'pred_flow {tuple(pred.shape)} and gt_flow '
                                 f'{tuple(gt.shape)} must both be '
                                 '(P, 2, H, W)')
            shape = (len(gt), *gt.shape[-2:])
            valid = _field(sample, 'gt_flow_valid', 'gt_valid_fw.data')
            valid = torch.ones(shape, dtype=torch.bool) if valid is None \
                else _tensor(valid, 'gt_flow_valid', torch.bool).reshape(
                    shape)
            valid = valid & torch.isfinite(gt).all(1)
            error = endpoint_error(pred, torch.nan_to_num(gt))
            if self.mode == 'masked':
                valid = valid & self._pairs(sample, 'eval_mask', len(gt), 3,
                                            torch.bool)
            result = {}
            if self.mode == 'human':
                human = self._pairs(sample, 'human_mask', len(gt), 3,
                                    torch.bool)
                for key, mask in (('inside', valid & human),
                                  ('outside', valid & ~human)):
                    result[key] = _finite_sum_count(error, mask)
            result['all'] = _finite_sum_count(error, valid)
            self.results.append(result)

    def _sparse(self, sample, pred: Tensor) -> dict:
        num = len(pred)
        points = self._pairs(sample, 'gt_keypoints_2d', num, 3)
        flow = self._pairs(sample, 'gt_joint_flow', num, 3)
        valid = _field(sample, 'gt_joint_flow_valid')
        if valid is not None:
            valid = _tensor(valid, 'gt_joint_flow_valid',
                            torch.bool).reshape(flow.shape[:2])
        error, mask = sparse_epe(pred, points, flow, valid)
        return {'all': _finite_sum_count(error, mask)}

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        metrics = {}
        keys = {'all': 'EPE', 'inside': 'EPE_inside',
                'outside': 'EPE_outside'}
        for key, name in keys.items():
            parts = [r[key] for r in results if key in r]
            if not parts:
                continue
            total = sum(p[0] for p in parts)
            count = sum(p[1] for p in parts)
            nonfinite = sum(p[2] if len(p) > 2 else 0 for p in parts)
            mean = total / count if count else float('nan')
            metrics[name] = mean
            metrics[f'{name}_nonfinite'] = nonfinite
            if nonfinite:
                # a NaN/inf flow is a failure: never averaged away
                warnings.warn(
                    f'{name}: {nonfinite} of {nonfinite + count} scored '
                    'pixels/points have a non-finite predicted flow; '
                    f'{name} is NaN, {name}_finite_only is the mean of '
                    'the rest')
                metrics[name] = float('nan')
                metrics[f'{name}_finite_only'] = mean
        return metrics
