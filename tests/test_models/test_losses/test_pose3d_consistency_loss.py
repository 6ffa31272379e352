import pytest
import torch

from mmflowpose.models.losses import (Pose3DConsistencyLoss,
                                      pose3d_consistency_loss)
from mmflowpose.registry import MODELS


def test_zero_at_optimum_and_grows():
    init = torch.randn(2, 4, 17, 3)
    assert pose3d_consistency_loss(init, init) == 0
    losses = [pose3d_consistency_loss(init + d, init) for d in (0.1, 0.5, 2)]
    assert losses[0] < losses[1] < losses[2]


def test_hand_computed():
    pose = torch.zeros(1, 1, 2, 3)
    init = torch.tensor([[[[0.1, 0., 0.], [2., 0., 0.]]]])
    # 0.5 * 0.01 = 0.005 and 2 - 0.5 = 1.5, over 6 elements; weight 400.
    loss = Pose3DConsistencyLoss()(pose, init)
    assert torch.allclose(loss, torch.tensor(400 * 1.505 / 6))


def test_nan_init_masked():
    pose = torch.zeros(1, 2, 3, 3, requires_grad=True)
    init = torch.ones(1, 2, 3, 3)
    init[0, 0, 1] = float('nan')
    loss = pose3d_consistency_loss(pose, init)
    assert torch.allclose(loss, torch.tensor(0.5))
    loss.backward()
    assert torch.isfinite(pose.grad).all()


def test_module_registry_repr_and_errors():
    loss = MODELS.build(dict(type='Pose3DConsistencyLoss', loss_weight=2.))
    assert repr(loss) == 'Pose3DConsistencyLoss(loss_weight=2.0, beta=1.0)'
    with pytest.raises(ValueError, match='loss_weight'):
        Pose3DConsistencyLoss(loss_weight=-1)
    with pytest.raises(ValueError, match='init_pose'):
        pose3d_consistency_loss(torch.zeros(1, 2, 3, 3), torch.zeros(2, 3, 3))
