"""Ray-cast a textured capsule body with exact dense flow (torch).

The scene: one capsule per H36M bone (segment ``a -> b`` of radius ``r``)
inside a closed "room" (floor at the feet, a ceiling, and a vertical
cylinder wall), all with smooth solid textures; the body also wears
clothes, skin and a face (:mod:`.appearance`). Rendering is point sampled
at pixel centres (integer pixel coordinates), no shading, so a surface point
keeps its colour over time (brightness constancy holds exactly).

Every bone carries a frame ``F`` (3, 3): its third column is the bone axis,
the other two follow the body (pelvis frame from the hips and the spine)
by the smallest rotation from a canonical direction, so limbs do not spin.
A hit point has local coordinates ``q = F.T @ (p - a)``; the axial one is
mapped to the bone's clip-median length (the cylinder part stretches, the
end caps stay rigid), so the same surface point at t + 1 is
``a' + F' @ q'`` and the flow is the image motion of that point. The
background is static in the world. A pixel is occluded when its surface
point at t + 1 is hidden (a ray from the t + 1 camera hits something
``eps`` before it) or leaves the image (the union of the pixels'
footprints, ``[-0.5, W - 0.5) x [-0.5, H - 0.5)``).
"""
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from .appearance import BodyAppearance, rest_frames

# Capsule radius (metres) per bone, by (parent, child) joint names; right
# side bones use the left values.
BONE_RADII = {
    ('root', 'left_hip'): 0.09,
    ('left_hip', 'left_knee'): 0.075,
    ('left_knee', 'left_foot'): 0.055,
    ('root', 'spine'): 0.13,
    ('spine', 'thorax'): 0.14,
    ('thorax', 'neck_base'): 0.06,
    ('neck_base', 'head'): 0.10,
    ('thorax', 'left_shoulder'): 0.065,
    ('left_shoulder', 'left_elbow'): 0.05,
    ('left_elbow', 'left_wrist'): 0.04,
}


def bone_radii(joint_names: Sequence[str],
               bones: Sequence[Tuple[int, int]]) -> np.ndarray:
    """(E,) capsule radii for a skeleton's bones (see :data:`BONE_RADII`)."""
    out = []
    for p, c in bones:
        key = tuple(joint_names[i].replace('right', 'left') for i in (p, c))
        if key not in BONE_RADII:
            raise ValueError(f'no capsule radius for bone {key}')
        out.append(BONE_RADII[key])
    return np.asarray(out)


def _normalize(v: Tensor) -> Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def bone_frames(joints: Tensor, bones: Tensor,
                joint_names: Sequence[str]) -> Tuple[Tensor, Tensor, Tensor]:
    """Capsule end points and frames of every bone in every frame.

    Args:
        joints (Tensor): (T, 17, 3) world metres, H36M-17.
        bones (Tensor): (E, 2) long (parent, child).
        joint_names (sequence[str]): the 17 names.

    Returns:
        tuple[Tensor, Tensor, Tensor]: starts ``a`` (T, E, 3), ends ``b``
        (T, E, 3), frames ``F`` (T, E, 3, 3) whose columns are
        (e1, e2, axis).
    """
    ids = {n: i for i, n in enumerate(joint_names)}
    a, b = joints[:, bones[:, 0]], joints[:, bones[:, 1]]
    left = _normalize(joints[:, ids['left_hip']] - joints[:, ids['right_hip']])
    spine = joints[:, ids['spine']] - joints[:, ids['root']]
    fwd = _normalize(torch.cross(left, spine, dim=-1))
    up = torch.cross(fwd, left, dim=-1)
    body = torch.stack([left, up, fwd], dim=-1)  # (T, 3, 3) world<-body
    axis = _normalize(b - a)
    axis_body = torch.einsum('tji,tej->tei', body, axis)
    rest_frame = axis.new_tensor(rest_frames(joint_names, bones.tolist()))
    rest = rest_frame[..., 2]
    # Smallest rotation taking the rest direction onto the current one.
    v = torch.cross(rest.expand_as(axis_body), axis_body, dim=-1)
    c = (rest * axis_body).sum(-1).clamp_min(-1 + 1e-6)
    vx = torch.zeros(v.shape + (3, ), dtype=v.dtype, device=v.device)
    vx[..., 0, 1], vx[..., 0, 2] = -v[..., 2], v[..., 1]
    vx[..., 1, 0], vx[..., 1, 2] = v[..., 2], -v[..., 0]
    vx[..., 2, 0], vx[..., 2, 1] = -v[..., 1], v[..., 0]
    eye = torch.eye(3, dtype=v.dtype, device=v.device)
    rot = eye + vx + vx @ vx / (1 + c)[..., None, None]
    frames = body[:, None] @ rot @ rest_frame
    return a, b, frames


