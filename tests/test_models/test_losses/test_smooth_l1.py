import pytest
import torch
import torch.nn.functional as F

from mmflowpose.models.losses import masked_smooth_l1
from mmflowpose.models.losses.smooth_l1 import check_loss_args


def test_matches_torch_with_unit_weights():
    pred, target = torch.randn(4, 5, 3), torch.randn(4, 5, 3)
    for beta in (0.0, 0.5, 1.0):
        assert torch.allclose(
            masked_smooth_l1(pred, target, beta=beta),
            F.smooth_l1_loss(pred, target, beta=beta))


def test_hand_computed_weights_and_nan():
    pred = torch.tensor([[0., 0.], [3., 0.], [9., 9.]], requires_grad=True)
    target = torch.tensor([[0.5, 0.], [0., 0.], [float('nan'), 0.]])
    w = torch.tensor([2., 1., 1.])
    # item 0: 0.5*0.25 = 0.125 (w 2); item 1: 3-0.5 = 2.5 (w 1); item 2 NaN.
    loss = masked_smooth_l1(pred, target, w, beta=1.0)
    assert torch.allclose(loss, torch.tensor((2 * 0.125 + 2.5) / (2 * 3)))
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    assert torch.equal(pred.grad[2], torch.zeros(2))


def test_all_masked_is_zero():
    pred = torch.ones(2, 3, requires_grad=True)
    loss = masked_smooth_l1(pred, torch.full((2, 3), float('nan')))
    assert loss.item() == 0
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros(2, 3))


def test_check_args():
    with pytest.raises(ValueError, match='loss_weight'):
        check_loss_args(-1, 1)
    with pytest.raises(ValueError, match='beta'):
        check_loss_args(1, -1)
