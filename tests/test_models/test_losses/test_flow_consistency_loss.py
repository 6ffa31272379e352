import pytest
import torch

from mmflowpose.models.losses import (FlowConsistencyLoss,
                                      flow_consistency_loss,
                                      forward_backward_mask,
                                      joint_flow_from_dense)
from mmflowpose.registry import MODELS


def _clip():
    pts = torch.rand(2, 4, 5, 2) * 20 + 5
    return pts, pts[:, 1:] - pts[:, :-1]


def test_sparse_zero_at_optimum_and_grows():
    pts, jflow = _clip()
    assert flow_consistency_loss(pts, joint_flow=jflow) == 0
    assert flow_consistency_loss(pts, joint_flow=jflow + 0.5) < \
        flow_consistency_loss(pts, joint_flow=jflow + 3)


def test_sparse_hand_computed_with_weights_and_nan():
    pts = torch.zeros(1, 2, 2, 2)
    jflow = torch.tensor([[[[2., 0.], [float('nan'), 0.]]]])
    # joint 0: |0 - 2| -> 1.5 on x, 0 on y; joint 1 unknown.
    assert torch.allclose(
        flow_consistency_loss(pts, joint_flow=jflow), torch.tensor(0.75))
    w = torch.tensor([[[0.5, 1.]]])
    assert torch.allclose(
        FlowConsistencyLoss()(pts, joint_flow=jflow, weights=w),
        torch.tensor(0.01 * 0.75))


def test_dense_constant_flow():
    pts = torch.tensor([[[[3., 4.]], [[5., 3.]]]], requires_grad=True)
    flow = torch.zeros(1, 1, 2, 10, 12)
    flow[:, :, 0] = 2.
    flow[:, :, 1] = -1.
    loss = flow_consistency_loss(pts, flow=flow)
    assert loss.item() == 0
    loss.backward()
    assert torch.isfinite(pts.grad).all()
    # Moving frame 1 by 1 px in x gives 0.5 on x, over 2 coordinates.
    moved = pts.detach() + torch.tensor([[[[0., 0.]], [[1., 0.]]]])
    assert torch.allclose(
        flow_consistency_loss(moved, flow=flow), torch.tensor(0.25))


def test_dense_gradient_through_sampling_position():
    pts = torch.tensor([[[[3., 4.]], [[3., 4.]]]], requires_grad=True)
    xs = torch.arange(12.).expand(10, 12)
    flow = torch.stack([xs, torch.zeros_like(xs)])[None, None]  # u = x
    flow_consistency_loss(pts, flow=flow, beta=0.).backward()
    # loss = |x1 - 2 x0| / 2 with x1 - 2 x0 = -3: d/dx0 = -2 * -1 / 2 = 1,
    # half of it through the sampled flow u(x0) = x0.
    assert torch.allclose(pts.grad[0, 0, 0], torch.tensor([1., 0.]))


def test_occlusion_sparse_and_dense():
    pts = torch.zeros(1, 2, 2, 2) + 4
    jflow = torch.tensor([[[[2., 0.], [2., 0.]]]])
    bwd = torch.tensor([[[[-2., 0.], [5., 0.]]]])  # joint 1 inconsistent
    mask = forward_backward_mask(jflow, bwd, 1.0)
    assert mask.tolist() == [[[True, False]]]
    assert torch.allclose(
        flow_consistency_loss(pts, joint_flow=jflow,
                              backward_joint_flow=bwd), torch.tensor(0.75))
    dense = torch.zeros(1, 1, 2, 10, 10)
    dense[:, :, 0] = 2
    back = torch.zeros_like(dense)
    back[:, :, 0] = -2
    back[:, :, :, :, 6:] = 3  # occluded near the end points of joint 1
    pts = torch.tensor([[[[1., 1.], [5., 5.]], [[1., 1.], [5., 5.]]]])
    loss = flow_consistency_loss(pts, flow=dense, backward_flow=back)
    assert torch.allclose(loss, torch.tensor(0.75))  # joint 0 only


def test_joint_flow_from_dense_shapes():
    flow = torch.randn(2, 3, 2, 8, 9)
    sampled, inside = joint_flow_from_dense(flow, torch.rand(2, 3, 4, 2) * 7)
    assert sampled.shape == (2, 3, 4, 2) and inside.shape == (2, 3, 4)


def test_errors_and_repr():
    pts, jflow = _clip()
    with pytest.raises(ValueError, match='exactly one'):
        flow_consistency_loss(pts)
    with pytest.raises(ValueError, match='joint_flow'):
        flow_consistency_loss(pts, joint_flow=jflow[:, :2])
    with pytest.raises(ValueError, match='flow'):
        flow_consistency_loss(pts, flow=torch.zeros(2, 2, 2, 5, 5))
    with pytest.raises(ValueError, match='occlusion_thresh'):
        FlowConsistencyLoss(occlusion_thresh=0)
    loss = MODELS.build(dict(type='FlowConsistencyLoss', beta=0.5))
    assert repr(loss) == ('FlowConsistencyLoss(loss_weight=0.01, beta=0.5, '
                          'occlusion_thresh=1.0)')