def ray_capsules(origin: Tensor, dirs: Tensor, a: Tensor, b: Tensor,
                 radius: Tensor) -> Tensor:
    """Distance to the first hit of rays from one point with capsules.

    A capsule is the union of a finite cylinder and two end spheres, so the
    first hit is the smallest of their front hits. The origin must lie
    outside every capsule. With one origin all per-capsule terms are (E,)
    and the per-ray ones come from (N, 3) @ (3, E) products.

    Args:
        origin (Tensor): (3,) common ray origin (a camera centre).
        dirs (Tensor): (N, 3) unit directions.
        a (Tensor): (E, 3) segment starts.
        b (Tensor): (E, 3) segment ends.
        radius (Tensor): (E,) radii.

    Returns:
        Tensor: (N, E) ray parameter of the hit (metres along the ray), inf
        on a miss.
    """
    if origin.shape != (3, ):
        raise ValueError(f'origin must have shape (3,), got '
                         f'{tuple(origin.shape)}')
    inf = torch.full((), float('inf'), dtype=dirs.dtype, device=dirs.device)
    r2 = radius.square()

    def sphere(centre):
        oc = origin - centre  # (E, 3)
        half_b = dirs @ oc.T
        disc = half_b.square() - (oc.square().sum(-1) - r2)
        t = -half_b - disc.clamp_min(0).sqrt()
        return torch.where((disc >= 0) & (t > 0), t, inf)

    ba = b - a
    oa = origin - a
    baba = ba.square().sum(-1)
    bard = dirs @ ba.T
    baoa = (oa * ba).sum(-1)
    rdoa = dirs @ oa.T
    qa = baba - bard.square()
    qb = baba * rdoa - baoa * bard
    qc = baba * oa.square().sum(-1) - baoa.square() - r2 * baba
    disc = qb.square() - qa * qc
    t = (-qb - disc.clamp_min(0).sqrt()) / qa.clamp_min(1e-12)
    y = baoa + t * bard
    body_ok = (disc >= 0) & (qa > 1e-12) & (t > 0) & (y >= 0) & (y <= baba)
    t_body = torch.where(body_ok, t, inf)
    return torch.minimum(t_body, torch.minimum(sphere(a), sphere(b)))


def ray_room(origin: Tensor, dirs: Tensor, room: Dict) -> Tensor:
    """(N,) distance from ``origin`` (3,) along ``dirs`` (N, 3) to the room
    (floor, ceiling, cylinder wall)."""
    inf = torch.full((), float('inf'), dtype=dirs.dtype, device=dirs.device)
    origin = origin.expand_as(dirs)
    dy = dirs[:, 1]
    t_floor = (room['floor'] - origin[:, 1]) / dy
    t_ceil = (room['ceiling'] - origin[:, 1]) / dy
    t_y = torch.where(dy < 0, t_floor, t_ceil)
    t_y = torch.where((dy.abs() > 1e-9) & (t_y > 0), t_y, inf)
    centre = dirs.new_tensor(room['centre'])
    ox, oz = origin[:, 0] - centre[0], origin[:, 2] - centre[1]
    dx, dz = dirs[:, 0], dirs[:, 2]
    qa = dx.square() + dz.square()
    qb = ox * dx + oz * dz
    qc = ox.square() + oz.square() - room['radius']**2
    disc = qb.square() - qa * qc
    t_wall = (-qb + disc.clamp_min(0).sqrt()) / qa.clamp_min(1e-12)
    t_wall = torch.where((qa > 1e-12) & (disc >= 0) & (t_wall > 0), t_wall,
                         inf)
    return torch.minimum(t_y, t_wall)


