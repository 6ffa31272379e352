from .pose_metrics import (AccelErrorMetric, MPJPEMetric, NMPJPEMetric,
                           PMPJPEMetric)

__all__ = ['AccelErrorMetric', 'MPJPEMetric', 'NMPJPEMetric', 'PMPJPEMetric']
from .cycle_metrics import PerCycleMetric  # noqa: F401,E402
from .flow_metrics import EndPointError  # noqa: F401,E402
__all__ += ['EndPointError']
