import pytest
import torch

from mmflowpose.models.losses import (TemporalLoss, bone_length_loss,
                                      reference_bone_lengths, temporal_loss,
                                      temporal_smoothness_loss)
from mmflowpose.registry import MODELS

BONES = [[0, 1], [1, 2]]


def _static_clip(T=5):
    pose = torch.tensor([[0., 0., 0.], [0., 1., 0.], [0., 1., 2.]])
    return pose.expand(1, T, 3, 3).clone()


def test_zero_at_optimum():
    pose = _static_clip()
    parts = temporal_loss(pose, torch.ones(1, 5, 3), BONES)
    assert set(parts) == {'joints', 'camera', 'bones'}
    assert all(v == 0 for v in parts.values())


def test_smoothness_hand_computed_and_grows():
    x = torch.tensor([0., 0.5, 2.5]).view(1, 3, 1)
    # diffs 0.5 -> 0.125 and 2 -> 1.5, mean over 2.
    assert torch.allclose(temporal_smoothness_loss(x), torch.tensor(0.8125))
    pose = _static_clip()
    jitter = torch.zeros_like(pose)
    jitter[:, 2] = 1
    assert temporal_smoothness_loss(pose + 0.1 * jitter) < \
        temporal_smoothness_loss(pose + jitter)
    assert temporal_smoothness_loss(pose[:, :1]) == 0


def test_bone_loss_ties_to_one_clip_value():
    pose = _static_clip(5)
    pose[0, 2, 2, 2] = 3.  # frame 2: bone 1 has length 3 instead of 2
    ref = reference_bone_lengths(pose, BONES)
    assert torch.equal(ref, torch.tensor([[1., 2.]]))  # median is robust
    # one of 10 (frame, bone) lengths is off by 1: 0.5 / 10.
    assert torch.allclose(bone_length_loss(pose, BONES), torch.tensor(0.05))
    given = torch.tensor([[1., 3.]])
    assert torch.allclose(
        bone_length_loss(pose, BONES, given), torch.tensor(0.5 * 4 / 10))


def test_module_parts_switchable():
    pose = _static_clip() + torch.randn(1, 5, 3, 3) * 0.1
    cam = torch.randn(1, 5, 3)
    full = TemporalLoss(bones=BONES)
    parts = full(pose, cam, return_parts=True)
    assert torch.allclose(full(pose, cam), sum(parts.values()))
    assert torch.allclose(parts['joints'],
                          300 * temporal_smoothness_loss(pose))
    assert torch.allclose(parts['camera'], 0.1 * temporal_smoothness_loss(cam))
    no_bone = TemporalLoss(bone_weight=0)
    assert set(no_bone(pose, cam, return_parts=True)) == {'joints', 'camera'}
    only_bone = TemporalLoss(joint_weight=0, camera_weight=0)
    assert set(only_bone(pose, cam, BONES, return_parts=True)) == {'bones'}
    off = TemporalLoss(joint_weight=0, camera_weight=0, bone_weight=0)
    assert off(pose, cam) == 0


def test_module_registry_repr_and_errors():
    loss = MODELS.build(dict(type='TemporalLoss', bones=BONES))
    assert repr(loss).startswith('TemporalLoss(joint_weight=300.0')
    with pytest.raises(ValueError, match='bone_weight'):
        TemporalLoss(bone_weight=-1)
    with pytest.raises(ValueError, match='bones'):
        TemporalLoss()(_static_clip())
    with pytest.raises(ValueError, match='ref_lengths'):
        bone_length_loss(_static_clip(), BONES, torch.ones(1, 3))
