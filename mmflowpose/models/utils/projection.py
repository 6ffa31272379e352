"""Cameras as pure tensor functions: projection, rigid transforms, fits.

Conventions (``style.md``): 3D points are metres with any leading dims
``*``, coordinates last; 2D points are pixels ``(x, y)``. The weak camera
is ``(s, tx, ty)`` (px per metre, px); the perspective camera has focal
lengths and centre in px and optional Brown-Conrady distortion; extrinsics
follow the H36M convention (``R``, ``T`` map camera to world, see
:func:`world_to_camera`). Inputs are never modified; device and dtype follow
the inputs.
"""
from typing import Optional

import torch
from torch import Tensor

from .checks import check_shape


def project_weak_perspective(points: Tensor, cam: Tensor) -> Tensor:
    """Project 3D joints with a weak-perspective (scaled orthographic) camera.

    Convention: ``cam`` is ``(s, tx, ty)``: ``x = s * X + tx`` and
    ``y = s * Y + ty``; ``Z`` is ignored. With ``points`` in metres and the
    result in pixels, ``s`` is in px/m and ``(tx, ty)`` in px. No division
    happens, so any ``Z`` (even 0 or negative) is fine.

    Args:
        points (Tensor): (*, J, 3) joints, e.g. metres.
        cam (Tensor): (*, 3) per-item camera ``(s, tx, ty)``; its leading
            dims broadcast with those of ``points``.

    Returns:
        Tensor: (*, J, 2) pixel coordinates (x, y).

    Example:
        >>> pts = torch.tensor([[[1., 2., 5.]]])
        >>> project_weak_perspective(pts, torch.tensor([[10., 1., -1.]]))
        tensor([[[11., 19.]]])
    """
    check_shape(points, ['*', 'J', 3], 'points')
    check_shape(cam, ['*', 3], 'cam')
    return cam[..., None, :1] * points[..., :2] + cam[..., None, 1:]


def fit_weak_perspective(points3d: Tensor,
                         points2d: Tensor,
                         weights: Optional[Tensor] = None,
                         eps: float = 1e-8) -> Tensor:
    """Closed-form weighted least-squares weak-perspective camera per item.

    Minimises ``sum_j w_j * ||s * X_j[:2] + t - x_j||^2`` over ``(s, t)``.

    Convention: the same ``(s, tx, ty)`` as :func:`project_weak_perspective`.
    Joints whose 2D or 3D value is not finite get weight 0. When the
    weighted spread of ``X[:2]`` is below ``eps`` (all joints on one point,
    or fewer than 2 weighted joints) ``s`` is 0 and ``t`` the weighted mean
    of the 2D points; with no weighted joint at all the camera is 0.

    Args:
        points3d (Tensor): (*, J, 3) joints (metres).
        points2d (Tensor): (*, J, 2) pixel coordinates (x, y).
        weights (Tensor, optional): (*, J) non-negative joint weights.
            Defaults to None (all ones).
        eps (float): degenerate-spread guard. Defaults to 1e-8.

    Returns:
        Tensor: (*, 3) camera ``(s, tx, ty)``.

    Example:
        >>> X = torch.tensor([[[0., 0., 1.], [1., 1., 1.]]])
        >>> fit_weak_perspective(X, 2 * X[..., :2] + 3)
        tensor([[2., 3., 3.]])
    """
    check_shape(points3d, ['*', 'J', 3], 'points3d')
    check_shape(points2d, ['*', 'J', 2], 'points2d')
    xy3 = points3d[..., :2]
    valid = torch.isfinite(xy3).all(-1) & torch.isfinite(points2d).all(-1)
    if weights is None:
        weights = torch.ones_like(points2d[..., 0])
    else:
        check_shape(weights, ['*', 'J'], 'weights')
    weights = torch.where(valid & torch.isfinite(weights), weights,
                          torch.zeros_like(weights))
    xy3 = torch.where(valid[..., None], xy3, torch.zeros_like(xy3))
    xy2 = torch.where(valid[..., None], points2d, torch.zeros_like(points2d))
    total = weights.sum(-1, keepdim=True)  # (*, 1)
    safe_total = total.clamp_min(eps)
    mean3 = (weights[..., None] * xy3).sum(-2) / safe_total
    mean2 = (weights[..., None] * xy2).sum(-2) / safe_total
    d3 = xy3 - mean3[..., None, :]
    d2 = xy2 - mean2[..., None, :]
    num = (weights[..., None] * d3 * d2).sum((-1, -2))
    den = (weights[..., None] * d3 * d3).sum((-1, -2))
    ok = den > eps
    scale = torch.where(ok, num / torch.where(ok, den, torch.ones_like(den)),
                        torch.zeros_like(num))
    trans = mean2 - scale[..., None] * mean3
    return torch.cat([scale[..., None], trans], dim=-1)


