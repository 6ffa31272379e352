from .cycle_metrics_hook import CycleMetricsLoggerHook
from .results_dump_hook import ClipResultsDumpHook

__all__ = ['ClipResultsDumpHook', 'CycleMetricsLoggerHook']
