"""Tests of the batched PoseOptimizer (against a per-frame reference loop)."""
import math

import pytest
import torch

from mmflowpose.models.losses import (bone_length_loss,
                                      pose3d_consistency_loss,
                                      reference_bone_lengths,
                                      reprojection_2d_loss)
from mmflowpose.models.pose_optim import PoseOptimizer
from mmflowpose.models.utils.projection import (project_perspective,
                                                project_weak_perspective)
from mmflowpose.models.utils.skeleton import load_skeleton
from mmflowpose.registry import MODELS

FOCAL = torch.tensor([1145., 1144.], dtype=torch.float64)
CENTER = torch.tensor([512., 515.], dtype=torch.float64)


def _walk(T, B=1, seed=0):
    """Procedural walking-like clip: (B, T, 17, 3) camera coords (m)."""
    gen = torch.Generator().manual_seed(seed)
    rest = torch.tensor(
        [[0, 0, 0], [-.13, 0, 0], [-.13, .44, 0], [-.13, .88, 0], [.13, 0, 0],
         [.13, .44, 0], [.13, .88, 0], [0, -.24, 0], [0, -.5, 0], [0, -.6, 0],
         [0, -.72, 0], [.17, -.45, 0], [.17, -.18, 0], [.17, .06, 0],
         [-.17, -.45, 0], [-.17, -.18, 0], [-.17, .06, 0]],
        dtype=torch.float64)
    t = torch.arange(T, dtype=torch.float64)[:, None]
    phase = 2 * math.pi * t / 30 + torch.rand(B, 1, 1, generator=gen) * 6
    swing = torch.zeros(B, T, 17, 3, dtype=torch.float64)
    for leg, sign in (((2, 3), 1), ((5, 6), -1)):
        for j, amp in zip(leg, (0.12, 0.25)):
            swing[:, :, j, 2] = sign * amp * torch.sin(phase[..., 0])
    for arm, sign in (((12, 13), -1), ((15, 16), 1)):
        for j, amp in zip(arm, (0.08, 0.15)):
            swing[:, :, j, 2] = sign * amp * torch.sin(phase[..., 0])
    pose = rest + swing
    root = torch.stack(
        [0.01 * t[:, 0] - 0.2, 0.03 * torch.zeros(T), 5 + 0.0 * t[:, 0]], -1)
    return pose + root[None, :, None, :]


def _noisy_init(gt, scale=0.03, seed=1):
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(gt.shape, generator=gen, dtype=gt.dtype) * scale
    return gt + noise + torch.tensor([0.02, -0.01, 0.03], dtype=gt.dtype)


def _mpjpe(pred, gt):
    pred = pred - pred[..., :1, :]
    gt = gt - gt[..., :1, :]
    return (pred - gt).norm(dim=-1).mean().item()


def _perspective_problem(T=12, B=2):
    gt = _walk(T, B)
    kp = project_perspective(gt, FOCAL, CENTER)
    gen = torch.Generator().manual_seed(3)
    kp = kp + torch.randn(kp.shape, generator=gen, dtype=kp.dtype) * 2
    init = _noisy_init(gt)
    return gt, kp, init


def test_batched_matches_per_frame_loop():
    """Without cross-frame terms the problem separates per frame."""
    gt, kp, init = _perspective_problem(T=6, B=2)
    bones = load_skeleton('h36m').bone_index()
    rel0 = init - init[..., :1, :]
    trans0 = init[..., 0, :] + 0.05
    ref = reference_bone_lengths(rel0, bones)  # (B, E) per clip
    steps = 60
    opt = PoseOptimizer(
        flow_loss=None,
        temporal_loss=dict(
            type='TemporalLoss', joint_weight=0, camera_weight=0),
        camera='perspective',
        max_steps=steps,
        stop_tol=0,
        window_size=None)
    out = opt.optimize(
        init, kp, camera=dict(focal=FOCAL, center=CENTER, translation=trans0))
    assert out['steps'] == [steps]
    # Straightforward reference: one frame at a time, same losses and Adam.
    for b in range(2):
        for t in range(6):
            pose = rel0[b, t][None, None].clone().requires_grad_(True)
            trans = trans0[b, t][None, None].clone().requires_grad_(True)
            adam = torch.optim.Adam([pose, trans], lr=1e-3)
            for _ in range(steps):
                adam.zero_grad()
                pts = project_perspective(pose + trans[..., None, :], FOCAL,
                                          CENTER)
                loss = (
                    400 * pose3d_consistency_loss(pose, rel0[b, t][None, None])
                    + 0.01 * reprojection_2d_loss(pts, kp[b, t][None, None]) +
                    1e4 * bone_length_loss(pose, bones, ref[b:b + 1]))
                loss.backward()
                adam.step()
            assert torch.allclose(
                out['pose'][b, t], pose[0, 0].detach(), atol=1e-6)
            assert torch.allclose(
                out['camera']['translation'][b, t],
                trans[0, 0].detach(),
                atol=1e-6)


