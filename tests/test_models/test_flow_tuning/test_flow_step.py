import os.path as osp

import pytest
import torch

from mmflowpose.apis import init_model
from mmflowpose.models.flow_tuning import (FlowFinetuner, FlowGuard,
                                           guarded_flow_step)
from mmflowpose.models.heads import PoseSketchFlowHead

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


@pytest.fixture(scope='module')
def net():
    ckpt = osp.join(ROOT, 'checkpoints', 'raft-small_synthetic.pth')
    if not osp.exists(ckpt):
        pytest.skip(f'shipped checkpoint {ckpt} not found')
    return init_model(
        osp.join(ROOT, 'configs', 'training', 'raft-small_synthetic.py'),
        ckpt)


def scene(size=(64, 96)):
    """(2, 3, H, W) frames: textured background moving 1 px right and a
    textured 16 px 'limb' moving 4 px right; joints (2, 2, 2) along it."""
    gen = torch.Generator().manual_seed(1)
    smooth = torch.nn.functional.avg_pool2d
    bg = smooth(torch.rand(1, 3, *size, generator=gen) * 255, 5, 1, 2)
    patch = smooth(torch.rand(1, 3, 16, 16, generator=gen) * 255, 3, 1, 1)
    f1 = bg.clone()
    f1[..., 24:40, 40:56] = patch
    f2 = torch.roll(bg, 1, dims=3)
    f2[..., 24:40, 44:60] = patch
    joints = torch.tensor([[[42., 31.5], [53., 31.5]],
                           [[46., 31.5], [57., 31.5]]])
    return torch.cat([f1, f2]), joints


def tuner_and_head(net):
    tuner = FlowFinetuner(net, lr=2e-4, passes=6, batch_size=2,
                          trainable=('decoder.', ), beta=0.1,
                          sequence_gamma=0.8, distill_weight=2.0)
    head = PoseSketchFlowHead(bones=[(0, 1)], limb_scale=0.35,
                              photo_thr=5.0)
    return tuner, head


def test_oracle_sketch_is_learnt_and_accepted(net):
    tuner, head = tuner_and_head(net)
    frames, joints = scene()
    out = guarded_flow_step(tuner, head, frames, joints, guard=FlowGuard())
    assert out['accepted'], out['reason']
    assert out['sketch_mask'].sum() > 50
    # The network gets most of the way to the sketch on its pixels.
    assert out['target_epe_after'] < 0.5 * out['target_epe_before']
    truth = torch.zeros(1, 2, 64, 96)
    truth[:, 0] = 1.
    truth[:, 0, 26:38, 42:54] = 4.
    inner = torch.zeros(1, 1, 64, 96, dtype=torch.bool)
    inner[..., 26:38, 42:54] = True

    def epe(flow):
        return float((flow - truth).norm(dim=1, keepdim=True)[inner].mean())

    assert epe(out['flow']) < 0.7 * epe(out['flow_before'])
    # Outside the body's halo the output is the initial flow, bit for bit.
    far = torch.ones_like(inner)
    far[..., 16:48, 32:68] = False
    assert torch.equal(out['flow'][:, :, far[0, 0]],
                       out['flow_before'][:, :, far[0, 0]])


class UngatedHead(PoseSketchFlowHead):
    """The real head with its trust gate switched off, so a garbage sketch
    reaches the fine-tune and only the guard can stop it."""

    def gate(self, sketch, mask, base_flow, frames=None, backward_flow=None):
        return mask


def test_guard_rolls_back_a_garbage_target(net):
    tuner, _ = tuner_and_head(net)
    head = UngatedHead(bones=[(0, 1)], limb_scale=0.35)
    frames, joints = scene()
    joints[1] = joints[0] + torch.tensor([-6., 5.])  # wrong motion
    before = tuner.state()
    out = guarded_flow_step(tuner, head, frames, joints, guard=FlowGuard())
    assert not out['accepted']
    assert out['reason'].startswith('rolled back')
    assert 'person photometric' in out['reason']
    # The garbage was learnt (it moved towards the target) ...
    assert out['target_epe_after'] < out['target_epe_before']
    # ... and undone: weights and flow as before.
    for key, value in tuner.net.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert torch.equal(out['flow'], out['flow_before'])
    # The real gate never lets that sketch paint in the first place.
    _, gated = tuner_and_head(net)
    skip = guarded_flow_step(tuner, gated, frames, joints)
    assert not skip['accepted'] and skip['steps'] == 0
    assert 'no sketch pixels' in skip['reason']


def test_joints_outside_the_image_change_nothing(net):
    tuner, head = tuner_and_head(net)
    frames, joints = scene()
    out = guarded_flow_step(tuner, head, frames, joints + 200.,
                            guard=FlowGuard())
    assert not out['accepted'] and out['steps'] == 0
    assert not out['sketch_mask'].any() and not out['body_mask'].any()
    assert torch.equal(out['flow'], out['flow_before'])
    with pytest.raises(ValueError, match='joints'):
        guarded_flow_step(tuner, head, frames, joints[:1])
