"""Tests of ``mmflowpose.models.utils`` geometry, projection, sampling.

Ladder per function: smoke / batch shapes, closed form or numpy reference,
round trip, float64 gradcheck; plus the real H36M fixture.
"""
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from mmflowpose.models.utils.geometry import (bone_lengths, bone_vectors,
                                              procrustes_align)
from mmflowpose.models.utils.projection import (
    camera_to_world, fit_perspective_translation, fit_weak_perspective,
    project_perspective, project_weak_perspective, world_to_camera)
from mmflowpose.models.utils.sampling import sample_at_points


def _rand(*shape, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=gen, dtype=dtype)


def _random_rotation(n, seed=0):
    q, _ = torch.linalg.qr(
        torch.randn(
            n,
            3,
            3,
            generator=torch.Generator().manual_seed(seed),
            dtype=torch.float64))
    det = torch.linalg.det(q)
    return q * torch.where(det < 0, -1.0, 1.0)[:, None, None]


def _np_distort_project(X, f, c, k, p):
    """Plain numpy loop reference of the H36M camera model."""
    out = np.zeros(X.shape[:-1] + (2, ))
    for j in range(X.shape[0]):
        u, v = X[j, 0] / X[j, 2], X[j, 1] / X[j, 2]
        r2 = u * u + v * v
        radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
        # OpenCV form of the same model, p1 = p[0], p2 = p[1].
        ud = u * radial + 2 * p[0] * u * v + p[1] * (r2 + 2 * u * u)
        vd = v * radial + p[0] * (r2 + 2 * v * v) + 2 * p[1] * u * v
        out[j] = [f[0] * ud + c[0], f[1] * vd + c[1]]
    return out


class TestProjectWeakPerspective:

    @pytest.mark.parametrize('lead', [(), (3, ), (2, 4)])
    def test_smoke_batch(self, lead, dtype):
        pts = torch.rand(*lead, 5, 3, dtype=dtype)
        cam = torch.rand(*lead, 3, dtype=dtype)
        out = project_weak_perspective(pts, cam)
        assert out.shape == (*lead, 5, 2) and out.dtype == dtype

    def test_closed_form(self):
        pts = torch.tensor([[[1., 2., 7.], [-1., 0., -3.]]])
        cam = torch.tensor([[2., 10., 20.]])
        expected = torch.tensor([[[12., 24.], [8., 20.]]])
        assert torch.equal(project_weak_perspective(pts, cam), expected)

    def test_bad_shape(self):
        with pytest.raises(ValueError, match='cam'):
            project_weak_perspective(torch.rand(2, 5, 3), torch.rand(2, 2))

    def test_gradcheck(self):
        pts = _rand(2, 4, 3).requires_grad_()
        cam = _rand(2, 3, seed=1).requires_grad_()
        assert gradcheck(project_weak_perspective, (pts, cam))


class TestFitWeakPerspective:

    def test_round_trip(self, tol):
        pts = torch.randn(3, 4, 17, 3, dtype=torch.float64)
        cam = torch.tensor([900., 320., 240.], dtype=torch.float64)
        cam = cam.expand(3, 4, 3)
        x = project_weak_perspective(pts, cam)
        assert torch.allclose(fit_weak_perspective(pts, x), cam)

    def test_numpy_lstsq_with_weights(self):
        pts = torch.randn(17, 3, dtype=torch.float64)
        x = torch.randn(17, 2, dtype=torch.float64) * 50
        w = torch.rand(17, dtype=torch.float64)
        # Reference: weighted lstsq on unknowns (s, tx, ty).
        A = np.zeros((34, 3))
        A[0::2, 0], A[0::2, 1] = pts[:, 0], 1
        A[1::2, 0], A[1::2, 2] = pts[:, 1], 1
        b = x.numpy().reshape(-1)
        sw = np.sqrt(np.repeat(w.numpy(), 2))
        ref = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)[0]
        out = fit_weak_perspective(pts, x, w)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-9)

    def test_convention_missing_joints_ignored(self):
        pts = torch.randn(17, 3, dtype=torch.float64)
        cam = torch.tensor([500., 10., 20.], dtype=torch.float64)
        x = project_weak_perspective(pts, cam)
        x[3] = float('nan')
        x[5] = 1e6  # outlier with weight 0
        w = torch.ones(17, dtype=torch.float64)
        w[5] = 0
        out = fit_weak_perspective(pts, x, w)
        assert torch.allclose(out, cam)

    def test_convention_degenerate(self):
        pts = torch.zeros(1, 4, 3)
        x = torch.full((1, 4, 2), 7.)
        assert torch.equal(
            fit_weak_perspective(pts, x), torch.tensor([[0., 7., 7.]]))
        w = torch.zeros(1, 4)
        assert torch.equal(fit_weak_perspective(pts, x, w), torch.zeros(1, 3))


