import pytest
import torch

from mmflowpose.models.losses import Reprojection2DLoss, reprojection_2d_loss
from mmflowpose.registry import MODELS


def test_zero_at_optimum_and_grows():
    kp = torch.rand(2, 3, 17, 2) * 100
    assert reprojection_2d_loss(kp, kp) == 0
    assert reprojection_2d_loss(kp + 1, kp) < reprojection_2d_loss(kp + 5, kp)


def test_hand_computed_threshold_and_weights():
    pts = torch.zeros(1, 1, 3, 2)
    kp = torch.tensor([[[[4., 0.], [0., 0.5], [100., 100.]]]])
    scores = torch.tensor([[[0.5, 1.0, 0.2]]])
    loss = Reprojection2DLoss(score_thr=0.3)(pts, kp, scores)
    # joint 0: 3.5, joint 1: 0.125, joint 2 dropped (score 0.2 <= 0.3).
    assert torch.allclose(loss, torch.tensor(0.01 * 3.625 / 4))
    loss = reprojection_2d_loss(pts, kp, scores, 0.3, weight_by_score=True)
    assert torch.allclose(loss, torch.tensor((0.5 * 3.5 + 0.125) / 3))


def test_missing_detections_masked():
    pts = torch.zeros(1, 2, 2, 2, requires_grad=True)
    kp = torch.ones(1, 2, 2, 2)
    kp[0, 0, 0] = float('nan')
    scores = torch.ones(1, 2, 2)
    scores[0, 1, 1] = 0
    scores[0, 1, 0] = float('nan')
    loss = reprojection_2d_loss(pts, kp, scores)
    assert torch.allclose(loss, torch.tensor(0.5))  # only joint (0, 1)
    loss.backward()
    assert torch.isfinite(pts.grad).all()
    assert pts.grad[0, 1].abs().sum() == 0


def test_module_registry_repr_and_errors():
    loss = MODELS.build(dict(type='Reprojection2DLoss'))
    assert 'score_thr=0.0' in repr(loss)
    with pytest.raises(ValueError, match='beta'):
        Reprojection2DLoss(beta=-1)
    with pytest.raises(ValueError, match='scores'):
        reprojection_2d_loss(
            torch.zeros(1, 2, 3, 2), torch.zeros(1, 2, 3, 2),
            torch.ones(1, 2, 4))
