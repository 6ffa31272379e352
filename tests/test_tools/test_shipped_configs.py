"""Every shipped config runs through the real ``tools/test.py`` and Runner.

Each config under ``configs/flowpose`` and ``configs/demo`` is run as a
subprocess on a tiny dataset written in the config's own dataset format
(H36M annotations, a 3DPW sequence pickle, a Sintel folder) by the project's
writers, or on its rendered clips. Model-zoo checkpoints are replaced by
random weights (``checkpoint=None``: nothing is downloaded) and the shipped
offline checkpoints are kept; one cycle, a few optimiser steps. The run must
write ``metrics.json`` with finite per-cycle pose and flow metrics.

A config whose dataset type has no writer here fails: a new config must
come with a run.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    osp.relpath(path, REPO)
    for pattern in ('configs/flowpose/*.py', 'configs/demo/*.py')
    for path in glob.glob(osp.join(REPO, pattern)))
NUM_FRAMES = 4
IMAGE_SIZE = (64, 96)


def _clip(seed: int, image_size=IMAGE_SIZE):
    from mmflowpose.datasets.synthetic import make_clip
    return make_clip(
        'procedural', image_size=image_size, seed=seed, num_frames=NUM_FRAMES)


def _h36m(root: str) -> list:
    """The paper's protocol (S9, camera 60457274) on a rendered clip."""
    from mmflowpose.datasets.synthetic import write_h36m
    write_h36m(
        _clip(0),
        root,
        action='Walking',
        subject='S9',
        camera_id='60457274',
        ann_name='h36m_test')
    return [
        f'test_dataloader.dataset.data_root={root}',
        'test_dataloader.dataset.ann_file=annotations/h36m_test.npz',
        'test_dataloader.dataset.camera_param_file=annotations/cameras.pkl',
        'test_dataloader.dataset.data_prefix.img=images/',
        f'test_dataloader.dataset.clip_len={NUM_FRAMES}',
    ]


def _pw3d(root: str) -> list:
    from mmflowpose.datasets.synthetic.pw3d_writer import write_3dpw
    write_3dpw(_clip(1), root, 'downtown_walking_00')
    return [
        f'test_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.clip_len={NUM_FRAMES}',
    ]


def _sintel(root: str) -> list:
    # large enough for BlazePose to find the rendered person
    from mmflowpose.datasets.synthetic import write_sintel
    write_sintel(_clip(2, image_size=(192, 256)), root, 'alley_2')
    return [
        f'test_dataloader.dataset.data_root={root}/training',
        'test_dataloader.dataset.sequences=[alley_2]',
        f'test_dataloader.dataset.clip_length={NUM_FRAMES}',
    ]


def _synthetic(root: str) -> list:
    return [
        'test_dataloader.dataset.num_clips=1',
        f'test_dataloader.dataset.num_frames={NUM_FRAMES}',
        f'test_dataloader.dataset.image_size={list(IMAGE_SIZE)}',
    ]


# dataset type -> (writer, metrics the run must report per cycle)
DATASETS = {
    'H36MClipDataset': (_h36m, ('MPJPE', 'EPE')),
    'PW3DClipDataset': (_pw3d, ('MPJPE', 'EPE')),
    'SintelClipDataset': (_sintel, ('EPE', )),
    'SyntheticClipDataset': (_synthetic, ('MPJPE', 'EPE', 'EPE_inside')),
}


def _network_options(cfg: Config) -> list:
    """Random weights for model-zoo URLs, fewer RAFT/GMA iterations."""
    options = []
    for index, net in enumerate(cfg.model.flow_networks):
        key = f'model.flow_networks.{index}'
        if str(net.get('checkpoint', '')).startswith('http'):
            options.append(f'{key}.checkpoint=None')
        name = osp.basename(net['config'])
        if name.startswith(('raft', 'gma')):
            options.append(f'{key}.cfg_options.model.decoder.iters=2')
    for index, est in enumerate(cfg.model.get('pose_estimators', [])):
        if str(est.get('checkpoint', '')).startswith('http'):
            options.append(f'model.pose_estimators.{index}.checkpoint=None')
    return options


def test_every_config_folder_is_covered():
    names = [osp.basename(c) for c in CONFIGS]
    assert 'flowpose_videopose3d-small-raft-small_synthetic.py' in names
    assert 'flowpose_offline-demo.py' in names
    assert len(CONFIGS) >= 7


@pytest.mark.parametrize('config', CONFIGS)
def test_config_runs_in_tools_test_py(config, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, config))
    dataset_type = cfg.test_dataloader.dataset.type
    assert dataset_type in DATASETS, (
        f'{config}: no test data writer for {dataset_type}; add one to '
        f'{osp.basename(__file__)} so the config is run')
    writer, expected = DATASETS[dataset_type]
    options = writer(str(tmp_path / 'data'))
    options += _network_options(cfg)
    options += [
        'model.num_cycles=1',
        'model.pose_optimizer.max_steps=5',
        'model.flow_finetuner.passes=1',
        'randomness.seed=0',
    ]
    work_dir = tmp_path / 'work'
    result = subprocess.run(
        [
            sys.executable, 'tools/test.py', config, '--work-dir',
            str(work_dir), '--cfg-options'
        ] + options,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-4000:]
    with open(work_dir / 'metrics.json') as file:
        metrics = json.load(file)['metrics']
    for name in expected:
        for cycle in (0, 1):
            value = metrics.get(f'cycle{cycle}/{name}')
            assert value is not None and np.isfinite(value), (
                f'{config}: cycle{cycle}/{name} = {value!r} in {metrics}')
    assert 'cycle2/EPE' not in metrics  # model.num_cycles=1 took effect
