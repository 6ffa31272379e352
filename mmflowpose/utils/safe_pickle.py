"""Safe loading of pickled input files: one allow-list for every pickle.

A pickle names the callables that rebuild its objects, so ``pickle.load``
on a crafted file runs any code the file asks for. The input pickles this
project reads (H36M ``cameras.pkl``, 3DPW ``sequenceFiles/*.pkl``, the
synthetic writer's camera file) only hold builtin containers, strings,
numbers and numpy arrays/scalars, and checkpoints hold the same numpy
metadata. :func:`load_pickle` therefore unpickles with
:class:`RestrictedUnpickler`, which resolves only the globals in
:data:`DATA_SAFE_GLOBALS` (numpy's array/scalar/dtype rebuilders, ``bytes``,
``set``, ``frozenset``, ``OrderedDict``, ``complex``); any other global is
refused with :class:`UnsafePickleError`, naming the file and the global,
before anything the file names is called. :mod:`mmflowpose.utils.checkpoint`
builds its fallback unpickler from the same class and the same
:data:`OPENMMLAB_SAFE_GLOBALS`.

This module and :mod:`mmflowpose.utils.checkpoint` are the only places in
the package that unpickle files (a test greps for it).
"""
import _compat_pickle
import collections
import os.path as osp
import pickle
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np


def _numpy_globals() -> List[Tuple[object, str]]:
    from numpy.core import multiarray
    entries = [
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
        (multiarray._reconstruct, 'numpy._core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy._core.multiarray.scalar'),
        (np.ndarray, 'numpy.ndarray'),
        (np.dtype, 'numpy.dtype'),
    ]
    # numpy >= 1.25 pickles dtypes by their class (numpy.dtypes.Float64DType).
    for code in '?bBhHiIlLqQefdgFDGUSV':
        dtype_class = type(np.dtype(code))
        entries.append(
            (dtype_class, f'numpy.dtypes.{dtype_class.__name__}'))
    return entries


def _builtin_globals() -> List[Tuple[object, str]]:
    import codecs
    # numpy arrays pickle their raw buffer as bytes (or via _codecs.encode
    # at protocol 2); both only rebuild byte strings.
    return [(bytes, 'builtins.bytes'), (codecs.encode, '_codecs.encode')]


#: (object, dotted name) pairs OpenMMLab checkpoint metadata needs; the
#: format ``torch.serialization.safe_globals`` takes.
OPENMMLAB_SAFE_GLOBALS = (_numpy_globals() + _builtin_globals())

#: dotted name -> object for data pickles: the checkpoint globals plus the
#: builtin containers that protocol 0-2 pickles rebuild through a global.
DATA_SAFE_GLOBALS: Dict[str, object] = {
    name: obj
    for obj, name in OPENMMLAB_SAFE_GLOBALS
}
DATA_SAFE_GLOBALS.update({
    # protocol 5 pickles arrays as (buffer, dtype, shape, order)
    'numpy.core.numeric._frombuffer': np.core.numeric._frombuffer,
    'numpy._core.numeric._frombuffer': np.core.numeric._frombuffer,
    'builtins.set': set,
    'builtins.frozenset': frozenset,
    'builtins.complex': complex,
    'collections.OrderedDict': collections.OrderedDict,
})


class DisallowedGlobal(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list."""


class UnsafePickleError(ValueError):
    """An input pickle refused by the allow-list, or unreadable."""


def _python3_name(module: str, name: str) -> Tuple[str, str]:
    # Python 2 pickles (3DPW, old H36M camera files) name ``__builtin__``
    # and ``copy_reg``; map them as the standard Unpickler would.
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allow-listed globals.

    Args:
        file: binary file object.
        allowed (dict): dotted name -> object. Defaults to
            :data:`DATA_SAFE_GLOBALS`.
        fallback (callable, optional): ``fallback(key)`` returns a stand-in
            for a global that is not allow-listed, or None to refuse it.
        **kwargs: ``pickle.Unpickler`` options (``encoding``...).
    """

    def __init__(self,
                 file,
                 allowed: Optional[Dict[str, object]] = None,
                 fallback: Optional[Callable[[str], Any]] = None,
                 **kwargs) -> None:
        super().__init__(file, **kwargs)
        self._allowed = DATA_SAFE_GLOBALS if allowed is None else allowed
        self._fallback = fallback

    def find_class(self, module: str, name: str):
        module, name = _python3_name(module, name)
        key = f'{module}.{name}'
        if key in self._allowed:
            return self._allowed[key]
        stand_in = self._fallback(key) if self._fallback else None
        if stand_in is not None:
            return stand_in
        raise DisallowedGlobal(f'global {key} is not allow-listed')


def load_pickle(path: str, what: str = 'pickle file') -> Any:
    """Unpickle ``path`` allowing only numpy arrays and builtin values.

    Python 2 pickles are read with ``encoding='latin1'`` (numpy's rule for
    arrays pickled by Python 2).

    Args:
        path (str): the file.
        what (str): what the file is, for messages (``'camera_param_file'``).

    Returns:
        The unpickled object.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        UnsafePickleError: the file names a global outside
            :data:`DATA_SAFE_GLOBALS` (nothing it names was called), or it
            is not a readable pickle.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path!r} not found')
    with open(path, 'rb') as file:
        try:
            return RestrictedUnpickler(file, encoding='latin1').load()
        except DisallowedGlobal as error:
            raise UnsafePickleError(
                f'{what} {path!r} refused: {error} (input pickles may '
                'only hold numpy arrays and builtin values)') from None
        except Exception as error:  # any corruption: EOF, bad opcode...
            raise UnsafePickleError(
                f'{what} {path!r} is not a readable pickle: '
                f'{type(error).__name__}: {error}') from None
