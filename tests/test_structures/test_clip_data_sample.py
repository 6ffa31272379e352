import pickle

import pytest
import torch

from mmflowpose.structures import FIELDS, ClipDataSample


def _sample(cycles=2, frames=4, joints=17, size=(6, 8)):
    sample = ClipDataSample(
        metainfo=dict(clip_id='walk0', image_size=size,
                      camera=dict(f=torch.tensor([50., 60.]),
                                  c=torch.tensor([4., 3.]), w=8, h=6)))
    sample.keypoints_2d = torch.rand(frames, joints, 2)
    sample.pred_pose3d = torch.arange(cycles + 1.).view(-1, 1, 1, 1).expand(
        cycles + 1, frames, joints, 3).clone()
    sample.pred_flow = torch.zeros(cycles + 1, frames - 1, 2, *size)
    return sample


def test_fields_set_and_listed():
    sample = _sample()
    assert sorted(sample.keys()) == ['keypoints_2d', 'pred_flow',
                                     'pred_pose3d']
    assert 'pred_flow' in sample and 'gt_flow' not in sample
    assert sample.gt_flow is None
    assert sample.num_cycles == 2
    assert ClipDataSample().num_cycles == 0


@pytest.mark.parametrize('name,value,match', [
    ('gt_flow', torch.zeros(3, 6, 8, 2), r'gt_flow .*\(P, 2, H, W\).*'
     r'\(3, 6, 8, 2\)'),
    ('frames', torch.zeros(4, 6, 8, 3), r'frames .*\(T, 3, H, W\)'),
    ('pred_pose3d', torch.zeros(4, 17, 3), r'\(C\+1, T, J, 3\)'),
    ('keypoint_scores', torch.zeros(4, 17, 1), r'\(T, J\)'),
])
def test_wrong_layout_names_field_and_shape(name, value, match):
    sample = _sample()
    with pytest.raises(ValueError, match=match):
        setattr(sample, name, value)
    # a rejected value leaves no empty field behind
    assert name not in sample.keys() or name == 'pred_pose3d'
    assert 'walk0' in str(pytest.raises(ValueError, setattr, sample, name,
                                        value).value)


def test_non_tensor_rejected():
    with pytest.raises(TypeError, match='keypoints_2d must be a Tensor'):
        ClipDataSample().keypoints_2d = [[0, 0]]


def test_cycle_view_indexes_stacked_fields_only():
    sample = _sample()
    first, last = sample.cycle(0), sample.cycle(-1)
    assert first['pred_pose3d'].shape == (4, 17, 3)
    assert float(first['pred_pose3d'].max()) == 0
    assert float(last['pred_pose3d'].min()) == 2
    assert last['pred_flow'].shape == (3, 2, 6, 8)
    # inputs and metainfo are shared, not indexed or copied
    assert last['keypoints_2d'] is sample.keypoints_2d
    assert last['clip_id'] == 'walk0'


def test_shallow_copy_shares_tensors_and_drops():
    sample = _sample()
    copy = sample.shallow_copy(drop=('pred_flow', ))
    assert copy.keypoints_2d is sample.keypoints_2d
    assert 'pred_flow' not in copy and 'pred_flow' in sample
    assert copy.metainfo['clip_id'] == 'walk0'


def test_delete_and_device_move_and_pickle():
    sample = _sample()
    del sample.pred_flow
    assert 'pred_flow' not in sample.keys() and sample.pred_flow is None
    moved = sample.to('cpu')
    assert isinstance(moved, ClipDataSample)
    assert torch.equal(moved.pred_pose3d, sample.pred_pose3d)
    back = pickle.loads(pickle.dumps(sample))
    assert sorted(back.keys()) == sorted(sample.keys())
    assert torch.equal(back.keypoints_2d, sample.keypoints_2d)


def test_to_dict_uses_public_names():
    as_dict = _sample().to_dict()
    assert 'pred_pose3d' in as_dict and '_pred_pose3d' not in as_dict
    assert as_dict['clip_id'] == 'walk0'


def test_camera_tensors_on_device():
    camera = _sample().camera_tensors(torch.device('cpu'))
    assert sorted(camera) == ['c', 'f']
    assert camera['f'].dtype == torch.float32
    assert ClipDataSample().camera_tensors(torch.device('cpu')) is None


def test_every_field_documents_a_layout():
    for name, (layout, sizes) in FIELDS.items():
        assert layout.startswith('('), name
        assert getattr(ClipDataSample, name).__doc__ == layout
