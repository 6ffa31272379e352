"""The pose step's parts one by one: cameras, windows, solver."""
import pytest
import torch

from mmflowpose.models.losses import reference_bone_lengths
from mmflowpose.models.pose_optim.cameras import (camera_fields,
                                                  camera_values, init_camera,
                                                  per_frame, project_joints)
from mmflowpose.models.pose_optim.solver import solve
from mmflowpose.models.pose_optim.windows import (OverlapBlender,
                                                  chunk_clip, chunk_weights,
                                                  gather_windows,
                                                  overlap_ramp, plan_windows,
                                                  window_starts)
from mmflowpose.models.utils.projection import project_perspective
from mmflowpose.registry import MODELS


def test_window_starts_cover_the_clip():
    assert window_starts(10, 4, 1) == [0, 3, 6]
    assert window_starts(10, 10, 2) == [0]
    assert window_starts(11, 4, 1) == [0, 3, 6, 7]  # last ends at frame 10
    size, windows = plan_windows(2, 5, None, 0)
    assert size == 5 and windows == [(0, 0), (1, 0)]


def test_overlap_ramp_and_chunk_weights():
    ramp = overlap_ramp(6, 2, torch.zeros(1))
    assert torch.allclose(ramp, torch.tensor([1, 2, 3, 3, 2, 1]) / 3)
    starts = [0, 4]
    first = chunk_weights(6, 2, starts, 0, torch.zeros(1))
    last = chunk_weights(6, 2, starts, 4, torch.zeros(1))
    assert first[:2].tolist() == [1, 1] and first[-1] == pytest.approx(1 / 3)
    assert last[-2:].tolist() == [1, 1] and last[0] == pytest.approx(1 / 3)
    assert chunk_weights(6, 2, [0], 0, torch.zeros(1)).tolist() == [1] * 6


def test_gather_windows_per_frame_pair_and_clip_fields():
    data = dict(
        init_pose=torch.arange(2 * 6.).view(2, 6, 1, 1).expand(2, 6, 3, 3),
        joint_flow=torch.arange(2 * 5.).view(2, 5, 1, 1).expand(2, 5, 3, 2),
        cam_scale=torch.tensor([10., 20.]),
        anchor_scale=0.5)
    index = torch.tensor([1, 0])
    frames = torch.tensor([[2, 3, 4], [0, 1, 2]])
    out = gather_windows(data, index, frames)
    assert out['init_pose'][:, :, 0, 0].tolist() == [[8, 9, 10], [0, 1, 2]]
    assert out['joint_flow'].shape == (2, 2, 3, 2)
    assert out['joint_flow'][:, :, 0, 0].tolist() == [[7, 8], [0, 1]]
    assert out['cam_scale'].tolist() == [20, 10]
    assert out['anchor_scale'] == 0.5


def test_overlap_blender_weighted_mean():
    blender = OverlapBlender(torch.zeros(1, 4, 1, 3), torch.zeros(1, 4, 3))
    index = torch.tensor([0])
    blender.add(index, torch.tensor([[0, 1, 2]]), torch.ones(1, 3, 1, 3),
                torch.ones(1, 3, 3), torch.tensor([[1., 1., 1.]]))
    blender.add(index, torch.tensor([[2, 3]]), 4 * torch.ones(1, 2, 1, 3),
                4 * torch.ones(1, 2, 3), torch.tensor([[3., 1.]]))
    pose, cam = blender.result()
    # frame 2: (1 * 1 + 4 * 3) / 4
    assert pose[0, :, 0, 0].tolist() == [1, 1, 3.25, 4]
    assert cam[0, :, 0].tolist() == [1, 1, 3.25, 4]


def test_chunk_clip_slices_frames_and_pairs():
    B, T = 2, 8
    inputs = dict(pose=torch.zeros(B, T, 3), flow=torch.zeros(B, T - 1, 2),
                  camera=dict(focal=torch.zeros(B, T, 2), center=None),
                  weights=torch.zeros(2))
    out = chunk_clip(inputs, B, T, 2, 6)
    assert out['pose'].shape == (B, 4, 3) and out['flow'].shape == (B, 3, 2)
    assert out['camera']['focal'].shape == (B, 4, 2)
    assert out['camera']['center'] is None and out['weights'].shape == (2, )


