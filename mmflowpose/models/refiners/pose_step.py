"""The pose side of a cycle: the camera the pose optimiser starts from,
one optimiser call on a clip, and the projections of its result."""
from typing import Optional

from torch import Tensor

from ..pose_optim import cameras


def perspective_fields(camera: Optional[dict]) -> dict:
    """Named intrinsics (``focal``, ``center`` (2, ) px, optional
    ``radial``, ``tangential``) from a clip's camera tensors (``f``,
    ``c``, ``k``, ``p``).

    Raises:
        ValueError: the clip has no ``f`` and ``c`` (no calibration).
    """
    if not camera or 'f' not in camera or 'c' not in camera:
        raise ValueError(
            "a 'perspective' pose optimiser needs the clip's camera "
            'intrinsics (camera f and c); use camera="weak" for clips '
            'without calibration')
    fields = dict(focal=camera['f'].reshape(2),
                  center=camera['c'].reshape(2))
    if camera.get('k') is not None:
        fields['radial'] = camera['k'].reshape(-1)
    if camera.get('p') is not None:
        fields['tangential'] = camera['p'].reshape(2)
    return fields


def optimize_pose(optimizer, clip, flow: Tensor,
                  backward: Optional[Tensor] = None,
                  previous: Optional[dict] = None,
                  anchor_scale: float = 1.0) -> dict:
    """One pose step on ``clip`` (:class:`ClipInputs`) following ``flow``
    (P, 2, H, W) px; ``previous`` (the last cycle's result) warm-starts the
    joints and the camera. Returns the optimiser's result dict."""
    cam = None
    if optimizer.camera == 'perspective':
        cam = perspective_fields(clip.camera)
        if previous is not None:
            cam['translation'] = previous['camera']['translation']
    elif previous is not None:
        cam = previous['camera']
    return optimizer.optimize(
        clip.pose3d_init[None],
        clip.keypoints_2d[None],
        clip.keypoint_scores[None],
        flow=flow[None],
        camera=cam,
        image_size=clip.image_size,
        backward_flow=None if backward is None else backward[None],
        start_pose=None if previous is None else previous['pose'],
        anchor_scale=anchor_scale)


def project_result(optimizer, result: dict) -> Tensor:
    """(T, J, 2) px projections of an optimiser result's joints, through
    the camera model its objective used."""
    return cameras.project_result(result, optimizer.camera)[0]


def camera_values(result: dict) -> Tensor:
    """(T, 3) camera values of a result: the weak camera (s, tx, ty) or
    the perspective translation (m)."""
    camera = result['camera']
    values = camera if isinstance(camera, Tensor) else camera['translation']
    return values[0]
