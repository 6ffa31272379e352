import cv2
import numpy as np
import pytest

from mmflowpose.datasets.synthetic import (VIEWPOINTS, make_clip,
                                           procedural_motion, project)
from mmflowpose.datasets.synthetic.clip import H36M_BONES

SIZE = (64, 96)
# part indices of the head (neck_base -> head) and chest (spine -> thorax)
HEAD = H36M_BONES.index((9, 10))
CHEST = H36M_BONES.index((7, 8))


@pytest.fixture(scope='module')
def orbit_clip():
    # Orbiting camera: body and background both move.
    return make_clip(
        'procedural:walk',
        camera=3,
        image_size=SIZE,
        seed=1,
        num_frames=4,
        fps=10.0,
        texture_scale=0.2)


def _warp_error(clip, i):
    height, width = SIZE
    gx, gy = np.meshgrid(
        np.arange(width, dtype=np.float32),
        np.arange(height, dtype=np.float32))
    flow = clip['flow'][i]
    nxt = clip['frames'][i + 1].astype(np.float32)
    warped = cv2.remap(nxt, gx + flow[..., 0], gy + flow[..., 1],
                       cv2.INTER_LINEAR)
    cur = clip['frames'][i].astype(np.float32)
    return np.abs(warped - cur).mean(-1), np.abs(nxt - cur).mean(-1)


def test_shapes_and_types(orbit_clip):
    c = orbit_clip
    assert c['frames'].shape == (4, 64, 96,
                                 3) and c['frames'].dtype == np.uint8
    assert c['flow'].shape == (3, 64, 96, 2) and c['flow'].dtype == np.float32
    assert c['occlusion'].shape == (3, 64, 96)
    assert c['occlusion'].dtype == bool
    assert c['human_mask'].shape == (4, 64, 96)
    assert c['joints_3d_cam'].shape == (4, 17, 3)
    assert c['joints_2d'].shape == (4, 17, 2)
    assert 0.02 < c['human_mask'].mean() < 0.5


def test_flow_warps_next_frame(orbit_clip):
    for i in range(3):
        err, err_zero = _warp_error(orbit_clip, i)
        valid = ~orbit_clip['occlusion'][i]
        assert np.median(err[valid]) < 1.0
        assert err[valid].mean() < 0.3 * err_zero[valid].mean()
        # Inside one capsule's image (3x3 neighbourhood on the same bone)
        # bilinear warping is near exact; outlines mix two surfaces. The
        # head and the chest are left out: their face, hair and shirt print
        # are sharp colour edges a pixel or two wide at this size, which
        # bilinear warping blurs (test_render.py checks the face at a
        # larger size).
        part = orbit_clip['part'][i].astype(np.float32)
        same = (cv2.erode(part, np.ones(
            (3, 3))) == cv2.dilate(part, np.ones(
                (3, 3)))) & (part >= 0) & valid & (part != HEAD) & \
            (part != CHEST)
        assert same.sum() > 50
        assert np.median(err[same]) < 1.0
        assert err[same].mean() < 0.4 * err_zero[same].mean()


def test_joints_project_to_2d(orbit_clip):
    c = orbit_clip
    cam = c['camera']
    uv, xyz = project(c['joints_3d_world'].astype(np.float64), cam['K'],
                      cam['R'][:, None], cam['t'][:, None])
    np.testing.assert_allclose(c['joints_2d'], uv, atol=1e-3)
    np.testing.assert_allclose(c['joints_3d_cam'], xyz, atol=1e-5)
    # Pinhole from camera coordinates alone.
    K = cam['K']
    pin = c['joints_3d_cam'][..., :2] / c['joints_3d_cam'][..., 2:]
    np.testing.assert_allclose(
        c['joints_2d'], pin * K[[0, 1], [0, 1]] + K[:2, 2], atol=1e-3)
    # Joints lie on the axes of capsules: their pixels are human.
    px = np.round(c['joints_2d']).astype(int)
    hit = c['human_mask'][np.arange(4)[:, None], px[..., 1], px[..., 0]]
    assert hit.mean() > 0.95


def test_static_body_static_camera_zero_flow():
    clip = make_clip(
        'procedural:static', camera=0, image_size=SIZE, seed=0, num_frames=3)
    np.testing.assert_allclose(clip['flow'], 0, atol=1e-3)
    assert not clip['occlusion'].any()
    np.testing.assert_array_equal(clip['frames'][0], clip['frames'][2])


def test_static_camera_background_flow_is_zero():
    clip = make_clip(
        'procedural:walk', camera=1, image_size=SIZE, seed=2, num_frames=3)
    bg = ~clip['human_mask'][:-1]
    assert np.all(clip['flow'][bg] == 0)
    assert np.abs(clip['flow'][~bg]).max() > 0.2


def test_bone_lengths_constant(orbit_clip):
    joints = orbit_clip['joints_3d_cam'].astype(np.float64)
    bones = np.array(H36M_BONES)
    lengths = np.linalg.norm(
        joints[:, bones[:, 1]] - joints[:, bones[:, 0]], axis=-1)
    assert np.ptp(lengths, axis=0).max() < 1e-5


def test_occlusion_marks_hidden_points():
    # Jumping jacks seen from the side: arms sweep over the torso.
    clip = make_clip(
        'procedural:jumping_jacks',
        camera=1,
        image_size=SIZE,
        seed=4,
        num_frames=3)
    occ = clip['occlusion']
    assert occ.any()
    # Occluded pixels are human at t or next to it (static background).
    near = cv2.dilate(
        clip['human_mask'][:-1].astype(np.uint8).transpose(1, 2, 0),
        np.ones((5, 5))).transpose(2, 0, 1) > 0
    assert np.all(near[occ])


def test_deterministic_by_seed():
    a = make_clip('procedural', image_size=(32, 48), seed=7, num_frames=2)
    b = make_clip('procedural', image_size=(32, 48), seed=7, num_frames=2)
    c = make_clip('procedural', image_size=(32, 48), seed=8, num_frames=2)
    for key in ('frames', 'flow', 'occlusion', 'joints_2d'):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a['frames'], c['frames'])


def test_mocap_array_input(fixtures):
    from mmflowpose.datasets import load_mocap
    motion = load_mocap(
        fixtures('mocap', 'usc_cs520_starter', '07_05-walk.amc'))
    clip = make_clip(
        motion,
        camera=dict(azimuth_deg=45.0),
        image_size=SIZE,
        num_frames=3,
        seed=0)
    assert clip['fps'] == 120.0 and clip['frames'].shape[0] == 3
    assert clip['human_mask'].any()


def test_bad_args():
    with pytest.raises(ValueError, match='motion'):
        make_clip('walk')
    with pytest.raises(ValueError, match=r'\(T, 17, 3\)'):
        make_clip(np.zeros((3, 16, 3)))
    joints = procedural_motion('walk', 2)['joints']
    assert len(VIEWPOINTS) == 4
    with pytest.raises(ValueError, match='image_size'):
        make_clip(joints, image_size=(1, 5))
