"""Evaluate any metric after every refinement cycle.

The refiner's :class:`ClipDataSample` stacks every cycle's predictions on a
leading axis (``pred_pose3d`` (C+1, T, J, 3), ``pred_flow``
(C+1, P, 2, H, W), ...; entry 0 = the initial estimates).
:class:`PerCycleMetric` hands the inner metric cycle c's view of each clip
(:meth:`ClipDataSample.cycle`: the same field names, each prediction
indexed at c) and reports ``cycle<c>/<key>`` plus the plain ``<key>`` of
the last cycle, so one metrics file holds MPJPE and EPE for every cycle.
"""
import copy
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from mmflowpose.registry import METRICS
from mmflowpose.structures import STACKED, ClipDataSample


def cycle_view(sample, index: int) -> dict:
    """Cycle ``index`` of a clip given as a :class:`ClipDataSample` or as
    its dict (mmengine's evaluator passes ``to_dict()``)."""
    if isinstance(sample, ClipDataSample):
        return sample.cycle(index)
    return {
        key: value[index] if key in STACKED and value is not None else value
        for key, value in sample.items()
    }


@METRICS.register_module()
class PerCycleMetric(BaseMetric):
    """Wrap a metric so it is computed for each refinement cycle.

    Args:
        metric (dict): config of the inner metric (any registered
            ``BaseMetric`` that reads :class:`ClipDataSample` fields, e.g.
            ``MPJPEMetric`` or ``EndPointError``).
        collect_device (str): see ``BaseMetric``. Defaults to 'cpu'.
        prefix (str, optional): see ``BaseMetric``. Defaults to None.
    """

    def __init__(self,
                 metric: dict,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.inner = METRICS.build(copy.deepcopy(metric))

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            pred = sample.get('pred_pose3d')
            if pred is None or getattr(pred, 'ndim', 0) != 4:
                raise KeyError(
                    'PerCycleMetric needs the refiner output field '
                    'pred_pose3d (C+1, T, J, 3) of every cycle, got '
                    f'{None if pred is None else tuple(pred.shape)}')
            # one entry per clip: mmengine truncates results to the
            # dataset size when it collects them
            per_cycle = []
            for index in range(len(pred)):
                self.inner.results = []
                self.inner.process(data_batch, [cycle_view(sample, index)])
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
