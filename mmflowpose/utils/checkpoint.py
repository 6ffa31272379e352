"""Checkpoint loading for mmpose and mmflow models under torch >= 2.6.

torch 2.13 loads with ``weights_only=True`` by default, which refuses any
pickled global that is not allow-listed. OpenMMLab checkpoints carry numpy
arrays and scalars in their ``meta``, and mmengine Runner checkpoints also
carry the message hub's ``HistoryBuffer`` objects, which pickle bound methods
through ``builtins.getattr`` (never safe to allow-list). The choice made here:

1. load with ``weights_only=True`` inside ``torch.serialization.safe_globals``
   holding exactly the numpy/builtin globals OpenMMLab metadata needs
   (:data:`OPENMMLAB_SAFE_GLOBALS`);
2. if that refuses the file, load again with a restricted unpickler that
   accepts the same globals plus torch's own allow-list, and replaces
   ``HistoryBuffer`` (and the ``getattr`` calls inside it) with inert
   :class:`DroppedObject` placeholders: logging history is not needed for
   inference, and no code named by the file is ever called;
3. anything else is refused with :class:`CheckpointError`; ``trusted=True``
   (local files you made yourself) does a full ``weights_only=False`` load.
"""
import os.path as osp
import pickle
from typing import Dict, List, Optional

import torch
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from .safe_pickle import (OPENMMLAB_SAFE_GLOBALS, DisallowedGlobal,
                          RestrictedUnpickler)

__all__ = [
    'CheckpointError', 'DroppedObject', 'OPENMMLAB_SAFE_GLOBALS',
    'read_checkpoint', 'extract_state_dict', 'load_model_weights',
    'save_checkpoint_atomic'
]


class DroppedObject:
    """Inert stand-in for an unpickled object that was not rebuilt."""

    def __init__(self, *args, **kwargs):
        self.args = args

    def __setstate__(self, state):
        self.state = 'dropped'

    def __repr__(self):
        return '<DroppedObject>'


def _inert_getattr(obj, name):
    return DroppedObject(name)


# Classes replaced by placeholders in the fallback load (step 2 above).
_DROPPED_CLASSES = {'mmengine.logging.history_buffer.HistoryBuffer'}


def _dropped_stand_in(key: str):
    if key in _DROPPED_CLASSES:
        return DroppedObject
    if key in ('builtins.getattr', '__builtin__.getattr'):
        return _inert_getattr
    return None


