import pytest
import torch

from mmflowpose.evaluation.metrics import PerCycleMetric
from mmflowpose.structures import ClipDataSample


def _clip(offsets_mm, flow_errors_px, frames=3, joints=17, size=(4, 5)):
    """A refined clip whose cycle c is off by ``offsets_mm[c]`` (all
    joints but the root, along x) and whose flow is off by
    ``flow_errors_px[c]`` px (along y) everywhere."""
    sample = ClipDataSample(metainfo=dict(clip_id='c'))
    gt = torch.rand(frames, joints, 3, dtype=torch.float64)
    sample.gt_pose3d = gt
    preds = []
    for offset in offsets_mm:
        pred = gt.clone()
        pred[:, 1:, 0] += offset / 1000
        preds.append(pred)
    sample.pred_pose3d = torch.stack(preds)
    truth = torch.zeros(frames - 1, 2, *size)
    sample.gt_flow = truth
    flows = [truth.clone() for _ in flow_errors_px]
    for flow, error in zip(flows, flow_errors_px):
        flow[:, 1] += error
    sample.pred_flow = torch.stack(flows)
    return sample


@pytest.mark.parametrize('as_dict', [False, True])
def test_every_cycle_reported(as_dict):
    metric = PerCycleMetric(metric=dict(type='MPJPEMetric', root_joint=0))
    clip = _clip([30.0, 20.0, 10.0], [0, 0, 0])
    # mmengine's evaluator hands metrics ``to_dict()`` of each sample
    metric.process({}, [clip.to_dict() if as_dict else clip])
    got = metric.compute_metrics(metric.results)
    # 16 of 17 joints moved: MPJPE = offset * 16 / 17
    for cycle, offset in enumerate([30.0, 20.0, 10.0]):
        assert got[f'cycle{cycle}/MPJPE'] == pytest.approx(offset * 16 / 17)
    assert got['MPJPE'] == got['cycle2/MPJPE']


def test_flow_metric_reads_the_clip_fields():
    metric = PerCycleMetric(metric=dict(type='EndPointError'))
    metric.process({}, [_clip([0, 0], [2.0, 0.5]), _clip([0, 0], [1.0, 0.5])])
    got = metric.compute_metrics(metric.results)
    assert got['cycle0/EPE'] == pytest.approx(1.5)
    assert got['cycle1/EPE'] == pytest.approx(0.5)
    assert len(metric.results) == 2  # one entry per clip


def test_needs_stacked_predictions():
    metric = PerCycleMetric(metric=dict(type='MPJPEMetric'))
    with pytest.raises(KeyError, match=r'pred_pose3d \(C\+1, T, J, 3\)'):
        metric.process({}, [dict(pred_pose3d=torch.zeros(3, 17, 3))])
    with pytest.raises(KeyError, match='pred_pose3d'):
        metric.process({}, [dict(gt_pose3d=torch.zeros(3, 17, 3))])


def test_plain_metrics_score_the_last_cycle():
    """Without PerCycleMetric, a refined clip is scored at its last cycle
    (what ``val_evaluator = dict(type='MPJPEMetric')`` asks for)."""
    from mmflowpose.evaluation.metrics import EndPointError, MPJPEMetric
    clip = _clip([30.0, 20.0, 10.0], [2.0, 1.0, 0.25])
    pose, flow = MPJPEMetric(root_joint=0), EndPointError()
    pose.process({}, [clip.to_dict()])
    flow.process({}, [clip])
    assert pose.compute_metrics(pose.results)['MPJPE'] == pytest.approx(
        10.0 * 16 / 17)
    assert flow.compute_metrics(flow.results)['EPE'] == pytest.approx(0.25)
