"""Cameras of the pose step: checks, initialisation, parametrisation.

Two camera models (``mode``):

- ``'weak'``: per-frame ``(s, tx, ty)`` (px/m, px). The optimised
  parameter is a delta ``d`` with ``camera = cam0 + s_ref * d`` and
  ``s_ref`` the clip's median initial scale, so one optimiser step moves
  the camera about as many pixels as a 1 mm pose step does (in raw pixels
  the camera would barely move; design.md).
- ``'perspective'``: fixed intrinsics (``focal``, ``center``, optional
  ``radial``/``tangential`` distortion and H36M extrinsics ``R``, ``T``)
  and an optimised per-frame root translation (metres) added to the
  root-relative pose.

The window data is a dict of tensors whose per-frame fields are
(N, T, ...) (see :func:`camera_fields`); every function here is a pure
tensor function of it.
"""
from typing import Dict, Optional

import torch
from torch import Tensor

from ..utils.projection import (camera_to_world,
                                fit_perspective_translation,
                                fit_weak_perspective, project_perspective,
                                project_weak_perspective, world_to_camera)

CAMERA_MODES = ('weak', 'perspective')

#: fields of a perspective camera dict, each (..), (B, ..) or (B, T, ..)
PERSPECTIVE_KEYS = ('focal', 'center', 'radial', 'tangential', 'R', 'T',
                    'translation')


def check_camera_mode(mode: str) -> str:
    """Return ``mode`` or raise a ValueError naming the choices."""
    if mode not in CAMERA_MODES:
        raise ValueError("camera must be 'weak' or 'perspective', got "
                         f'{mode!r}')
    return mode


def per_frame(value: Tensor, key: str, B: int, T: int) -> Tensor:
    """Expand one perspective field to (B, T, ...) (a view, no copy).

    Args:
        value (Tensor): the field, with 0, 1 (B) or 2 (B, T) leading dims
            before its own shape ((3, 3) for ``R``, (k,) otherwise; a
            (3, 1) ``T`` is read as (3,)).
        key (str): the field's name, used in messages.
        B (int): clips.
        T (int): frames.

    Returns:
        Tensor: (B, T, ...) view of ``value``.
    """
    tail = {'R': 2}.get(key, 1)
    if key == 'T' and value.shape[-2:] == (3, 1):
        value = value[..., 0]
    lead = value.shape[:value.ndim - tail]
    if len(lead) > 2:
        raise ValueError(f'camera[{key!r}] has too many leading dims: '
                         f'{tuple(value.shape)}')
    if len(lead) == 1:
        value = value[:, None]
    if len(lead) == 0:
        value = value[None, None]
    try:
        return value.expand(B, T, *value.shape[2:])
    except RuntimeError:
        raise ValueError(f'camera[{key!r}] of shape {tuple(value.shape)} '
                         f'does not broadcast to (B, T) = {(B, T)}')


def camera_fields(camera, mode: str, ref: Tensor) -> Dict[str, Tensor]:
    """Check the caller's camera and return it as window-data fields.

    Args:
        camera (Tensor | dict | None): weak: None (fitted later) or a
            (B, T, 3) ``(s, tx, ty)`` tensor; perspective: a dict of
            :data:`PERSPECTIVE_KEYS` with at least ``focal`` and
            ``center``.
        mode (str): ``'weak'`` or ``'perspective'``.
        ref (Tensor): (B, T, J, 3) initial pose; gives B, T, dtype and
            device.

    Returns:
        dict[str, Tensor]: ``cam0`` (weak, when given) or the perspective
        fields expanded to (B, T, ...).
    """
    B, T = ref.shape[:2]
    if mode == 'weak':
        if camera is None:
            return {}
        if not isinstance(camera, Tensor) or camera.shape != (B, T, 3):
            raise ValueError('camera must be a (B, T, 3) tensor (s, tx, ty) '
                             'in weak mode')
        return dict(cam0=camera.to(ref.dtype))
    if not isinstance(camera, dict) or 'focal' not in camera or \
            'center' not in camera:
        raise ValueError('perspective mode needs camera=dict(focal=..., '
                         'center=..., [radial, tangential, R, T, '
                         'translation])')
    unknown = set(camera) - set(PERSPECTIVE_KEYS)
    if unknown:
        raise ValueError(f'unknown camera fields {sorted(unknown)}; '
                         f'expected {list(PERSPECTIVE_KEYS)}')
    if ('R' in camera) != ('T' in camera):
        raise ValueError('give both R and T (extrinsics) or neither')
    return {
        key: per_frame(
            torch.as_tensor(value, dtype=ref.dtype, device=ref.device), key,
            B, T)
        for key, value in camera.items() if value is not None
    }