class SolidTexture:
    """Smooth RGB solid texture: a sum of random plane waves.

    ``colour(p) = base + sum_m amp_m * rgb_m * sin(k_m . p + phi_m)`` with
    wavelengths in ``[scale, 3 * scale]`` metres; one texture per group
    (e.g. per bone).
    """

    def __init__(self,
                 num_groups: int,
                 scale: float,
                 seed: int,
                 waves: int = 5):
        rng = np.random.default_rng(seed)
        dirs = rng.normal(size=(num_groups, waves, 3))
        dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
        wavelength = rng.uniform(scale, 3 * scale, (num_groups, waves, 1))
        self.k = dirs * (2 * np.pi / wavelength)
        self.phase = rng.uniform(0, 2 * np.pi, (num_groups, waves))
        self.rgb = rng.uniform(-1, 1, (num_groups, waves, 3)) * \
            rng.uniform(15, 30, (num_groups, waves, 1))
        self.base = rng.uniform(70, 190, (num_groups, 3))

    def waves(self, points: Tensor, group: Tensor) -> Tensor:
        """The zero-mean wave part (N, 3) of the colours of points (N, 3)
        in groups (N,)."""
        k = points.new_tensor(self.k)[group]
        phase = points.new_tensor(self.phase)[group]
        wave = torch.sin(torch.einsum('nmi,ni->nm', k, points) + phase)
        rgb = points.new_tensor(self.rgb)[group]
        return torch.einsum('nm,nmc->nc', wave, rgb)

    def __call__(self, points: Tensor, group: Tensor) -> Tensor:
        """Colours (N, 3) in [0, 255] of points (N, 3) in groups (N,)."""
        colour = points.new_tensor(self.base)[group] + \
            self.waves(points, group)
        return colour.clamp(0, 255)


