"""Rasterise bone motion into a sparse flow field: squares or capsules.

Both painters take joints at t and t+1 in px (pixel centres at integer
coordinates) and return a sketch flow (N, 2, H, W) px, zero outside its
mask (N, 1, H, W) bool.
"""
from typing import Tuple

import torch
from torch import Tensor


def paint_squares(pos: Tensor, dsp: Tensor, point_ok: Tensor,
                  sizes: Tensor, height: int, width: int
                  ) -> Tuple[Tensor, Tensor]:
    """Write point displacements into squares, nearest point wins.

    Args:
        pos (Tensor): (N, P, 2) point positions at t, px.
        dsp (Tensor): (N, P, 2) point displacements, px.
        point_ok (Tensor): (N, P) bool, points allowed to paint.
        sizes (Tensor): (N,) long square side S per item.
        height (int): H.
        width (int): W.

    Returns:
        tuple[Tensor, Tensor]: sketch (N, 2, H, W) and mask (N, 1, H, W).
    """
    n, num_points = pos.shape[:2]
    device, dtype = pos.device, pos.dtype
    smax = int(sizes.max()) if n else 1
    offsets = torch.arange(smax, device=device)
    # Per-item offsets: -(S // 2) .. S - S // 2 - 1; beyond S is unused.
    lo = -(sizes // 2)  # (N,)
    off = lo[:, None] + offsets[None]  # (N, smax)
    off_ok = offsets[None] < sizes[:, None]  # (N, smax)
    safe_pos = torch.where(point_ok[..., None], pos, torch.zeros_like(pos))
    centre = torch.floor(safe_pos + 0.5).long()  # (N, P, 2)
    px = centre[..., 0, None] + off[:, None]  # (N, P, smax)
    py = centre[..., 1, None] + off[:, None]
    ok_x = off_ok[:, None] & (px >= 0) & (px < width)
    ok_y = off_ok[:, None] & (py >= 0) & (py < height)
    # Candidates (N, P, smax_y, smax_x).
    ok = ok_y[..., :, None] & ok_x[..., None, :] & point_ok[..., None, None]
    dx = px.to(dtype) - safe_pos[..., 0, None]
    dy = py.to(dtype) - safe_pos[..., 1, None]
    dist = dy[..., :, None]**2 + dx[..., None, :]**2
    flat = py[..., :, None] * width + px[..., None, :]
    flat = torch.where(ok, flat, torch.zeros_like(flat)).flatten(1)
    ok = ok.flatten(1)
    inf = torch.tensor(float('inf'), dtype=dtype, device=device)
    dist = torch.where(ok, dist.flatten(1), inf)
    best = torch.full((n, height * width), float('inf'), dtype=dtype,
                      device=device)
    best = best.scatter_reduce(1, flat, dist, 'amin')
    win = ok & (dist == best.gather(1, flat))
    point_id = torch.arange(num_points, device=device)
    point_id = point_id[None, :, None].expand(n, -1, smax * smax)
    point_id = torch.where(win, point_id.flatten(1), num_points)
    owner = torch.full((n, height * width), num_points, dtype=torch.long,
                       device=device)
    owner = owner.scatter_reduce(1, flat, point_id, 'amin')
    mask = owner < num_points  # (N, HW)
    safe_owner = owner.clamp(max=max(num_points - 1, 0))
    if num_points:
        sketch = dsp.gather(1, safe_owner[..., None].expand(-1, -1, 2))
    else:
        sketch = dsp.new_zeros(n, height * width, 2)
    sketch = sketch * mask[..., None].to(dtype)
    sketch = sketch.transpose(1, 2).reshape(n, 2, height, width)
    return sketch, mask.view(n, 1, height, width)


def paint_capsules(joints_t: Tensor, joints_t1: Tensor, bones: Tensor,
                   bone_ok: Tensor, radius: Tensor, height: int,
                   width: int) -> Tuple[Tensor, Tensor]:
    """Paint a capsule (a limb-wide band) around every bone.

    Pixel ``p`` belongs to bone ``a -> b`` when its distance to the segment
    is at most the item's radius; its displacement is the joints'
    displacements interpolated at the segment parameter ``s`` of the
    nearest point ``a + s (b - a)``, ``s`` in [0, 1]. A pixel inside
    several capsules takes the nearest bone; exact ties go to the lower
    bone index.

    Args:
        joints_t (Tensor): (N, J, 2) joints at t, px.
        joints_t1 (Tensor): (N, J, 2) joints at t+1, px.
        bones (Tensor): (E, 2) long joint pairs.
        bone_ok (Tensor): (N, E) bool, bones allowed to paint.
        radius (Tensor): (N,) capsule radius per item, px.
        height (int): H.
        width (int): W.

    Returns:
        tuple[Tensor, Tensor]: sketch (N, 2, H, W) and mask (N, 1, H, W).
    """
    n = joints_t.shape[0]
    dtype, device = joints_t.dtype, joints_t.device
    sketch = joints_t.new_zeros(n, 2, height, width)
    mask = torch.zeros(n, 1, height, width, dtype=torch.bool, device=device)
    # One item at a time, on the box around its bones only: memory and time
    # scale with E x (person's box), whatever N and the image size are.
    for i in range(n):
        if not bool(bone_ok[i].any()):
            continue
        used = joints_t[i, bones[bone_ok[i]].flatten()]
        lo = torch.floor(used.amin(0) - radius[i]).clamp(min=0)
        hi = torch.ceil(used.amax(0) + radius[i])
        # two scalar reads per item: the box bounds must be Python ints
        x0, y0, x1, y1 = torch.cat([lo, hi]).long().tolist()
        x1, y1 = min(x1, width - 1), min(y1, height - 1)
        if x1 < x0 or y1 < y0:
            continue
        ys, xs = torch.meshgrid(
            torch.arange(y0, y1 + 1, dtype=dtype, device=device),
            torch.arange(x0, x1 + 1, dtype=dtype, device=device),
            indexing='ij')
        grid = torch.stack([xs.flatten(), ys.flatten()], -1)  # (M, 2)
        a = joints_t[i, bones[:, 0]]  # (E, 2)
        ab = joints_t[i, bones[:, 1]] - a
        disp = joints_t1[i] - joints_t[i]
        da, db = disp[bones[:, 0]], disp[bones[:, 1]]
        rel = grid[None] - a[:, None]  # (E, M, 2)
        length2 = ab.square().sum(-1).clamp(min=1e-12)[:, None]
        s = ((rel * ab[:, None]).sum(-1) / length2).clamp(0, 1)  # (E, M)
        dist2 = (rel - s[..., None] * ab[:, None]).square().sum(-1)
        inside = (dist2 <= radius[i].square()) & bone_ok[i][:, None]
        dist2 = torch.where(inside, dist2, torch.full_like(dist2, 1e30))
        best, owner = dist2.min(0)  # first index on ties
        hit = best < 1e30
        s_own = s.gather(0, owner[None])[0][:, None]
        value = ((1 - s_own) * da[owner] + s_own * db[owner]) * \
            hit[:, None].to(dtype)
        box_h, box_w = y1 - y0 + 1, x1 - x0 + 1
        sketch[i, :, y0:y1 + 1, x0:x1 + 1] = value.t().reshape(2, box_h,
                                                               box_w)
        mask[i, 0, y0:y1 + 1, x0:x1 + 1] = hit.view(box_h, box_w)
    return sketch, mask
