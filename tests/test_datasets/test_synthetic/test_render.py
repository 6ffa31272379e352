import cv2
import numpy as np
import pytest
import torch

from mmflowpose.datasets.synthetic import make_clip, procedural_motion
from mmflowpose.datasets.synthetic.appearance import (_FACE, EYES, HAIR,
                                                      HEAD_CENTRE, PRINT,
                                                      SHOES, SKIN,
                                                      BodyAppearance,
                                                      rest_frames)
from mmflowpose.datasets.synthetic.clip import H36M_BONES, H36M_NAMES
from mmflowpose.datasets.synthetic.render import (bone_frames, ray_capsules,
                                                  ray_room)


def _ref_capsule(o, d, a, b, r):
    """Plain loop reference: march along the ray, first point inside."""
    ts = np.linspace(0, 10, 200001)
    pts = o + ts[:, None] * d
    ab = b - a
    s = np.clip(((pts - a) @ ab) / (ab @ ab), 0, 1)
    dist = np.linalg.norm(pts - (a + s[:, None] * ab), axis=1)
    inside = np.nonzero(dist <= r)[0]
    return ts[inside[0]] if len(inside) else np.inf


def test_ray_capsules_matches_marching():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3)) * 0.3
    b = a + rng.normal(size=(3, 3)) * 0.4
    r = np.array([0.1, 0.2, 0.05])
    origin = np.array([0.2, 0.1, 4.0])
    targets = np.concatenate([a, b, 0.5 * (a + b), rng.normal(size=(8, 3))])
    dirs = targets - origin
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    got = ray_capsules(torch.tensor(origin), torch.tensor(dirs),
                       torch.tensor(a), torch.tensor(b),
                       torch.tensor(r)).numpy()
    for n in range(len(dirs)):
        for e in range(3):
            ref = _ref_capsule(origin, dirs[n], a[e], b[e], r[e])
            if np.isinf(ref):
                assert np.isinf(got[n, e])
            else:
                assert abs(got[n, e] - ref) < 1e-3, (n, e, got[n, e], ref)


def test_ray_room_closed():
    room = dict(floor=0.0, ceiling=6.0, centre=(0.0, 0.0), radius=10.0)
    dirs = torch.tensor([[0., -1, 0], [0, 1, 0], [1, 0, 0], [0.6, 0, 0.8]],
                        dtype=torch.float64)
    t = ray_room(torch.tensor([0., 1.5, 0], dtype=torch.float64), dirs, room)
    np.testing.assert_allclose(t.numpy(), [1.5, 4.5, 10.0, 10.0])


def test_bone_frames_orthonormal_and_axial():
    joints = torch.tensor(procedural_motion('walk', 6, seed=2)['joints'],
                          dtype=torch.float64)
    bones = torch.tensor(H36M_BONES)
    a, b, frames = bone_frames(joints, bones, H36M_NAMES)
    eye = torch.eye(3, dtype=torch.float64).expand_as(frames)
    torch.testing.assert_close(frames.transpose(-1, -2) @ frames, eye)
    axis = (b - a) / (b - a).norm(dim=-1, keepdim=True)
    torch.testing.assert_close(frames[..., 2], axis)
    assert torch.all(torch.linalg.det(frames) > 0)


# Appearance (appearance.py): a face on the front of the head, hair on the
# back, colours fixed to the bone-local surface point.
HEAD = H36M_BONES.index((9, 10))


def _appearance(seed, ref_len=None):
    """The palette of a clip rendered with ``seed``, without the waves."""
    ref_len = torch.ones(len(H36M_BONES), dtype=torch.float64) \
        if ref_len is None else ref_len
    return BodyAppearance(H36M_NAMES, H36M_BONES, ref_len,
                          lambda q, g: torch.zeros_like(q), seed)


def test_palettes_separate_hair_from_skin():
    # The face is read against the hair: every pair must differ clearly.
    for skin in SKIN:
        for hair in HAIR:
            assert np.linalg.norm(np.subtract(skin, hair)) > 80, (skin, hair)


