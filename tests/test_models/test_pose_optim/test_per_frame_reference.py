"""Tests of the per-frame reference pose step against the batched one."""
import os.path as osp

import pytest
import torch
from mmengine import Config
from test_pose_optimizer import CENTER, FOCAL, _mpjpe, _noisy_init, _walk

from mmflowpose.models.pose_optim import (PerFrameReferenceOptimizer,
                                          PoseOptimizer)
from mmflowpose.models.utils.projection import (project_perspective,
                                                project_weak_perspective)
from mmflowpose.registry import MODELS

REFINER_BASE = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'models',
    'flowpose_refiner.py')


def _paper(**kwargs):
    """The refiner base config's pose step (the paper preset)."""
    cfg = Config.fromfile(REFINER_BASE).model.to_dict()['pose_optimizer']
    cfg.update(window_size=None, **kwargs)
    return cfg


def _build(cfg, reference):
    return MODELS.build(
        dict(cfg, type='PerFrameReferenceOptimizer') if reference else cfg)


def _weak_problem(T, noise=2.0):
    gt = _walk(T).float()
    cam = torch.tensor([230., 512., 515.]).expand(1, T, 3)
    exact = project_weak_perspective(gt, cam)
    gen = torch.Generator().manual_seed(5)
    kp = exact + torch.randn(exact.shape, generator=gen) * noise
    return gt, kp, exact.diff(dim=1), _noisy_init(gt.double()).float()


def test_single_frame_is_the_batched_problem():
    """One frame: no pair terms, bone lengths tied to the frame's own
    initial ones in both, so the two solve the same problem, step for
    step (early stop included)."""
    gt, kp, _, init = _weak_problem(1, noise=1.5)
    batched = _build(_paper(max_steps=200), False).optimize(init, kp)
    ref = _build(_paper(max_steps=200), True).optimize(init, kp)
    assert ref['steps'] == batched['steps']
    assert batched['steps'][0] < 200  # the early stop fired in both
    assert torch.equal(ref['pose'], batched['pose'])
    assert torch.equal(ref['camera'], batched['camera'])
    assert _mpjpe(ref['pose'], gt) < _mpjpe(init, gt)
    # a warm start and a weaker anchor mean the same in both
    kwargs = dict(start_pose=init + 0.01, anchor_scale=0.5)
    batched = _build(_paper(max_steps=60), False).optimize(init, kp, **kwargs)
    ref = _build(_paper(max_steps=60), True).optimize(init, kp, **kwargs)
    assert torch.equal(ref['pose'], batched['pose'])
    cold = _build(_paper(max_steps=60), True).optimize(init, kp)
    assert (cold['pose'] - ref['pose']).abs().max() > 1e-3  # not ignored


def test_separable_objective_matches_batched():
    """Without L_opt and L_temp the clip objective is a sum of per-frame
    ones: same optimum and, Adam being scale-invariant up to its eps, the
    same path (measured 4e-6 m apart after 80 steps)."""
    T = 5
    gt = _walk(T, B=2)
    gen = torch.Generator().manual_seed(3)
    kp = project_perspective(gt, FOCAL, CENTER) + torch.randn(
        2, T, 17, 2, generator=gen, dtype=gt.dtype) * 2
    init = _noisy_init(gt)
    cfg = _paper(
        camera='perspective', flow_loss=None, temporal_loss=None,
        max_steps=80, stop_tol=0)
    cam = dict(focal=FOCAL, center=CENTER)
    batched = _build(cfg, False).optimize(init, kp, camera=cam)
    ref = _build(cfg, True).optimize(init, kp, camera=cam)
    assert ref['steps'] == [80] * (2 * T)
    moved = (batched['pose'] - (init - init[..., :1, :])).abs().max()
    assert moved > 5e-3  # the poses did move, by far more than the gap
    torch.testing.assert_close(ref['pose'], batched['pose'], atol=2e-5,
                               rtol=0)
    torch.testing.assert_close(
        ref['camera']['translation'],
        batched['camera']['translation'],
        atol=2e-5,
        rtol=0)
    torch.testing.assert_close(ref['pose_camera'], batched['pose_camera'],
                               atol=4e-5, rtol=0)


def test_full_objective_reference_improves_and_batched_beats_it():
    """The paper objective with exact flow: every frame's own loss falls,
    the reference lowers the pose error, and the batched clip problem
    (both temporal directions, one per-clip bone reference) lowers it
    more (measured at T=5, 80 steps: 70 -> 67 mm loop, 48 mm batched)."""
    T = 5
    gt, kp, jflow, init = _weak_problem(T)
    cfg = _paper(max_steps=80, check_every=1)
    batched = _build(cfg, False).optimize(init, kp, joint_flow=jflow)
    ref = _build(cfg, True).optimize(init, kp, joint_flow=jflow)
    first, last = {}, {}
    for entry in ref['history']:
        first.setdefault(entry['frame'], entry['loss'])
        last[entry['frame']] = entry['loss']
    assert sorted(first) == list(range(T))
    for t in range(T):  # the first entry is the loss at the start
        assert last[t] < first[t], t
    e_init, e_ref = _mpjpe(init, gt), _mpjpe(ref['pose'], gt)
    e_batched = _mpjpe(batched['pose'], gt)
    assert e_ref < e_init
    assert e_batched < e_ref - 0.01
    assert ref['camera'].shape == batched['camera'].shape == (1, T, 3)


def test_dense_flow_layout_and_errors():
    T, B = 3, 2
    gt = _walk(T, B=B).float()
    cam = torch.tensor([30., 64., 48.]).expand(B, T, 3)
    kp = project_weak_perspective(gt, cam)
    flow = torch.zeros(B, T - 1, 2, 48, 64)  # half the image size
    ref = PerFrameReferenceOptimizer(max_steps=12, check_every=4)
    out = ref.optimize(gt, kp, flow=flow, image_size=(96, 128))
    assert out['pose'].shape == (B, T, 17, 3)
    assert out['camera'].shape == (B, T, 3)
    assert len(out['steps']) == B * T
    tags = {(e['clip'], e['frame']) for e in out['history']}
    assert tags == {(b, t) for b in range(B) for t in range(T)}
    assert {'loss_opt', 'loss_2d', 'loss_3d'} <= set(
        e for e in out['history'][-1])
    assert isinstance(ref, PoseOptimizer)
    with pytest.raises(ValueError, match="weighting must be 'paper'"):
        PerFrameReferenceOptimizer(weighting='noise_aware')
    with pytest.raises(ValueError, match='image_size'):
        ref.optimize(gt, kp, flow=flow)
