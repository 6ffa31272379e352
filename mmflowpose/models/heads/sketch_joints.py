"""Which joints and bones may paint the pose sketch, and where.

Pure tensor functions on the 2D joints of N persons at frames t and t+1:
``(N, J, 2)`` pixel coordinates ``(x, y)`` with pixel centres at integer
coordinates (as :func:`sample_at_points`).
"""
from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from mmflowpose.models.utils.checks import check_shape
from mmflowpose.models.utils.skeleton import Skeleton, load_skeleton

Scores = Optional[Union[Tensor, Tuple[Tensor, Tensor]]]


def bone_pairs(bones) -> Tensor:
    """(E, 2) long (parent, child) ids from a skeleton name, a
    :class:`Skeleton` or a list of pairs (a new tensor)."""
    if isinstance(bones, str):
        bones = load_skeleton(bones)
    if isinstance(bones, Skeleton):
        return bones.bone_index()
    bones = torch.as_tensor(bones, dtype=torch.long)
    if bones.ndim != 2 or bones.shape[1] != 2 or bones.shape[0] == 0:
        raise ValueError('bones must be a skeleton name, a Skeleton or an '
                         '(E, 2) list of joint pairs, got '
                         f'{tuple(bones.shape)}')
    return bones.clone()


def inside_image(points: Tensor, height: int, width: int) -> Tensor:
    """(*, J) bool: pixel coordinates within ``[0, W-1] x [0, H-1]``."""
    x, y = points[..., 0], points[..., 1]
    return (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)


def confident_joints(scores: Scores, joints_t: Tensor, joints_t1: Tensor,
                     score_thr: float) -> Tensor:
    """(N, J) bool: finite at t and t+1 and scored >= ``score_thr``.

    Args:
        scores (Tensor | tuple[Tensor, Tensor], optional): (N, J) scores,
            or a pair of (N, J) at t and t+1 (both must pass); None passes
            every finite joint.
        joints_t (Tensor): (N, J, 2) joints at t.
        joints_t1 (Tensor): (N, J, 2) joints at t+1.
        score_thr (float): the threshold.
    """
    finite = torch.isfinite(joints_t).all(-1) & \
        torch.isfinite(joints_t1).all(-1)
    if scores is None:
        return finite
    if isinstance(scores, (tuple, list)):
        if len(scores) != 2:
            raise ValueError('scores must be an (N, J) tensor or a pair '
                             f'of them, got {len(scores)} items')
        for name, value in zip(('scores[0]', 'scores[1]'), scores):
            check_shape(value, list(joints_t.shape[:2]), name)
        return finite & (scores[0] >= score_thr) & (scores[1] >= score_thr)
    check_shape(scores, list(joints_t.shape[:2]), 'scores')
    return finite & (scores >= score_thr)


def points_along_bones(joints_t: Tensor, joints_t1: Tensor, bones: Tensor,
                       num: int) -> Tuple[Tensor, Tensor]:
    """``num`` evenly spaced points per bone (both joints included) and
    their displacements, interpolated linearly between the bone's joints.

    Args:
        joints_t (Tensor): (N, J, 2) joints at t, px.
        joints_t1 (Tensor): (N, J, 2) joints at t+1, px.
        bones (Tensor): (E, 2) joint-id pairs.
        num (int): points per bone K (>= 2).

    Returns:
        tuple[Tensor, Tensor]: positions (N, E, K, 2) at t and
        displacements (N, E, K, 2), px.
    """
    s = torch.linspace(0, 1, num, dtype=joints_t.dtype,
                       device=joints_t.device)[:, None]  # (K, 1)
    disp = joints_t1 - joints_t
    a, b = bones[:, 0], bones[:, 1]
    pos = (1 - s) * joints_t[:, a, None] + s * joints_t[:, b, None]
    dsp = (1 - s) * disp[:, a, None] + s * disp[:, b, None]
    return pos, dsp
