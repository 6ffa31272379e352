from .cycle_metrics_hook import CycleMetricsLoggerHook
from .refinement_progress_hook import RefinementProgressHook
from .results_dump_hook import ClipResultsDumpHook
from .visualization_hook import FlowPoseVisualizationHook

__all__ = [
    'ClipResultsDumpHook', 'CycleMetricsLoggerHook',
    'FlowPoseVisualizationHook', 'RefinementProgressHook'
]