def init_camera(data: Dict, mode: str, root_joint: int = 0) -> Dict:
    """Fill the camera start and its pixels-per-metre scale.

    Weak: ``cam0`` (fitted to the detections unless given), ``cam_scale``
    (N,) (the median initial scale, >= 1) and ``px_per_m`` (N,).
    Perspective: makes ``init_pose`` (and ``start_pose``) root-relative,
    fits ``translation`` (N, T, 3) unless given, and sets ``px_per_m``
    (N,) = median focal / depth of the root.

    Args:
        data (dict): window data with ``init_pose`` (N, T, J, 3),
            ``keypoints_2d`` (N, T, J, 2), ``scores`` (N, T, J) and the
            fields of :func:`camera_fields`.
        mode (str): ``'weak'`` or ``'perspective'``.
        root_joint (int): the root joint (perspective). Defaults to 0.

    Returns:
        dict: ``data``, updated in place.
    """
    mask = (data['scores'] > 0) & torch.isfinite(data['scores'])
    weights = mask.to(data['init_pose'].dtype)
    if mode == 'weak':
        if 'cam0' not in data:
            data['cam0'] = fit_weak_perspective(data['init_pose'],
                                                data['keypoints_2d'], weights)
        scale = data['cam0'][..., 0].abs()
        scale = torch.where(scale > 0, scale, torch.full_like(scale, 1.))
        data['cam_scale'] = scale.median(dim=1).values.clamp_min(1.0)
        data['px_per_m'] = data['cam_scale']
        return data
    root = slice(root_joint, root_joint + 1)
    data['init_pose'] = data['init_pose'] - data['init_pose'][..., root, :]
    if data.get('start_pose') is not None:
        start = data['start_pose']
        data['start_pose'] = start - start[..., root, :]
    extrinsics = data.get('R') is not None
    if data.get('translation') is None:
        rel = data['init_pose']
        if extrinsics:
            rel = rel @ data['R']  # world axes -> camera axes
        trans = fit_perspective_translation(rel, data['keypoints_2d'],
                                            data['focal'], data['center'],
                                            weights)
        if extrinsics:
            trans = camera_to_world(trans[..., None, :], data['R'],
                                    data['T'])[..., 0, :]
        data['translation'] = trans
    # px per metre at the subject: focal length / depth
    depth = data['translation'][..., 2]
    if extrinsics:
        cam = world_to_camera(data['translation'][..., None, :], data['R'],
                              data['T'])[..., 0, :]
        depth = cam[..., 2]
    ppm = data['focal'].mean(-1) / depth.abs().clamp_min(1e-3)
    data['px_per_m'] = ppm.median(dim=1).values
    return data


def initial_parameter(data: Dict, mode: str) -> Tensor:
    """(N, T, 3) start of the optimised camera parameter (a new tensor)."""
    if mode == 'weak':
        return torch.zeros_like(data['cam0'])
    return data['translation'].clone()


def camera_values(cam_param: Tensor, data: Dict, mode: str) -> Tensor:
    """Camera in natural units from the optimised parameter.

    Args:
        cam_param (Tensor): (N, T, 3) optimised camera parameter.
        data (dict): window data (``cam0`` and ``cam_scale`` in weak mode).
        mode (str): ``'weak'`` or ``'perspective'``.

    Returns:
        Tensor: (N, T, 3) weak camera ``(s, tx, ty)`` or perspective root
        translation (metres).
    """
    if mode == 'weak':
        return data['cam0'] + data['cam_scale'][:, None, None] * cam_param
    return cam_param


def project_joints(pose: Tensor, camera: Tensor, data: Dict,
                   mode: str) -> Tensor:
    """Project (N, T, J, 3) joints with (N, T, 3) cameras to (N, T, J, 2) px.

    Args:
        pose (Tensor): (N, T, J, 3) joints (metres; root-relative in
            perspective mode).
        camera (Tensor): (N, T, 3) from :func:`camera_values`.
        data (dict): the perspective fields (``focal``, ``center``,
            optional ``radial``, ``tangential``, ``R``, ``T``).
        mode (str): ``'weak'`` or ``'perspective'``.

    Returns:
        Tensor: (N, T, J, 2) pixel coordinates.
    """
    if mode == 'weak':
        return project_weak_perspective(pose, camera)
    points = pose + camera[..., None, :]
    if data.get('R') is not None:
        points = world_to_camera(points, data['R'], data['T'])
    return project_perspective(points, data['focal'], data['center'],
                               data.get('radial'), data.get('tangential'))


def camera_result(cam: Tensor, mode: str,
                  camera_in: Optional[Dict]) -> object:
    """The returned camera: (B, T, 3) weak, or the caller's dict with the
    optimised ``translation``."""
    if mode == 'weak':
        return cam
    out = {k: v for k, v in dict(camera_in).items() if k != 'translation'}
    out['translation'] = cam
    return out


def project_result(result: Dict, mode: str) -> Tensor:
    """(B, T, J, 2) px projections of a :meth:`PoseOptimizer.optimize`
    result, through the same camera model the objective used (distortion
    and extrinsics included).

    Args:
        result (dict): ``pose`` (B, T, J, 3) and ``camera`` ((B, T, 3) weak
            camera, or the perspective camera dict with ``translation``).
        mode (str): ``'weak'`` or ``'perspective'``.
    """
    pose, camera = result['pose'], result['camera']
    if mode == 'weak':
        return project_joints(pose, camera, {}, mode)
    fields = camera_fields(camera, mode, pose)
    return project_joints(pose, fields['translation'], fields, mode)