def test_perspective_full_objective_lowers_error():
    gt, kp, init = _perspective_problem(T=40, B=1)
    jflow = project_perspective(gt, FOCAL, CENTER).diff(dim=1)
    opt = PoseOptimizer(camera='perspective', max_steps=300, window_size=None)
    out = opt.optimize(
        init.float(),
        kp.float(),
        joint_flow=jflow.float(),
        camera=dict(focal=FOCAL, center=CENTER))
    assert _mpjpe(out['pose'].double(), gt) < 0.8 * _mpjpe(init, gt)
    assert out['pose_camera'].shape == gt.shape
    assert out['pose'].dtype == torch.float32
    hist = out['history']
    assert hist[-1]['loss'] < hist[0]['loss']
    assert {
        'loss_opt', 'loss_3d', 'loss_2d', 'loss_temp_joints',
        'loss_temp_camera', 'loss_temp_bones'
    } <= set(hist[0])


def test_weak_camera_and_early_stop():
    gt = _walk(30)
    cam = torch.tensor([230., 512., 515.], dtype=torch.float64)
    kp = project_weak_perspective(gt, cam.expand(1, 30, 3))
    jflow = kp.diff(dim=1)
    init = _noisy_init(gt)
    opt = PoseOptimizer(max_steps=1500, window_size=None)
    out = opt.optimize(init, kp, joint_flow=jflow)
    assert out['steps'][0] < 1500  # stopped on the pose
    assert out['camera'].shape == (1, 30, 3)
    assert _mpjpe(out['pose'], gt) < _mpjpe(init, gt)


def test_nan_and_zero_score_inputs():
    gt, kp, init = _perspective_problem(T=10, B=1)
    jflow = project_perspective(gt, FOCAL, CENTER).diff(dim=1)
    scores = torch.ones(kp.shape[:-1], dtype=kp.dtype)
    kp, jflow = kp.clone(), jflow.clone()
    kp[0, 3, 5] = float('nan')
    kp[0, 4] = float('nan')  # a whole frame missing
    scores[0, 6, 2] = 0
    kp[0, 6, 2] = 1e6  # garbage behind a zero score
    jflow[0, 2, :4] = float('nan')
    opt = PoseOptimizer(camera='perspective', max_steps=100, window_size=None)
    out = opt.optimize(
        init,
        kp,
        scores,
        joint_flow=jflow,
        camera=dict(focal=FOCAL, center=CENTER))
    assert torch.isfinite(out['pose']).all()
    assert torch.isfinite(out['camera']['translation']).all()
    assert _mpjpe(out['pose'], gt) < _mpjpe(init, gt)


def test_windows_match_whole_clip_for_separable_losses():
    gt, kp, init = _perspective_problem(T=50, B=2)
    kwargs = dict(
        flow_loss=None,
        temporal_loss=dict(
            type='TemporalLoss', joint_weight=0, camera_weight=0),
        camera='perspective',
        max_steps=40,
        stop_tol=0)
    cam = dict(focal=FOCAL, center=CENTER)
    whole = PoseOptimizer(
        window_size=None, **kwargs).optimize(
            init, kp, camera=cam)
    windowed = PoseOptimizer(
        window_size=16, window_overlap=5, windows_per_batch=3,
        **kwargs).optimize(
            init, kp, camera=cam)
    assert len(windowed['steps']) > 1
    # Not bit-exact: the mean over fewer frames scales the gradients, and
    # Adam is scale-invariant only up to its eps (measured 4e-6 m).
    assert torch.allclose(whole['pose'], windowed['pose'], atol=2e-5)


def test_windows_with_temporal_terms_close_to_whole_clip():
    gt, kp, init = _perspective_problem(T=60, B=1)
    jflow = project_perspective(gt, FOCAL, CENTER).diff(dim=1)
    cam = dict(focal=FOCAL, center=CENTER)
    kw = dict(camera='perspective', max_steps=150, stop_tol=0)
    whole = PoseOptimizer(
        window_size=None, **kw).optimize(
            init, kp, joint_flow=jflow, camera=cam)
    win = PoseOptimizer(
        window_size=25, window_overlap=8, **kw).optimize(
            init, kp, joint_flow=jflow, camera=cam)
    assert (whole['pose'] - win['pose']).norm(dim=-1).max() < 0.01


