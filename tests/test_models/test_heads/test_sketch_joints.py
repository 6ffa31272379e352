"""The sketch head's joint and bone helpers, with hand-computed values."""
import pytest
import torch

from mmflowpose.models.heads import (bbox_diagonal, compose_sketch,
                                     confident_joints, points_along_bones)


def test_points_along_bones_interpolate_positions_and_motion():
    joints_t = torch.tensor([[[0., 0.], [4., 8.]]])
    joints_t1 = joints_t + torch.tensor([[[1., 0.], [3., 0.]]])
    pos, dsp = points_along_bones(joints_t, joints_t1, torch.tensor([[0, 1]]),
                                  3)
    assert pos.shape == dsp.shape == (1, 1, 3, 2)
    assert pos[0, 0].tolist() == [[0, 0], [2, 4], [4, 8]]
    assert dsp[0, 0, :, 0].tolist() == [1, 2, 3]


def test_bbox_diagonal_uses_confident_joints_only():
    joints = torch.tensor([[[0., 0.], [3., 4.], [100., 100.]],
                           [[1., 1.], [2., 2.], [3., 3.]]])
    ok = torch.tensor([[True, True, False], [False, False, False]])
    assert bbox_diagonal(joints, ok).tolist() == [5.0, 0.0]


def test_confident_joints_scores_pair_and_nan():
    joints = torch.zeros(1, 3, 2)
    joints1 = joints.clone()
    joints1[0, 2, 0] = float('nan')
    scores = torch.tensor([[0.9, 0.1, 0.9]])
    ok = confident_joints(scores, joints, joints1, 0.3)
    assert ok.tolist() == [[True, False, False]]
    pair = (scores, torch.tensor([[0.2, 0.9, 0.9]]))
    ok = confident_joints(pair, joints, joints1, 0.3)
    assert ok.tolist() == [[False, False, False]]
    with pytest.raises(ValueError, match='pair'):
        confident_joints((scores, ) * 3, joints, joints1, 0.3)


def test_compose_sketch_takes_the_sketch_inside_the_mask():
    base = torch.zeros(1, 2, 2, 2)
    sketch = torch.ones(1, 2, 2, 2)
    mask = torch.tensor([[[[True, False], [False, True]]]])
    out = compose_sketch(base, sketch, mask)
    assert out[0, 0].tolist() == [[1, 0], [0, 1]]
