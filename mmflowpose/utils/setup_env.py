"""Fill every registry mmflowpose configs reach and set the default scope."""
import datetime
import importlib
import warnings

from mmengine.registry import DefaultScope

# A child registry does not import its parent's ``locations``: each package
# whose classes our configs name is imported here.
_PACKAGES = (
    'mmpose.codecs',
    'mmpose.datasets',
    'mmpose.engine',
    'mmpose.evaluation',
    'mmpose.models',
    'mmpose.visualization',
    'mmflow.datasets',
    'mmflow.engine',
    'mmflow.evaluation',
    'mmflow.models',
    'mmflow.visualization',
)

# Our own packages; absent ones are skipped so partial checkouts still work.
_OWN_PACKAGES = (
    'mmflowpose.models',
    'mmflowpose.datasets',
    'mmflowpose.evaluation',
    'mmflowpose.engine',
    'mmflowpose.visualization',
    'mmflowpose.apis',
)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import mmpose, mmflow and mmflowpose modules into their registries.

    Args:
        init_default_scope (bool): make ``'mmflowpose'`` the default scope.
            If another scope is current, a warning is issued and a new scope
            instance is opened, as mmpose does. Defaults to True.
    """
    from mmflowpose import compat
    compat.install()
    for name in _PACKAGES:
        importlib.import_module(name)
    for name in _OWN_PACKAGES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created(
            'mmflowpose'):
        DefaultScope.get_instance('mmflowpose', scope_name='mmflowpose')
        return
    if current.scope_name != 'mmflowpose':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "mmflowpose"; register_all_modules opens a new '
                      '"mmflowpose" scope. Pass init_default_scope=False to '
                      'keep the current one.')
        DefaultScope.get_instance(
            f'mmflowpose-{datetime.datetime.now()}', scope_name='mmflowpose')
