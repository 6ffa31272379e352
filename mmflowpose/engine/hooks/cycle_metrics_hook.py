"""Log per-cycle metrics as curves (metric vs cycle) to every backend."""
import re
from collections import defaultdict

from mmengine.hooks import Hook

from mmflowpose.registry import HOOKS

_CYCLE_KEY = re.compile(
    r'^(?:(?P<prefix>.*)/)?cycle(?P<cycle>\d+)/(?P<name>.+)$')


@HOOKS.register_module()
class CycleMetricsLoggerHook(Hook):
    """After evaluation, send ``cycle<c>/<metric>`` values to the logger
    and to the visualizer's backends with ``step = c``, so TensorBoard or
    the local backend draws MPJPE and EPE against the cycle number.

    Runs after the evaluator (priority 'BELOW_NORMAL') and logs nothing
    when no per-cycle metric is configured.
    """
    priority = 'BELOW_NORMAL'

    def _log(self, runner, metrics, mode: str) -> None:
        curves = defaultdict(dict)
        for key, value in (metrics or {}).items():
            match = _CYCLE_KEY.match(key)
            if match:
                name = match['name'] if not match['prefix'] else \
                    f"{match['prefix']}/{match['name']}"
                curves[name][int(match['cycle'])] = value
        if not curves:
            return
        for name, values in sorted(curves.items()):
            if name.endswith('_nonfinite') and not any(values.values()):
                continue  # failure counts are logged only when non-zero
            line = ', '.join(f'cycle {c}: {v:.4f}'
                             for c, v in sorted(values.items()))
            runner.logger.info(f'{mode} {name} per cycle: {line}')
            for cycle, value in sorted(values.items()):
                runner.visualizer.add_scalars(
                    {f'{mode}/cycles/{name}': value}, step=cycle)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._log(runner, metrics, 'test')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._log(runner, metrics, 'val')
