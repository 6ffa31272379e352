"""Atomic output writing: a file is either complete or absent.

JSON written here is strict JSON: NaN and infinities (which ``json.dump``
writes as the bare tokens ``NaN``/``Infinity`` that other parsers reject)
become ``null``; a metric that is NaN is therefore ``null`` in
``metrics.json``.
"""
import json
import math
import os
import os.path as osp
import tempfile
from typing import Any

import numpy as np


def _temp_beside(path: str, suffix: str = '') -> str:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix=suffix, dir=folder)
    os.close(handle)
    # mkstemp makes the file private (0600); results get the usual mode
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(temp, 0o666 & ~mask)
    return temp


def _to_builtin(value: Any):
    if isinstance(value, dict):
        return {str(k): _to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_builtin(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(
            value, 'tolist'):  # numpy arrays/scalars, torch tensors
        return _to_builtin(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json_safe(value: Any):
    """``value`` as JSON-ready builtins; non-finite floats become None."""
    return _to_builtin(value)


def dump_json_atomic(data: Any, path: str) -> None:
    """Write ``data`` as JSON through a temporary file and a rename."""
    temp = _temp_beside(path)
    try:
        with open(temp, 'w') as file:
            # allow_nan=False: a NaN that slipped through fails loudly
            json.dump(_to_builtin(data), file, indent=2, allow_nan=False)
        os.replace(temp, path)
    finally:
        if osp.exists(temp):
            os.remove(temp)


def save_npz_atomic(path: str, **arrays) -> None:
    """``np.savez_compressed`` through a temporary file and a rename."""
    temp = _temp_beside(path, suffix='.npz')
    try:
        np.savez_compressed(temp, **arrays)
        os.replace(temp, path)
    finally:
        if osp.exists(temp):
            os.remove(temp)