def test_per_frame_broadcasts_and_names_the_field():
    assert per_frame(torch.ones(2), 'focal', 3, 4).shape == (3, 4, 2)
    assert per_frame(torch.ones(3, 2), 'focal', 3, 4).shape == (3, 4, 2)
    assert per_frame(torch.eye(3), 'R', 3, 4).shape == (3, 4, 3, 3)
    assert per_frame(torch.ones(3, 1), 'T', 3, 4).shape == (3, 4, 3)
    with pytest.raises(ValueError, match="camera\\['focal'\\]"):
        per_frame(torch.ones(5, 2), 'focal', 3, 4)
    with pytest.raises(ValueError, match='unknown camera fields'):
        camera_fields(dict(focal=1, center=1, k=1), 'perspective',
                      torch.zeros(1, 2, 3, 3))


def test_weak_camera_parametrisation_and_fit():
    pose = torch.randn(2, 5, 17, 3, generator=torch.Generator().manual_seed(0))
    cam = torch.tensor([200., 30., 40.]).expand(2, 5, 3)
    kp = project_joints(pose, cam, {}, 'weak')
    assert torch.allclose(kp, 200 * pose[..., :2] + torch.tensor([30., 40.]))
    data = init_camera(
        dict(init_pose=pose, keypoints_2d=kp, scores=torch.ones(2, 5, 17)),
        'weak')
    assert torch.allclose(data['cam0'], cam, atol=1e-3)
    assert data['cam_scale'].tolist() == pytest.approx([200., 200.])
    # one unit of the parameter moves the scale by s_ref px/m
    step = torch.zeros(2, 5, 3)
    step[..., 0] = 1
    assert torch.allclose(
        camera_values(step, data, 'weak')[..., 0], cam[..., 0] + 200,
        atol=1e-3)


def test_perspective_projection_with_translation():
    focal, center = torch.tensor([1000., 1000.]), torch.tensor([320., 240.])
    pose = torch.zeros(1, 2, 17, 3)
    pose[..., 1, 0] = 0.5
    trans = torch.tensor([0., 0., 5.]).expand(1, 2, 3)
    data = camera_fields(dict(focal=focal, center=center), 'perspective',
                         pose)
    points = project_joints(pose, trans, data, 'perspective')
    assert torch.allclose(
        points, project_perspective(pose + trans[..., None, :], focal,
                                    center))
    assert points[0, 0, 1].tolist() == pytest.approx([420., 240.])


ADAM_005 = dict(optimizer=dict(type='Adam', lr=0.05))


def test_solver_reaches_the_minimum_and_stops_early():
    target = torch.full((1, 3, 2, 3), 0.2)

    def loss_fn(pose, cam):
        return dict(loss_pose=((pose - target)**2).sum(),
                    loss_cam=(cam**2).sum())

    history = []
    pose, cam, steps = solve(
        loss_fn, torch.zeros(1, 3, 2, 3), torch.ones(1, 3, 3), ADAM_005,
        max_steps=2000, min_steps=10, check_every=10, stop_tol=1e-6,
        history=history)
    assert torch.allclose(pose, target, atol=1e-3)
    assert cam.abs().max() < 1e-2
    assert 10 <= steps < 2000  # stopped on the pose displacement
    assert history[-1]['step'] == steps
    assert history[-1]['pose_step'] < 1e-6
    assert set(history[0]) >= {'group', 'loss', 'loss_pose', 'loss_cam'}
    assert solve(lambda p, c: {}, pose, cam, ADAM_005, max_steps=5)[2] == 0


def _tiny_clip(T=4):
    gen = torch.Generator().manual_seed(0)
    gt = torch.randn(1, T, 17, 3, generator=gen) * 0.3
    gt = gt + 0.02 * torch.arange(float(T))[None, :, None, None]
    kp = 150 * gt[..., :2] + 60
    init = gt + 0.03 * torch.randn(gt.shape, generator=gen)
    return init, kp, kp[:, 1:] - kp[:, :-1]


