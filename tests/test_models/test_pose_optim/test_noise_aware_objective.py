"""PoseOptimizer(weighting='noise_aware'): terms, units, warm starts."""
import pytest
import torch
from test_pose_optimizer import _mpjpe, _walk

from mmflowpose.models.pose_optim import PoseOptimizer
from mmflowpose.models.pose_optim.noise_aware_objective import \
    NoiseAwareObjective
from mmflowpose.models.utils.projection import project_weak_perspective
from mmflowpose.registry import MODELS


def _problem(T=16, scale=230., det_std=2.0, seed=0):
    """Walk seen by a weak camera; init with a static per-joint bias."""
    gen = torch.Generator().manual_seed(seed)
    gt = _walk(T)
    gt = gt - gt[:, :, :1]
    cam = torch.tensor([scale, 256., 192.], dtype=torch.float64)
    clean = project_weak_perspective(gt, cam.expand(1, T, 3))
    kp = clean + det_std * scale / 230 * torch.randn(
        clean.shape, generator=gen, dtype=clean.dtype)
    bias = 0.04 * torch.randn(1, 1, 17, 3, generator=gen,
                              dtype=gt.dtype)
    init = gt + bias
    init = init - init[:, :, :1]
    return gt, init, kp, clean.diff(dim=1)


def _opt(**noise):
    return PoseOptimizer(
        weighting='noise_aware',
        noise=noise or None,
        max_steps=300,
        window_size=None)


def test_noise_aware_removes_a_static_bias_the_paper_weights_keep():
    gt, init, kp, flow = _problem()
    paper = PoseOptimizer(max_steps=300, window_size=None)
    aware = _opt(sigma_3d=0.04, sigma_vel=0.005)
    e0 = _mpjpe(init, gt)
    e_paper = _mpjpe(paper.optimize(init, kp, joint_flow=flow)['pose'], gt)
    out = aware.optimize(init, kp, joint_flow=flow)
    e_aware = _mpjpe(out['pose'], gt)
    # depth bias is invisible in 2D, so the floor is well above 0
    assert e_aware < 0.8 * e0
    assert e_aware < e_paper - 0.005
    names = {k for k in out['history'][-1] if k.startswith('loss_')}
    assert names == {
        'loss_2d', 'loss_opt', 'loss_3d', 'loss_vel', 'loss_acc',
        'loss_bones', 'loss_camera'
    }


def test_pixel_noise_levels_do_not_depend_on_resolution():
    """A 4x larger image (px x 4, noise x 4) gives the same pose."""
    results = []
    for scale in (115., 460.):
        gt, init, kp, flow = _problem(scale=scale)
        out = _opt(sigma_2d=0.01, sigma_flow=0.005).optimize(
            init, kp, joint_flow=flow)
        results.append(out['pose'])
    assert torch.allclose(results[0], results[1], atol=2e-3)


def test_auto_noise_levels_and_flow_confidence_in_data():
    gt, init, kp, flow = _problem(T=30, det_std=3.0)
    obj = NoiseAwareObjective()
    opt = _opt()
    data, *_ = opt._check_inputs(init, kp, None, None, flow, None, None,
                                 None, -flow, None)
    data = obj.prepare(opt._init_camera(data))
    assert data['sigma_2d'].item() == pytest.approx(3.0, rel=0.3)
    assert data['sigma_flow'].item() < 1.0  # exact flow: near the floor
    assert torch.allclose(data['flow_weights'],
                          torch.ones_like(data['flow_weights']))


def test_calibrated_detection_motion_noise_changes_the_flow_noise():
    # white 3 px detections and an exact flow: detection motion minus flow
    # has a 4.2 px spread. Assuming white detections explains all of it
    # (flow noise at the floor); a detector whose motion error is
    # calibrated as tiny leaves it to the flow.
    gt, init, kp, flow = _problem(T=30, det_std=3.0)
    opt = _opt()
    data, *_ = opt._check_inputs(init, kp, None, None, flow, None, None,
                                 None, -flow, None)
    data = opt._init_camera(data)
    white = NoiseAwareObjective().prepare(dict(data))
    told = NoiseAwareObjective(sigma_2d_motion=0.0005).prepare(dict(data))
    assert white['sigma_flow'].item() < 1.0
    assert told['sigma_flow'].item() == pytest.approx(3.0 * 2**0.5,
                                                      rel=0.3)
    with pytest.raises(ValueError, match='sigma_2d_motion'):
        NoiseAwareObjective(sigma_2d_motion=0)