def test_dense_flow_any_resolution():
    gt = _walk(1).expand(1, 3, 17, 3)
    shift = torch.tensor([0.02, 0.01, 0.], dtype=torch.float64)
    gt = gt + shift * torch.arange(3.)[None, :, None, None]
    cam = torch.tensor([[[230., 300., 260.]]], dtype=torch.float64)
    cam = cam.expand(1, 3, 3)
    kp = project_weak_perspective(gt, cam)
    motion = kp[0, 1, 0] - kp[0, 0, 0]  # rigid: same for every joint
    flow = motion.view(1, 1, 2, 1, 1).expand(1, 2, 2, 600, 500).clone()
    half = flow[..., ::2, ::2] / 2  # flow at half resolution, in its px
    opt = PoseOptimizer(max_steps=1, window_size=None)
    data, *_ = opt._check_inputs(gt, kp, None, half, None, cam, (600, 500),
                                 None, None, None)
    data = opt._init_camera(data)
    data['ref_lengths'] = torch.zeros(1, 16, dtype=torch.float64)
    terms = opt.objective(gt, torch.zeros_like(cam), data)
    assert terms['loss_opt'].item() < 1e-3
    terms = opt.objective(gt + 0.05, torch.zeros_like(cam), data)
    assert terms['loss_opt'].item() < 1e-3  # flow term ignores a shift
    with pytest.raises(ValueError, match='image_size'):
        opt.optimize(gt, kp, flow=flow)


def test_errors():
    gt, kp, init = _perspective_problem(T=5, B=1)
    opt = PoseOptimizer(max_steps=1, window_size=None)
    with pytest.raises(ValueError, match='flow has 2 pairs'):
        opt.optimize(
            init, kp, flow=torch.zeros(1, 2, 2, 8, 8), image_size=(8, 8))
    with pytest.raises(ValueError, match='joint_flow'):
        opt.optimize(init, kp, joint_flow=torch.zeros(1, 5, 17, 2))
    with pytest.raises(ValueError, match='skeleton'):
        opt.optimize(init[..., :16, :], kp[..., :16, :])
    with pytest.raises(ValueError, match='empty clip'):
        opt.optimize(init[:, :0], kp[:, :0])
    with pytest.raises(ValueError, match='keypoints_2d'):
        opt.optimize(init, kp[:, :4])
    with pytest.raises(ValueError, match='perspective mode needs'):
        PoseOptimizer(camera='perspective').optimize(init, kp)
    with pytest.raises(ValueError, match='init_pose must be finite'):
        opt.optimize(init * float('nan'), kp)
    with pytest.raises(ValueError, match="'weak' or 'perspective'"):
        PoseOptimizer(camera='full')
    with pytest.raises(ValueError, match='window_overlap'):
        PoseOptimizer(window_size=10, window_overlap=10)


def test_registry_and_single_frame():
    opt = MODELS.build(dict(type='PoseOptimizer', max_steps=5, flow_loss=None))
    assert 'PoseOptimizer(camera=' in repr(opt)
    gt = _walk(1)
    kp = project_weak_perspective(gt,
                                  torch.tensor([[200., 50., 60.]]).double())
    out = opt.optimize(gt, kp)
    assert out['pose'].shape == gt.shape and out['steps'] == [5]


def test_chunked_clip_matches_whole_clip():
    """Chunks (for flat memory on long clips) give nearly the whole-clip
    solution; differences come only from the chunk-level bone reference
    and the blending of overlaps."""
    torch.manual_seed(0)
    from mmflowpose.models.pose_optim import PoseOptimizer
    T = 90
    t = torch.arange(T, dtype=torch.float32)
    base = torch.randn(17, 3) * 0.3
    gt = base + 0.05 * torch.sin(t / 7)[:, None, None] * torch.randn(17, 3)
    gt = gt[None]
    cam = torch.tensor([[300., 64., 64.]]).expand(1, T, 3)
    keypoints = cam[..., None, :1] * gt[..., :2] + cam[..., None, 1:]
    init = gt + 0.02 * torch.randn_like(gt)
    common = dict(
        max_steps=60,
        stop_tol=0,
        window_size=30,
        window_overlap=6,
        flow_loss=None)
    whole = PoseOptimizer(
        chunk_frames=None, **common).optimize(
            init, keypoints, camera=cam.clone())
    chunked = PoseOptimizer(
        chunk_frames=40, **common).optimize(
            init, keypoints, camera=cam.clone())
    assert chunked['pose'].shape == whole['pose'].shape
    assert torch.isfinite(chunked['pose']).all()
    # per-chunk bone and camera-scale references move every frame a little
    gap = (chunked['pose'] - whole['pose']).abs().mean()
    assert gap < 5e-3, gap
    err = lambda p: float((p - gt).norm(dim=-1).mean())  # noqa: E731
    assert abs(err(chunked['pose']) - err(whole['pose'])) < 2e-3


def test_deterministic_whatever_the_global_seed():
    """Nothing in the pose step draws random numbers (hence no ``seed``
    argument): two runs under different global torch seeds agree bit for
    bit, and the global generator is left untouched."""
    gt = _walk(6).float()
    cam = torch.tensor([230., 512., 515.]).expand(1, 6, 3)
    kp = project_weak_perspective(gt, cam)
    init = _noisy_init(gt.double()).float()
    opt = PoseOptimizer(max_steps=20, window_size=None)
    outs = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        outs.append(opt.optimize(init, kp, joint_flow=kp.diff(dim=1)))
        state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        assert torch.equal(state, torch.random.get_rng_state())
    assert torch.equal(outs[0]['pose'], outs[1]['pose'])
    assert torch.equal(outs[0]['camera'], outs[1]['camera'])
