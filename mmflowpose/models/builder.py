"""Build any mmpose 3D estimator or mmflow network from its config.

This is the models layer's builder (the user-facing API package re-exports
it): the refiner, the lifter wrapper and the flow fine-tuner build their
sub-networks through it, so the models layer depends on nothing above it.

:func:`init_model` takes a config path, an ``mmpose::``/``mmflow::`` name, a
:class:`~mmengine.config.Config` or a dict, builds the model in its own
package's registry scope (so mmflow models build after mmpose ones, and the
global default scope is left as it was), optionally loads a checkpoint, and
returns it in eval mode on the requested device.
"""
import copy
import difflib
import os.path as osp
import socket
from typing import Optional, Union
from urllib.error import URLError

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from torch import nn

from mmflowpose.utils.checkpoint import (CheckpointError, _is_url,
                                         load_model_weights)

from mmflowpose.utils.not_given import NOT_GIVEN, _NotGiven

FAMILIES = ('mmpose', 'mmflow', 'mmflowpose')


class ConfigError(ValueError):
    """A config that cannot be read or names something unknown."""


def resolve_config_path(name: str) -> str:
    """Turn ``'mmflow::raft/x.py'`` into the file inside the package.

    Packages keep their configs in ``<package>/.mim/configs`` (OpenMMLab's
    convention, also used by mmflowpose's own setup.py).
    """
    if '::' not in name:
        if not osp.isfile(name):
            raise FileNotFoundError(f'config file {name!r} does not exist')
        return name
    package, relative = name.split('::', 1)
    try:
        from mmflowpose.compat.package_path import installed_path
        root = installed_path(package)
    except Exception as error:
        raise FileNotFoundError(f'config {name!r}: package {package!r} is '
                                'not installed') from error
    path = osp.join(root, '.mim', 'configs', relative)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'config {name!r}: {package} ships no {relative!r} '
            f'(looked in {osp.join(root, ".mim", "configs")})')
    return path


def load_config(config: Union[str, dict, Config]) -> Config:
    """Read a config path, ``package::relative/path.py``, dict or Config.

    Always returns a new object: the caller's config is never modified.
    """
    if isinstance(config, Config):
        return copy.deepcopy(config)
    if isinstance(config, dict):
        return Config(copy.deepcopy(dict(config)))
    if not isinstance(config, str):
        raise TypeError('config must be a path, a "package::path" name, a '
                        f'dict or a Config, got {type(config).__name__}')
    path = resolve_config_path(config)
    try:
        return Config.fromfile(path)
    except FileNotFoundError:
        raise
    except Exception as error:  # SyntaxError, NameError, mmengine errors
        raise ConfigError(
            f'config {config!r} could not be parsed: {error}') from error


def _family_of(cfg: Config, model_cfg: dict, scope: Optional[str]) -> str:
    if scope is not None:
        family = scope
    elif '_scope_' in model_cfg:
        family = model_cfg['_scope_']
    elif isinstance(model_cfg.get('type'), str) and '.' in model_cfg['type']:
        family = model_cfg['type'].split('.', 1)[0]
    else:
        family = cfg.get('default_scope', None)
    if family not in FAMILIES:
        raise ConfigError(
            f'cannot tell which package builds {model_cfg.get("type")!r}: '
            f'got scope {family!r}; pass scope= one of {FAMILIES} or set '
            '`default_scope` in the config')
    return family


def _registry(family: str):
    if family == 'mmpose':
        from mmpose.registry import MODELS
    elif family == 'mmflow':
        from mmflow.registry import MODELS
    else:
        from mmflowpose.registry import MODELS
    return MODELS


def _all_names(registry) -> list:
    names = set(registry.module_dict)
    parent = registry.parent
    while parent is not None:
        names.update(parent.module_dict)
        parent = parent.parent
    return sorted(names)


def _strip_pretrained(model_cfg: dict) -> None:
    """Drop ``init_cfg=Pretrained`` entries: weights come from checkpoint."""
    if isinstance(model_cfg, dict):
        init_cfg = model_cfg.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            model_cfg['init_cfg'] = None
        for value in model_cfg.values():
            if isinstance(value, dict):
                _strip_pretrained(value)


def build_model(model_cfg: dict, family: str) -> nn.Module:
    """Build ``model_cfg`` in ``family``'s registry and scope.

    Raises:
        ConfigError: the type is unknown; the message names the registry and
            the closest registered names.
    """
    registry = _registry(family)
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg.pop('_scope_', None)
    type_name = model_cfg.get('type')
    with DefaultScope.overwrite_default_scope(family):
        if isinstance(type_name, str) and '.' not in type_name \
                and registry.get(type_name) is None:
            close = difflib.get_close_matches(
                type_name, _all_names(registry), n=5, cutoff=0.5)
            raise ConfigError(
                f'{type_name!r} is not in the {family}::model registry' +
                (f'; did you mean {", ".join(close)}?' if close else ''))
        try:
            return registry.build(model_cfg)
        except KeyError as error:
            raise ConfigError(
                f'building {type_name!r} in the {family}::model registry '
                f'failed: {error}') from error