def pixel_rays(K: Tensor, R: Tensor, t: Tensor,
               image_size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    """Camera centre (3,) and unit world rays (H*W, 3) through pixel centres.
    """
    height, width = image_size
    v, u = torch.meshgrid(
        torch.arange(height, dtype=K.dtype, device=K.device),
        torch.arange(width, dtype=K.dtype, device=K.device),
        indexing='ij')
    pix = torch.stack([u, v, torch.ones_like(u)], -1).reshape(-1, 3)
    dirs = _normalize(pix @ torch.linalg.inv(K).T @ R)
    return -R.T @ t, dirs


def _project(points: Tensor, K: Tensor, R: Tensor, t: Tensor) -> Tensor:
    cam = points @ R.T + t
    uvw = cam @ K.T
    return uvw[:, :2] / uvw[:, 2:3], cam[:, 2]


def render_clip(joints: Tensor,
                camera: Dict,
                joint_names: Sequence[str],
                bones: Sequence[Tuple[int, int]],
                seed: int = 0,
                texture_scale: float = 0.1,
                eps: float = 2e-3) -> Dict[str, Tensor]:
    """Render frames, depth, masks, dense flow and occlusion of a motion.

    Args:
        joints (Tensor): (T, 17, 3) world metres (its dtype and device are
            used throughout).
        camera (dict): ``K`` (3, 3), ``R`` (T, 3, 3), ``t`` (T, 3),
            ``image_size`` (H, W), see :func:`make_camera`.
        joint_names (sequence[str]): names of the 17 joints.
        bones (sequence[tuple[int, int]]): E (parent, child) pairs.
        seed (int): texture seed. Defaults to 0.
        texture_scale (float): shortest body texture wavelength in metres
            (the room uses 4x). Defaults to 0.1.
        eps (float): depth tolerance of the occlusion test, metres.
            Defaults to 2e-3.

    Returns:
        dict[str, Tensor]: ``frames`` (T, H, W, 3) float in [0, 255],
        ``depth`` (T, H, W) camera z in metres, ``part`` (T, H, W) long
        (bone index, -1 background), ``flow`` (T-1, H, W, 2) px forward
        (x, y), ``occlusion`` (T-1, H, W) bool.
    """
    dtype, device = joints.dtype, joints.device
    num_frames = joints.shape[0]
    height, width = camera['image_size']
    bone_t = torch.as_tensor(bones, dtype=torch.long, device=device)
    radius = joints.new_tensor(bone_radii(joint_names, bones))
    a_all, b_all, f_all = bone_frames(joints, bone_t, joint_names)
    lengths = (b_all - a_all).norm(dim=-1)  # (T, E)
    ref_len = lengths.median(dim=0).values
    K = torch.as_tensor(camera['K'], dtype=dtype, device=device)
    R_all = torch.as_tensor(camera['R'], dtype=dtype, device=device)
    t_all = torch.as_tensor(camera['t'], dtype=dtype, device=device)
    # Room around the motion: floor under the lowest joint.
    pts = joints.reshape(-1, 3)
    cam_centres = -(R_all.transpose(1, 2) @ t_all[..., None])[..., 0]
    centre = 0.5 * (pts.min(0).values + pts.max(0).values)
    span = torch.cat([pts, cam_centres])[:, [0, 2]] - centre[[0, 2]]
    floor = float(pts[:, 1].min()) - 0.1
    room = dict(
        floor=floor,
        ceiling=floor + 6.0,
        centre=(float(centre[0]), float(centre[2])),
        radius=float(span.norm(dim=-1).max()) + 3.0)
    # Clothes, skin and a face over the wave texture (see .appearance).
    body_tex = BodyAppearance(joint_names, bones, ref_len,
                              SolidTexture(len(bones), texture_scale,
                                           seed).waves, seed)
    room_tex = SolidTexture(1, 4 * texture_scale, seed + 7919)

    def cast(frame, origin, dirs):
        # Only rays through the body's image box (capsule ends projected,
        # grown by the largest radius) can hit it: test those alone.
        ends = torch.cat([a_all[frame], b_all[frame]]) @ R_all[frame].T + \
            t_all[frame]
        t_min = torch.full_like(dirs[:, 0], float('inf'))
        part = torch.full_like(t_min, -1, dtype=torch.long)
        rays = dirs @ R_all[frame].T
        if bool((ends[:, 2] > radius.max() + 1e-3).all()):
            grow = float(radius.max() / (ends[:, 2] - radius.max()).min())
            norm = ends[:, :2] / ends[:, 2:]
            lo, hi = norm.min(0).values - grow, norm.max(0).values + grow
            ray_norm = rays[:, :2] / rays[:, 2:].clamp_min(1e-9)
            near = (rays[:, 2] > 0) & (ray_norm >= lo).all(-1) & \
                (ray_norm <= hi).all(-1)
            idx = near.nonzero()[:, 0]
        else:
            idx = torch.arange(len(dirs), device=dirs.device)
        if len(idx):
            t_body = ray_capsules(origin, dirs[idx], a_all[frame],
                                  b_all[frame], radius)
            best, which = t_body.min(dim=1)
            t_min[idx], part[idx] = best, which
        t_bg = ray_room(origin, dirs, room)
        human = t_min < t_bg
        return torch.where(human, t_min, t_bg), torch.where(human, part, -1)

    frames, depths, parts, flows, occs = [], [], [], [], []
    for i in range(num_frames):
        origin, dirs = pixel_rays(K, R_all[i], t_all[i], (height, width))
        dist, part = cast(i, origin, dirs)
        point = origin + dist[:, None] * dirs
        human = part >= 0
        pid = part.clamp_min(0)
        # Bone-local coordinates with the axial one at the reference length.
        local = torch.einsum('nji,nj->ni', f_all[i, pid],
                             point - a_all[i, pid])
        w, length, ref = local[:, 2], lengths[i, pid], ref_len[pid]
        w_ref = torch.where(
            w < 0, w,
            torch.where(w > length, w - length + ref, w * ref / length))
        q = torch.stack([local[:, 0], local[:, 1], w_ref], -1)
        colour = torch.where(human[:, None], body_tex(q, pid),
                             room_tex(point, torch.zeros_like(pid)))
        frames.append(colour.reshape(height, width, 3))
        depths.append(
            (point @ R_all[i, 2] + t_all[i, 2]).reshape(height, width))
        parts.append(part.reshape(height, width))
        if i + 1 == num_frames:
            break
        j = i + 1
        length_j = lengths[j, pid]
        w_j = torch.where(
            w_ref < 0, w_ref,
            torch.where(w_ref > ref, w_ref - ref + length_j,
                        w_ref * length_j / ref))
        moved = a_all[j, pid] + torch.einsum(
            'nij,nj->ni', f_all[j, pid],
            torch.stack([local[:, 0], local[:, 1], w_j], -1))
        moved = torch.where(human[:, None], moved, point)
        uv, _ = _project(moved, K, R_all[j], t_all[j])
        # Difference of projections (not uv - pixel grid), so a static
        # point seen by a static camera has exactly zero flow; the hit point
        # reprojects to its pixel centre up to rounding.
        flow = uv - _project(point, K, R_all[i], t_all[i])[0]
        # Visibility of the moved point from the next camera.
        origin_j = -R_all[j].T @ t_all[j]
        to_point = moved - origin_j
        reach = to_point.norm(dim=-1)
        hit, _ = cast(j, origin_j, to_point / reach[:, None])
        # In the image = inside some pixel's footprint.
        inside = (uv[:, 0] >= -0.5) & (uv[:, 0] < width - 0.5) & \
            (uv[:, 1] >= -0.5) & (uv[:, 1] < height - 0.5)
        occluded = (hit < reach - eps) | ~inside
        flows.append(flow.reshape(height, width, 2))
        occs.append(occluded.reshape(height, width))
    empty = joints.new_zeros((0, height, width))
    return dict(
        frames=torch.stack(frames),
        depth=torch.stack(depths),
        part=torch.stack(parts),
        flow=torch.stack(flows) if flows else empty[...,
                                                    None].repeat(1, 1, 1, 2),
        occlusion=torch.stack(occs) if occs else empty.bool())
