import numpy as np
import pytest
import torch

from mmflowpose.datasets import PackClipInputs, SyntheticClipDataset
from mmflowpose.registry import TRANSFORMS
from mmflowpose.structures import ClipDataSample


def _item(frames=3, size=(4, 5)):
    flow = np.zeros((frames - 1, *size, 2), np.float32)
    flow[..., 0] = 1.5  # x
    flow[..., 1] = -2.0  # y
    return dict(
        inputs=dict(frames=np.full((frames, *size, 3), 7, np.uint8)),
        data_samples=dict(
            clip_id='c0', img_paths=['a', 'b', 'c'], image_size=size,
            camera=dict(f=[10, 11], c=[2, 2], w=size[1], h=size[0]),
            keypoints_2d=np.zeros((frames, 17, 2), np.float32),
            keypoint_scores=np.ones((frames, 17), np.float32),
            gt_flow=flow, extra_counts=np.arange(3)))


def test_registered_and_built_from_config():
    assert isinstance(TRANSFORMS.build(dict(type='PackClipInputs')),
                      PackClipInputs)


def test_pack_layouts_and_metainfo():
    packed = PackClipInputs()(_item())
    frames, sample = packed['inputs'], packed['data_samples']
    assert isinstance(sample, ClipDataSample)
    assert frames.shape == (3, 3, 4, 5) and frames.dtype == torch.uint8
    # the one layout change: flow channel-last -> channel-first, x first
    assert sample.gt_flow.shape == (2, 2, 4, 5)
    assert float(sample.gt_flow[:, 0].unique()) == 1.5
    assert float(sample.gt_flow[:, 1].unique()) == -2.0
    assert sample.metainfo['clip_id'] == 'c0'
    assert sample.metainfo['camera']['f'].tolist() == [10, 11]
    assert sample.metainfo['camera']['w'] == 5
    # fields outside the schema are kept as tensors under their names
    assert sample.extra_counts.tolist() == [0, 1, 2]


def test_bad_items_name_the_problem():
    with pytest.raises(ValueError, match='data_samples'):
        PackClipInputs()(dict(inputs={}))
    item = _item()
    item['data_samples']['gt_flow'] = np.zeros((2, 2, 4, 5))
    with pytest.raises(ValueError, match=r"clip 'c0': gt_flow .*\(P, H, W, "
                       r'2\)'):
        PackClipInputs()(item)
    item = _item()
    item['data_samples']['keypoints_2d'] = np.zeros((3, 17))
    with pytest.raises(ValueError, match=r'keypoints_2d .*\(T, J, 2\)'):
        PackClipInputs()(item)


def test_dataset_pipeline_packs():
    dataset = SyntheticClipDataset(num_frames=3, image_size=(32, 40),
                                   pipeline=[dict(type='PackClipInputs')])
    item = dataset[0]
    sample = item['data_samples']
    assert item['inputs'].shape == (3, 3, 32, 40)
    assert sample.gt_flow.shape == (2, 2, 32, 40)
    assert sample.human_mask.shape == (3, 32, 40)
    assert sample.gt_pose3d.shape == (3, 17, 3)


def test_every_shipped_clip_config_packs():
    """Refiner, metrics and hooks read ClipDataSamples: every shipped
    config's test dataset must end its pipeline with PackClipInputs."""
    import glob
    import os.path as osp

    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    paths = sorted(glob.glob(osp.join(root, 'configs', 'flowpose', '*.py')))
    assert paths
    for path in paths:
        dataset = Config.fromfile(path).test_dataloader.dataset
        assert dataset.pipeline[-1]['type'] == 'PackClipInputs', path
