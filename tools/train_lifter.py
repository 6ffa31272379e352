"""Train a 2D->3D pose lifter with mmengine's Runner on mocap lifting pairs.

Example::

    python tools/train_lifter.py configs/training/videopose3d-small_mocap.py \\
        --work-dir work_dirs/videopose3d-small_mocap \\
        --out checkpoints/videopose3d-small_mocap.pth

The toolbox's own loop does the training (``Runner.train()``, mmpose's
``PoseLifter``, codec and pipeline). Afterwards the final weights are
validated, a mean-pose baseline is scored on the same validation samples,
and a slim checkpoint (weights + meta, no optimiser state) is written to
``--out`` with :func:`~mmflowpose.utils.checkpoint.save_checkpoint_atomic`.
A ``results.json`` with the numbers lands in the work dir.
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
    parser.add_argument('--batch-size', type=int, help='override batch size')
    parser.add_argument('--data-root', help='override the mocap folder')
    parser.add_argument('--baseline-samples', type=int, default=4096,
                        help='training samples averaged for the mean pose')
    return parser.parse_args(argv)


def build_config(args):
    """The config with the command-line overrides applied."""
    cfg = load_train_config(args)
    if args.max_iters is not None:
        for sched in cfg.param_scheduler:
            if sched.get('type') == 'ExponentialLR':
                sched['gamma'] = 0.1**(1.0 / args.max_iters)
            sched['end'] = args.max_iters
    if args.batch_size is not None:
        cfg.train_dataloader.batch_size = args.batch_size
    if args.data_root is not None:
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            cfg[loader].dataset.data_root = args.data_root
    return cfg


def mean_pose_baseline(train_set, val_set, num_samples: int, seed: int = 0):
    """MPJPE (mm) of the mean root-relative training pose on ``val_set``.

    Args:
        train_set (MocapLiftingDataset): source of the mean pose.
        val_set (MocapLiftingDataset): scored samples.
        num_samples (int): training samples averaged.
        seed (int): which training samples. Defaults to 0.

    Returns:
        tuple[float, np.ndarray]: MPJPE in mm and the (17, 3) mean pose (m).
    """
    rng = np.random.default_rng(seed)
    ids = rng.choice(len(train_set), min(num_samples, len(train_set)),
                     replace=False)

    def target(dataset, i):
        pose = dataset.get_data_info(int(i))['lifting_target'][0]
        return pose - pose[:1]

    mean_pose = np.mean([target(train_set, i) for i in ids], axis=0)
    errors = [
        np.linalg.norm(target(val_set, i) - mean_pose, axis=-1).mean()
        for i in range(len(val_set))
    ]
    return 1000.0 * float(np.mean(errors)), mean_pose


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from mmengine.runner import Runner

    from mmflowpose.utils.checkpoint import save_checkpoint_atomic
    from mmflowpose.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = build_config(args)
    runner = Runner.from_cfg(cfg)
    start, cpu_start = time.time(), time.process_time()
    runner.train()
    train_time = time.time() - start
    train_cpu = time.process_time() - cpu_start
    metrics = runner.val_loop.run()
    metrics = {k: float(v) for k, v in metrics.items()}
    baseline, _ = mean_pose_baseline(runner.train_dataloader.dataset,
                                     runner.val_dataloader.dataset,
                                     args.baseline_samples, args.seed)
    results = dict(
        config=args.config,
        iters=int(cfg.train_cfg.max_iters),
        batch_size=int(cfg.train_dataloader.batch_size),
        train_wall_s=round(train_time, 1),
        train_cpu_s=round(train_cpu, 1),
        threads=args.threads,
        val=metrics,
        val_mean_pose_MPJPE=baseline,
        train_clips=list(cfg.train_dataloader.dataset.clips),
        val_clips=list(cfg.val_dataloader.dataset.clips),
        params=sum(p.numel() for p in runner.model.parameters()))
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(osp.join(cfg.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    if args.out:
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        save_checkpoint_atomic(model, args.out, meta=dict(results))
    print(json.dumps(results, indent=2))
    return results


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
