"""Synthetic clips with exact frames, flow, masks, joints and cameras."""
from typing import Dict, Optional, Tuple, Union

import numpy as np
import torch

from .camera import make_camera, project
from .motion import procedural_motion
from .render import render_clip

#: Preset viewpoints for ``make_clip(camera=<int>)`` (kwargs of
#: :func:`make_camera`): front-left, side, back-right from above, orbiting.
VIEWPOINTS = (
    dict(azimuth_deg=30.0, elevation_deg=10.0),
    dict(azimuth_deg=90.0, elevation_deg=5.0),
    dict(azimuth_deg=-140.0, elevation_deg=25.0),
    dict(azimuth_deg=0.0, elevation_deg=10.0, orbit_deg_per_frame=2.0),
)

H36M_NAMES = ('root', 'right_hip', 'right_knee', 'right_foot', 'left_hip',
              'left_knee', 'left_foot', 'spine', 'thorax', 'neck_base', 'head',
              'left_shoulder', 'left_elbow', 'left_wrist', 'right_shoulder',
              'right_elbow', 'right_wrist')
H36M_BONES = ((0, 4), (4, 5), (5, 6), (0, 1), (1, 2), (2, 3), (0, 7), (7, 8),
              (8, 9), (9, 10), (8, 11), (11, 12), (12, 13), (8, 14), (14, 15),
              (15, 16))


def make_clip(motion: Union[np.ndarray, str, Dict] = 'procedural',
              camera: Union[None, int, Dict] = None,
              image_size: Tuple[int, int] = (256, 256),
              seed: int = 0,
              num_frames: Optional[int] = None,
              fps: Optional[float] = None,
              texture_scale: float = 0.1,
              dtype: torch.dtype = torch.float32,
              device: str = 'cpu') -> Dict:
    """Render one synthetic clip.

    Args:
        motion (np.ndarray | str | dict): (T, 17, 3) world joints in metres
            (H36M-17, Y-up), a dict from ``load_mocap`` /
            ``procedural_motion``, ``'procedural'`` (a walk) or
            ``'procedural:<kind>'`` (see ``motion.KINDS``).
            Defaults to ``'procedural'``.
        camera (None | int | dict): None or an int picks
            ``VIEWPOINTS[camera % 4]`` (None: by seed); a dict with ``K``
            is used as is (``R`` (T, 3, 3), ``t`` (T, 3), ``image_size``),
            otherwise it is passed to :func:`make_camera`.
        image_size (tuple[int, int]): (H, W). Defaults to (256, 256).
        seed (int): motion (procedural), viewpoint (camera None) and
            texture seed. Defaults to 0.
        num_frames (int, optional): T for procedural motion (default 16),
            or the first T frames of a given motion.
        fps (float, optional): frame rate of a raw array (default 30).
        texture_scale (float): body texture wavelength, metres.
            Defaults to 0.1.
        dtype (torch.dtype): render precision. Defaults to torch.float32.
        device (str): torch device. Defaults to ``'cpu'``.

    Returns:
        dict: ``frames`` (T, H, W, 3) uint8 RGB, ``flow`` (T-1, H, W, 2)
        float32 px forward (channel 0 = x), ``occlusion`` (T-1, H, W) bool,
        ``human_mask`` (T, H, W) bool, ``depth`` (T, H, W) float32 m,
        ``part`` (T, H, W) int16 bone id or -1, ``joints_3d_world``,
        ``joints_3d_cam`` (T, 17, 3) float32 m (camera y down),
        ``joints_2d`` (T, 17, 2) float32 px, ``camera`` (dict: ``K``,
        ``R``, ``t``, ``image_size``, ``static``), ``fps``, ``source``.
    """
    if isinstance(motion, str):
        if motion != 'procedural' and not motion.startswith('procedural:'):
            raise ValueError("motion must be an array, a dict, "
                             "'procedural' or 'procedural:<kind>', got "
                             f'{motion!r}')
        kind = motion.split(':', 1)[1] if ':' in motion else 'walk'
        motion = procedural_motion(kind, num_frames or 16, fps or 30.0, seed)
    elif not isinstance(motion, dict):
        motion = dict(
            joints=np.asarray(motion), fps=fps or 30.0, source='array')
    joints = np.asarray(motion['joints'], np.float64)
    if num_frames is not None:
        joints = joints[:num_frames]
    if joints.ndim != 3 or joints.shape[1:] != (17, 3) or len(joints) < 1:
        raise ValueError(f'motion joints must have shape (T, 17, 3), got '
                         f'{joints.shape}')
    height, width = image_size
    if height < 2 or width < 2:
        raise ValueError(f'image_size must be (H, W) >= 2, got {image_size}')
    if camera is None or isinstance(camera, int):
        index = seed if camera is None else camera
        camera = make_camera(joints, (height, width),
                             **VIEWPOINTS[index % len(VIEWPOINTS)])
    elif 'K' not in camera:
        camera = make_camera(joints, (height, width), **camera)
    if tuple(camera['image_size']) != (height, width):
        raise ValueError(f"camera image_size {camera['image_size']} != "
                         f'image_size {image_size}')
    out = render_clip(
        torch.as_tensor(joints, dtype=dtype, device=device),
        camera,
        H36M_NAMES,
        H36M_BONES,
        seed=seed,
        texture_scale=texture_scale)
    joints_2d, joints_cam = project(joints, camera['K'], camera['R'][:, None],
                                    camera['t'][:, None])
    part = out['part'].cpu().numpy()
    return dict(
        frames=np.round(out['frames'].cpu().numpy()).astype(np.uint8),
        flow=out['flow'].cpu().numpy().astype(np.float32),
        occlusion=out['occlusion'].cpu().numpy(),
        human_mask=part >= 0,
        depth=out['depth'].cpu().numpy().astype(np.float32),
        part=part.astype(np.int16),
        joints_3d_world=joints.astype(np.float32),
        joints_3d_cam=joints_cam.astype(np.float32),
        joints_2d=joints_2d.astype(np.float32),
        camera=camera,
        fps=float(motion.get('fps', fps or 30.0)),
        source=str(motion.get('source', 'array')))