def test_round_trip_bounds_a_flow_noise_drowned_by_the_detector():
    # 3 px white detections, a flow with 1 px independent errors each way:
    # detection motion minus flow cannot resolve 1 px under 4.2 px, the
    # round trip can
    torch.manual_seed(1)
    gt, init, kp, flow = _problem(T=30, det_std=3.0)
    fwd = flow + torch.randn_like(flow)
    bwd = -flow + torch.randn_like(flow)
    opt = _opt()
    data, *_ = opt._check_inputs(init, kp, None, None, fwd, None, None,
                                 None, bwd, None)
    data = NoiseAwareObjective().prepare(opt._init_camera(data))
    assert data['sigma_flow'].item() == pytest.approx(1.0, rel=0.3)


def test_zero_anchor_scale_and_warm_start():
    gt, init, kp, flow = _problem()
    opt = _opt(terms=('2d', '3d'))
    anchored = opt.optimize(init, kp, joint_flow=flow)
    free = opt.optimize(init, kp, joint_flow=flow, anchor_scale=0.0)
    # without the anchor, the pose moves further from the initial one
    assert (free['pose'] - init).abs().mean() > \
        (anchored['pose'] - init).abs().mean()
    warm = opt.optimize(
        init,
        kp,
        joint_flow=flow,
        start_pose=anchored['pose'],
        camera=anchored['camera'])
    # a warm start from the optimum stops early and stays there
    assert warm['steps'][0] < anchored['steps'][0]
    # (Adam's first steps jiggle it by about lr per step)
    assert _mpjpe(warm['pose'], anchored['pose']) < 5e-3
    with pytest.raises(ValueError, match='start_pose'):
        opt.optimize(init, kp, start_pose=init[:, :3])
    with pytest.raises(ValueError, match='anchor_scale'):
        opt.optimize(init, kp, anchor_scale=-1.0)


def test_config_errors_and_registry():
    with pytest.raises(ValueError, match='weighting'):
        PoseOptimizer(weighting='nll')
    with pytest.raises(ValueError, match='noise'):
        PoseOptimizer(noise=dict(sigma_3d=0.1))
    with pytest.raises(ValueError, match='sigma_2d'):
        NoiseAwareObjective(sigma_2d=-1)
    with pytest.raises(ValueError, match='sigma_vel'):
        NoiseAwareObjective(sigma_vel=0)
    with pytest.raises(ValueError, match='unknown terms'):
        NoiseAwareObjective(terms=('2d', 'temporal'))
    opt = MODELS.build(
        dict(
            type='PoseOptimizer',
            weighting='noise_aware',
            noise=dict(sigma_3d=0.07, terms=('2d', '3d'))))
    assert opt.noise_objective.sigma_3d == 0.07
    assert 'sigma_3d=0.07' in repr(opt.noise_objective)


def test_presets_select_the_weighting():
    import os.path as osp

    from mmengine import Config
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
    base = osp.join(root, 'configs', '_base_', 'models')
    paper = Config.fromfile(osp.join(base, 'flowpose_refiner.py')).model
    aware = Config.fromfile(
        osp.join(base, 'flowpose_refiner_noise-aware.py')).model
    assert MODELS.build(paper.pose_optimizer).weighting == 'paper'
    opt = MODELS.build(aware.pose_optimizer)
    assert opt.weighting == 'noise_aware'
    assert opt.noise_objective.sigma_2d == 'auto'
    assert aware.warm_start and aware.backward_flow
    assert not paper.get('warm_start', False)
