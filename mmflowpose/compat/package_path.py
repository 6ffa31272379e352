"""Find ``<package>/.mim`` for editable (PEP 660) installs too.

mmengine resolves ``mmflowpose::flowpose/x.py`` (and ``mmpose::``,
``mmflow::``) with ``get_installed_path``, which joins the distribution's
``location`` with the package name. For a PEP 660 editable install (``pip
install -e .`` with setuptools >= 64, as ``make install`` does) the
distribution lives in ``site-packages`` while the code stays in the
checkout, so the joined path does not exist and every ``package::`` config
name fails with a missing file. :func:`installed_path` asks the import system
where the package really is whenever mmengine's answer does not exist, and
:func:`install_package_path_fix` makes mmengine's config loader use it and
adds ``mmflowpose`` to the packages whose ``package::`` names mmengine
accepts (its ``MODULE2PACKAGE`` table lists only OpenMMLab's own).
"""
import importlib.util
import os.path as osp

from mmengine.utils import package_utils

_ORIGINAL = package_utils.get_installed_path


def installed_path(package: str) -> str:
    """Folder of an installed package, editable installs included.

    Args:
        package (str): distribution / top-level module name, e.g.
            ``'mmflowpose'``.

    Returns:
        str: the folder holding the package's ``__init__.py`` (and its
        ``.mim`` folder).
    """
    path = _ORIGINAL(package)
    if osp.isdir(path):
        return path
    spec = importlib.util.find_spec(package.replace('-', '_'))
    if spec is not None and spec.origin:
        return osp.dirname(spec.origin)
    return path


def install_package_path_fix() -> None:
    """Route mmengine's config loader through :func:`installed_path`.

    Only the name imported by ``mmengine.config.config`` is replaced (that
    module resolves ``_base_`` and ``Config.fromfile`` names); an answer
    that already exists is returned unchanged.
    """
    from mmengine.config import config as config_module
    from mmengine.config.utils import MODULE2PACKAGE
    config_module.get_installed_path = installed_path
    MODULE2PACKAGE.setdefault('mmflowpose', 'mmflowpose')
