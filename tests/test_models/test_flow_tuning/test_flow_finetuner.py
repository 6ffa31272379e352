import os.path as osp

import pytest
import torch

from mmflowpose.apis import init_model
from mmflowpose.models.flow_tuning import (FlowFinetuner,
                                           flow_forward)
from mmflowpose.models.flow_tuning.finetune_loss import (
    sketch_loss, weighted_smooth_l1)
from mmflowpose.registry import MODELS

NETS = {
    'raft': ('mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py',
             {'model.decoder.iters': 2}, (64, 96)),
    'gma': ('mmflow::gma/gma_8xb2_120k_flyingchairs-368x496.py',
            {'model.decoder.iters': 2}, (64, 96)),
    'pwc': ('mmflow::pwcnet/pwcnet_8xb1_slong_flyingchairs-384x448.py',
            None, (64, 128)),
}


def build(name):
    config, options, size = NETS[name]
    torch.manual_seed(0)
    return init_model(config, cfg_options=options), size


def pairs(size, n=2):
    gen = torch.Generator().manual_seed(1)
    f1 = torch.randint(0, 256, (n, 3, *size), generator=gen,
                       dtype=torch.uint8)
    f2 = torch.roll(f1, shifts=2, dims=3)
    target = torch.zeros(n, 2, *size)
    target[:, 0] = 2.
    return f1, f2, target


def eval_loss(tuner, f1, f2, target):
    tuner.net.eval()
    with torch.no_grad():
        return float(
            weighted_smooth_l1(tuner.predict(f1, f2), target))


def test_weighted_smooth_l1_hand_computed():
    pred = torch.zeros(1, 2, 1, 2)
    target = torch.tensor([[[[0.5, 3.]], [[0., 0.]]]])
    # Pixel 0: 0.5 * 0.5^2 = 0.125; pixel 1: 3 - 0.5 = 2.5.
    assert float(weighted_smooth_l1(pred, target)) == pytest.approx(1.3125)
    weight = torch.tensor([[[[True, False]]]])
    assert float(weighted_smooth_l1(pred, target, weight)) == \
        pytest.approx(0.125)


@pytest.mark.parametrize('name', ['raft', 'gma', 'pwc'])
def test_finetune_lowers_loss_freezes_and_restores(name):
    net, size = build(name)
    f1, f2, target = pairs(size)
    # The paper's lr (1e-5, the default) on a random-init network.
    tuner = FlowFinetuner(net, passes=3, batch_size=2, sequence_gamma=0.8,
                          frozen=('encoder.', ))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    loss0 = eval_loss(tuner, f1, f2, target)
    out = tuner.finetune(f1, f2, target)
    assert out['steps'] == 3 and len(out['losses']) == 3
    assert out['losses'][0] > out['losses'][1] > out['losses'][2]
    loss1 = eval_loss(tuner, f1, f2, target)
    assert loss1 < loss0
    after = net.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed
    assert not any(k.startswith('encoder.') for k in changed)
    # Batch-norm running stats stay frozen in the default 'eval' mode.
    assert not any(k.endswith(('running_mean', 'running_var'))
                   for k in changed)
    assert not net.training
    tuner.restore()
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_carry_over_and_bn_train_mode():
    net, size = build('raft')
    f1, f2, target = pairs(size, n=1)
    tuner = FlowFinetuner(net, lr=1e-4, passes=1, batch_size=1)
    first = tuner.finetune(f1, f2, target)['losses']
    again = tuner.finetune(f1, f2, target)['losses']
    assert again == pytest.approx(first)  # each call starts from snapshot
    carry = FlowFinetuner(net, lr=1e-4, passes=1, batch_size=1,
                          carry_over=True, bn_mode='train')
    carry.restore()
    bn_before = net.context.bn1.running_mean.clone()
    first = carry.finetune(f1, f2, target)['losses']
    second = carry.finetune(f1, f2, target)['losses']
    assert second != pytest.approx(first)
    # bn_mode='train' updates the running stats.
    assert not torch.equal(bn_before, net.context.bn1.running_mean)


def test_weight_mask_limits_the_loss():
    net, size = build('pwc')
    f1, f2, target = pairs(size, n=1)
    tuner = FlowFinetuner(net, lr=1e-4, passes=1, batch_size=1)
    weight = torch.zeros(1, *size, dtype=torch.bool)
    weight[:, :8, :8] = True
    with torch.no_grad():
        full = float(tuner.loss(f1, f2, target))
        part = float(tuner.loss(f1, f2, target, weight))
        flow = tuner.predict(f1, f2)
    ref = weighted_smooth_l1(flow[..., :8, :8], target[..., :8, :8])
    assert part == pytest.approx(float(ref), rel=1e-4)
    assert part != pytest.approx(full)
    tuner.finetune(f1, f2, target, weight)


