"""Huber NLL in noise units, velocity anchor and acceleration prior."""
import pytest
import torch

from mmflowpose.models.losses.robust_nll import (acceleration_prior_loss,
                                                 robust_nll,
                                                 velocity_anchor_loss)


def test_robust_nll_is_gaussian_nll_inside_delta():
    pred = torch.tensor([[1.0, -2.0], [0.5, 0.0]])
    target = torch.zeros(2, 2)
    # per item: sum_c 0.5 (r / sigma)^2 with sigma = 2
    expected = (0.5 * (0.25 + 1.0) + 0.5 * 0.0625) / 2
    assert robust_nll(pred, target, 2.0, delta=3.0).item() == \
        pytest.approx(expected)


def test_robust_nll_is_linear_beyond_delta():
    pred = torch.tensor([[10.0]])
    # |d| = 10 noise levels, delta 2: 2 * (10 - 1) = 18
    assert robust_nll(pred, torch.zeros(1, 1), 1.0, delta=2.0).item() == \
        pytest.approx(18.0)


def test_robust_nll_units_cancel():
    """The same residual in mm or m with sigma in the same unit agrees."""
    r = torch.randn(3, 5, 2)
    metres = robust_nll(r, torch.zeros_like(r), 0.7)
    millimetres = robust_nll(1000 * r, torch.zeros_like(r), 700.0)
    assert metres.item() == pytest.approx(millimetres.item(), rel=1e-5)


def test_robust_nll_per_clip_sigma_and_weights():
    pred = torch.ones(2, 4, 1)
    loss = robust_nll(pred, torch.zeros_like(pred), torch.tensor([1., 2.]),
                      weight=torch.tensor([[1., 1, 1, 1], [0, 0, 0, 0]]))
    assert loss.item() == pytest.approx(0.5)  # only clip 0 (sigma 1)
    with pytest.raises(ValueError, match='sigma'):
        robust_nll(pred, pred, torch.tensor([1., 0.]))
    with pytest.raises(ValueError, match='delta'):
        robust_nll(pred, pred, 1.0, delta=0)


def test_velocity_anchor_ignores_a_constant_correction():
    init = torch.randn(1, 6, 17, 3)
    shifted = init + torch.randn(1, 1, 17, 3)  # a static bias removed
    assert velocity_anchor_loss(shifted, init, 0.01).item() == \
        pytest.approx(0.0, abs=1e-6)
    jumpy = init.clone()
    jumpy[:, 3] += 0.01
    # two frame changes of 0.01 m = 1 sigma on 17 joints x 3 coords
    expected = 2 * 17 * 3 * 0.5 / (5 * 17)
    assert velocity_anchor_loss(jumpy, init, 0.01).item() == \
        pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match='init_pose'):
        velocity_anchor_loss(init, init[:, :3], 0.01)


def test_acceleration_prior_zero_for_constant_velocity():
    t = torch.arange(8.).view(1, 8, 1, 1)
    pose = t * torch.randn(1, 1, 17, 3)
    assert acceleration_prior_loss(pose, 0.01).item() == \
        pytest.approx(0.0, abs=1e-4)
    pose = pose + (t**2) * 0.01
    assert acceleration_prior_loss(pose, 0.01).item() > 1.0
    pose.requires_grad_(True)
    acceleration_prior_loss(pose[:, :2], 0.01).backward()  # < 3 frames
    assert pose.grad is not None
