import numpy as np
import pytest
import torch

from mmflowpose.evaluation.metrics import EndPointError
from mmflowpose.registry import METRICS


def chw(flow):
    return torch.from_numpy(np.ascontiguousarray(flow.transpose(2, 0, 1)))


def run(metric, samples, batch_sizes):
    start = 0
    for size in batch_sizes:
        metric.process({}, samples[start:start + size])
        start += size
    return metric.compute_metrics(metric.results)


def test_dense_pools_pixels_not_batch_means(real):
    gt, pred, weights, kitti_valid = real
    err = np.linalg.norm(pred.astype(np.float64) - gt, axis=-1)
    samples = [
        dict(pred_flow=chw(pred), gt_flow=chw(gt), gt_flow_valid=kitti_valid),
        dict(pred_flow=chw(gt), gt_flow=chw(pred),
             gt_flow_valid=weights > 0.5),
        dict(pred_flow=chw(pred) + 1, gt_flow=chw(gt)),
    ]
    err3 = np.linalg.norm(pred.astype(np.float64) + 1 - gt, axis=-1)
    ref = (err[kitti_valid].sum() + err[weights > 0.5].sum() + err3.sum()) \
        / (kitti_valid.sum() + (weights > 0.5).sum() + err3.size)
    for sizes in ([3], [1, 2], [1, 1, 1]):
        got = run(EndPointError(), samples, sizes)
        assert got['EPE'] == pytest.approx(ref, rel=1e-9)


def test_masked_mode(real):
    gt, pred, weights, _ = real
    err = np.linalg.norm(pred.astype(np.float64) - gt, axis=-1)
    mask = weights < 0.5
    got = run(EndPointError(mode='masked'),
              [dict(pred_flow=pred.transpose(2, 0, 1),
                    gt_flow=gt.transpose(2, 0, 1), eval_mask=mask)], [1])
    assert got['EPE'] == pytest.approx(err[mask].mean(), rel=1e-9)
    with pytest.raises(ValueError, match='eval_mask'):
        EndPointError(mode='masked').process(
            {}, [dict(pred_flow=chw(pred), gt_flow=chw(gt))])


def test_human_mode(real):
    gt, pred, _, _ = real
    err = np.linalg.norm(pred.astype(np.float64) - gt, axis=-1)
    human = np.zeros((50, 50), bool)
    human[20:40, 10:45] = True
    got = run(EndPointError(mode='human'),
              [dict(pred_flow=chw(pred), gt_flow=chw(gt),
                    human_mask=human)], [1])
    assert got['EPE_inside'] == pytest.approx(err[human].mean(), rel=1e-9)
    assert got['EPE_outside'] == pytest.approx(err[~human].mean(), rel=1e-9)
    assert got['EPE'] == pytest.approx(err.mean(), rel=1e-9)


def test_sparse_mode_and_mmflow_fields(real):
    from mmengine.structures import PixelData
    from mmflow.structures import FlowDataSample
    gt, pred, _, _ = real
    points = np.array([[5., 6.], [20., 30.], [100., 5.]])
    motion = gt[[6, 30, 0], [5, 20, 0]]
    sample = FlowDataSample()
    sample.pred_flow_fw = PixelData(data=chw(pred))
    samples = [
        dict(pred_flow=chw(pred), gt_keypoints_2d=points,
             gt_joint_flow=motion),
        dict(pred_flow=chw(pred), gt_keypoints_2d=points,
             gt_joint_flow=motion,
             gt_joint_flow_valid=np.array([True, False, True])),
    ]
    got = run(EndPointError(mode='sparse'), samples, [2])
    ref = np.linalg.norm(pred[[6, 30], [5, 20]] - motion[:2], axis=-1)
    assert got['EPE'] == pytest.approx((ref.sum() + ref[0]) / 3, rel=1e-6)
    # mmflow data samples: pred_flow_fw / gt_flow_fw PixelData.
    sample.gt_flow_fw = PixelData(data=chw(gt))
    got = run(EndPointError(), [sample], [1])
    assert got['EPE'] == pytest.approx(
        np.linalg.norm(pred.astype(np.float64) - gt, axis=-1).mean())


def test_build_and_bad_mode():
    metric = METRICS.build(dict(type='EndPointError', mode='human'))
    assert metric.mode == 'human' and metric.prefix == 'flow'
    with pytest.raises(ValueError, match='mode must be one of'):
        EndPointError(mode='sum')


def test_clip_of_pairs_equals_its_pairs(real):
    """A ClipDataSample's (P, 2, H, W) flows score like P pair samples;
    per-frame fields (T = P + 1) give pair p frame p's mask and joints."""
    gt, pred, weights, _ = real
    pairs = torch.stack([chw(pred), chw(gt), chw(pred) + 0.5])
    truth = torch.stack([chw(gt), chw(pred), chw(gt)])
    human = torch.zeros(4, 50, 50, dtype=torch.bool)  # T = 4 frames
    human[0, 20:40, 10:45] = True
    human[1, :10] = True
    human[3] = True  # the last frame starts no pair: never read
    clip = dict(pred_flow=pairs, gt_flow=truth, human_mask=human)
    got = run(EndPointError(mode='human'), [clip], [1])
    singles = [
        dict(pred_flow=pairs[p], gt_flow=truth[p], human_mask=human[p])
        for p in range(3)
    ]
    ref = run(EndPointError(mode='human'), singles, [3])
    for key in ('EPE', 'EPE_inside', 'EPE_outside'):
        assert got[key] == pytest.approx(ref[key], rel=1e-12)
    points = torch.tensor([[5., 6.], [20., 30.]]).expand(4, 2, 2)
    motion = torch.ones(3, 2, 2)
    sparse = run(EndPointError(mode='sparse'), [
        dict(pred_flow=pairs, gt_keypoints_2d=points, gt_joint_flow=motion)
    ], [1])
    ref = sum(
        np.linalg.norm(f[[6, 30], [5, 20]] - 1, axis=-1).sum()
        for f in (pred, gt, pred + 0.5)) / 6
    assert sparse['EPE'] == pytest.approx(ref, rel=1e-6)


def test_clip_shapes_are_checked(real):
    gt, pred, _, _ = real
    pairs = torch.stack([chw(pred), chw(gt)])
    with pytest.raises(ValueError, match=r'pred_flow .* and gt_flow'):
        EndPointError().process({}, [dict(pred_flow=pairs, gt_flow=chw(gt))])
    with pytest.raises(ValueError,
                       match=r"human_mask has shape \(5, 50, 50"):
        EndPointError(mode='human').process({}, [
            dict(pred_flow=pairs, gt_flow=pairs,
                 human_mask=torch.zeros(5, 50, 50, dtype=torch.bool))
        ])