def test_errors():
    net, size = build('pwc')
    f1, f2, target = pairs(size)
    tuner = FlowFinetuner(net)
    with pytest.raises(ValueError, match='target'):
        tuner.finetune(f1, f2, target[..., :-8])
    with pytest.raises(ValueError, match='frame2'):
        tuner.finetune(f1, f2[:1], target)
    with pytest.raises(ValueError, match='no trainable parameters'):
        FlowFinetuner(net, frozen=('', ))
    for p in net.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match='no trainable parameters'):
        FlowFinetuner(net)
    with pytest.raises(ValueError, match='bn_mode'):
        FlowFinetuner(net, bn_mode='sync')
    with pytest.raises(ValueError, match='lr'):
        FlowFinetuner(net, lr=0)


def test_build_from_registry():
    tuner = MODELS.build(
        dict(type='FlowFinetuner',
             net=dict(config=NETS['pwc'][0]),
             passes=2))
    assert isinstance(tuner, FlowFinetuner)
    assert tuner.lr == 1e-5 and tuner.passes == 2
    assert tuner.bn_mode == 'eval'


def test_bn_frozen_mode_excludes_batch_norm_parameters():
    net, _ = build('raft')
    bn_params = {
        id(p)
        for m in net.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
        for p in m.parameters(False)
    }
    assert bn_params
    eval_mode = {id(p) for p in FlowFinetuner(net).trainable_parameters()}
    frozen = {
        id(p)
        for p in FlowFinetuner(net, bn_mode='frozen').trainable_parameters()
    }
    assert bn_params <= eval_mode
    assert not bn_params & frozen
    assert eval_mode - frozen == bn_params


def test_trainable_subset_only_changes_those_parameters():
    net, size = build('raft')
    f1, f2, target = pairs(size, n=1)
    tuner = FlowFinetuner(net, lr=1e-3, passes=1, batch_size=1,
                          trainable=('decoder.flow_pred.', ))
    names = {n for n, _ in net.named_parameters()}
    subset = {n for n in names if n.startswith('decoder.flow_pred.')}
    assert tuner.num_trainable() == sum(
        p.numel() for n, p in net.named_parameters() if n in subset)
    assert tuner.num_trainable() < 0.3 * sum(p.numel()
                                             for p in net.parameters())
    before = {k: v.clone() for k, v in net.named_parameters()}
    tuner.finetune(f1, f2, target)
    changed = {
        n
        for n, p in net.named_parameters() if not torch.equal(p, before[n])
    }
    assert changed and changed <= subset
    with pytest.raises(ValueError, match='trainable'):
        FlowFinetuner(net, trainable='decoder.')
    with pytest.raises(ValueError, match='no trainable parameters'):
        FlowFinetuner(net, trainable=('no_such_module.', ))


def test_masked_loss_hand_computed():
    pred = torch.zeros(1, 2, 1, 2)
    target = torch.tensor([[[[0.5, 3.]], [[0., 0.]]]])
    mask = torch.tensor([[[[True, False]]]])
    # Sketch pixel: 0.5 * 0.5^2 / 1 = 0.125; the other pixel is distilled
    # with an (almost) L1 term: 3 - 0.005 = 2.995, times 2.
    loss = sketch_loss(pred, target, None, mask, beta=1.0,
                       distill_weight=2.0, distill_beta=0.01)
    assert float(loss) == pytest.approx(0.125 + 2 * 2.995)


def shipped_raft():
    """The project's trained RAFT-S (1.1 M parameters)."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    ckpt = osp.join(root, 'checkpoints', 'raft-small_synthetic.pth')
    if not osp.exists(ckpt):
        pytest.skip(f'shipped checkpoint {ckpt} not found')
    return init_model(
        osp.join(root, 'configs', 'training', 'raft-small_synthetic.py'),
        ckpt)


def moving_patch(size=(64, 96)):
    """A textured background moving 1 px right, and a textured 16 px patch
    (the 'person') moving 4 px right; the patch's inner 12 px as mask."""
    gen = torch.Generator().manual_seed(1)
    smooth = torch.nn.functional.avg_pool2d
    bg = smooth(torch.rand(1, 3, *size, generator=gen) * 255, 5, 1, 2)
    patch = smooth(torch.rand(1, 3, 16, 16, generator=gen) * 255, 3, 1, 1)
    f1 = bg.clone()
    f1[..., 24:40, 40:56] = patch
    f2 = torch.roll(bg, 1, dims=3)
    f2[..., 24:40, 44:60] = patch
    mask = torch.zeros(1, 1, *size, dtype=torch.bool)
    mask[..., 26:38, 42:54] = True
    return f1, f2, mask


