"""Smoke runs of tools/train_lifter.py and tools/train_flow.py (seconds).

Each script runs in a subprocess (mmengine's Runner keeps process-wide
state: default scope, visualizer and logger instances) for a few
iterations on procedural motions, so no fixture is needed; the written
checkpoint must load with ``init_model`` and hold the trained weights.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmflowpose.apis import init_model
from mmflowpose.utils.checkpoint import read_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LIFTER_CFG = osp.join(REPO, 'configs', 'training',
                      'videopose3d-small_mocap.py')
FLOW_CFG = osp.join(REPO, 'configs', 'training', 'raft-small_synthetic.py')


def _run(script, args, timeout=240):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', script)] + args,
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f'{script} failed ({proc.returncode}):\n'
                    f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


def _same_weights(model, path):
    state = read_checkpoint(path)['state_dict']
    own = model.state_dict()
    assert set(state) == set(own)
    for key, value in state.items():
        assert torch.equal(own[key].cpu(), value), key


def test_train_lifter_smoke(tmp_path):
    out = str(tmp_path / 'lifter.pth')
    work = str(tmp_path / 'work')
    _run('train_lifter.py', [
        LIFTER_CFG, '--work-dir', work, '--out', out, '--max-iters', '3',
        '--val-interval', '3', '--batch-size', '8', '--baseline-samples',
        '16', '--cfg-options',
        'train_dataloader.dataset.clips=[procedural:walk:0]',
        'train_dataloader.dataset.procedural_frames=30',
        'val_dataloader.dataset.clips=[procedural:jumping_jacks:1]',
        'val_dataloader.dataset.procedural_frames=14',
        'val_dataloader.dataset.cameras_per_sample=1'
    ])
    with open(osp.join(work, 'results.json')) as f:
        results = json.load(f)
    assert results['iters'] == 3
    assert results['val']['MPJPE'] > 0
    assert results['val_mean_pose_MPJPE'] > 0
    assert results['train_clips'] == ['procedural:walk:0']
    # the Runner's own checkpoint and the slim one
    assert any(n.startswith('iter_3') for n in os.listdir(work))
    assert osp.getsize(out) < 10 * 2**20
    model = init_model(LIFTER_CFG, out)
    assert type(model).__name__ == 'PoseLifter'
    assert model.dataset_meta['num_keypoints'] == 17
    _same_weights(model, out)
    assert read_checkpoint(out)['meta']['val']['MPJPE'] == \
        results['val']['MPJPE']
    # the model lifts a (B, 34, 27) input to (B, 17, 3)
    with torch.no_grad():
        pred = model(torch.zeros(2, 34, 27), None, mode='tensor')
    assert tuple(pred.shape) == (2, 17, 3)


def test_train_flow_smoke(tmp_path):
    out = str(tmp_path / 'raft.pth')
    work = str(tmp_path / 'work')
    cache = str(tmp_path / 'cache')
    _run('train_flow.py', [
        FLOW_CFG, '--work-dir', work, '--out', out, '--cache-dir', cache,
        '--clips', '2', '1', '--max-iters', '2', '--val-interval', '2',
        '--cfg-options', 'flow_cache.splits.train=[procedural:walk]',
        'flow_cache.splits.val=[procedural:jumping_jacks]',
        'flow_cache.frames_per_clip=3'
    ])
    assert sorted(os.listdir(osp.join(cache, 'train'))) == [
        '0000.npz', '0001.npz'
    ]
    with open(osp.join(work, 'results.json')) as f:
        results = json.load(f)
    assert results['train_pairs'] == 4 and results['val_pairs'] == 2
    assert results['val']['flow/EPE'] > 0
    assert set(results['val_zero_flow_EPE']) == {'all', 'inside', 'outside'}
    assert results['params'] < 2_000_000
    assert osp.getsize(out) < 10 * 2**20
    model = init_model(FLOW_CFG, out)
    assert type(model).__name__ == 'RAFT'
    _same_weights(model, out)
    with torch.no_grad():
        flows = model(torch.zeros(1, 6, 96, 128), None, mode='tensor')
    assert tuple(flows[-1].shape) == (1, 2, 96, 128)


def test_bad_config_path():
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train_lifter.py'),
         '/nonexistent/config.py'],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'config file' in proc.stderr and 'not found' in proc.stderr


def _load_tool(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_zero_flow_epe_hand_values():
    import numpy as np

    class Pairs:
        """Two 2x2 pairs: flow (3, 4) px (norm 5) on the person, 0 off."""

        def __len__(self):
            return 2

        def get_data_info(self, i):
            human = np.array([[True, False], [False, i == 1]])
            flow = np.zeros((2, 2, 2), np.float32)
            flow[human] = (3.0, 4.0)
            return dict(gt_flow_fw=flow, human_mask=human)

    epe = _load_tool('train_flow').zero_flow_epe(Pairs())
    # 3 of 8 pixels move by 5 px
    assert epe == pytest.approx(dict(all=15 / 8, inside=5.0, outside=0.0))


def test_mean_pose_baseline_hand_values():
    import numpy as np

    class Poses:

        def __init__(self, poses):
            self.poses = poses

        def __len__(self):
            return len(self.poses)

        def get_data_info(self, i):
            return dict(lifting_target=self.poses[i][None])

    base = np.zeros((17, 3))
    train = [base + 5.0, base + 5.0]  # root-relative: all zeros
    train[1][3] = (5.0, 5.0, 5.4)  # joint 3 at +0.4 m -> mean +0.2 m
    val = [base.copy()]
    mpjpe, mean = _load_tool('train_lifter').mean_pose_baseline(
        Poses(train), Poses(val), num_samples=2)
    np.testing.assert_allclose(mean[3], (0.0, 0.0, 0.2))
    # one joint of 17 is 0.2 m off -> 200 / 17 mm
    assert mpjpe == pytest.approx(200.0 / 17)
