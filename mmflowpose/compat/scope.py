"""Default-scope helpers for building mmflow models after mmpose ones.

mmpose's ``init_model`` leaves the default scope at ``'mmpose'``; an mmflow
config built afterwards then looks ``RAFT`` up in mmpose's registry and fails.
Building inside :func:`flow_scope` avoids that without touching the global
scope seen by other code.
"""
from contextlib import contextmanager

from mmengine.registry import DefaultScope


@contextmanager
def flow_scope():
    """Temporarily make ``'mmflow'`` the default registry scope."""
    with DefaultScope.overwrite_default_scope('mmflow'):
        yield


@contextmanager
def pose_scope():
    """Temporarily make ``'mmpose'`` the default registry scope."""
    with DefaultScope.overwrite_default_scope('mmpose'):
        yield
