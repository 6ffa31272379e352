"""Write synthetic clips as Sintel-style and H36M-style datasets.

Every file is written to a temporary name in its folder, then moved in
place with ``os.replace``, so readers never see a half-written file.

Sintel layout (what mmflow's ``Sintel`` dataset reads), 1-based frames::

    <root>/training/clean/<seq>/frame_0001.png        RGB frames
    <root>/training/final/<seq>/frame_0001.png        same images
    <root>/training/flow/<seq>/frame_0001.flo         flow 1 -> 2 (mmcv)
    <root>/training/occlusions/<seq>/frame_0001.png   255 = occluded
    <root>/training/invalid/<seq>/frame_0001.png      all 0 (all valid)
    <root>/training/human_masks/<seq>/frame_0001.png  255 = human (ours)

H36M layout (what mmpose's ``Human36mDataset`` reads)::

    <root>/images/<subj>/<subj>_<action>.<cam>/<subj>_<action>.<cam>_000001.png
    <root>/annotations/<name>.npz   imgname, S, part, center, scale
    <root>/annotations/cameras.pkl  {(subj, cam): dict(R, T, f, c, k, p,
                                     w, h, name, id)}

``S`` (N, 17, 4) holds camera-frame joints in metres + visibility 1,
``part`` (N, 17, 3) pixels + 1 where inside the image (else 0), ``center``
(N, 2) and ``scale`` (N,) the joints' box centre and ``1.2 * max side /
200`` (mmpose's bbox scale convention). The pickle's ``T`` is the camera
centre (``x_cam = R @ (x_world - T)``) for frame 0; an orbiting camera has
per-frame ``R``/``T`` in extra npz keys ``cam_R`` (N, 3, 3), ``cam_T``
(N, 3).
"""
import os
import os.path as osp
import pickle
from typing import Dict, Optional

import cv2
import mmcv
import numpy as np

from mmflowpose.utils.io import write_atomic
from mmflowpose.utils.safe_pickle import load_pickle
from .camera import to_h36m_camera


def _write_png(path: str, image: np.ndarray) -> None:
    if image.ndim == 3:
        image = image[..., ::-1]  # RGB -> BGR for OpenCV

    def write(tmp):
        if not cv2.imwrite(tmp, np.ascontiguousarray(image)):
            raise OSError(f'cannot write image {path}')

    write_atomic(path, write)


def write_sintel(clip: Dict, root: str, seq: str,
                 subset: str = 'training') -> Dict[str, str]:
    """Write a clip in the Sintel layout.

    Args:
        clip (dict): from :func:`make_clip`.
        root (str): dataset root.
        seq (str): scene name.
        subset (str): ``'training'`` (mmflow's default). Defaults to
            ``'training'``.

    Returns:
        dict[str, str]: the folders written, by kind.
    """
    if not seq or os.sep in seq:
        raise ValueError(f'seq must be a plain folder name, got {seq!r}')
    dirs = {k: osp.join(root, subset, k, seq)
            for k in ('clean', 'final', 'flow', 'occlusions', 'invalid',
                      'human_masks')}
    frames = clip['frames']
    for i, frame in enumerate(frames):
        name = f'frame_{i + 1:04d}'
        for kind in ('clean', 'final'):
            _write_png(osp.join(dirs[kind], name + '.png'), frame)
        _write_png(
            osp.join(dirs['human_masks'], name + '.png'),
            clip['human_mask'][i].astype(np.uint8) * 255)
        if i + 1 < len(frames):
            flow = clip['flow'][i].astype(np.float32)
            write_atomic(
                osp.join(dirs['flow'], name + '.flo'),
                lambda tmp, f=flow: mmcv.flowwrite(f, tmp))
            _write_png(
                osp.join(dirs['occlusions'], name + '.png'),
                clip['occlusion'][i].astype(np.uint8) * 255)
            _write_png(
                osp.join(dirs['invalid'], name + '.png'),
                np.zeros(frame.shape[:2], np.uint8))
    return dirs


