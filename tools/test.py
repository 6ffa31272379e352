"""Refine and evaluate clips with a FlowPoseRefiner config.

    python tools/test.py configs/flowpose/<config>.py [checkpoint] \
        [--work-dir DIR] [--cfg-options k=v ...] [--show-dir DIR] \
        [--launcher none|pytorch|slurm]

Writes ``<work-dir>/metrics.json`` (all metrics, per cycle) and
``<work-dir>/predictions/<clip_id>.npz`` (refined poses and flows), both
atomically. Same flags as mmpose's ``tools/test.py``.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Refine 3D pose and optical flow on a clip dataset')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='optional FlowPoseRefiner checkpoint; the sub-networks '
        'otherwise load the checkpoints named in the config')
    parser.add_argument('--work-dir', help='folder for metrics and results')
    parser.add_argument(
        '--show-dir',
        help='folder (under the work dir) for per-clip visualisations')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. num_cycles=2 '
        'model.flow_networks.0.config=mmflow::gma/...py')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args) -> Config:
    from mmflowpose.apis import load_config
    cfg = load_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.launcher != 'none' and not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg.backend = 'gloo'  # CPU processes
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    # Runner's own loader would use torch.load(weights_only=True) without
    # our allow-list; the checkpoint is loaded after the build instead.
    cfg.load_from = None
    hooks = cfg.setdefault('custom_hooks', [])
    hooks.append(dict(type='ClipResultsDumpHook', out_dir='predictions'))
    if args.show_dir:
        hooks.append(
            dict(type='FlowPoseVisualizationHook', out_dir=args.show_dir))
    return cfg


def main(argv=None) -> dict:
    import mmflowpose
    from mmflowpose.utils.checkpoint import load_model_weights
    from mmflowpose.utils.io import dump_json_atomic
    mmflowpose.utils.register_all_modules(init_default_scope=False)
    args = parse_args(argv)
    cfg = build_config(args)
    runner = Runner.from_cfg(cfg)
    if args.checkpoint:
        load_model_weights(runner.model, args.checkpoint)
    metrics = runner.test()
    if runner.rank == 0:
        dump_json_atomic(
            dict(config=args.config, metrics=metrics),
            osp.join(cfg.work_dir, 'metrics.json'))
    return metrics


def cli() -> int:
    from mmflowpose.apis import ConfigError
    from mmflowpose.utils.checkpoint import CheckpointError
    try:
        main(sys.argv[1:])
    except (ConfigError, CheckpointError, FileNotFoundError, KeyError,
            ValueError) as error:
        # A clear one-line reason instead of a traceback; nothing was
        # written to the work dir (metrics are written last, atomically).
        print(f'tools/test.py: error: {type(error).__name__}: {error}',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(cli())
