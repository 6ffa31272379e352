import numpy as np
import pytest
import torch

from mmflowpose.evaluation.functional import (dense_epe, endpoint_error,
                                              epe_sum_count, human_epe,
                                              sparse_epe)


def to_t(flow):
    return torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1)))[
        None].double()


def np_bilinear(flow, x, y):
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    x1, y1 = min(x0 + 1, flow.shape[1] - 1), min(y0 + 1, flow.shape[0] - 1)
    ax, ay = x - x0, y - y0
    return ((1 - ax) * (1 - ay) * flow[y0, x0] + ax * (1 - ay) * flow[y0, x1]
            + (1 - ax) * ay * flow[y1, x0] + ax * ay * flow[y1, x1])


def test_hand_computed():
    pred = torch.zeros(1, 2, 1, 2)
    gt = torch.tensor([[[[3., 0.]], [[4., 1.]]]])
    assert endpoint_error(pred, gt).tolist() == [[[5.0, 1.0]]]
    assert float(dense_epe(pred, gt)) == 3.0
    assert float(dense_epe(pred, gt, torch.tensor([[[False, True]]]))) == 1.0


def test_dense_and_masked_match_numpy(real):
    gt, pred, weights, kitti_valid = real
    err = np.linalg.norm(pred.astype(np.float64) - gt, axis=-1)
    assert float(dense_epe(to_t(pred), to_t(gt))) == pytest.approx(
        err.mean(), rel=1e-12)
    for mask in (weights > 0.5, kitti_valid):
        got = dense_epe(to_t(pred), to_t(gt), torch.from_numpy(mask)[None])
        assert float(got) == pytest.approx(err[mask].mean(), rel=1e-12)
    total, count = epe_sum_count(to_t(pred), to_t(gt),
                                 torch.from_numpy(kitti_valid)[None, None])
    assert int(count) == 39
    assert float(total) == pytest.approx(err[kitti_valid].sum(), rel=1e-12)


def test_human_inside_outside_match_numpy(real):
    gt, pred, weights, kitti_valid = real
    err = np.linalg.norm(pred.astype(np.float64) - gt, axis=-1)
    human = np.zeros((50, 50), bool)
    human[10:30, 5:25] = True
    valid = weights < 0.5
    inside, outside = human_epe(to_t(pred), to_t(gt),
                                torch.from_numpy(human)[None],
                                torch.from_numpy(valid)[None])
    assert float(inside) == pytest.approx(err[human & valid].mean())
    assert float(outside) == pytest.approx(err[~human & valid].mean())


def test_sparse_at_joints_matches_numpy(real):
    gt, pred, _, _ = real
    points = np.array([[3.25, 4.5], [10.0, 20.0], [48.9, 0.1], [60., 2.],
                       [-0.5, 3.]])
    motion = np.array([[1., 2.], [0., 0.], [-3., 1.], [1., 1.], [0., 0.]])
    errors, mask = sparse_epe(to_t(pred), torch.from_numpy(points)[None],
                              torch.from_numpy(motion)[None])
    assert mask.tolist() == [[True, True, True, False, False]]
    for j in range(3):
        ref = np.linalg.norm(
            np_bilinear(pred.astype(np.float64), *points[j]) - motion[j])
        assert float(errors[0, j]) == pytest.approx(ref, rel=1e-9)
    assert errors[0, 3:].tolist() == [0.0, 0.0]
    valid = torch.tensor([[True, False, True, True, True]])
    _, mask = sparse_epe(to_t(pred), torch.from_numpy(points)[None],
                         torch.from_numpy(motion)[None], valid)
    assert mask.tolist() == [[True, False, True, False, False]]


def test_shape_errors():
    with pytest.raises(ValueError, match='gt'):
        endpoint_error(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 5))
    with pytest.raises(ValueError, match='mask'):
        epe_sum_count(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4),
                      torch.ones(1, 4, 5, dtype=torch.bool))