def project_perspective(points: Tensor,
                        focal: Tensor,
                        center: Tensor,
                        radial: Optional[Tensor] = None,
                        tangential: Optional[Tensor] = None,
                        eps: float = 1e-6) -> Tensor:
    """Project camera-coordinate joints to distorted pixels (H36M model).

    Convention: camera axes x right, y down, z forward (H36M / mmpose
    ``SimpleCamera``). With ``(u, v) = (X / Z, Y / Z)`` and
    ``r2 = u^2 + v^2`` the distortion is, as in H36M and mmpose,
    ``d = 1 + k1 r2 + k2 r2^2 + k3 r2^3 + 2 (p2 u + p1 v)``,
    ``u' = u d + p2 r2``, ``v' = v d + p1 r2`` (equal to OpenCV's model
    with ``p1, p2`` in OpenCV's order); pixels are ``f * (u', v') + c``.
    Fewer than 3 radial terms are allowed (missing ones are 0). Depths with
    ``|Z| < eps`` are replaced by ``eps`` with Z's sign (``+eps`` at 0):
    this clamp has zero gradient w.r.t. Z and is pinned by a test.

    Args:
        points (Tensor): (*, J, 3) joints in camera coordinates (metres).
        focal (Tensor): (*, 2) focal lengths ``(fx, fy)`` in px.
        center (Tensor): (*, 2) principal point ``(cx, cy)`` in px.
        radial (Tensor, optional): (*, K) radial ``k1..kK`` with K <= 3.
            Defaults to None (no radial distortion).
        tangential (Tensor, optional): (*, 2) tangential ``(p1, p2)``.
            Defaults to None (no tangential distortion).
        eps (float): smallest depth magnitude. Defaults to 1e-6.

    Returns:
        Tensor: (*, J, 2) pixel coordinates (x, y).

    Example:
        >>> pts = torch.tensor([[[1., -1., 2.]]])
        >>> f, c = torch.tensor([[100., 100.]]), torch.tensor([[50., 40.]])
        >>> project_perspective(pts, f, c)
        tensor([[[100., -10.]]])
    """
    check_shape(points, ['*', 'J', 3], 'points')
    check_shape(focal, ['*', 2], 'focal')
    check_shape(center, ['*', 2], 'center')
    z = points[..., 2:]
    small = z.abs() < eps
    z_safe = torch.where(small, torch.where(z < 0, -eps, eps) + 0 * z, z)
    uv = points[..., :2] / z_safe
    if radial is not None or tangential is not None:
        r2 = (uv * uv).sum(-1, keepdim=True)
        factor = torch.ones_like(r2)
        if radial is not None:
            if radial.ndim < 1 or radial.shape[-1] > 3:
                raise ValueError('radial must have shape (*, K) with K <= 3, '
                                 f'got {tuple(radial.shape)}')
            power = r2
            for i in range(radial.shape[-1]):
                factor = factor + radial[..., None, i:i + 1] * power
                power = power * r2
        if tangential is not None:
            check_shape(tangential, ['*', 2], 'tangential')
            p1 = tangential[..., None, 0:1]
            p2 = tangential[..., None, 1:2]
            factor = factor + 2 * (p2 * uv[..., :1] + p1 * uv[..., 1:])
            uv = uv * factor + r2 * torch.cat(
                [p2.expand_as(r2), p1.expand_as(r2)], dim=-1)
        else:
            uv = uv * factor
    return focal[..., None, :] * uv + center[..., None, :]


def world_to_camera(points: Tensor, R: Tensor, T: Tensor) -> Tensor:
    """Move world joints to camera coordinates (H36M / mmpose convention).

    Convention: ``R`` is camera-to-world and ``T`` the camera centre in
    world coordinates, as stored in H36M ``cameras.pkl`` and read by
    mmpose ``SimpleCamera``. With row vectors ``X_c = (X_w - T^T) @ R``.
    Inverse: :func:`camera_to_world`. ``T`` may be ``(*, 3)`` or
    ``(*, 3, 1)``; units follow ``T`` (metres in the fixtures).

    Args:
        points (Tensor): (*, J, 3) world joints.
        R (Tensor): (*, 3, 3) camera-to-world rotation.
        T (Tensor): (*, 3) or (*, 3, 1) camera centre in world coordinates.

    Returns:
        Tensor: (*, J, 3) joints in camera coordinates.

    Example:
        >>> world_to_camera(torch.ones(1, 3), torch.eye(3), torch.ones(3))
        tensor([[0., 0., 0.]])
    """
    check_shape(points, ['*', 'J', 3], 'points')
    check_shape(R, ['*', 3, 3], 'R')
    T = _as_row_translation(T)
    return (points - T[..., None, :]) @ R