def h36m_annotations(clip: Dict, image_names) -> Dict[str, np.ndarray]:
    """The arrays of an H36M annotation npz for one clip."""
    joints_2d = clip['joints_2d'].astype(np.float64)
    num = joints_2d.shape[0]
    height, width = clip['camera']['image_size']
    inside = (joints_2d[..., 0] >= 0) & (joints_2d[..., 0] <= width - 1) & \
        (joints_2d[..., 1] >= 0) & (joints_2d[..., 1] <= height - 1)
    lo, hi = joints_2d.min(1), joints_2d.max(1)
    cam = clip['camera']
    R = np.asarray(cam['R'])
    T = -np.einsum('nji,nj->ni', R, np.asarray(cam['t']))
    return dict(
        imgname=np.asarray(image_names),
        S=np.concatenate([clip['joints_3d_cam'].astype(np.float64),
                          np.ones((num, 17, 1))], -1),
        part=np.concatenate([joints_2d, inside[..., None].astype(float)], -1),
        center=0.5 * (lo + hi),
        scale=1.2 * (hi - lo).max(-1) / 200.0,
        cam_R=R, cam_T=T)


def write_h36m(clip: Dict, root: str, action: str, subject: str = 'SYN',
               camera_id: str = 'cam0',
               ann_name: Optional[str] = None) -> Dict[str, str]:
    """Write a clip in the H36M layout (images, npz, cameras.pkl).

    The npz (``annotations/<ann_name>.npz``, default ``<subject>_<action>``)
    holds this clip only; ``cameras.pkl`` is updated in place (read, add
    this ``(subject, camera_id)``, rewrite atomically); a different camera
    already stored under that key raises ``ValueError``. Concurrent writers
    of one root must be serialised by the caller.

    Args:
        clip (dict): from :func:`make_clip`.
        root (str): dataset root.
        action (str): action name; no ``.`` (mmpose splits names on it).
        subject (str): no ``_``. Defaults to ``'SYN'``.
        camera_id (str): no ``_``. Defaults to ``'cam0'``.
        ann_name (str, optional): npz file stem.

    Returns:
        dict[str, str]: ``npz``, ``cameras`` and ``images`` paths.
    """
    if '_' in subject or not subject:
        raise ValueError(f"subject must be non-empty without '_', got "
                         f'{subject!r}')
    if '_' in camera_id or '.' in camera_id or not camera_id:
        raise ValueError(f"camera_id must be non-empty without '_' or '.', "
                         f'got {camera_id!r}')
    if '.' in action or os.sep in action or not action:
        raise ValueError(f"action must be non-empty without '.' or "
                         f"'{os.sep}', got {action!r}")
    video = f'{subject}_{action}.{camera_id}'
    rel_dir = osp.join(subject, video)
    names = []
    for i, frame in enumerate(clip['frames']):
        rel = osp.join(rel_dir, f'{video}_{i + 1:06d}.png')
        _write_png(osp.join(root, 'images', rel), frame)
        names.append(rel)
    ann = h36m_annotations(clip, names)
    npz = osp.join(root, 'annotations',
                   (ann_name or f'{subject}_{action}') + '.npz')
    cam_path = osp.join(root, 'annotations', 'cameras.pkl')
    cameras = {}
    if osp.exists(cam_path):
        cameras = load_pickle(cam_path, 'camera file')
    entry = to_h36m_camera(clip['camera'], 0, camera_id)
    old = cameras.get((subject, camera_id))
    if old is not None and not all(
            np.allclose(old[k], entry[k]) for k in ('R', 'T', 'f', 'c')):
        raise ValueError(f'{cam_path} already has a different camera '
                         f'{(subject, camera_id)}; give each clip camera '
                         'its own camera_id (mmpose looks cameras up by '
                         'subject and camera only)')
    cameras[(subject, camera_id)] = entry

    def save(tmp):
        with open(tmp, 'wb') as f:
            np.savez(f, **ann)

    write_atomic(npz, save)

    def dump(tmp):
        with open(tmp, 'wb') as f:
            pickle.dump(cameras, f)

    write_atomic(cam_path, dump)
    return dict(npz=npz, cameras=cam_path,
                images=osp.join(root, 'images', rel_dir))