def _restricted_pickle_module():
    import types

    import torch._weights_only_unpickler as torch_safe
    allowed = {name: obj for obj, name in OPENMMLAB_SAFE_GLOBALS}
    allowed.update(torch_safe._get_allowed_globals())

    class CheckpointUnpickler(RestrictedUnpickler):

        def __init__(self, file, **kwargs):
            super().__init__(
                file, allowed=allowed, fallback=_dropped_stand_in, **kwargs)

    # torch.load(pickle_module=...) needs a module-like object with
    # ``Unpickler`` and ``load``.
    module = types.ModuleType('mmflowpose_restricted_pickle')
    module.Unpickler = CheckpointUnpickler
    module.load = lambda file, **kwargs: CheckpointUnpickler(
        file, **kwargs).load()
    return module


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or does not fit the model."""


def _is_url(path: str) -> bool:
    return path.startswith(('http://', 'https://', 's3://', 'open-mmlab://',
                            'openmmlab://', 'torchvision://', 'mmcls://',
                            'modelzoo://'))


def read_checkpoint(filename: str,
                    map_location: str = 'cpu',
                    trusted: bool = False) -> Dict:
    """Read a checkpoint file or URL through mmengine's loaders.

    Args:
        filename (str): local path or URL (downloads go to torch's hub cache,
            as in mmengine).
        map_location (str): device for the tensors. Defaults to ``'cpu'``.
        trusted (bool): allow arbitrary pickled objects
            (``weights_only=False``) for a local file you trust. Defaults to
            False.

    Returns:
        dict: the loaded checkpoint (a plain state dict or a dict with
        ``state_dict``/``meta``).
    """
    if not _is_url(filename) and not osp.isfile(filename):
        if osp.isdir(filename):
            raise CheckpointError(
                f'checkpoint {filename!r} is a folder, not a file')
        raise FileNotFoundError(f'checkpoint {filename!r} does not exist')
    if trusted and not _is_url(filename):
        try:
            return torch.load(
                filename, map_location=map_location, weights_only=False)
        except Exception as error:  # any corruption of any format
            raise _unreadable(filename, error) from error
    try:
        with torch.serialization.safe_globals(OPENMMLAB_SAFE_GLOBALS):
            checkpoint = _load_checkpoint(filename, map_location=map_location)
    except pickle.UnpicklingError as error:
        # weights_only refused a global (or the bytes are no pickle at
        # all): the restricted unpickler decides which.
        if _is_url(filename):
            raise CheckpointError(
                f'checkpoint {filename!r} holds objects outside the '
                f'allow-list for safe loading ({error}); download it and '
                'load the local file') from error
        checkpoint = _load_restricted(filename, map_location)
    except Exception as error:
        # Corrupt files fail deep inside torch/mmengine with any class
        # (KeyError for a text file, struct.error for a cut legacy file).
        raise _unreadable(filename, error) from error
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'checkpoint {filename!r} holds a '
                              f'{type(checkpoint).__name__}, not a dict')
    return checkpoint


def _unreadable(filename: str, error: BaseException) -> CheckpointError:
    return CheckpointError(
        f'checkpoint {filename!r} could not be read (corrupt, truncated or '
        f'not a checkpoint): {type(error).__name__}: {error}')


def _load_restricted(filename: str, map_location: str):
    try:
        return torch.load(
            filename,
            map_location=map_location,
            weights_only=False,
            pickle_module=_restricted_pickle_module())
    except DisallowedGlobal as error:
        raise CheckpointError(
            f'checkpoint {filename!r} holds objects outside the '
            f'allow-list for safe loading ({error}). If you '
            'trust the file, pass trusted=True (local files only).') from error
    except Exception as error:
        raise _unreadable(filename, error) from error


def extract_state_dict(checkpoint: Dict) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint, without a ``module.`` prefix."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise CheckpointError('checkpoint has no state_dict')
    return {
        key[len('module.'):] if key.startswith('module.') else key: value
        for key, value in state_dict.items()
    }


def _describe(keys: List[str], limit: int = 8) -> str:
    shown = ', '.join(keys[:limit])
    more = f' (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return shown + more


def load_model_weights(model: nn.Module,
                       filename: str,
                       map_location: str = 'cpu',
                       strict: bool = True,
                       trusted: bool = False,
                       checkpoint: Optional[Dict] = None) -> Dict:
    """Load a checkpoint into ``model`` and return the checkpoint's meta.

    Args:
        checkpoint (dict, optional): the already-read contents of
            ``filename`` (from :func:`read_checkpoint`, e.g. read before a
            slow model build to fail early); ``filename`` then only names it
            in messages. Defaults to None (read the file).

    Raises:
        FileNotFoundError: the path does not exist.
        CheckpointError: unreadable file, or (``strict``) missing /
            unexpected keys or mismatched shapes, listed by name.
    """
    if checkpoint is None:
        checkpoint = read_checkpoint(filename, map_location, trusted)
    state_dict = extract_state_dict(checkpoint)
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    mismatched = sorted(
        f'{key} {tuple(state_dict[key].shape)} vs {tuple(own[key].shape)}'
        for key in set(own) & set(state_dict)
        if hasattr(state_dict[key], 'shape')
        and state_dict[key].shape != own[key].shape)
    if mismatched or (strict and (missing or unexpected)):
        problems = []
        if missing:
            problems.append(f'missing keys: {_describe(missing)}')
        if unexpected:
            problems.append(f'unexpected keys: {_describe(unexpected)}')
        if mismatched:
            problems.append(f'shape mismatches: {_describe(mismatched)}')
        raise CheckpointError(
            f'checkpoint {filename!r} does not fit '
            f'{type(model).__name__}: ' + '; '.join(problems))
    model.load_state_dict(state_dict, strict=strict)
    return checkpoint.get('meta', {}) or {}


def save_checkpoint_atomic(model: nn.Module,
                           filename: str,
                           meta: Optional[Dict] = None) -> None:
    """Save ``dict(state_dict, meta)`` via a temporary file + rename."""
    from .io import write_atomic
    write_atomic(
        filename, lambda temp: torch.save(
            {
                'state_dict': model.state_dict(),
                'meta': meta or {}
            }, temp))
