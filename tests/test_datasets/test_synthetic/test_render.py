import numpy as np
import torch

from mmflowpose.datasets.synthetic.render import (bone_frames, ray_capsules,
                                                  ray_room)
from mmflowpose.datasets.synthetic.clip import H36M_BONES, H36M_NAMES
from mmflowpose.datasets.synthetic import procedural_motion


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
