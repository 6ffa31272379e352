"""Evaluate any metric after every refinement cycle.

The refiner's outputs carry ``cycles``: a list of per-cycle views (cycle 0 =
the initial estimates) with the same prediction fields as the final
output. :class:`PerCycleMetric` runs an inner metric on each view and
reports ``cycle<c>/<key>`` (plus the plain ``<key>`` of the last cycle), so
one metrics file holds MPJPE and EPE for every cycle.
"""
import copy
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmflowpose.registry import METRICS


@METRICS.register_module()
class PerCycleMetric(BaseMetric):
    """Wrap a metric so it is computed for each refinement cycle.

    Args:
        metric (dict): config of the inner metric (any registered
            ``BaseMetric`` that reads ``pred_*`` fields).
        per_pair (bool): split each clip into frame-pair samples for a
            pair-level flow metric (``EndPointError``): ``pred_flow``
            (P, H, W, 2) and ``gt_flow`` become (2, H, W) per pair,
            ``gt_flow_valid`` -> ``gt_valid``, ``human_mask`` (T, H, W) ->
            that of frame t, and the joints give the sparse fields
            ``gt_points`` (frame t's ``gt_keypoints_2d``), ``gt_point_flow``
            (``gt_joint_flow``) and ``gt_point_valid``. Defaults to False.
        collect_device (str): see ``BaseMetric``. Defaults to 'cpu'.
        prefix (str, optional): see ``BaseMetric``. Defaults to None.
    """

    def __init__(self,
                 metric: dict,
                 per_pair: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.inner = METRICS.build(copy.deepcopy(metric))
        self.per_pair = per_pair

    @staticmethod
    def _pairs(view: dict) -> List[dict]:
        """Frame-pair samples of one clip view (see ``per_pair``)."""
        num_pairs = len(view['pred_flow'])
        pairs = []
        for p in range(num_pairs):
            pair = dict(
                pred_flow=np.moveaxis(np.asarray(view['pred_flow'][p]), -1,
                                      0))
            if view.get('gt_flow') is not None:
                pair['gt_flow'] = np.moveaxis(
                    np.asarray(view['gt_flow'][p]), -1, 0)
            if view.get('gt_flow_valid') is not None:
                pair['gt_valid'] = np.asarray(view['gt_flow_valid'][p])
            if view.get('human_mask') is not None:
                pair['human_mask'] = np.asarray(view['human_mask'][p])
            if view.get('gt_joint_flow') is not None:
                pair['gt_points'] = np.asarray(view['gt_keypoints_2d'][p])
                pair['gt_point_flow'] = np.asarray(view['gt_joint_flow'][p])
                if view.get('gt_joint_flow_valid') is not None:
                    pair['gt_point_valid'] = np.asarray(
                        view['gt_joint_flow_valid'][p])
            pairs.append(pair)
        return pairs

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            cycles = sample.get('cycles') if isinstance(sample, dict) else None
            if not cycles:
                raise KeyError('PerCycleMetric needs the refiner output key '
                               '"cycles"')
            # one entry per sample: mmengine truncates results to the
            # dataset size when it collects them
            per_cycle = []
            for index, view in enumerate(cycles):
                merged = {
                    k: v
                    for k, v in sample.items()
                    if k not in ('cycles', 'refinement')
                }
                merged.update(view)
                self.inner.results = []
                views = self._pairs(merged) if self.per_pair else [merged]
                self.inner.process(data_batch, views)
                per_cycle.extend((index, r) for r in self.inner.results)
            self.results.append(per_cycle)
        self.inner.results = []

    def compute_metrics(self, results: List) -> Dict[str, float]:
        by_cycle = defaultdict(list)
        for per_cycle in results:
            for index, result in per_cycle:
                by_cycle[index].append(result)
        metrics = {}
        last = max(by_cycle) if by_cycle else None
        for index in sorted(by_cycle):
            values = self.inner.compute_metrics(by_cycle[index])
            for key, value in values.items():
                metrics[f'cycle{index}/{key}'] = value
                if index == last:
                    metrics[key] = value
        return metrics