class TestProjectPerspective:

    @pytest.mark.parametrize('lead', [(), (3, ), (2, 4)])
    def test_smoke_batch(self, lead, dtype):
        pts = torch.rand(*lead, 5, 3, dtype=dtype) + 1
        f = torch.rand(*lead, 2, dtype=dtype)
        out = project_perspective(pts, f, f, torch.rand(*lead, 3, dtype=dtype),
                                  torch.rand(*lead, 2, dtype=dtype))
        assert out.shape == (*lead, 5, 2) and out.dtype == dtype

    def test_closed_form_pinhole(self):
        pts = torch.tensor([[2., 4., 2.], [0., 0., 5.]])
        out = project_perspective(pts, torch.tensor([100., 200.]),
                                  torch.tensor([10., 20.]))
        assert torch.allclose(out, torch.tensor([[110., 420.], [10., 20.]]))

    def test_numpy_reference_distortion(self):
        pts = _rand(17, 3) - 0.5
        pts[:, 2] += 5
        f = torch.tensor([1145., 1144.], dtype=torch.float64)
        c = torch.tensor([512., 515.], dtype=torch.float64)
        k = torch.tensor([-0.2, 0.24, -0.003], dtype=torch.float64)
        p = torch.tensor([-0.0015, -0.0009], dtype=torch.float64)
        out = project_perspective(pts, f, c, k, p)
        ref = _np_distort_project(pts.numpy(), f.numpy(), c.numpy(), k.numpy(),
                                  p.numpy())
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)

    def test_matches_mmpose_simple_camera(self):
        from mmpose.utils.camera import SimpleCamera
        pts = _rand(4, 17, 3).numpy() - 0.5
        pts[..., 2] += 4
        param = dict(
            R=np.eye(3),
            T=np.zeros((3, 1)),
            f=[[1000.], [1010.]],
            c=[[500.], [490.]],
            k=[[-0.2], [0.2], [0.01]],
            p=[[0.001], [-0.002]])
        ref = SimpleCamera(param).camera_to_pixel(pts.astype(np.float32))
        out = project_perspective(
            torch.from_numpy(pts),
            torch.tensor([1000., 1010.]).double(),
            torch.tensor([500., 490.]).double(),
            torch.tensor([-0.2, 0.2, 0.01]).double(),
            torch.tensor([0.001, -0.002]).double())
        np.testing.assert_allclose(out.numpy(), ref[..., :2], atol=2e-3)

    def test_radial_fewer_terms(self):
        pts = _rand(6, 3) + 1
        f, c = torch.ones(2).double(), torch.zeros(2).double()
        k2 = torch.tensor([0.1, 0.05]).double()
        k3 = torch.tensor([0.1, 0.05, 0.]).double()
        assert torch.allclose(
            project_perspective(pts, f, c, k2),
            project_perspective(pts, f, c, k3))

    def test_convention_depth_clamp_zero_grad(self):
        pts = torch.tensor([[[1., 1., 0.], [1., 1., -1e-9]]],
                           requires_grad=True)
        out = project_perspective(pts, torch.ones(1, 2), torch.zeros(1, 2))
        assert torch.isfinite(out).all()
        assert torch.allclose(out[0, 0], torch.tensor([1e6, 1e6]))
        assert torch.allclose(out[0, 1], torch.tensor([-1e6, -1e6]))
        out.sum().backward()
        assert torch.equal(pts.grad[..., 2], torch.zeros(1, 2))

    def test_gradcheck(self):
        pts = (_rand(2, 4, 3) + 1).requires_grad_()
        f = (_rand(2, 2, seed=1) + 1).requires_grad_()
        c = _rand(2, 2, seed=2).requires_grad_()
        k = (_rand(2, 3, seed=3) * 0.1).requires_grad_()
        p = (_rand(2, 2, seed=4) * 0.01).requires_grad_()
        assert gradcheck(project_perspective, (pts, f, c, k, p))


class TestWorldToCamera:

    def test_round_trip_and_mmpose(self):
        from mmpose.utils.camera import SimpleCamera
        R = _random_rotation(1)[0]
        T = torch.tensor([[1.], [2.], [3.]], dtype=torch.float64)
        pts = _rand(5, 17, 3)
        cam = world_to_camera(pts, R, T)
        ref = SimpleCamera(
            dict(R=R.numpy(), T=T.numpy(), f=[[1.], [1.]],
                 c=[[0.], [0.]])).world_to_camera(pts.numpy())
        np.testing.assert_allclose(cam.numpy(), ref, atol=1e-5)
        assert torch.allclose(camera_to_world(cam, R, T[:, 0]), pts)

    def test_closed_form(self):
        R = torch.tensor([[0., 1., 0.], [-1., 0., 0.], [0., 0., 1.]])
        T = torch.tensor([1., 0., 0.])
        pts = torch.tensor([[2., 0., 0.]])
        # (2 - 1, 0, 0) @ R = first row of R.
        assert torch.equal(
            world_to_camera(pts, R, T), torch.tensor([[0., 1., 0.]]))

    def test_batch_and_gradcheck(self):
        R = _random_rotation(3).requires_grad_()
        T = _rand(3, 3).requires_grad_()
        pts = _rand(3, 6, 3).requires_grad_()
        assert world_to_camera(pts, R, T).shape == (3, 6, 3)
        assert gradcheck(world_to_camera, (pts, R, T))

    def test_bad_translation(self):
        with pytest.raises(ValueError, match='T'):
            world_to_camera(torch.rand(4, 3), torch.eye(3), torch.rand(2))