def test_appearance_regions_and_face_direction():
    ref_len = torch.full((len(H36M_BONES), ), 0.3, dtype=torch.float64)
    app = _appearance(5, ref_len)
    rest = torch.as_tensor(rest_frames(H36M_NAMES, H36M_BONES))

    def head_point(azimuth, elevation):
        # body axes (left, up, forward) -> the head bone's local frame
        body = torch.tensor([
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
            np.cos(elevation) * np.cos(azimuth)
        ])
        centre = torch.tensor([0, 0, HEAD_CENTRE * 0.3])
        return centre + 0.1 * rest[HEAD].T @ body

    eye_az, eye_el = _FACE['eyes'][0][:2]
    q = torch.stack([
        head_point(eye_az, eye_el),  # an eye
        head_point(np.pi, 0.0),  # the back of the head
        head_point(0.4, -0.1),  # a cheek: skin
    ])
    colour = app(q, torch.full((3, ), HEAD)).numpy()
    np.testing.assert_allclose(colour[0], EYES, atol=1)
    np.testing.assert_allclose(colour[1], app.hair.numpy(), atol=1)
    np.testing.assert_allclose(colour[2], app.base[HEAD].numpy(), atol=1)
    # shoes on the shin's last centimetres only; clothes elsewhere
    shin = H36M_BONES.index((5, 6))
    forearm = H36M_BONES.index((12, 13))
    torso = H36M_BONES.index((0, 7))
    q = torch.tensor([[0.05, 0, 0.295], [0.05, 0, 0.1], [0.04, 0, 0.1],
                      [0.1, 0, 0.1]], dtype=torch.float64)
    colour = app(q, torch.tensor([shin, shin, forearm, torso])).numpy()
    np.testing.assert_allclose(colour[0], SHOES, atol=1)
    assert np.abs(colour[1] - SHOES).max() > 20
    np.testing.assert_allclose(colour[2], app.base[HEAD].numpy())  # skin
    assert not np.allclose(colour[3], colour[2])  # shirt
    # the chest print: on the front of the chest, not on its back
    chest = H36M_BONES.index((7, 8))
    axial = torch.tensor([0, 0, PRINT[1] * 0.3], dtype=torch.float64)
    fwd = rest[chest].T @ torch.tensor([0, 0, 1.0], dtype=torch.float64)
    q = torch.stack([axial + 0.14 * fwd, axial - 0.14 * fwd])
    colour = app(q, torch.full((2, ), chest)).numpy()
    np.testing.assert_allclose(colour[0], app.print_rgb.numpy(), atol=1)
    np.testing.assert_allclose(colour[1], app.base[chest].numpy(), atol=1)


def _head_pixels(azimuth, seed=3):
    clip = make_clip(
        'procedural:static',
        camera=dict(azimuth_deg=azimuth, elevation_deg=10.0),
        image_size=(128, 128),
        seed=seed,
        num_frames=2)
    ids = {n: i for i, n in enumerate(H36M_NAMES)}
    joints = clip['joints_3d_world'][0]
    fwd = np.cross(joints[ids['left_hip']] - joints[ids['right_hip']],
                   joints[ids['spine']] - joints[ids['root']])
    cam = -clip['camera']['R'][0].T @ clip['camera']['t'][0]
    to_cam = cam - joints[ids['head']]
    facing = fwd @ to_cam / np.linalg.norm(fwd) / np.linalg.norm(to_cam)
    head = clip['part'][0] == HEAD
    return clip['frames'][0][head].astype(np.float64), facing


@pytest.mark.parametrize('seed', [3, 4])
def test_face_seen_from_front_hair_from_back(seed):
    app = _appearance(seed)
    hair, skin = app.hair.numpy(), app.base[HEAD].numpy()
    front, facing_front = _head_pixels(0.0, seed)
    back, facing_back = _head_pixels(180.0, seed)
    assert facing_front > 0.8 and facing_back < -0.8
    assert len(front) > 30 and len(back) > 30

    def share_near(pixels, rgb):
        return float((np.linalg.norm(pixels - rgb, axis=-1) < 45).mean())

    assert share_near(back, hair) > 0.7
    assert share_near(front, hair) < 0.35
    assert share_near(front, skin) > 0.4
    assert share_near(back, skin) < 0.1
    # the eyes' dark pixels: only in the front view
    dark = np.linalg.norm(front - np.asarray(EYES), axis=-1) < 45
    assert dark.sum() >= 2


def test_face_colour_follows_the_moving_head():
    # Walking person, orbiting camera: the head moves ~1-3 px a frame. A
    # texture tied to the surface point is carried by the exact flow, so
    # warping the next frame back reproduces the face; a texture fixed in
    # the world (or the camera) would not.
    clip = make_clip('procedural:walk', camera=3, image_size=(160, 160),
                     seed=2, num_frames=3, fps=10.0)
    height, width = clip['frames'].shape[1:3]
    gx, gy = np.meshgrid(np.arange(width, dtype=np.float32),
                         np.arange(height, dtype=np.float32))
    for i in range(2):
        flow = clip['flow'][i]
        cur = clip['frames'][i].astype(np.float32)
        nxt = clip['frames'][i + 1].astype(np.float32)
        warped = cv2.remap(nxt, gx + flow[..., 0], gy + flow[..., 1],
                           cv2.INTER_LINEAR)
        part = clip['part'][i].astype(np.float32)
        inner = (cv2.erode(part, np.ones((3, 3))) == HEAD) & \
            (cv2.dilate(part, np.ones((3, 3))) == HEAD) & \
            ~clip['occlusion'][i]
        assert inner.sum() > 20
        moved = np.abs(flow[inner]).max()
        assert moved > 0.5
        err = np.abs(warped - cur).mean(-1)[inner]
        err_zero = np.abs(nxt - cur).mean(-1)[inner]
        assert np.median(err) < 3.0
        assert err.mean() < 0.5 * err_zero.mean()
