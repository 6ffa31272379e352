"""Fine-tuning under a pixel budget; the optimiser from config."""
import pytest
import torch

from mmflowpose.apis import init_model
from mmflowpose.models.flow_tuning import FlowFinetuner
from mmflowpose.models.flow_tuning.pixel_budget import (fit_pairs, fit_size,
                                                        loss_totals,
                                                        pairs_per_pass)

RAFT = 'mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py'


def raft():
    torch.manual_seed(0)
    return init_model(RAFT, cfg_options={'model.decoder.iters': 2})


def pairs(n=3, size=(64, 96)):
    gen = torch.Generator().manual_seed(1)
    f1 = torch.randint(0, 256, (n, 3, *size), generator=gen).float()
    f2 = torch.roll(f1, shifts=2, dims=3)
    target = torch.zeros(n, 2, *size)
    target[:, 0] = 2.
    mask = torch.zeros(n, 1, *size, dtype=torch.bool)
    mask[..., 16:48, 24:60] = True
    return f1, f2, target, mask


def test_budget_arithmetic():
    assert pairs_per_pass(32, 48, None) is None
    assert pairs_per_pass(32, 48, 32 * 48 * 2 + 5) == 2
    assert pairs_per_pass(32, 48, 100) == 1  # never 0
    assert fit_size(32, 48, None) == (32, 48)
    assert fit_size(32, 48, 32 * 48) == (32, 48)
    # a quarter of the pixels: half of each side
    assert fit_size(32, 48, 32 * 48 // 4) == (16, 24)
    h, w = fit_size(270, 120, 20000)
    assert h * w <= 20000 and abs(h / w - 270 / 120) < 0.02
    mask = torch.tensor([[[[True, False], [False, False]]]])
    weight = torch.tensor([[[[2., 1.], [1., 0.]]]])
    assert [float(t) for t in loss_totals(4, None, None)] == [4.]
    assert [float(t) for t in loss_totals(4, weight, None)] == [4.]
    assert [float(t) for t in loss_totals(4, None, mask)] == [1., 3.]
    assert [float(t) for t in loss_totals(4, weight, mask)] == [2., 2.]


def test_fit_pairs_scales_flow_values_with_the_image():
    f1, f2, target, mask = pairs(n=2, size=(32, 48))
    target[:, 1] = -1.
    g1, g2, t, w, m = fit_pairs((16, 24), f1, f2, target, None, mask)
    assert g1.shape == g2.shape == (2, 3, 16, 24) and w is None
    # (2, -1) px at full size is (1, -0.5) px at half size
    torch.testing.assert_close(t[:, :, 4, 6], torch.tensor([[1., -.5]] * 2))
    assert m.dtype == torch.bool and m.shape == (2, 1, 16, 24)
    assert float(m.float().mean()) == pytest.approx(
        float(mask.float().mean()), abs=0.02)
    same = fit_pairs((32, 48), f1, f2, target, None, mask)
    assert same[0] is f1 and same[2] is target


@pytest.mark.parametrize('weighted', [False, True])
def test_passes_under_a_budget_make_the_same_step(weighted):
    """A step split into 1-pair passes gives the weights of one 3-pair
    pass (gradients summed with the step's normalisers). SGD: Adam's
    g / sqrt(v) would turn float noise of near-zero gradients into lr-size
    steps."""
    f1, f2, target, mask = pairs(n=3)
    weight = torch.rand(3, 1, 64, 96, generator=torch.Generator()
                        .manual_seed(2)) if weighted else None
    results = []
    for max_pixels in (None, 64 * 96):
        tuner = FlowFinetuner(
            raft(), passes=2, batch_size=3, sequence_gamma=0.8,
            max_pixels=max_pixels,
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e-3)))
        log = tuner.finetune(f1, f2, target, weight=weight, mask=mask)
        results.append((log, tuner.net.state_dict()))
    (whole, weights_a), (split, weights_b) = results
    assert whole['pairs_per_pass'] == 3 and split['pairs_per_pass'] == 1
    assert whole['steps'] == split['steps'] == 2
    assert split['losses'] == pytest.approx(whole['losses'], rel=1e-5)
    initial = raft().state_dict()
    moved = 0.
    for key, value in weights_a.items():
        torch.testing.assert_close(weights_b[key], value, rtol=1e-3,
                                   atol=1e-5)
        moved = max(moved, float((value.float() -
                                  initial[key].float()).abs().max()))
    assert moved > 1e-3  # the steps moved weights 100x the tolerance


def test_pairs_over_the_budget_are_resized_and_still_learn():
    f1, f2, target, mask = pairs(n=2, size=(96, 144))
    tuner = FlowFinetuner(raft(), passes=3, batch_size=2,
                          max_pixels=64 * 96)
    log = tuner.finetune(f1, f2, target, mask=mask)
    assert log['pair_size'] == (64, 96) and log['pairs_per_pass'] == 1
    assert log['losses'][0] > log['losses'][1] > log['losses'][2]
    with pytest.raises(ValueError, match='max_pixels'):
        FlowFinetuner(raft(), max_pixels=64 * 32)