def _hand_loop(opt, init, kp, joint_flow, make_optim, steps):
    """The solver written out with a plain torch optimiser."""
    data, *_ = opt._check_inputs(init, kp, None, None, joint_flow, None,
                                 None, None, None, None)
    data = opt._init_camera(data)
    data['ref_lengths'] = reference_bone_lengths(
        data['init_pose'], opt.skeleton.bone_index())
    pose = data['init_pose'].clone().requires_grad_(True)
    cam = torch.zeros_like(data['cam0']).requires_grad_(True)
    optim = make_optim([pose, cam])
    for _ in range(steps):
        optim.zero_grad()
        sum(opt.objective(pose, cam, data).values()).backward()
        optim.step()
    return pose.detach()


@pytest.mark.parametrize('cfg, make_optim', [
    (None, lambda p: torch.optim.Adam(p, lr=1e-3)),
    (dict(optimizer=dict(type='Adam', lr=1e-3)),
     lambda p: torch.optim.Adam(p, lr=1e-3)),
    (dict(optimizer=dict(type='SGD', lr=1e-5, momentum=0.9)),
     lambda p: torch.optim.SGD(p, lr=1e-5, momentum=0.9)),
])
def test_optimiser_from_config_matches_hand_loop(cfg, make_optim):
    """The OptimWrapper-built optimiser gives exactly the plain loop's
    result (the default is the paper's Adam, lr 1e-3)."""
    init, kp, joint_flow = _tiny_clip()
    extra = {} if cfg is None else dict(optim_wrapper=cfg)
    opt = MODELS.build(
        dict(type='PoseOptimizer', max_steps=20, stop_tol=0,
             window_size=None, **extra))
    out = opt.optimize(init, kp, joint_flow=joint_flow)
    assert out['steps'] == [20]
    ref = _hand_loop(opt, init, kp, joint_flow, make_optim, 20)
    assert torch.equal(out['pose'], ref)
    assert not torch.equal(out['pose'], init)


def test_optimiser_config_errors_and_lr():
    opt = MODELS.build(dict(type='PoseOptimizer'))
    assert opt.lr == 1e-3 and "'Adam'" in repr(opt)
    with pytest.raises(ValueError, match='optim_wrapper'):
        MODELS.build(dict(type='PoseOptimizer', optim_wrapper=dict(lr=1)))
    with pytest.raises(TypeError):
        MODELS.build(dict(type='PoseOptimizer', lr=1e-3))  # no second route


def test_project_result_uses_distortion_and_extrinsics():
    """A result's projection equals the objective's: on an exact problem
    with R/T and radial distortion it lands on the detections."""
    from mmflowpose.models.pose_optim.cameras import project_result
    gen = torch.Generator().manual_seed(0)
    pose = torch.randn(1, 3, 17, 3, generator=gen, dtype=torch.float64) * .2
    pose = pose - pose[..., :1, :]
    c, s = 0.6, 0.8
    R = torch.tensor([[c, 0, s], [0, 1., 0], [-s, 0, c]], dtype=pose.dtype)
    T = torch.tensor([0.3, -0.1, 0.2], dtype=pose.dtype)
    camera = dict(focal=torch.tensor([500., 500.]),
                  center=torch.tensor([64., 48.]),
                  radial=torch.tensor([0.05]), R=R, T=T,
                  translation=torch.tensor([0., 0., 4.]).expand(1, 3, 3))
    data = camera_fields(camera, 'perspective', pose)
    kp = project_joints(pose, data['translation'], data, 'perspective')
    got = project_result(dict(pose=pose, camera=camera), 'perspective')
    assert torch.allclose(got, kp)
    # without the extrinsics the points would be elsewhere
    plain = project_perspective(pose + data['translation'][..., None, :],
                                camera['focal'], camera['center'])
    assert (plain - kp).abs().max() > 10
    weak = torch.tensor([100., 5., 6.]).expand(1, 3, 3).to(pose)
    got = project_result(dict(pose=pose, camera=weak), 'weak')
    assert torch.allclose(got, 100 * pose[..., :2] + weak[..., None, 1:])