def camera_to_world(points: Tensor, R: Tensor, T: Tensor) -> Tensor:
    """Inverse of :func:`world_to_camera`: ``X_w = X_c @ R^T + T^T``.

    Convention: same ``R`` (camera-to-world) and ``T`` (camera centre) as
    :func:`world_to_camera`.

    Args:
        points (Tensor): (*, J, 3) joints in camera coordinates.
        R (Tensor): (*, 3, 3) camera-to-world rotation.
        T (Tensor): (*, 3) or (*, 3, 1) camera centre in world coordinates.

    Returns:
        Tensor: (*, J, 3) world joints.

    Example:
        >>> camera_to_world(torch.zeros(1, 3), torch.eye(3), torch.ones(3))
        tensor([[1., 1., 1.]])
    """
    check_shape(points, ['*', 'J', 3], 'points')
    check_shape(R, ['*', 3, 3], 'R')
    T = _as_row_translation(T)
    return points @ R.transpose(-1, -2) + T[..., None, :]


def _as_row_translation(T: Tensor) -> Tensor:
    if T.ndim >= 2 and T.shape[-2:] == (3, 1):
        return T[..., 0]
    check_shape(T, ['*', 3], 'T')
    return T


def fit_perspective_translation(points: Tensor,
                                points2d: Tensor,
                                focal: Tensor,
                                center: Tensor,
                                weights: Optional[Tensor] = None,
                                eps: float = 1e-8) -> Tensor:
    """Closed-form translation placing a pose in front of a pinhole camera.

    Solves the linear least squares (DLT) ``f_x (X + t_x) - (u - c_x)
    (Z + t_z) = 0`` and the same for ``y``, over ``t = (t_x, t_y, t_z)``.

    Convention: same camera axes as :func:`project_perspective`; distortion
    is ignored (it is small near the image centre). Joints with a
    non-finite input or zero weight are left out; with fewer than two such
    joints the system is singular and a small ridge (``eps``) keeps the
    solve finite. The error minimised is algebraic (scaled by depth), not
    the pixel error.

    Args:
        points (Tensor): (*, J, 3) root-relative joints (metres).
        points2d (Tensor): (*, J, 2) pixel coordinates (x, y).
        focal (Tensor): (*, 2) focal lengths in px.
        center (Tensor): (*, 2) principal point in px.
        weights (Tensor, optional): (*, J) joint weights. Defaults to None.
        eps (float): ridge added to the normal equations. Defaults to 1e-8.

    Returns:
        Tensor: (*, 3) translation (metres).

    Example:
        >>> X = torch.tensor([[[0., 0., 0.], [1., 1., 0.]]])
        >>> f, c = torch.tensor([[10., 10.]]), torch.zeros(1, 2)
        >>> x = project_perspective(X + torch.tensor([0., 0., 5.]), f, c)
        >>> t = fit_perspective_translation(X, x, f, c)
        >>> torch.allclose(t, torch.tensor([[0., 0., 5.]]), atol=1e-4)
        True
    """
    check_shape(points, ['*', 'J', 3], 'points')
    check_shape(points2d, ['*', 'J', 2], 'points2d')
    valid = torch.isfinite(points).all(-1) & torch.isfinite(points2d).all(-1)
    if weights is None:
        weights = torch.ones_like(points2d[..., 0])
    weights = torch.where(valid & torch.isfinite(weights), weights,
                          torch.zeros_like(weights))
    pts = torch.where(valid[..., None], points, torch.zeros_like(points))
    uv = torch.where(valid[..., None], points2d, torch.zeros_like(points2d))
    d = uv - center[..., None, :]  # (*, J, 2)
    f = focal[..., None, :].expand_as(d)
    zeros = torch.zeros_like(d[..., 0])
    # Rows for x: [fx, 0, -dx], rhs dx * Z - fx * X; rows for y likewise.
    row_x = torch.stack([f[..., 0], zeros, -d[..., 0]], dim=-1)
    row_y = torch.stack([zeros, f[..., 1], -d[..., 1]], dim=-1)
    rhs_x = d[..., 0] * pts[..., 2] - f[..., 0] * pts[..., 0]
    rhs_y = d[..., 1] * pts[..., 2] - f[..., 1] * pts[..., 1]
    A = torch.cat([row_x, row_y], dim=-2)  # (*, 2J, 3)
    b = torch.cat([rhs_x, rhs_y], dim=-1)  # (*, 2J)
    w = torch.cat([weights, weights], dim=-1)
    AtA = (A * w[..., None]).transpose(-1, -2) @ A
    Atb = ((A * w[..., None]) * b[..., None]).sum(-2)
    eye = torch.eye(3, dtype=A.dtype, device=A.device)
    scale = AtA.diagonal(dim1=-2, dim2=-1).mean(-1)[..., None, None]
    AtA = AtA + eps * (scale + 1) * eye
    return torch.linalg.solve(AtA, Atb[..., None])[..., 0]
