"""Write a synthetic clip in the 3DPW layout (what ``PW3DClipDataset`` reads).

Layout::

    <root>/sequenceFiles/<split>/<seq>.pkl    one person, see below
    <root>/imageFiles/<seq>/image_00000.jpg   RGB frames (JPEG, as 3DPW)

The sequence pickle holds 3DPW's fields: ``jointPositions`` (per person
(T, 72): 24 SMPL joints in metres), ``poses2d`` (per person (T, 3, 18):
OpenPose COCO-18 x / y / confidence rows), ``cam_poses`` (T, 4, 4)
world-to-camera, ``cam_intrinsics`` (3, 3), ``campose_valid`` (per person
(T,)) and ``img_frame_ids`` (T,).

The world frame is the camera frame (identity ``cam_poses``). SMPL joints are
placed so that :func:`~mmflowpose.datasets.pw3d_clips.smpl_to_h36m` gives the
clip's H36M-17 joints back exactly, except ``neck_base`` (H36M joint 9),
which 3DPW derives as a midpoint; SMPL joints without an H36M counterpart
(spine1/3, feet, collars, hands) sit at their nearest H36M joint or midpoint.
The 2D poses are the clip's joint projections (``joints_2d``), so the
"detections" are exact unless ``detections`` is given.
"""
import os
import os.path as osp
import pickle
from typing import Dict, Optional

import cv2
import numpy as np

from mmflowpose.utils.io import write_atomic


# SMPL-24 joint <- H36M-17 joint (a pair means the midpoint)
H36M_TO_SMPL = (0, 4, 1, (0, 7), 5, 2, 7, 6, 3, (7, 8), 6, 3, 8, (8, 11),
                (8, 14), 10, 11, 14, 12, 15, 13, 16, 13, 16)
# OpenPose COCO-18 joint <- H36M-17 joint (eyes and ears at the head)
H36M_TO_COCO18 = (10, 8, 14, 15, 16, 11, 12, 13, 1, 2, 3, 4, 5, 6, 10, 10,
                  10, 10)


def _pick(points: np.ndarray, mapping) -> np.ndarray:
    """(T, 17, C) H36M points -> (T, len(mapping), C)."""
    columns = [
        points[:, list(entry)].mean(1) if isinstance(entry, tuple) else
        points[:, entry] for entry in mapping
    ]
    return np.stack(columns, axis=1)


def write_3dpw(clip: Dict,
               root: str,
               seq: str,
               split: str = 'test',
               detections: Optional[np.ndarray] = None,
               score: float = 0.9) -> Dict[str, str]:
    """Write ``clip`` (from :func:`make_clip`) as one 3DPW sequence.

    Args:
        clip (dict): ``frames`` (T, H, W, 3) uint8 RGB, ``joints_3d_cam``
            (T, 17, 3) m, ``joints_2d`` (T, 17, 2) px, ``camera['K']``.
        root (str): dataset root.
        seq (str): sequence name (a plain file name).
        split (str): ``'train'``, ``'validation'`` or ``'test'``.
            Defaults to 'test'.
        detections (np.ndarray, optional): (T, 17, 2) px H36M-17 2D poses
            to store as OpenPose detections instead of the exact ones.
        score (float): confidence of every stored detection. Defaults to
            0.9.

    Returns:
        dict[str, str]: ``sequence`` (the pickle) and ``images`` (folder).
    """
    if not seq or os.sep in seq or '.' in seq:
        raise ValueError(f'seq must be a plain name without dots, got {seq!r}')
    joints = np.asarray(clip['joints_3d_cam'], np.float64)
    num_frames = len(joints)
    points_2d = np.asarray(
        clip['joints_2d'] if detections is None else detections, np.float64)
    if points_2d.shape != (num_frames, 17, 2):
        raise ValueError('detections must be (T, 17, 2) H36M-17 px, got '
                         f'{points_2d.shape}')
    image_dir = osp.join(root, 'imageFiles', seq)
    os.makedirs(image_dir, exist_ok=True)
    for t, frame in enumerate(clip['frames']):
        path = osp.join(image_dir, f'image_{t:05d}.jpg')

        def write_image(temp, path=path, frame=frame):
            if not cv2.imwrite(temp, np.ascontiguousarray(frame[..., ::-1])):
                raise OSError(f'cannot write image {path}')

        write_atomic(path, write_image)
    coco = _pick(points_2d, H36M_TO_COCO18)  # (T, 18, 2)
    confidence = np.full(coco.shape[:2] + (1, ), score)
    sequence = dict(
        sequence=seq,
        jointPositions=[_pick(joints, H36M_TO_SMPL).reshape(num_frames, 72)],
        poses2d=[
            np.transpose(np.concatenate([coco, confidence], -1), (0, 2, 1))
        ],
        cam_poses=np.tile(np.eye(4), (num_frames, 1, 1)),
        cam_intrinsics=np.asarray(clip['camera']['K'], np.float64),
        campose_valid=[np.ones(num_frames)],
        img_frame_ids=np.arange(num_frames))
    sequence_dir = osp.join(root, 'sequenceFiles', split)
    os.makedirs(sequence_dir, exist_ok=True)
    sequence_path = osp.join(sequence_dir, f'{seq}.pkl')

    def write_sequence(temp):
        with open(temp, 'wb') as file:
            pickle.dump(sequence, file, protocol=2)

    write_atomic(sequence_path, write_sequence)
    return dict(sequence=sequence_path, images=image_dir)