class TestFitPerspectiveTranslation:

    def test_round_trip(self):
        pose = (_rand(2, 3, 17, 3) - 0.5)
        trans = torch.tensor([0.3, -0.2, 5.], dtype=torch.float64)
        f = torch.tensor([1100., 1000.], dtype=torch.float64)
        c = torch.tensor([500., 480.], dtype=torch.float64)
        x = project_perspective(pose + trans, f, c)
        out = fit_perspective_translation(pose, x, f, c)
        assert torch.allclose(out, trans.expand(2, 3, 3), atol=1e-8)

    def test_missing_joints(self):
        pose = _rand(17, 3) - 0.5
        trans = torch.tensor([0.1, 0.2, 4.], dtype=torch.float64)
        f, c = torch.full((2, ), 1000.).double(), torch.zeros(2).double()
        x = project_perspective(pose + trans, f, c)
        x[0] = float('nan')
        w = torch.ones(17, dtype=torch.float64)
        x[1], w[1] = 1e5, 0
        out = fit_perspective_translation(pose, x, f, c, w)
        assert torch.allclose(out, trans, atol=1e-8)


class TestBones:

    def test_closed_form(self):
        pose = torch.tensor([[0., 0., 0.], [3., 4., 0.], [3., 4., 12.]])
        bones = [[0, 1], [1, 2]]
        assert torch.equal(
            bone_vectors(pose, bones),
            torch.tensor([[3., 4., 0.], [0., 0., 12.]]))
        assert torch.equal(
            bone_lengths(pose, torch.tensor(bones)), torch.tensor([5., 12.]))

    def test_batch_numpy(self):
        from mmflowpose.models.utils.skeleton import load_skeleton
        sk = load_skeleton('h36m')
        pose = _rand(2, 5, 17, 3)
        out = bone_lengths(pose, sk.bone_index())
        assert out.shape == (2, 5, len(sk.bones))
        ref = np.stack([
            np.linalg.norm(
                pose.numpy()[..., b, :] - pose.numpy()[..., a, :], axis=-1)
            for a, b in sk.bones
        ], -1)
        np.testing.assert_allclose(out.numpy(), ref)

    def test_convention_zero_length_zero_grad(self):
        pose = torch.zeros(2, 3, requires_grad=True)
        bone_lengths(pose, [[0, 1]]).sum().backward()
        assert torch.equal(pose.grad, torch.zeros(2, 3))

    def test_bad_bones(self):
        with pytest.raises(ValueError, match='bones'):
            bone_vectors(torch.rand(3, 3), [[0, 5]])
        with pytest.raises(ValueError, match='bones'):
            bone_vectors(torch.rand(3, 3), [0, 1])

    def test_gradcheck(self):
        pose = _rand(2, 4, 3).requires_grad_()
        assert gradcheck(lambda p: bone_lengths(p, [[0, 1], [1, 2], [1, 3]]),
                         (pose, ))


class TestProcrustes:

    def test_recovers_similarity(self):
        pred = _rand(4, 17, 3)
        R = _random_rotation(4)
        target = 2.5 * pred @ R + torch.tensor([1., 2., 3.]).double()
        aligned, (s, R_est, t) = procrustes_align(
            pred, target, return_transform=True)
        assert torch.allclose(aligned, target, atol=1e-9)
        assert torch.allclose(s, torch.full((4, ), 2.5).double())
        assert torch.allclose(R_est, R, atol=1e-9)
        assert torch.allclose(s[:, None, None] * pred @ R_est + t[:, None],
                              target)

    def test_scipy_reference(self):
        from scipy.spatial.transform import Rotation
        pred = _rand(17, 3, seed=3)
        target = _rand(17, 3, seed=4)
        # Independent reference: best rotation of centred sets, then scale.
        p0 = pred.numpy() - pred.numpy().mean(0)
        t0 = target.numpy() - target.numpy().mean(0)
        rot, _ = Rotation.align_vectors(t0, p0)
        rotated = rot.apply(p0)
        s = (rotated * t0).sum() / (p0**2).sum()
        ref = s * rotated + target.numpy().mean(0)
        out = procrustes_align(pred, target)
        np.testing.assert_allclose(out.numpy(), ref, atol=1e-9)

    def test_convention_reflection_fixed(self):
        pred = _rand(3, 10, 3)
        mirror = pred * torch.tensor([-1., 1., 1.]).double()
        _, (_, R, _) = procrustes_align(pred, mirror, return_transform=True)
        assert torch.allclose(torch.linalg.det(R), torch.ones(3).double())

    def test_convention_degenerate(self):
        pred = torch.ones(1, 5, 3)
        target = torch.rand(1, 5, 3)
        out = procrustes_align(pred, target)
        assert torch.isfinite(out).all()
        assert torch.allclose(out,
                              target.mean(-2, keepdim=True).expand_as(out))

    def test_gradcheck(self):
        pred = _rand(2, 6, 3).requires_grad_()
        target = _rand(2, 6, 3, seed=1)
        assert gradcheck(lambda p: procrustes_align(p, target), (pred, ))


