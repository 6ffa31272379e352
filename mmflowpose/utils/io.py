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
from typing import Any, Callable, Optional

import numpy as np


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows."""
    try:
        with open('/proc/self/status') as file:
            for line in file:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    # elsewhere the only portable way is to set it and put it back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """Mode a plain ``open(path, 'w')`` gives a new file: 0666 & ~umask."""
    return 0o666 & ~current_umask()


def temp_beside(path: str, suffix: str = '') -> str:
    """A new empty temporary file next to ``path`` (same file system, so
    the final rename is atomic), already carrying
    :func:`default_file_mode` (``mkstemp`` alone would leave 0600)."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix=suffix, dir=folder)
    os.close(handle)
    os.chmod(temp, default_file_mode())
    return temp


def write_atomic(path: str,
                 write: Callable[[str], None],
                 suffix: Optional[str] = None) -> str:
    """Call ``write(temp)`` then rename ``temp`` to ``path``.

    The one atomic-write helper of the package: nothing appears at ``path``
    unless ``write`` succeeds, and the temporary file is removed on any
    error (the error is re-raised).

    Args:
        path (str): the file to create or replace.
        write (callable): writes the whole file to the path it is given.
        suffix (str, optional): suffix of the temporary name (writers
            that pick a format by extension need it); defaults to
            ``path``'s extension.

    Returns:
        str: ``path``.
    """
    temp = temp_beside(path,
                       osp.splitext(path)[1] if suffix is None else suffix)
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        if osp.exists(temp):
            os.remove(temp)
    return path


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

    def write(temp):
        with open(temp, 'w') as file:
            # allow_nan=False: a NaN that slipped through fails loudly
            json.dump(_to_builtin(data), file, indent=2, allow_nan=False)

    write_atomic(path, write)


def save_npz_atomic(path: str, **arrays) -> None:
    """``np.savez_compressed`` through a temporary file and a rename."""
    write_atomic(path, lambda temp: np.savez_compressed(temp, **arrays),
                 suffix='.npz')
