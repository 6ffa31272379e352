"""Train a small mmflow RAFT with mmengine's Runner on rendered pairs.

Example::

    python tools/train_flow.py configs/training/raft-small_synthetic.py \\
        --work-dir work_dirs/raft-small_synthetic \\
        --out checkpoints/raft-small_synthetic.pth

First the config's ``flow_cache`` clips are rendered into ``data_root``
with :func:`~mmflowpose.datasets.synthetic.render_flow_cache` (clips
already there are kept). Then mmflow's own training path runs
(``Runner.train()``, ``RAFT.loss`` with ``SequenceLoss``, AdamW,
OneCycleLR). Afterwards the final weights are validated, the zero-flow EPE
of the same pairs is measured, and a slim checkpoint (weights + meta) is
written to ``--out``. A ``results.json`` lands in the work dir.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

import numpy as np
import torch
from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='training config file')
    parser.add_argument('--work-dir', help='logs and Runner checkpoints; '
                        'default work_dirs/<config name>')
    parser.add_argument('--out', help='slim checkpoint to write (.pth)')
    parser.add_argument('--cache-dir', help='override data_root (cache)')
    parser.add_argument('--mocap-root', help='override the mocap folder')
    parser.add_argument('--clips', type=int, nargs=2, metavar=('TRAIN',
                                                               'VAL'),
                        help='override the number of rendered clips')
    parser.add_argument('--max-iters', type=int, help='override max_iters')
    parser.add_argument('--val-interval', type=int,
                        help='override val_interval (and checkpoint interval)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (default 1: shared machines)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        metavar='KEY=VALUE', help='config overrides')
    return parser.parse_args(argv)


def build_config(args):
    """The config with the command-line overrides applied."""
    from mmengine.config import Config
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.cache_dir is not None:
        cfg.data_root = args.cache_dir
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            cfg[loader].dataset.data_root = args.cache_dir
    if args.mocap_root is not None:
        cfg.flow_cache.mocap_root = args.mocap_root
    if args.clips is not None:
        cfg.flow_cache.clips_per_split = dict(
            train=args.clips[0], val=args.clips[1])
    if args.max_iters is not None:
        if args.max_iters < 1:
            raise ValueError(f'--max-iters must be >= 1, got '
                             f'{args.max_iters}')
        cfg.train_cfg.max_iters = args.max_iters
        if cfg.param_scheduler.get('type') == 'OneCycleLR':
            cfg.param_scheduler.total_steps = args.max_iters + 10
    if args.val_interval is not None:
        cfg.train_cfg.val_interval = args.val_interval
        cfg.default_hooks.checkpoint.interval = args.val_interval
    cfg.randomness = dict(seed=args.seed)
    return cfg


def zero_flow_epe(dataset) -> dict:
    """EPE (px) of predicting zero flow: mean |gt| on, off and over all."""
    sums = dict(all=0.0, inside=0.0, outside=0.0)
    counts = dict(all=0, inside=0, outside=0)
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        norm = np.linalg.norm(info['gt_flow_fw'], axis=-1)
        human = info['human_mask']
        for key, mask in (('all', np.ones_like(human)), ('inside', human),
                          ('outside', ~human)):
            sums[key] += float(norm[mask].sum())
            counts[key] += int(mask.sum())
    return {k: sums[k] / max(counts[k], 1) for k in sums}


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from mmengine.runner import Runner

    from mmflowpose.datasets.synthetic import render_flow_cache
    from mmflowpose.utils.checkpoint import save_checkpoint_atomic
    from mmflowpose.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = build_config(args)
    start = time.time()
    cache = cfg.flow_cache
    render_flow_cache(
        cfg.data_root,
        splits=dict(cache.splits),
        clips_per_split=dict(cache.clips_per_split),
        mocap_root=cache.mocap_root,
        frames_per_clip=cache.frames_per_clip,
        image_size=tuple(cache.image_size),
        camera_ranges=cache.get('camera_ranges'),
        seed=cache.seed)
    render_time = time.time() - start
    runner = Runner.from_cfg(cfg)
    start, cpu_start = time.time(), time.process_time()
    runner.train()
    train_time = time.time() - start
    train_cpu = time.process_time() - cpu_start
    metrics = {k: float(v) for k, v in runner.val_loop.run().items()}
    zero = zero_flow_epe(runner.val_dataloader.dataset)
    model = runner.model.module if hasattr(runner.model, 'module') \
        else runner.model
    results = dict(
        config=args.config,
        iters=int(cfg.train_cfg.max_iters),
        batch_size=int(cfg.train_dataloader.batch_size),
        render_wall_s=round(render_time, 1),
        train_wall_s=round(train_time, 1),
        train_cpu_s=round(train_cpu, 1),
        threads=args.threads,
        train_pairs=len(runner.train_dataloader.dataset),
        val_pairs=len(runner.val_dataloader.dataset),
        val=metrics,
        val_zero_flow_EPE=zero,
        train_motions=list(cache.splits.train),
        val_motions=list(cache.splits.val),
        params=sum(p.numel() for p in model.parameters()))
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(osp.join(cfg.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    if args.out:
        save_checkpoint_atomic(model, args.out, meta=dict(results))
    print(json.dumps(results, indent=2))
    return results


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
