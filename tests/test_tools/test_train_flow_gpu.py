"""The shipped RAFT-S through tools/train_flow.py: its GPU recipe config
(a CPU smoke run), --eval-only re-certifying the checkpoint's numbers, and
the one-size-per-batch sampler the recipe needs."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.dataset import BaseDataset, ConcatDataset

from mmflowpose.apis import init_model
from mmflowpose.datasets.source_batch_sampler import SourceBatchSampler

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(REPO, 'configs', 'training', 'raft-small_synthetic.py')
GPU_CFG = osp.join(REPO, 'configs', 'training',
                   'raft-small_1xb32-7k_synthetic-gpu.py')
SHIPPED = osp.join(REPO, 'checkpoints', 'raft-small_synthetic.pth')
MOCAP = osp.join(
    os.environ.get('MMFLOWPOSE_FIXTURES',
                   osp.join(REPO, '..', 'shared', 'fixtures')), 'mocap')


def _run(args, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train_flow.py')] + args,
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f'train_flow.py failed ({proc.returncode}):\n'
                    f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


class _Items(BaseDataset):
    METAINFO = dict(name='items')

    def __init__(self, num):
        self.num = num
        super().__init__(serialize_data=False)

    def load_data_list(self):
        return [dict(i=i) for i in range(self.num)]


class _Sampler:

    def __init__(self, dataset, order):
        self.dataset, self.order = dataset, order

    def __iter__(self):
        return iter(self.order)

    def __len__(self):
        return len(self.order)


def test_source_batch_sampler_keeps_one_source_per_batch():
    data = ConcatDataset([_Items(5), _Items(3)])  # indices 0-4 | 5-7
    order = [0, 5, 1, 6, 2, 7, 3, 4]
    batches = list(SourceBatchSampler(_Sampler(data, order), batch_size=2))
    # a bucket is yielded when full; the rest at the end
    assert batches == [[0, 1], [5, 6], [2, 3], [4], [7]]
    assert list(SourceBatchSampler(_Sampler(data, order), 2,
                                   drop_last=True)) == [[0, 1], [5, 6],
                                                        [2, 3]]
    with pytest.raises(TypeError, match='ConcatDataset'):
        SourceBatchSampler(_Sampler(_Items(3), [0, 1]), 2)
    with pytest.raises(ValueError, match='batch_size'):
        SourceBatchSampler(_Sampler(data, order), 0)


def test_gpu_recipe_smoke_on_cpu(tmp_path):
    """Two iterations of the GPU config (batch 2, 2 clips per size, 1
    validation clip): both caches render, the batches stack (one size
    each), the weights load on the base config."""
    if not osp.isdir(MOCAP):
        pytest.skip(f'mocap fixtures not found at {MOCAP}')
    work, cache = str(tmp_path / 'work'), str(tmp_path / 'cache')
    out = str(tmp_path / 'raft.pth')
    _run([
        GPU_CFG, '--device', 'cpu', '--work-dir', work, '--cache-dir',
        cache, '--mocap-root', MOCAP, '--clips', '2', '1', '--max-iters',
        '2', '--val-interval', '2', '--out', out, '--cfg-options',
        'train_dataloader.batch_size=2'
    ])
    for root, count in (('synthetic_flow_gpu_96x128/train', 2),
                        ('synthetic_flow_gpu_192x256/train', 2), ('val', 1),
                        ('train', 0)):  # validation cache: no train clip
        assert len(os.listdir(osp.join(cache, root))) == count, root
    with open(osp.join(work, 'results.json')) as f:
        results = json.load(f)
    assert results['device'] == 'cpu' and results['iters'] == 2
    assert results['train_pairs'] == 2 * 2 * 4  # 2 sizes x 2 clips x 4
    assert results['val_pairs'] == 4
    assert results['val']['flow/EPE'] > 0
    model = init_model(CFG, out)
    with torch.no_grad():
        flows = model(torch.zeros(1, 6, 96, 128), None, mode='tensor')
    assert tuple(flows[-1].shape) == (1, 2, 96, 128)


def test_eval_only_recertifies_the_shipped_checkpoint(tmp_path):
    """The shipped weights on the 16 held-out clips (64 pairs) score what
    checkpoints/README.md states for today's renders (with the person's
    face and clothes): EPE all 0.616, person 3.190, background 0.430 px;
    zero flow 3.73 / 3.08 / 3.78."""
    if not osp.isdir(MOCAP):
        pytest.skip(f'mocap fixtures not found at {MOCAP}')
    work = str(tmp_path / 'work')
    _run([
        CFG, '--eval-only', SHIPPED, '--device', 'cpu', '--work-dir', work,
        '--cache-dir', str(tmp_path / 'cache'), '--mocap-root', MOCAP
    ])
    with open(osp.join(work, 'eval_results.json')) as f:
        results = json.load(f)
    assert results['val_pairs'] == 64
    val, zero = results['val'], results['val_zero_flow_EPE']
    assert val['flow/EPE'] == pytest.approx(0.6158, abs=1e-3)
    assert val['flow/EPE_inside'] == pytest.approx(3.1904, abs=1e-3)
    assert val['flow/EPE_outside'] == pytest.approx(0.4303, abs=1e-3)
    assert zero['all'] == pytest.approx(3.7287, abs=1e-3)
    assert zero['inside'] == pytest.approx(3.0762, abs=1e-3)
    # no training clip was rendered
    train = tmp_path / 'cache' / 'train'
    assert not train.exists() or not os.listdir(str(train))
