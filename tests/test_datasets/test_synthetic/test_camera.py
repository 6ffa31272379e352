import numpy as np
import pytest

from mmflowpose.datasets.synthetic import (look_at, make_camera,
                                           procedural_motion, project,
                                           to_h36m_camera)


def test_look_at_axes():
    # Camera on +z looking at the origin: world x -> image right (+x cam),
    # world up -> image up (-y cam), depth = 5.
    R, t = look_at([0, 0, 5.], [0, 0, 0])
    cam = R @ np.array([1., 2., 0.]) + t
    np.testing.assert_allclose(cam, [1., -2., 5.], atol=1e-12)
    assert np.isclose(np.linalg.det(R), 1)


def test_project_closed_form():
    K = np.array([[100., 0, 32], [0, 100., 24], [0, 0, 1]])
    R, t = np.eye(3), np.zeros(3)
    uv, cam = project(np.array([[0.1, -0.2, 2.0]]), K, R, t)
    np.testing.assert_allclose(uv, [[37., 14.]])


@pytest.mark.parametrize('orbit', [0.0, 3.0])
def test_make_camera_frames_body(orbit):
    joints = procedural_motion('walk', 20, seed=0)['joints']
    cam = make_camera(joints, (64, 96), orbit_deg_per_frame=orbit, fill=0.8)
    assert cam['R'].shape == (20, 3, 3) and cam['t'].shape == (20, 3)
    uv, xyz = project(joints.astype(np.float64), cam['K'], cam['R'][:, None],
                      cam['t'][:, None])
    assert np.all(xyz[..., 2] > 0)
    assert np.all((uv >= 0) & (uv <= [95, 63]))
    assert cam['static'] == (orbit == 0)
    if orbit == 0:
        np.testing.assert_array_equal(cam['R'], cam['R'][:1].repeat(20, 0))


def test_front_view_sees_left_on_image_right():
    joints = procedural_motion('static', 1, seed=0)['joints']
    cam = make_camera(joints, (64, 64), azimuth_deg=0, elevation_deg=0)
    uv, _ = project(joints.astype(np.float64), cam['K'], cam['R'][:, None],
                    cam['t'][:, None])
    assert uv[0, 4, 0] > uv[0, 1, 0]  # left hip right of the right hip


def test_to_h36m_camera_round_trip():
    joints = procedural_motion('walk', 3, seed=0)['joints'].astype(float)
    cam = make_camera(joints, (64, 96))
    h36m = to_h36m_camera(cam, 0, 'cam0')
    pts = joints[0]
    x = (h36m['R'] @ (pts.T - h36m['T'])).T
    uv = x[:, :2] / x[:, 2:] * h36m['f'].T + h36m['c'].T
    np.testing.assert_allclose(uv, project(pts, cam['K'], cam['R'][0],
                                           cam['t'][0])[0], atol=1e-9)
    assert (h36m['w'], h36m['h']) == (96, 64)
    assert h36m['k'].shape == (3, 1) and h36m['p'].shape == (2, 1)