def test_pairs_resized_per_step_make_the_same_steps():
    """Resizing each step's pairs (the budget's memory does not follow the
    number of pairs) trains the same weights as resizing all pairs first."""
    f1, f2, target, mask = pairs(n=5, size=(96, 144))
    weight = torch.rand(5, 1, 96, 144, generator=torch.Generator()
                        .manual_seed(2))
    kwargs = dict(passes=2, batch_size=2, max_pixels=64 * 96)
    per_step = FlowFinetuner(raft(), **kwargs)
    log = per_step.finetune(f1, f2, target, weight=weight, mask=mask)
    assert log['pair_size'] == (64, 96)
    # the pairs resized all at once: within the budget, trained as they are
    at_once = FlowFinetuner(raft(), **kwargs)
    resized = fit_pairs((64, 96), f1, f2, target, weight, mask)
    log_at_once = at_once.finetune(resized[0], resized[1], resized[2],
                                   weight=resized[3], mask=resized[4])
    assert log['losses'] == log_at_once['losses']
    for a, b in zip(per_step.net.parameters(), at_once.net.parameters()):
        assert torch.equal(a, b)


def test_forward_chunk_follows_the_budget():
    """Inference forwards (a window's flow) run in chunks of at most the
    budget's pairs, never more than batch_size."""
    net = raft()
    assert FlowFinetuner(net, batch_size=4).forward_chunk(64, 96) == 4
    budget = FlowFinetuner(net, batch_size=4, max_pixels=2 * 64 * 96)
    assert budget.forward_chunk(64, 96) == 2
    assert budget.forward_chunk(16, 24) == 4
    assert budget.forward_chunk(128, 192) == 1
    f1, f2, _, _ = pairs(n=3)
    torch.testing.assert_close(budget.predict(f1, f2),
                               budget.predict(f1, f2, batch_size=3),
                               rtol=1e-4, atol=1e-4)


def test_optimiser_comes_from_the_optim_wrapper_config():
    from mmengine.optim import OptimWrapper
    f1, f2, target, _ = pairs(n=1)
    tuner = FlowFinetuner(
        raft(), passes=1, batch_size=1, grad_clip=1.0,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e-3,
                                          momentum=0.9)))
    tuner.finetune(f1, f2, target)
    wrapper = tuner._optim_wrapper
    assert isinstance(wrapper, OptimWrapper)
    assert isinstance(wrapper.optimizer, torch.optim.SGD)
    assert wrapper.clip_grad_kwargs == dict(max_norm=1.0)
    assert tuner.lr == 1e-3
    # the default: Adam 1e-5; `lr` (the refiner configs' key) overrides
    default = FlowFinetuner(raft())
    assert default.lr == 1e-5
    assert default.optim_wrapper_cfg['optimizer']['type'] == 'Adam'
    assert FlowFinetuner(raft(), lr=3e-4, optim_wrapper=dict(
        optimizer=dict(type='SGD', lr=1.))).lr == 3e-4
    with pytest.raises(ValueError, match='optimizer'):
        FlowFinetuner(raft(), optim_wrapper=dict(type='OptimWrapper'))


def test_refiner_under_a_budget_refines_the_same():
    """The refiner on a rendered clip (96x128, 4 frames: a step of 3
    pairs) with 1-pair fine-tuning passes and without: the same fine-tuned
    flow (the budget changes the memory, not the step). The optimiser comes
    from the refiner config's ``optim_wrapper``."""
    import os.path as osp

    import numpy as np

    from mmflowpose.apis.refiner_arrays import refine_arrays
    from mmflowpose.datasets.synthetic import make_clip
    from mmflowpose.registry import MODELS
    repo = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    clip = make_clip('procedural:walk', camera=dict(orbit_deg_per_frame=3.0),
                     image_size=(96, 128), num_frames=4, seed=0)
    pose = clip['joints_3d_cam'] - clip['joints_3d_cam'][:, :1]
    scores = np.ones(clip['joints_2d'].shape[:2], np.float32)
    results = []
    for max_pixels in (None, 96 * 128):
        torch.manual_seed(0)
        refiner = MODELS.build(
            dict(type='FlowPoseRefiner', num_cycles=1,
                 flow_networks=[dict(
                     config=osp.join(repo, 'configs', 'training',
                                     'raft-small_synthetic.py'),
                     checkpoint=osp.join(repo, 'checkpoints',
                                         'raft-small_synthetic.pth'))],
                 pose_optimizer=dict(type='PoseOptimizer', max_steps=20),
                 sketch_head=dict(type='PoseSketchFlowHead', square_size=3),
                 flow_finetuner=dict(
                     passes=1, batch_size=4, max_pixels=max_pixels,
                     optim_wrapper=dict(optimizer=dict(type='SGD',
                                                       lr=0.1))))).eval()
        results.append(refine_arrays(
            refiner, clip['frames'], clip['joints_2d'].astype(np.float32),
            scores, pose.astype(np.float32)))
    whole, split = results
    # one SGD step (lr 0.1) moved the flow by 0.56 px on average; the
    # two runs differ by 6e-6 px at most (measured)
    assert np.abs(whole['flow'] - whole['flow_init']).mean() > 0.1
    np.testing.assert_allclose(split['flow'], whole['flow'], atol=1e-3)