def test_distillation_keeps_the_background():
    """With the distillation term the pixels off the sketch stay near the
    initial flow; without it they drift with the sketch's motion."""
    net = shipped_raft()
    f1, f2, mask = moving_patch()
    tuner = FlowFinetuner(net, lr=2e-4, passes=8, batch_size=1,
                          trainable=('decoder.', ), beta=0.1,
                          sequence_gamma=0.8)
    base = tuner.predict(f1, f2)
    target = base.clone()
    target[:, 0][mask[:, 0]] = 4.0  # the patch's true motion
    target[:, 1][mask[:, 0]] = 0.0
    # Background well away from the sketch (the flow is upsampled from a
    # 1/8 grid, so its immediate neighbours move with it).
    far = torch.ones_like(mask)
    far[..., 8:56, 24:72] = False

    def epe(flow, ref, where):
        return float((flow - ref).norm(dim=1, keepdim=True)[where].mean())

    def run(weight):
        tuner.distill_weight = weight
        tuner.finetune(f1, f2, target, mask=mask)
        flow = tuner.predict(f1, f2)
        return epe(flow, base, far), epe(flow, target, mask)

    reach_before = epe(base, target, mask)
    drift_free, reach_free = run(0.0)
    drift_kept, reach_kept = run(2.0)
    # Both reach the sketch (measured 2.33 -> 0.17 and 0.34 px) ...
    assert reach_before > 1.5
    assert reach_free < 0.3 * reach_before
    assert reach_kept < 0.3 * reach_before
    # ... but only the distilled one keeps the background (measured 1.98
    # vs 0.28 px of drift).
    assert drift_free > 1.0
    assert drift_kept < 0.25 * drift_free and drift_kept < 0.5


def test_config_loss_is_mmflow_sequence_loss():
    net, size = build('raft')
    f1, f2, target = pairs(size)
    tuner = FlowFinetuner(net, loss=dict(type='SequenceLoss', gamma=0.5))
    valid = torch.zeros(2, 1, *size)
    valid[..., :32, :] = 1
    with torch.no_grad():
        flows = flow_forward(net, f1, f2, return_all=True)
        loss = tuner.loss(f1, f2, target, weight=valid)
    assert len(flows) == 2  # both RAFT iterations count
    # by hand: L1 over both components, mean over all pixels (the invalid
    # ones count as zeros), the first iteration weighted by gamma = 0.5
    expected = sum(w * ((f - target).abs() * valid).mean()
                   for w, f in zip((0.5, 1.), flows))
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)


def test_config_loss_trains_in_split_passes_as_one():
    net, size = build('raft')
    f1, f2, target = pairs(size)
    steps = []
    # one pass of two pairs / two passes of one; plain SGD, so a wrong
    # weighing of the passes would show in the step (Adam would hide it)
    for max_pixels in (None, size[0] * size[1]):
        tuner = FlowFinetuner(
            net, passes=1, batch_size=2, max_pixels=max_pixels,
            loss=dict(type='SequenceLoss', gamma=0.8),
            trainable=('decoder.flow_pred.', ),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=1.)))
        before = [p.detach().clone() for p in tuner.trainable_parameters()]
        log = tuner.finetune(f1, f2, target)
        steps.append([p.detach() - b for p, b in
                      zip(tuner.trainable_parameters(), before)])
        assert log['pairs_per_pass'] == (2 if max_pixels is None else 1)
        tuner.restore()
    size = max(float(d.abs().max()) for d in steps[0])
    assert size > 0
    for one, split in zip(*steps):  # equal up to float summation order
        torch.testing.assert_close(one, split, atol=1e-3 * size, rtol=0)


def test_config_loss_errors():
    net, _ = build('pwc')
    with pytest.raises(ValueError, match='SequenceLos.*did you mean'):
        FlowFinetuner(net, loss=dict(type='SequenceLos'))
    with pytest.raises(ValueError, match='not both'):
        FlowFinetuner(net, loss=dict(type='SequenceLoss'),
                      sequence_gamma=0.8)
    with pytest.raises(ValueError, match='`type`'):
        FlowFinetuner(net, loss='SequenceLoss')
