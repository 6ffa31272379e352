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
    # Each process refines its own clips; the Runner must not wrap the
    # refiner in DistributedDataParallel (per-clip fine-tuning gradients are
    # never averaged across processes), so the process group is set up here
    # and the Runner runs with launcher 'none' inside it: its sampler shards
    # the clips and its evaluator gathers every rank's results.
    cfg.launcher = 'none'
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


def init_distributed(launcher: str, cfg: Config) -> None:
    """Join the process group for ``--launcher pytorch|slurm|mpi``.

    gloo on CPU (mmengine's launcher always calls ``torch.cuda.set_device``,
    which a CPU-only torch lacks), the config's backend (nccl) on GPUs.
    """
    if launcher == 'none' or torch.distributed.is_initialized():
        return
    from mmengine.dist import init_dist
    if torch.cuda.is_available():
        backend = cfg.get('env_cfg', {}).get('dist_cfg',
                                             {}).get('backend', 'nccl')
        init_dist(launcher, backend=backend)
        return
    if launcher != 'pytorch':
        raise ValueError(f'--launcher {launcher} needs GPUs here; use '
                         'pytorch (torchrun) for CPU processes')
    torch.distributed.init_process_group(backend='gloo')


def main(argv=None) -> dict:
    import mmflowpose
    from mmflowpose.utils.checkpoint import load_model_weights
    from mmflowpose.utils.io import dump_json_atomic
    mmflowpose.utils.register_all_modules(init_default_scope=False)
    args = parse_args(argv)
    cfg = build_config(args)
    init_distributed(args.launcher, cfg)
    runner = Runner.from_cfg(cfg)
    if args.checkpoint:
        load_model_weights(runner.model, args.checkpoint)
    metrics = runner.test()
    if runner.rank == 0:
        dump_json_atomic(
            dict(config=args.config, metrics=metrics),
            osp.join(cfg.work_dir, 'metrics.json'))
    if torch.distributed.is_initialized():
        # leave together and close gloo's threads before the interpreter
        # exits (otherwise a rank can abort with "terminate called without
        # an active exception" while the others still finish)
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
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
