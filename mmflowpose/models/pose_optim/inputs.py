"""Checks of the pose step's inputs, gathered into one clip-data dict."""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from ..utils.checks import check_shape
from ..utils.skeleton import Skeleton
from .cameras import camera_fields


def _check_pairs(value: Optional[Tensor], shape: Tuple, name: str,
                 like: str) -> None:
    if value is not None and value.shape != shape:
        raise ValueError(f'{name} must have the shape of {like} {shape}, '
                         f'got {tuple(value.shape)}')


def clip_data(init_pose: Tensor,
              keypoints_2d: Tensor,
              scores: Optional[Tensor],
              flow: Optional[Tensor],
              joint_flow: Optional[Tensor],
              camera,
              image_size: Optional[Tuple[int, int]],
              backward_flow: Optional[Tensor],
              backward_joint_flow: Optional[Tensor],
              flow_weights: Optional[Tensor],
              camera_mode: str,
              skeleton: Skeleton) -> Tuple[Dict, int, int, int]:
    """Check the inputs of :meth:`PoseOptimizer.optimize` (same names and
    shapes) and return them as clip data in ``init_pose``'s dtype.

    A dense flow of another size than ``image_size`` adds ``flow_scale``
    (2,): flow px per image px along x and y (pixel centres kept).

    Returns:
        tuple: ``(data, B, T, J)``.
    """
    check_shape(init_pose, ['B', 'T', 'J', 3], 'init_pose')
    B, T, J = init_pose.shape[:3]
    if B == 0 or T == 0:
        raise ValueError(f'empty clip: init_pose has shape '
                         f'{tuple(init_pose.shape)} (B, T, J, 3)')
    skeleton.check_joints(J, 'init_pose')
    if not torch.isfinite(init_pose).all():
        raise ValueError('init_pose must be finite (fill missing 3D '
                         'joints before optimising)')
    if keypoints_2d.shape != (B, T, J, 2):
        raise ValueError(f'keypoints_2d must have shape {(B, T, J, 2)}, '
                         f'got {tuple(keypoints_2d.shape)}')
    if scores is None:
        scores = torch.ones_like(keypoints_2d[..., 0])
    elif scores.shape != (B, T, J):
        raise ValueError(f'scores must have shape {(B, T, J)}, got '
                         f'{tuple(scores.shape)}')
    if flow is not None and joint_flow is not None:
        raise ValueError('give flow or joint_flow, not both')
    dtype = init_pose.dtype
    data = dict(
        init_pose=init_pose,
        keypoints_2d=keypoints_2d.to(dtype),
        scores=scores.to(dtype))
    if flow is not None:
        check_shape(flow, ['B', 'P', 2, 'H', 'W'], 'flow')
        if flow.shape[:2] != (B, T - 1):
            raise ValueError(
                f'pose has {T} frames but flow has {flow.shape[1]} '
                f'pairs; expected (B, P) = {(B, T - 1)}')
        if image_size is None:
            raise ValueError('image_size (H, W) is required to sample a '
                             'dense flow at the projected joints')
        h, w = flow.shape[-2:]
        data['flow'] = flow.to(dtype)
        if (h, w) != tuple(image_size):
            sx = (w - 1) / max(image_size[1] - 1, 1)
            sy = (h - 1) / max(image_size[0] - 1, 1)
            data['flow_scale'] = init_pose.new_tensor([sx, sy])
        _check_pairs(backward_flow, tuple(flow.shape), 'backward_flow',
                     'flow')
        if backward_flow is not None:
            data['backward_flow'] = backward_flow.to(dtype)
    if joint_flow is not None:
        if joint_flow.shape != (B, T - 1, J, 2):
            raise ValueError(
                f'pose has {T} frames and {J} joints but joint_flow has '
                f'shape {tuple(joint_flow.shape)}; expected '
                f'{(B, T - 1, J, 2)}')
        data['joint_flow'] = joint_flow.to(dtype)
        _check_pairs(backward_joint_flow, tuple(joint_flow.shape),
                     'backward_joint_flow', 'joint_flow')
        if backward_joint_flow is not None:
            data['backward_joint_flow'] = backward_joint_flow.to(dtype)
    if flow_weights is not None:
        if flow_weights.shape != (B, T - 1, J):
            raise ValueError(f'flow_weights must have shape '
                             f'{(B, T - 1, J)}, got '
                             f'{tuple(flow_weights.shape)}')
        data['flow_weights'] = flow_weights.to(dtype)
    data.update(camera_fields(camera, camera_mode, init_pose))
    return data, B, T, J
