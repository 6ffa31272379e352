"""Fill the carried job folder ``.gpu_job/`` for train_raft_gpu.py.

Writes ``model_cfg.json`` (the ``model`` of the training config),
``mocap_joints.npz`` (the training and validation mocap motions as
(T, 17, 3) joints, keys ``<split>|<file>``) and downloads the pure-Python
wheels the GPU machine lacks into ``wheels/``::

    python tools/gpu/prepare_job.py          # then: see tools/gpu/README.md
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np

WHEELS = ['mmengine==0.10.7', 'mmcv-lite==2.0.1', 'mmflow==1.0.0rc0',
          'addict', 'yapf', 'termcolor', 'platformdirs']


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--job', default='.gpu_job')
    p.add_argument('--config',
                   default='configs/training/raft-small_synthetic.py')
    p.add_argument('--no-wheels', action='store_true')
    args = p.parse_args(argv)
    from mmengine.config import Config

    from mmflowpose.datasets.synthetic import load_mocap
    os.makedirs(args.job, exist_ok=True)
    cfg = Config.fromfile(args.config)
    with open(osp.join(args.job, 'model_cfg.json'), 'w') as f:
        json.dump(cfg.model.to_dict(), f, indent=1)
    arrays = {}
    for split, motions in cfg.flow_cache.splits.items():
        for motion in motions:
            if not motion.startswith('procedural:'):
                joints = load_mocap(osp.join(cfg.flow_cache.mocap_root,
                                             motion))['joints']
                arrays[f'{split}|{motion}'] = joints.astype(np.float32)
    np.savez_compressed(osp.join(args.job, 'mocap_joints.npz'), **arrays)
    if not args.no_wheels:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps',
                        '-d', osp.join(args.job, 'wheels')] + WHEELS,
                       check=True)


if __name__ == '__main__':
    main()
