import json
import os
import os.path as osp

import numpy as np
import pytest

from mmflowpose.datasets.synthetic.flow_dataset import (
    SyntheticFlowDataset, render_flow_cache)
from mmflowpose.registry import DATASETS

SIZE = (32, 48)


@pytest.fixture(scope='module')
def cache(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('flow_cache'))
    index = render_flow_cache(
        root,
        splits=dict(train=['procedural:walk', 'procedural:jumping_jacks'],
                    val=['procedural:walk']),
        clips_per_split=dict(train=2, val=1),
        frames_per_clip=3,
        image_size=SIZE,
        seed=5)
    return root, index


def test_render_writes_clips_and_index(cache):
    root, index = cache
    assert sorted(index) == ['train', 'val']
    assert [e['file'] for e in index['train']] == ['train/0000.npz',
                                                   'train/0001.npz']
    assert index['train'][1]['motion'] == 'procedural:jumping_jacks'
    with open(osp.join(root, 'index.json')) as f:
        assert json.load(f) == index
    with np.load(osp.join(root, 'train', '0000.npz')) as data:
        assert data['frames'].shape == (3, ) + SIZE + (3, )
        assert data['frames'].dtype == np.uint8
        assert data['flow'].shape == (2, ) + SIZE + (2, )
        assert data['human_mask'].shape == (3, ) + SIZE
        assert data['human_mask'].any()


def test_render_keeps_existing_clips(cache):
    root, index = cache
    path = osp.join(root, 'val', '0000.npz')
    before = os.stat(path).st_mtime_ns
    again = render_flow_cache(
        root, splits=dict(train=['procedural:walk',
                                 'procedural:jumping_jacks'],
                          val=['procedural:walk']),
        clips_per_split=dict(train=2, val=1), frames_per_clip=3,
        image_size=SIZE, seed=5)
    assert os.stat(path).st_mtime_ns == before
    assert again == index


def test_dataset_samples(cache):
    root, _ = cache
    ds = SyntheticFlowDataset(data_root=root, split='train')
    assert len(ds) == 2 * 2  # 2 clips x (3 - 1) pairs
    info = ds.get_data_info(3)  # clip 0001, pair 1
    with np.load(osp.join(root, 'train', '0001.npz')) as data:
        np.testing.assert_array_equal(info['img1'], data['frames'][1])
        np.testing.assert_array_equal(info['img2'], data['frames'][2])
        np.testing.assert_array_equal(info['gt_flow_fw'], data['flow'][1])
        np.testing.assert_array_equal(info['human_mask'],
                                      data['human_mask'][1])
    assert info['gt_flow_fw'].dtype == np.float32
    assert info['gt_flow_bw'] is None and info['gt_occ_fw'] is None
    assert tuple(info['img_shape']) == SIZE
    assert info['img1_path'] == 'train/0001.npz#1'
    occ = SyntheticFlowDataset(data_root=root, with_occ=True)[3]
    assert occ['gt_occ_fw'].shape == SIZE and occ['gt_occ_fw'].dtype == \
        np.uint8
    assert len(SyntheticFlowDataset(data_root=root, max_pairs=3)) == 3


def test_mmflow_pipeline_packs_pairs(cache):
    root, _ = cache
    pipeline = [
        dict(type='RandomFlip', prob=1.0, direction='horizontal',
             _scope_='mmflow'),
        dict(type='Validation', max_flow=400.0, _scope_='mmflow'),
        dict(type='PackFlowInputs', _scope_='mmflow')
    ]
    ds = DATASETS.build(
        dict(type='SyntheticFlowDataset', data_root=root, split='val',
             pipeline=pipeline))
    raw = ds.get_data_info(0)
    out = ds[0]
    assert tuple(out['inputs'].shape) == (2, 3) + SIZE
    flow = out['data_samples'].gt_flow_fw.data.numpy()
    assert flow.shape == (2, ) + SIZE
    # horizontal flip: mirrored field, x component negated
    np.testing.assert_allclose(flow[0], -raw['gt_flow_fw'][:, ::-1, 0])
    np.testing.assert_allclose(flow[1], raw['gt_flow_fw'][:, ::-1, 1])
    assert out['data_samples'].gt_valid_fw.data.all()


def test_bad_arguments(tmp_path, cache):
    root, _ = cache
    with pytest.raises(FileNotFoundError, match='render_flow_cache'):
        SyntheticFlowDataset(data_root=str(tmp_path), split='train')
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(FileNotFoundError, match='no .npz'):
        SyntheticFlowDataset(data_root=str(tmp_path), split='empty')
    with pytest.raises(ValueError, match='max_pairs'):
        SyntheticFlowDataset(data_root=root, max_pairs=0)
    with pytest.raises(ValueError, match='frames_per_clip'):
        render_flow_cache(str(tmp_path), dict(a=['procedural:walk']),
                          dict(a=1), frames_per_clip=1)
    with pytest.raises(ValueError, match='clips_per_split'):
        render_flow_cache(str(tmp_path), dict(a=['procedural:walk']),
                          dict(b=1))
    with pytest.raises(ValueError, match='no motions'):
        render_flow_cache(str(tmp_path), dict(a=[]), dict(a=1))


def test_render_camera_ranges(tmp_path):
    index = render_flow_cache(
        str(tmp_path), dict(a=['procedural:walk']), dict(a=3),
        frames_per_clip=2, image_size=SIZE,
        camera_ranges=dict(orbit_prob=1.0, orbit_deg_per_frame=(1.0, 2.0)))
    orbits = [abs(e['camera']['orbit_deg_per_frame']) for e in index['a']]
    assert all(1.0 <= o <= 2.0 for o in orbits)
    with pytest.raises(ValueError, match='camera_ranges'):
        render_flow_cache(str(tmp_path), dict(a=['procedural:walk']),
                          dict(a=1), camera_ranges=dict(zoom=2))
