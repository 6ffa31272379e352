"""Pure tensor geometry: point sampling, cameras, bones, alignment.

Conventions (see docs and ``style.md``): batch-first with any leading dims
``*``; 2D points are pixels ``(x, y)``; flow is ``(N, 2, H, W)`` in pixels
with channel 0 = x; 3D joints are metres. Functions never modify inputs and
follow the inputs' device and dtype.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import check_shape


def sample_at_points(flow: Tensor, points: Tensor) -> Tuple[Tensor, Tensor]:
    """Bilinearly sample a dense field at pixel positions.

    Convention: pixel centres sit at integer coordinates, so ``(0, 0)`` is
    the centre of the top-left pixel and ``(W - 1, H - 1)`` the bottom-right
    one (``grid_sample`` with ``align_corners=True``). Points outside
    ``[0, W - 1] x [0, H - 1]`` get zero and ``False`` in the mask.

    Args:
        flow (Tensor): (N, C, H, W) field, e.g. flow in px with channel 0 = x.
        points (Tensor): (N, J, 2) pixel coordinates (x, y).

    Returns:
        tuple[Tensor, Tensor]: sampled values (N, J, C) and in-bounds mask
        (N, J); points outside the image get zero.

    Example:
        >>> flow = torch.arange(6.).view(1, 1, 2, 3)
        >>> sample_at_points(flow, torch.tensor([[[0.5, 1.0]]]))[0]
        tensor([[[3.5000]]])
    """
    check_shape(flow, ['N', 'C', 'H', 'W'], 'flow')
    check_shape(points, ['N', 'J', 2], 'points')
    if points.shape[0] != flow.shape[0]:
        raise ValueError(f'flow has {flow.shape[0]} items but points has '
                         f'{points.shape[0]}')
    height, width = flow.shape[-2:]
    x, y = points[..., 0], points[..., 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    inside = inside & torch.isfinite(x) & torch.isfinite(y)
    # Map pixels to [-1, 1]; a 1-pixel axis maps its only pixel to 0.
    grid_x = 2 * x / max(width - 1, 1) - 1
    grid_y = 2 * y / max(height - 1, 1) - 1
    grid = torch.stack([grid_x, grid_y], dim=-1)
    grid = torch.where(inside[..., None], grid, torch.zeros_like(grid))
    sampled = F.grid_sample(
        flow, grid[:, :, None, :], mode='bilinear', align_corners=True)
    sampled = sampled[..., 0].transpose(1, 2)  # (N, J, C)
    sampled = sampled * inside[..., None].to(sampled.dtype)
    return sampled, inside


BoneSpec = Union[Tensor, Sequence[Sequence[int]]]


def _bone_index(bones: BoneSpec, device) -> Tensor:
    """(E, 2) long tensor of (parent, child) ids from a tensor or pairs."""
    index = torch.as_tensor(bones, dtype=torch.long, device=device)
    if index.ndim != 2 or index.shape[-1] != 2:
        raise ValueError('bones must have shape (E, 2) of (parent, child) '
                         f'joint ids, got {tuple(index.shape)}')
    return index


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


def bone_vectors(pose: Tensor, bones: BoneSpec) -> Tensor:
    """Vectors from each bone's parent joint to its child joint.

    Convention: ``bones`` are ``(parent, child)`` joint ids, e.g.
    ``Skeleton.bone_index()``; the vector is ``child - parent`` in the
    pose's units. Non-finite joints give non-finite vectors.

    Args:
        pose (Tensor): (*, J, 3) joints.
        bones (Tensor | sequence): (E, 2) (parent, child) joint ids.

    Returns:
        Tensor: (*, E, 3) bone vectors.

    Example:
        >>> pose = torch.tensor([[0., 0., 0.], [0., 3., 4.]])
        >>> bone_vectors(pose, [[0, 1]])
        tensor([[0., 3., 4.]])
    """
    check_shape(pose, ['*', 'J', 3], 'pose')
    index = _bone_index(bones, pose.device)
    if index.numel() and (index.min() < 0 or index.max() >= pose.shape[-2]):
        raise ValueError(f'bones refer to joint ids outside [0, '
                         f'{pose.shape[-2]}) of pose')
    # index_select is much faster than advanced indexing on CPU.
    return (pose.index_select(-2, index[:, 1]) -
            pose.index_select(-2, index[:, 0]))


def bone_lengths(pose: Tensor, bones: BoneSpec) -> Tensor:
    """Euclidean length of each bone.

    Convention: see :func:`bone_vectors`; a zero-length bone has length 0
    and zero gradient (``torch.linalg.vector_norm`` at 0).

    Args:
        pose (Tensor): (*, J, 3) joints.
        bones (Tensor | sequence): (E, 2) (parent, child) joint ids.

    Returns:
        Tensor: (*, E) bone lengths in the pose's units.

    Example:
        >>> pose = torch.tensor([[0., 0., 0.], [0., 3., 4.]])
        >>> bone_lengths(pose, [[0, 1]])
        tensor([5.])
    """
    return torch.linalg.vector_norm(bone_vectors(pose, bones), dim=-1)


def procrustes_align(pred: Tensor,
                     target: Tensor,
                     eps: float = 1e-8,
                     return_transform: bool = False):
    """Similarity-align ``pred`` to ``target`` (scale, rotation, shift).

    Finds ``s, R, t`` minimising ``||s * pred @ R + t - target||^2`` per
    item by batched SVD.

    Convention: row vectors (``pred @ R``). Reflections are excluded: when
    ``det(R) < 0`` the direction of the smallest singular value is
    flipped, so ``R`` is always a proper rotation. Degenerate guard: when
    the centred ``pred`` has squared norm below ``eps`` (all joints on one
    point) ``s`` is 0 and the result is the target's centroid.

    Args:
        pred (Tensor): (*, J, 3) joints to align.
        target (Tensor): (*, J, 3) reference joints.
        eps (float): degenerate guard. Defaults to 1e-8.
        return_transform (bool): also return ``(s (*,), R (*, 3, 3),
            t (*, 3))``. Defaults to False.

    Returns:
        Tensor | tuple: (*, J, 3) aligned ``pred`` (and the transform).

    Example:
        >>> pred = torch.tensor([[0., 0., 0.], [1., 0., 0.], [0., 2., 0.]])
        >>> procrustes_align(pred, 3 * pred + 1).round(decimals=4)
        tensor([[1., 1., 1.],
                [4., 1., 1.],
                [1., 7., 1.]])
    """
    check_shape(pred, ['*', 'J', 3], 'pred')
    check_shape(target, ['*', 'J', 3], 'target')
    if pred.shape != target.shape:
        raise ValueError(f'pred {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} must have the same shape')
    mu_p = pred.mean(-2, keepdim=True)
    mu_t = target.mean(-2, keepdim=True)
    p0 = pred - mu_p
    t0 = target - mu_t
    M = p0.transpose(-1, -2) @ t0  # (*, 3, 3)
    U, S, Vh = torch.linalg.svd(M)
    sign = torch.sign(torch.linalg.det(U @ Vh))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    D = torch.ones_like(S)
    D = torch.cat([D[..., :2], sign[..., None]], dim=-1)
    R = (U * D[..., None, :]) @ Vh
    norm = (p0 * p0).sum((-1, -2))
    ok = norm > eps
    scale = torch.where(ok, (S * D).sum(-1) / torch.where(
        ok, norm, torch.ones_like(norm)), torch.zeros_like(norm))
    aligned = scale[..., None, None] * p0 @ R + mu_t
    if return_transform:
        t = mu_t[..., 0, :] - scale[..., None] * (mu_p @ R)[..., 0, :]
        return aligned, (scale, R, t)
    return aligned
