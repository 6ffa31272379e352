"""Pinhole cameras for synthetic clips (numpy, float64).

Convention (OpenCV / H36M): ``x_cam = R @ x_world + t`` with camera axes
x right, y down, z forward; pixels ``u = fx * x / z + cx`` with pixel
centres at integers, ``(0, 0)`` = centre of the top-left pixel. The world
is Y-up (as :func:`~mmflowpose.datasets.load_mocap`), so ``R`` contains the
flip. H36M's ``cameras.pkl`` stores the camera centre ``T`` instead:
``x_cam = R @ (x_world - T)``, i.e. ``T = -R.T @ t``.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np


def look_at(
    eye: np.ndarray, target: np.ndarray, up: Sequence[float] = (0.0, 1.0, 0.0)
) -> Tuple[np.ndarray, np.ndarray]:
    """Extrinsics of a camera at ``eye`` looking at ``target``.

    Args:
        eye (np.ndarray): (3,) camera centre, world metres.
        target (np.ndarray): (3,) point on the optical axis.
        up (sequence): world up; image y points along ``-up``.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``R`` (3, 3) and ``t`` (3,).
    """
    eye = np.asarray(eye, np.float64)
    fwd = np.asarray(target, np.float64) - eye
    if np.linalg.norm(fwd) < 1e-9:
        raise ValueError('look_at: eye and target coincide')
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, np.asarray(up, np.float64))
    if np.linalg.norm(right) < 1e-9:
        raise ValueError('look_at: viewing direction parallel to up')
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    rot = np.stack([right, down, fwd])
    return rot, -rot @ eye


def project(points: np.ndarray, K: np.ndarray, R: np.ndarray,
            t: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Project world points.

    Args:
        points (np.ndarray): (..., 3) world metres.
        K (np.ndarray): (3, 3) intrinsics.
        R (np.ndarray): (..., 3, 3) rotations (broadcast with points' batch).
        t (np.ndarray): (..., 3) translations.

    Returns:
        tuple[np.ndarray, np.ndarray]: pixels (..., 2) and camera-frame
        points (..., 3).
    """
    cam = np.einsum('...ij,...j->...i', R, points) + t
    uvw = cam @ np.asarray(K).T
    return uvw[..., :2] / uvw[..., 2:3], cam


def make_camera(joints: np.ndarray,
                image_size: Tuple[int, int],
                azimuth_deg: float = 30.0,
                elevation_deg: float = 10.0,
                distance: float = 4.5,
                orbit_deg_per_frame: float = 0.0,
                fill: float = 0.8) -> Dict:
    """A static or orbiting camera framing a motion.

    The camera looks at the centre of the joints' bounding box over the
    clip, from ``distance`` metres; azimuth 0 looks at the subject's front
    at frame 0 (from the hips' left-right axis), positive azimuth turns the
    camera towards the subject's left. The focal length is chosen so every
    joint of every frame lies inside the central ``fill`` of the image (for
    an orbiting camera: of every view).

    Args:
        joints (np.ndarray): (T, 17, 3) world metres, H36M-17.
        image_size (tuple[int, int]): (H, W).
        azimuth_deg (float): view direction at frame 0. Defaults to 30.0.
        elevation_deg (float): camera height angle. Defaults to 10.0.
        distance (float): metres from the target. Defaults to 4.5.
        orbit_deg_per_frame (float): azimuth change per frame; 0 is a
            static camera. Defaults to 0.0.
        fill (float): fraction of the image the body may use.
            Defaults to 0.8.

    Returns:
        dict: ``K`` (3, 3), ``R`` (T, 3, 3), ``t`` (T, 3), ``image_size``
        (H, W), ``static`` (bool).
    """
    joints = np.asarray(joints, np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (17, 3):
        raise ValueError(f'joints must have shape (T, 17, 3), got '
                         f'{joints.shape}')
    height, width = image_size
    if not 0 < fill <= 1:
        raise ValueError(f'fill must be in (0, 1], got {fill}')
    if not distance > 0:
        raise ValueError(f'distance must be positive, got {distance}')
    target = 0.5 * (
        joints.reshape(-1, 3).min(0) + joints.reshape(-1, 3).max(0))
    hips = joints[0, 4] - joints[0, 1]
    facing = np.cross(hips, [0.0, 1.0, 0.0])  # left x up = forward
    facing = facing[[0, 2]] / max(np.linalg.norm(facing[[0, 2]]), 1e-9)
    base = np.arctan2(facing[0], facing[1])  # heading of +z towards facing
    num = joints.shape[0]
    az = np.deg2rad(azimuth_deg + orbit_deg_per_frame * np.arange(num)) + base
    el = np.deg2rad(elevation_deg)
    rots, trans = [], []
    for a in az:
        eye = target + distance * np.array(
            [np.sin(a) * np.cos(el),
             np.sin(el),
             np.cos(a) * np.cos(el)])
        rot, tr = look_at(eye, target)
        rots.append(rot)
        trans.append(tr)
    rots, trans = np.stack(rots), np.stack(trans)
    # Unit-focal projections of all joints in all views.
    cam = np.einsum('tij,tkj->tki', rots, joints) + trans[:, None]
    if np.any(cam[..., 2] < 0.1):
        raise ValueError('a joint is behind or too close to the camera; '
                         'increase distance')
    xn, yn = cam[..., 0] / cam[..., 2], cam[..., 1] / cam[..., 2]
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    focal = fill * min(cx / np.abs(xn).max(), cy / np.abs(yn).max())
    K = np.array([[focal, 0, cx], [0, focal, cy], [0, 0, 1.0]])
    return dict(
        K=K,
        R=rots,
        t=trans,
        image_size=(int(height), int(width)),
        static=orbit_deg_per_frame == 0)


def to_h36m_camera(camera: Dict,
                   frame: int = 0,
                   name: Optional[str] = None) -> Dict:
    """One frame of a camera as an H36M ``cameras.pkl`` entry.

    Returns:
        dict: ``R`` (3, 3), ``T`` (3, 1) camera centre in world metres,
        ``f`` (2, 1), ``c`` (2, 1), ``k`` (3, 1) and ``p`` (2, 1) zeros (no
        distortion), ``w``, ``h`` (int), ``name``, ``id`` (str).
    """
    R = camera['R'][frame]
    K = camera['K']
    height, width = camera['image_size']
    out = dict(
        R=R.copy(),
        T=(-R.T @ camera['t'][frame]).reshape(3, 1),
        f=np.array([[K[0, 0]], [K[1, 1]]]),
        c=np.array([[K[0, 2]], [K[1, 2]]]),
        k=np.zeros((3, 1)),
        p=np.zeros((2, 1)),
        w=int(width),
        h=int(height))
    if name is not None:
        out['name'] = out['id'] = name
    return out
