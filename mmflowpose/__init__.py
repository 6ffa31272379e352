"""mmflowpose: human optical flow and 3D pose that refine each other.

Importing the package prepares the OpenMMLab stack for CPU use (see
:mod:`mmflowpose.compat`); call :func:`mmflowpose.utils.register_all_modules`
before building from configs.
"""
from . import compat

compat.install()

from . import utils  # noqa: E402
from .version import __version__, version_info  # noqa: E402

__all__ = ['__version__', 'version_info', 'utils', 'compat']
