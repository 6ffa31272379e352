"""mediapipe's kept import error must not pin the frames of the call that
first imported it (the first window's frames in the demo)."""
import importlib.util
import json
import os
import subprocess
import sys
import types

import pytest

from mmflowpose.models.pose_estimators.mediapipe_estimator import \
    drop_kept_tracebacks

# Run in a fresh interpreter: the import (and so the kept traceback) happens
# once per process, and other tests may have imported mediapipe already.
# 1. the estimator's import helper, called from a function holding a frames
#    array, must leave nothing holding that array;
# 2. control: importing the module that keeps the error again, without the
#    drop, pins the array (so the check in 1 can fail); the drop frees it.
PROBE = r'''
import gc, importlib, json, sys, weakref
import numpy as np
from mmflowpose.models.pose_estimators.mediapipe_estimator import (
    MEDIAPIPE_KEPT_ERRORS, MediaPipePoseEstimator, drop_kept_tracebacks)

MODULE, ATTRIBUTE = MEDIAPIPE_KEPT_ERRORS[0]
result = dict(imported_before='mediapipe' in sys.modules)


def first_window():
    frames = np.zeros((4, 64, 64, 3), np.uint8)
    MediaPipePoseEstimator.import_mediapipe()
    return weakref.ref(frames)


def reimport_without_drop():
    frames = np.zeros((4, 64, 64, 3), np.uint8)
    del sys.modules[MODULE]
    importlib.import_module(MODULE)
    return weakref.ref(frames)


ref = first_window()
gc.collect()
result['freed_after_import'] = ref() is None
result['kept_error'] = hasattr(sys.modules[MODULE], ATTRIBUTE)
if result['kept_error']:
    ref = reimport_without_drop()
    gc.collect()
    result['pinned_without_drop'] = ref() is not None
    result['dropped'] = drop_kept_tracebacks()
    gc.collect()
    result['freed_after_drop'] = ref() is None
print(json.dumps(result))
'''


@pytest.mark.skipif(
    importlib.util.find_spec('mediapipe') is None,
    reason='run `make install-demo`')
def test_import_does_not_pin_callers_frames():
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', PROBE],
                          capture_output=True,
                          text=True,
                          env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not result['imported_before'], 'mmflowpose imported mediapipe'
    assert result['freed_after_import']
    if result['kept_error']:  # mediapipe 0.10.21: sounddevice is absent
        assert result['pinned_without_drop']
        assert result['dropped'] == 1
        assert result['freed_after_drop']


def _traceback():
    try:
        raise RuntimeError('inner')
    except RuntimeError as error:
        return error


def test_drop_kept_tracebacks_follows_chains(monkeypatch):
    module = types.ModuleType('fake_kept')
    inner = _traceback()
    try:
        raise ImportError('outer') from inner
    except ImportError as error:
        module.kept = error
    module.not_an_error = 'text'
    monkeypatch.setitem(sys.modules, 'fake_kept', module)
    assert module.kept.__traceback__ is not None
    assert drop_kept_tracebacks([('fake_kept', 'kept')]) == 2
    assert module.kept.__traceback__ is None
    assert module.kept.__cause__.__traceback__ is None
    # the exception itself stays: mediapipe raises it again later
    assert str(module.kept) == 'outer' and str(inner) == 'inner'
    assert drop_kept_tracebacks([('fake_kept', 'kept')]) == 0


def test_drop_kept_tracebacks_skips_what_is_absent(monkeypatch):
    module = types.ModuleType('fake_kept')
    module.not_an_error = 'text'
    first, second = _traceback(), _traceback()
    # a chain that loops back must not loop forever
    first.__context__, second.__context__ = second, first
    module.loop = first
    monkeypatch.setitem(sys.modules, 'fake_kept', module)
    monkeypatch.delitem(sys.modules, 'fake_not_imported', raising=False)
    assert drop_kept_tracebacks([('fake_not_imported', 'sd_error'),
                                 ('fake_kept', 'missing'),
                                 ('fake_kept', 'not_an_error')]) == 0
    assert drop_kept_tracebacks([('fake_kept', 'loop')]) == 2
    assert first.__traceback__ is None and second.__traceback__ is None