class TestSampleAtPoints:

    def test_bilinear_numpy(self):
        flow = _rand(2, 2, 5, 7)
        pts = torch.tensor([[[1.25, 3.5], [6., 4.], [0., 0.]],
                            [[2.5, 0.75], [-0.1, 2.], [3., 4.1]]]).double()
        out, inside = sample_at_points(flow, pts)
        assert inside.tolist() == [[True, True, True], [True, False, False]]
        f = flow.numpy()
        for n in range(2):
            for j in range(3):
                if not inside[n, j]:
                    assert out[n, j].abs().sum() == 0
                    continue
                x, y = pts[n, j].tolist()
                x0, y0 = int(np.floor(x)), int(np.floor(y))
                x1, y1 = min(x0 + 1, 6), min(y0 + 1, 4)
                ax, ay = x - x0, y - y0
                ref = ((1 - ax) * (1 - ay) * f[n, :, y0, x0] + ax *
                       (1 - ay) * f[n, :, y0, x1] +
                       (1 - ax) * ay * f[n, :, y1, x0] +
                       ax * ay * f[n, :, y1, x1])
                np.testing.assert_allclose(out[n, j].numpy(), ref)


def _h36m_cameras(fixtures):
    with open(fixtures('mmpose', 'h36m', 'cameras.pkl'), 'rb') as f:
        return pickle.load(f, encoding='latin1')


def test_h36m_fixture_projection(fixtures):
    """Project real H36M camera-frame joints with the real cameras."""
    data = np.load(fixtures('mmpose', 'h36m', 'test_h36m_body3d.npz'))
    cams = _h36m_cameras(fixtures)
    errors = []
    for name, S, part in zip(data['imgname'], data['S'], data['part']):
        subject = osp.basename(name).split('_')[0]
        camera_id = osp.basename(osp.dirname(name)).split('.')[-1]
        cam = cams[(subject, camera_id)]
        out = project_perspective(
            torch.from_numpy(S[:, :3]),
            torch.from_numpy(cam['f'][:, 0]).double(),
            torch.from_numpy(cam['c'][:, 0]).double(),
            torch.from_numpy(cam['k'][:, 0]).double(),
            torch.from_numpy(cam['p'][:, 0]).double())
        errors.append(np.linalg.norm(out.numpy() - part[:, :2], axis=-1))
        pinhole = project_perspective(
            torch.from_numpy(S[:, :3]),
            torch.from_numpy(cam['f'][:, 0]).double(),
            torch.from_numpy(cam['c'][:, 0]).double())
        assert np.abs(pinhole.numpy() - out.numpy()).max() > 0.3
    errors = np.stack(errors)
    assert errors.max() < 0.3, errors.max()
    assert errors.mean() < 0.1, errors.mean()


def test_h36m_fixture_sample_at_points(fixtures):
    """Sample a synthetic field at real H36M keypoints (1000 px images)."""
    data = np.load(fixtures('mmpose', 'h36m', 'test_h36m_body3d.npz'))
    pts = torch.from_numpy(data['part'][:, :, :2])  # (4, 17, 2) px
    H, W = 1002, 1000
    ys, xs = torch.meshgrid(
        torch.arange(H, dtype=torch.float64),
        torch.arange(W, dtype=torch.float64),
        indexing='ij')
    # An affine field is reproduced exactly by bilinear sampling.
    field = torch.stack([0.5 * xs - 0.25 * ys + 3, 0.1 * xs + 2 * ys])
    field = field.expand(4, 2, H, W)
    out, inside = sample_at_points(field, pts)
    assert inside.all()
    ref = torch.stack([
        0.5 * pts[..., 0] - 0.25 * pts[..., 1] + 3,
        0.1 * pts[..., 0] + 2 * pts[..., 1]
    ], -1)
    assert torch.allclose(out, ref, atol=1e-9)
