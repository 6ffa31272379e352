"""Pose metrics against independent numpy / scipy references."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from mmflowpose.evaluation.functional import (acceleration_errors,
                                              mpjpe_errors, n_mpjpe_errors,
                                              p_mpjpe_errors)
from mmflowpose.evaluation.metrics import (AccelErrorMetric, MPJPEMetric,
                                           NMPJPEMetric, PMPJPEMetric)
from mmflowpose.models.utils.skeleton import H36M_EVAL_JOINT_NAMES
from mmflowpose.registry import METRICS

RNG = np.random.default_rng(0)


def _np_mpjpe(pred, gt, root=0, ids=None):
    pred = pred - pred[..., root:root + 1, :]
    gt = gt - gt[..., root:root + 1, :]
    if ids is not None:
        pred, gt = pred[..., ids, :], gt[..., ids, :]
    return np.linalg.norm(pred - gt, axis=-1)


def _np_pmpjpe(pred, gt):
    out = []
    for p, g in zip(
            pred.reshape(-1, *pred.shape[-2:]), gt.reshape(-1,
                                                           *gt.shape[-2:])):
        p0, g0 = p - p.mean(0), g - g.mean(0)
        rot, _ = Rotation.align_vectors(g0, p0)
        r = rot.apply(p0)
        s = (r * g0).sum() / (p0**2).sum()
        out.append(np.linalg.norm(s * r + g.mean(0) - g, axis=-1))
    return np.stack(out).reshape(pred.shape[:-1])


def test_functions_against_numpy():
    gt = RNG.normal(size=(4, 6, 17, 3))
    pred = gt + RNG.normal(size=gt.shape) * 0.05
    tp, tg = torch.from_numpy(pred), torch.from_numpy(gt)
    np.testing.assert_allclose(
        mpjpe_errors(tp, tg).numpy(), _np_mpjpe(pred, gt))
    np.testing.assert_allclose(
        mpjpe_errors(tp, tg, 0, [1, 2, 5]).numpy(),
        _np_mpjpe(pred, gt, 0, [1, 2, 5]))
    np.testing.assert_allclose(
        p_mpjpe_errors(tp, tg).numpy(), _np_pmpjpe(pred, gt), atol=1e-9)
    # N-MPJPE: brute-force the best scale on a grid.
    p0 = pred[0, 0] - pred[0, 0, :1]
    g0 = gt[0, 0] - gt[0, 0, :1]
    grid = np.linspace(0.5, 1.5, 100001)
    costs = [((s * p0 - g0)**2).sum() for s in grid]
    s = grid[int(np.argmin(costs))]
    np.testing.assert_allclose(
        n_mpjpe_errors(tp, tg)[0, 0].numpy(),
        np.linalg.norm(s * p0 - g0, axis=-1),
        atol=1e-4)
    acc = (pred[:, 2:] - 2 * pred[:, 1:-1] + pred[:, :-2]) - (
        gt[:, 2:] - 2 * gt[:, 1:-1] + gt[:, :-2])
    np.testing.assert_allclose(
        acceleration_errors(tp, tg).numpy(), np.linalg.norm(acc, axis=-1))


def test_hand_computed():
    gt = torch.zeros(1, 2, 3)
    gt[0, 1, 0] = 1.
    pred = gt.clone()
    pred[0, 1, 1] = 0.5
    pred += 10  # root alignment removes it
    assert torch.allclose(mpjpe_errors(pred, gt), torch.tensor([[0., 0.5]]))
    assert torch.allclose(n_mpjpe_errors(2 * gt, gt), torch.zeros(1, 2))
    still = torch.zeros(3, 1, 3)
    moving = torch.tensor([[0., 0, 0], [1, 0, 0], [3, 0, 0]])[:, None]
    # second difference (3 - 2 + 0) = 1
    assert torch.allclose(
        acceleration_errors(moving, still), torch.tensor([[1.]]))


def _dict_samples(pred, gt, style):
    if style == 'simple':
        return [dict(pred_pose3d=p, gt_pose3d=g) for p, g in zip(pred, gt)]
    return [
        dict(
            pred_instances=dict(keypoints=p[None]),
            gt_instances=dict(lifting_target=g[None]))
        for p, g in zip(pred, gt)
    ]


@pytest.mark.parametrize('style', ['simple', 'mmpose'])
def test_metrics_sums_not_means_of_means(style):
    gt = RNG.normal(size=(5, 7, 17, 3))
    pred = gt + RNG.normal(size=gt.shape) * 0.02
    pred_t, gt_t = torch.from_numpy(pred), torch.from_numpy(gt)
    ids = [
        list(('root', 'right_hip', 'right_knee', 'right_foot', 'left_hip',
              'left_knee', 'left_foot', 'spine', 'thorax', 'neck_base', 'head',
              'left_shoulder', 'left_elbow', 'left_wrist', 'right_shoulder',
              'right_elbow', 'right_wrist')).index(n)
        for n in H36M_EVAL_JOINT_NAMES
    ]
    cases = [
        (MPJPEMetric(joint_names=H36M_EVAL_JOINT_NAMES),
         _np_mpjpe(pred, gt, 0, ids).mean() * 1000),
        (PMPJPEMetric(), _np_pmpjpe(pred, gt).mean() * 1000),
        (NMPJPEMetric(), None),
        (AccelErrorMetric(), None),
    ]
    for metric, expected in cases:
        samples = _dict_samples(pred_t, gt_t, style)
        # Uneven batches: 2 + 3 samples, 2 clips have fewer frames.
        samples[0] = {k: v for k, v in samples[0].items()}
        metric.process({}, samples[:2])
        metric.process({}, samples[2:])
        value = metric.compute_metrics(metric.results)[metric.key]
        if expected is not None:
            np.testing.assert_allclose(value, expected, rtol=1e-9)
        assert np.isfinite(value)


def test_uneven_lengths_pool_all_joints():
    gt = [torch.zeros(2, 17, 3), torch.zeros(6, 17, 3)]
    pred = [torch.zeros(2, 17, 3), torch.zeros(6, 17, 3)]
    pred[0][:, 1, 0] = 0.017  # 2 frames x 1 joint off by 17 mm
    metric = MPJPEMetric()
    metric.process({}, [dict(pred_pose3d=pred[0], gt_pose3d=gt[0])])
    metric.process({}, [dict(pred_pose3d=pred[1], gt_pose3d=gt[1])])
    # 34 mm over 8 * 17 joints (a mean of batch means would give 0.5 mm).
    assert metric.compute_metrics(metric.results)['MPJPE'] == \
        pytest.approx(34 / 136)


def test_mask_nan_and_errors():
    gt = torch.zeros(3, 17, 3)
    pred = torch.zeros(3, 17, 3)
    pred[0, 3] = 1.
    mask = torch.ones(3, 17, dtype=torch.bool)
    mask[0, 3] = False
    metric = METRICS.build(dict(type='MPJPEMetric'))
    metric.process({}, [dict(pred_pose3d=pred, gt_pose3d=gt, pose_mask=mask)])
    assert metric.compute_metrics(metric.results)['MPJPE'] == 0
    with pytest.raises(ValueError, match='pred_pose3d'):
        metric.process({}, [dict(foo=1)])
    with pytest.raises(ValueError, match='unit_scale'):
        MPJPEMetric(unit_scale=0)
    with pytest.raises(ValueError, match='sequences'):
        AccelErrorMetric().process({},
                                   [dict(pred_pose3d=gt[0], gt_pose3d=gt[0])])