def init_model(config: Union[str, dict, Config],
               checkpoint: Union[None, str, _NotGiven] = NOT_GIVEN,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               scope: Optional[str] = None,
               trusted_checkpoint: bool = False) -> nn.Module:
    """Build a model from a config, load weights, return it in eval mode.

    Args:
        config (str | dict | Config): a config file, a
            ``'mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py'`` style
            name, a full config (with ``model``) or a model dict (with
            ``type``).
        checkpoint (str, optional): a local path or URL. None builds random
            weights on purpose; left out (``NOT_GIVEN``), random weights
            are built too but a warning names the network. Defaults to
            NOT_GIVEN.
        device (str): torch device. Defaults to ``'cpu'``.
        cfg_options (dict, optional): dotted keys merged into the config.
        scope (str, optional): ``'mmpose'``, ``'mmflow'`` or
            ``'mmflowpose'``; by default read from ``_scope_``, a
            ``scope.Type`` name, or the config's ``default_scope``.
        trusted_checkpoint (bool): see
            :func:`mmflowpose.utils.checkpoint.read_checkpoint`.

    Returns:
        nn.Module: the model in eval mode, with ``cfg`` (and for mmpose
        models ``dataset_meta``) attached.
    """
    cfg = load_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' in cfg:
        model_cfg = cfg.model
    elif 'type' in cfg:
        model_cfg, cfg = cfg, Config(dict(model=cfg))
    else:
        raise ConfigError('config has neither a `model` key nor a `type`')
    if isinstance(model_cfg, ConfigDict):
        model_cfg = model_cfg.to_dict()
    family = _family_of(cfg, model_cfg, scope)
    model_cfg['train_cfg'] = None if family == 'mmflow' else \
        model_cfg.get('train_cfg')
    _strip_pretrained(model_cfg)
    model = build_model(model_cfg, family)
    model = revert_sync_batchnorm(model)
    meta = {}
    if checkpoint is NOT_GIVEN:
        print_log(
            f'{model_cfg.get("type")} from {_config_name(config)} is built '
            'with random weights: no checkpoint was given (set checkpoint to '
            'its weights, or to None to silence this)',
            logger='current',
            level=30)
    elif checkpoint is not None:
        meta = _load_weights(model, checkpoint, trusted_checkpoint)
    if family == 'mmpose':
        model.dataset_meta = _pose_dataset_meta(cfg, meta)
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


def _config_name(config) -> str:
    return repr(config) if isinstance(config, str) else 'a config dict'


def _load_weights(model: nn.Module, checkpoint: str, trusted: bool) -> dict:
    """:func:`load_model_weights`; an unreachable URL is one clear line."""
    try:
        return load_model_weights(model, checkpoint, trusted=trusted)
    except (URLError, socket.error, CheckpointError) as error:
        cause = error.__cause__ if isinstance(error,
                                              CheckpointError) else error
        if not _is_url(checkpoint) or not isinstance(
                cause, (URLError, socket.error)):
            raise
        reason = getattr(cause, 'reason', cause)
        raise CheckpointError(
            f'cannot download checkpoint {checkpoint} ({reason}); without '
            'network, fetch the file elsewhere and set `checkpoint` to the '
            'local path (e.g. --cfg-options '
            'model.flow_networks.0.checkpoint=/path/to/weights.pth)'
        ) from error


def _pose_dataset_meta(cfg: Config, meta: dict) -> Optional[dict]:
    """Joint names, flip pairs etc. of an mmpose model: from its checkpoint,
    else from its config's training dataset (metainfo or the class's)."""
    if meta.get('dataset_meta'):
        return meta['dataset_meta']
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.registry import DATASETS
    dataset_cfg = cfg.get('train_dataloader', {}).get('dataset')
    if dataset_cfg is None:
        return None  # configs without a dataset section
    metainfo = dataset_cfg.get('metainfo')
    if metainfo is None:
        dataset_type = dataset_cfg.get('type')
        with DefaultScope.overwrite_default_scope('mmpose'):
            dataset_class = dataset_type if isinstance(
                dataset_type, type) else DATASETS.get(dataset_type)
        if dataset_class is None:
            return None
        metainfo = dataset_class.METAINFO
    return parse_pose_metainfo(metainfo)
