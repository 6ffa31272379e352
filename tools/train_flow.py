"""Train a small mmflow RAFT with mmengine's Runner on rendered pairs.

Examples::

    python tools/train_flow.py configs/training/raft-small_synthetic.py \\
        --work-dir work_dirs/raft-small_synthetic \\
        --out checkpoints/raft-small_synthetic.pth
    # the shipped weights' recipe, on a GPU
    python tools/train_flow.py \\
        configs/training/raft-small_1xb32-7k_synthetic-gpu.py \\
        --device cuda:0 --out checkpoints/raft-small_synthetic.pth
    # score a checkpoint on the config's held-out clips (no training)
    python tools/train_flow.py configs/training/raft-small_synthetic.py \\
        --eval-only checkpoints/raft-small_synthetic.pth

First the config's ``flow_cache`` clips (one dict, or a list of them for
several sizes or camera ranges, each with its own ``data_root``) are
rendered with :func:`~mmflowpose.datasets.synthetic.render_flow_cache`
(clips already there are kept). Then mmflow's own training path runs
(``Runner.train()``, ``RAFT.loss`` with ``SequenceLoss``, AdamW,
OneCycleLR). Afterwards the final weights are validated with the config's
evaluator, the zero-flow EPE of the same pairs is measured, and a slim
checkpoint (weights + meta) is written to ``--out``. A ``results.json``
lands in the work dir. With ``--eval-only`` only the validation clips are
rendered and the checkpoint is scored by the same evaluator.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

import numpy as np
import torch

from mmflowpose.utils.train_cli import add_train_args, load_train_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_train_args(parser)
    parser.add_argument('--cache-dir', help='override data_root (cache)')
    parser.add_argument('--mocap-root', help='override the mocap folder')
    parser.add_argument('--clips', type=int, nargs=2, metavar=('TRAIN',
                                                               'VAL'),
                        help='override the number of rendered clips')
    parser.add_argument('--device', default=None,
                        help="'cpu', 'cuda' or 'cuda:N' (default: mmengine's"
                        ' choice, a GPU when there is one)')
    parser.add_argument('--eval-only', metavar='CHECKPOINT',
                        help='score CHECKPOINT on the validation clips '
                        'instead of training')
    return parser.parse_args(argv)


def build_config(args):
    """The config with the command-line overrides applied."""
    cfg = load_train_config(args)
    caches = flow_caches(cfg)
    if args.cache_dir is not None:
        move_caches(cfg, caches, args.cache_dir)
    if args.mocap_root is not None:
        for cache in caches:
            cache['mocap_root'] = args.mocap_root
    if args.clips is not None:
        # every cache that renders a split gets the new count
        for cache in caches:
            counts = cache['clips_per_split']
            for split, count in zip(('train', 'val'), args.clips):
                if counts.get(split):
                    counts[split] = count
    if args.max_iters is not None:
        if cfg.param_scheduler.get('type') == 'OneCycleLR':
            # the base config's margin past the last step (the GPU config
            # has none: its schedule ends at the last step)
            extra = cfg.param_scheduler.total_steps - cfg.get(
                'max_iters', cfg.param_scheduler.total_steps)
            cfg.param_scheduler.total_steps = args.max_iters + extra
    if args.eval_only is not None:
        if not osp.isfile(args.eval_only):
            raise FileNotFoundError(
                f'--eval-only {args.eval_only!r}: checkpoint not found')
        cfg.load_from = args.eval_only
    return cfg


def flow_caches(cfg) -> list:
    """The config's ``flow_cache`` as a list of dicts with a data_root."""
    caches = cfg.flow_cache
    if isinstance(caches, dict):
        caches = [caches]
    for cache in caches:
        cache.setdefault('data_root', cfg.data_root)
    return caches


def move_caches(cfg, caches: list, cache_dir: str) -> None:
    """Put the caches under ``cache_dir``: ``data_root`` itself becomes
    ``cache_dir``, any other cache root a sub-folder of the same name; the
    datasets (also inside a ConcatDataset) follow."""
    moved = {cfg.data_root: cache_dir}
    for cache in caches:
        if cache['data_root'] not in moved:
            moved[cache['data_root']] = osp.join(
                cache_dir, osp.basename(osp.normpath(cache['data_root'])))
        cache['data_root'] = moved[cache['data_root']]
    cfg.data_root = cache_dir

    def follow(dataset):
        for child in dataset.get('datasets', ()):
            follow(child)
        if dataset.get('data_root') in moved:
            dataset['data_root'] = moved[dataset['data_root']]

    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader):
            follow(cfg[loader].dataset)


def render_caches(cfg, splits=('train', 'val')) -> float:
    """Render every cache's ``splits``; returns the wall seconds."""
    from mmflowpose.datasets.synthetic import render_flow_cache
    start = time.time()
    for cache in flow_caches(cfg):
        # every split is passed (a clip's seed depends on its split's
        # position); the ones not wanted render no clip
        counts = {s: cache['clips_per_split'][s] if s in splits else 0
                  for s in cache['splits']}
        if not any(counts.values()):
            continue
        render_flow_cache(
            cache['data_root'],
            splits=dict(cache['splits']),
            clips_per_split=counts,
            mocap_root=cache['mocap_root'],
            frames_per_clip=cache['frames_per_clip'],
            image_size=tuple(cache['image_size']),
            camera_ranges=cache.get('camera_ranges'),
            seed=cache['seed'])
    return time.time() - start


def select_device(device) -> None:
    """Pin mmengine's device choice before any CUDA call."""
    if device is None:
        return
    if device == 'cpu':
        # mmengine puts the model on a GPU whenever one is visible
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
        return
    if not device.startswith('cuda'):
        raise ValueError(f"--device must be 'cpu', 'cuda' or 'cuda:N', got "
                         f'{device!r}')
    if not torch.cuda.is_available():
        raise RuntimeError(f'--device {device}: no CUDA device is visible')
    if ':' in device:
        torch.cuda.set_device(int(device.split(':')[1]))


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
    select_device(args.device)
    torch.set_num_threads(args.threads)
    from mmengine.runner import Runner

    from mmflowpose.utils.checkpoint import save_checkpoint_atomic
    from mmflowpose.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = build_config(args)
    if args.eval_only is not None:
        return evaluate_only(cfg, args)
    render_time = render_caches(cfg)
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
        device=str(next(model.parameters()).device),
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
        train_motions=sorted({m for c in flow_caches(cfg)
                              for m in c['splits'].get('train', ())}),
        val_motions=sorted({m for c in flow_caches(cfg)
                            for m in c['splits'].get('val', ())}),
        params=sum(p.numel() for p in model.parameters()))
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(osp.join(cfg.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    if args.out:
        save_checkpoint_atomic(model, args.out, meta=dict(results))
    print(json.dumps(results, indent=2))
    return results


def evaluate_only(cfg, args) -> dict:
    """Score ``cfg.load_from`` on the validation clips (Runner.val())."""
    from mmengine.runner import Runner
    render_caches(cfg, splits=('val', ))
    # a Runner without the training parts: they would need the train clips
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = None  # nothing to save
    runner = Runner.from_cfg(cfg)
    metrics = {k: float(v) for k, v in runner.val().items()}
    results = dict(
        config=args.config,
        checkpoint=args.eval_only,
        val_pairs=len(runner.val_dataloader.dataset),
        val=metrics,
        val_zero_flow_EPE=zero_flow_epe(runner.val_dataloader.dataset))
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(osp.join(cfg.work_dir, 'eval_results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))
    return results


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
