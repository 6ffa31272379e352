import pytest
import torch

from mmflowpose.apis import init_model
from mmflowpose.models.flow_tuning import FlowFinetuner
from mmflowpose.models.flow_tuning.flow_finetuner import weighted_smooth_l1
from mmflowpose.registry import MODELS

NETS = {
    'raft': ('mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py',
             {'model.decoder.iters': 2}, (64, 96)),
    'gma': ('mmflow::gma/gma_8xb2_120k_flyingchairs-368x496.py',
            {'model.decoder.iters': 2}, (64, 96)),
    'pwc': ('mmflow::pwcnet/pwcnet_8xb1_slong_flyingchairs-384x448.py',
            None, (64, 128)),
}


@pytest.fixture(autouse=True)
def _one_thread():
    # Network training on a shared 2-core box: one intra-op thread is
    # 5-10x faster than two when other processes compete for the cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
