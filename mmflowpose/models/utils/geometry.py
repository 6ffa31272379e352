"""Skeleton geometry as pure tensor functions: bones and alignment.

Conventions (``style.md``): joints are ``(*, J, 3)`` metres with any
leading dims; bones are ``(E, 2)`` (parent, child) joint ids. Inputs are
never modified; device and dtype follow the inputs. Cameras are in
:mod:`.projection`, sampling a dense field in :mod:`.sampling`.
"""
from typing import Sequence, Union

import torch
from torch import Tensor

from .checks import check_shape


BoneSpec = Union[Tensor, Sequence[Sequence[int]]]


def _bone_index(bones: BoneSpec, device) -> Tensor:
    """(E, 2) long tensor of (parent, child) ids from a tensor or pairs."""
    index = torch.as_tensor(bones, dtype=torch.long, device=device)
    if index.ndim != 2 or index.shape[-1] != 2:
        raise ValueError('bones must have shape (E, 2) of (parent, child) '
                         f'joint ids, got {tuple(index.shape)}')
    return index


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
