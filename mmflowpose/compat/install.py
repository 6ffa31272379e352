"""Fill the import-time gaps of mmcv-lite and a missing torchvision.

What :func:`install` does, each step only when it is needed:

1. ``mmcv._ext``: mmcv-lite has no compiled extension, yet ``mmcv.ops`` (which
   mmpose and mmflow import) loads it at import time. A stand-in module is put
   in ``sys.modules``; any op looked up on it raises ``RuntimeError`` naming
   the op when *called*. It carries a ``__spec__`` whose loader is None, so
   ``mmengine``'s ``mmcv_full_available()`` answers False, which is true.
2. ``mmpose.visualization.simcc_vis`` imports torchvision only for a debug
   visualiser. Without a usable torchvision a stand-in module is registered
   whose ``SimCCVisualizer`` raises ``ImportError`` when used.
3. mmflow's ``Correlation`` op is replaced, in mmflow's MODELS registry only,
   by :class:`~mmflowpose.compat.correlation.TorchCorrelation`. The class
   ``mmcv.ops.Correlation`` itself is left alone.
4. mmengine's config loader finds ``package::`` configs of editable installs
   (:mod:`mmflowpose.compat.package_path`).
"""
import importlib.machinery
import importlib.util
import sys
import types

from .package_path import install_package_path_fix

_INSTALLED = False


class _MissingExtension(types.ModuleType):
    """Stand-in for ``mmcv._ext``: attributes exist, calls fail clearly."""

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)

        def _unavailable(*args, **kwargs):
            raise RuntimeError(
                f'mmcv op `{name}` needs compiled mmcv (mmcv-full); this '
                'environment has mmcv-lite. mmflowpose replaces the ops it '
                'uses with PyTorch versions; this one has none.')

        _unavailable.__name__ = name
        return _unavailable


def _real_mmcv_ext_available() -> bool:
    if isinstance(sys.modules.get('mmcv._ext'), _MissingExtension):
        return False
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except (ImportError, ValueError):
        return False


def _install_mmcv_ext_stand_in() -> None:
    if 'mmcv._ext' in sys.modules or _real_mmcv_ext_available():
        return
    module = _MissingExtension('mmcv._ext')
    module.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    sys.modules['mmcv._ext'] = module


def _torchvision_usable() -> bool:
    if importlib.util.find_spec('torchvision') is None:
        return False
    try:
        import torchvision.transforms  # noqa: F401
    except Exception:  # a CUDA wheel beside the CPU torch raises RuntimeError
        return False
    return True


def _install_simcc_vis_stand_in() -> None:
    name = 'mmpose.visualization.simcc_vis'
    if name in sys.modules or _torchvision_usable():
        return
    module = types.ModuleType(name)

    class SimCCVisualizer:
        """Stand-in: mmpose's SimCC visualiser needs torchvision."""

        def __init__(self, *args, **kwargs):
            raise ImportError('SimCCVisualizer needs torchvision, which is '
                              'not installed (it cannot be installed beside '
                              'the CPU torch wheel).')

    module.SimCCVisualizer = SimCCVisualizer
    sys.modules[name] = module


def _register_torch_correlation() -> None:
    from mmflow.registry import MODELS as MMFLOW_MODELS

    # Import mmflow's builder first: it registers mmcv's CUDA op under the
    # same name at import time, and ours must win.
    import mmflow.models  # noqa: F401
    from .correlation import TorchCorrelation
    if MMFLOW_MODELS.get('Correlation') is not TorchCorrelation:
        MMFLOW_MODELS.register_module(
            name='Correlation', module=TorchCorrelation, force=True)


def install() -> None:
    """Make mmcv, mmpose and mmflow importable and runnable on CPU.

    Safe to call any number of times; later calls do nothing.
    """
    global _INSTALLED
    if _INSTALLED:
        return
    _install_mmcv_ext_stand_in()
    _install_simcc_vis_stand_in()
    _register_torch_correlation()
    install_package_path_fix()
    _INSTALLED = True


def is_installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return _INSTALLED
