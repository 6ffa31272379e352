"""NoiseAwareObjective(flow_sample_points=...): where L_opt reads flow."""
import pytest
import torch

from mmflowpose.models.pose_optim.noise_aware_objective import \
    NoiseAwareObjective


def _clip(offset=12.):
    """Two frames, one joint on a 20 px wide limb moving 4 px right over a
    still background; the estimate sits ``offset`` px left of the joint,
    on the background, and moves exactly like the joint."""
    H, W = 40, 60
    flow = torch.zeros(1, 1, 2, H, W)
    flow[:, :, 0, :, 20:40] = 4.0  # the limb's columns move +4 px in x
    joint = torch.tensor([[30., 20.], [34., 20.]])  # true, frames 0 and 1
    det = joint.clone()  # exact detections
    est = joint - torch.tensor([offset, 0.])  # x = 18: background
    data = dict(
        flow=flow,
        keypoints_2d=det.view(1, 2, 1, 2),
        scores=torch.ones(1, 2, 1),
        sigma_flow=torch.tensor([0.5]),
        init_pose=torch.zeros(1, 2, 1, 3))
    return est.view(1, 2, 1, 2), data


def _loss_opt(points, data, where):
    obj = NoiseAwareObjective(terms=('opt', ), flow_sample_points=where)
    pose = torch.zeros(1, 2, 1, 3)
    out = obj(pose, torch.zeros(1, 2, 3), points, data,
              torch.zeros(0, 2, dtype=torch.long))
    return float(out['loss_opt'])


def test_exact_flow_at_an_offset_estimate_reads_the_background():
    points, data = _clip()
    # the estimate moves +4 px like the joint; the flow under it says 0
    wrong = _loss_opt(points, data, 'estimate')
    right = _loss_opt(points, data, 'detections')
    # at the detections the target is the joint's own +4 px: residual 0,
    # so only the NLL's constant part (the same for both) is left
    assert right < wrong - 1.0
    # an estimate on the limb reads the right flow either way
    points, data = _clip(offset=3.)
    assert _loss_opt(points, data, 'estimate') == pytest.approx(right)


def test_detections_pull_the_motion_towards_the_joint_flow():
    """The gradient on frame 1's x points the estimate's motion to +4 px
    with detections, to 0 px (backwards) with the estimate."""
    for where, sign in (('detections', 1.0), ('estimate', -1.0)):
        points, data = _clip()
        points = points.clone()
        points[0, 1, 0, 0] -= 2.0  # motion +2 px: below the limb's +4
        points.requires_grad_(True)
        obj = NoiseAwareObjective(terms=('opt', ), flow_sample_points=where)
        out = obj(torch.zeros(1, 2, 1, 3), torch.zeros(1, 2, 3), points,
                  data, torch.zeros(0, 2, dtype=torch.long))
        out['loss_opt'].backward()
        # descent direction = -grad: + means "move right"
        assert sign * -float(points.grad[0, 1, 0, 0]) > 0


def test_flow_sample_points_is_checked():
    with pytest.raises(ValueError, match='flow_sample_points'):
        NoiseAwareObjective(flow_sample_points='truth')
    assert "flow_sample_points='detections'" in repr(
        NoiseAwareObjective(flow_sample_points='detections'))
