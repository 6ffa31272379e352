"""Everything that makes mmpose 1.x and mmflow 1.x import and run on CPU.

mmcv-lite ships no compiled ops and torchvision cannot be installed beside
the CPU torch wheel, so a few import-time gaps must be filled before the
OpenMMLab packages are imported. This package is the only place that does it;
:func:`install` is idempotent and is called by ``import mmflowpose``.
"""
from .correlation import TorchCorrelation, correlation
from .install import install, is_installed

__all__ = ['install', 'is_installed', 'TorchCorrelation', 'correlation']
