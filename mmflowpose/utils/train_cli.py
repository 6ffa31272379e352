"""What the training tools (``tools/train_flow.py``, ``tools/train_lifter.py``)
share: their common command-line arguments and the config they start from.

Each tool adds its own arguments and applies the overrides that depend on
its schedule (the flow uses OneCycleLR, the lifter ExponentialLR) itself.
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction


def add_train_args(parser: argparse.ArgumentParser) -> None:
    """Add the arguments every training tool takes.

    ``config``, ``--work-dir``, ``--out``, ``--max-iters``,
    ``--val-interval``, ``--threads``, ``--seed`` and ``--cfg-options``.
    """
    parser.add_argument('config', help='training config file')
    parser.add_argument('--work-dir', help='logs and Runner checkpoints; '
                        'default work_dirs/<config name>')
    parser.add_argument('--out', help='slim checkpoint to write (.pth)')
    parser.add_argument('--max-iters', type=int, help='override max_iters')
    parser.add_argument('--val-interval', type=int,
                        help='override val_interval (and checkpoint interval)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (default 1: shared machines)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        metavar='KEY=VALUE', help='config overrides')


def load_train_config(args: argparse.Namespace) -> Config:
    """The config with the overrides of :func:`add_train_args` applied.

    ``--cfg-options`` are merged first; the work dir defaults to
    ``work_dirs/<config name>``; ``--max-iters`` is checked and set on
    ``train_cfg`` (the caller rescales its own schedule);
    ``--val-interval`` also sets the checkpoint interval; ``--seed`` goes to
    ``randomness``.

    Raises:
        FileNotFoundError: the config file does not exist.
        ValueError: ``--max-iters`` is below 1.
    """
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.max_iters is not None:
        if args.max_iters < 1:
            raise ValueError(f'--max-iters must be >= 1, got '
                             f'{args.max_iters}')
        cfg.train_cfg.max_iters = args.max_iters
    if args.val_interval is not None:
        cfg.train_cfg.val_interval = args.val_interval
        cfg.default_hooks.checkpoint.interval = args.val_interval
    cfg.randomness = dict(seed=args.seed)
    return cfg
