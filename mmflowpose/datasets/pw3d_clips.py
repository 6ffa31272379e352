"""3DPW video clips (``sequenceFiles/<split>/<seq>.pkl`` + ``imageFiles``).

3DPW stores, per sequence: ``jointPositions`` (per person (T, 72): 24 SMPL
joints, world frame, metres), ``poses2d`` (per person (T, 3, 18): OpenPose
COCO-18 detections, x/y/confidence rows), ``cam_poses`` (T, 4, 4)
world-to-camera, ``cam_intrinsics`` (3, 3), ``campose_valid`` (per person
(T,)) and ``img_frame_ids`` (T,); frames are
``imageFiles/<seq>/image_%05d.jpg``.

Both skeletons are mapped onto mmpose's H36M-17 layout. The SMPL joints are
not H36M joints (an H36M regressor needs the SMPL mesh, which is not
distributable), so the 3D ground truth is an approximation: hips, knees,
ankles, shoulders, elbows, wrists and head map one to one; ``spine`` is
SMPL ``spine2``, ``thorax`` is SMPL ``neck`` and ``neck_base`` the midpoint
of SMPL ``neck`` and ``head``. Report 3DPW numbers as "H36M-17 from SMPL
joints". The 2D ground truth is the projection of the mapped 3D joints;
detections come from ``poses2d`` (root = hip midpoint, spine = midpoint of
root and neck, head = nose; derived joints take the lower score).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from mmflowpose.registry import DATASETS
from mmflowpose.utils.safe_pickle import load_pickle
from .clip_utils import pack_clip
from .input_checks import check_pose_units

# H36M-17 joint <- SMPL-24 joint ids (a pair means the midpoint)
SMPL_TO_H36M = (0, 2, 5, 8, 1, 4, 7, 6, 12, (12, 15), 15, 16, 18, 20, 17, 19,
                21)
# H36M-17 joint <- OpenPose COCO-18 joint ids (a pair means the midpoint)
COCO18_TO_H36M = ((8, 11), 8, 9, 10, 11, 12, 13, ((8, 11), 1), 1, (1, 0), 0,
                  5, 6, 7, 2, 3, 4)


def _gather(points: np.ndarray, mapping, score_axis: bool = False):
    """Map (T, K, C) points onto H36M-17 following ``mapping``."""

    def pick(entry):
        if isinstance(entry, tuple):
            parts = [pick(e) for e in entry]
            value = np.mean([p[..., :-1] if score_axis else p for p in parts],
                            axis=0)
            if score_axis:
                score = np.min([p[..., -1:] for p in parts], axis=0)
                return np.concatenate([value, score], -1)
            return value
        return points[:, entry]

    return np.stack([pick(entry) for entry in mapping], axis=1)


def smpl_to_h36m(joints: np.ndarray) -> np.ndarray:
    """(T, 24, 3) SMPL joints -> (T, 17, 3) H36M-17 (see module doc)."""
    return _gather(np.asarray(joints, np.float32), SMPL_TO_H36M)


def coco18_to_h36m(poses2d: np.ndarray) -> np.ndarray:
    """(T, 3, 18) OpenPose rows -> (T, 17, 3) H36M-17 (x, y, score)."""
    points = np.transpose(np.asarray(poses2d, np.float32), (0, 2, 1))
    return _gather(points, COCO18_TO_H36M, score_axis=True)


@DATASETS.register_module()
class PW3DClipDataset(BaseDataset):
    """Clips of one person in 3DPW sequences.

    Args:
        data_root (str): 3DPW root (with ``sequenceFiles/``,
            ``imageFiles/``).
        split (str): ``'train'``, ``'validation'`` or ``'test'``.
            Defaults to 'test'.
        sequences (Sequence[str], optional): keep these sequences.
        clip_len (int): frames per clip. Defaults to 16.
        clip_step (int, optional): distance between clip starts; defaults
            to ``clip_len`` (no overlap).
        frame_stride (int): keep every n-th frame. Defaults to 1.
        load_frames (bool): read the images. Defaults to True.

    Items have the layout of :class:`H36MClipDataset`'s, with
    ``gt_visible`` from ``campose_valid``.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'test',
                 sequences: Optional[Sequence[str]] = None,
                 clip_len: int = 16,
                 clip_step: Optional[int] = None,
                 frame_stride: int = 1,
                 load_frames: bool = True,
                 **kwargs) -> None:
        if clip_len < 2:
            raise ValueError(f'clip_len must be >= 2, got {clip_len}')
        self.split = split
        self.sequences = tuple(sequences) if sequences else None
        self.clip_len = clip_len
        self.clip_step = clip_step or clip_len
        self.frame_stride = frame_stride
        self.load_frames = load_frames
        kwargs.setdefault('serialize_data', False)
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def _sequence_files(self) -> List[str]:
        folder = osp.join(self.data_root, 'sequenceFiles', self.split)
        if not osp.isdir(folder):
            raise FileNotFoundError(f'3DPW folder {folder!r} not found')
        names = sorted(f[:-4] for f in os.listdir(folder)
                       if f.endswith('.pkl'))
        if self.sequences:
            missing = sorted(set(self.sequences) - set(names))
            if missing:
                raise FileNotFoundError(
                    f'sequences {missing} not found in {folder!r}')
            names = [n for n in names if n in self.sequences]
        return [osp.join(folder, f'{name}.pkl') for name in names]

    @staticmethod
    def _read(path: str) -> Dict:
        data = load_pickle(path, '3DPW sequence file')
        if not isinstance(data, dict):
            raise ValueError(f'3DPW sequence file {path!r} holds a '
                             f'{type(data).__name__}, expected a dict')
        required = ('jointPositions', 'poses2d', 'cam_poses',
                    'cam_intrinsics', 'img_frame_ids')
        missing = [key for key in required if key not in data]
        if missing:
            raise KeyError(f'{path!r} lacks 3DPW fields {missing}')
        return data

    def load_data_list(self) -> List[Dict]:
        data_list = []
        for path in self._sequence_files():
            data = self._read(path)
            name = osp.basename(path)[:-4]
            extrinsics = np.asarray(data['cam_poses'], np.float32)
            intrinsics = np.asarray(data['cam_intrinsics'], np.float32)
            frame_ids = np.asarray(data['img_frame_ids'])
            for person, world in enumerate(data['jointPositions']):
                world = np.asarray(world, np.float32).reshape(-1, 24, 3)
                check_pose_units(world,
                                 f'jointPositions[{person}] of {path!r}')
                ones = np.ones_like(world[..., :1])
                cam = np.einsum('tij,tkj->tki', extrinsics,
                                np.concatenate([world, ones], -1))[..., :3]
                gt3d = smpl_to_h36m(cam)
                proj = gt3d[..., :2] / gt3d[..., 2:3]
                gt2d = proj * intrinsics[[0, 1], [0, 1]] + intrinsics[[0, 1],
                                                                      [2, 2]]
                det = coco18_to_h36m(data['poses2d'][person])
                valid = np.asarray(
                    data.get('campose_valid',
                             [np.ones(len(world))] * (person + 1))[person],
                    np.float32)
                rows = np.arange(len(world))[::self.frame_stride]
                for start in range(0, len(rows), self.clip_step):
                    clip = rows[start:start + self.clip_len]
                    if len(clip) < self.clip_len:
                        break
                    data_list.append(
                        dict(
                            clip_id=f'{name}_p{person}_{start:06d}',
                            img_paths=[
                                osp.join(self.data_root, 'imageFiles', name,
                                         f'image_{int(frame_ids[t]):05d}.jpg')
                                for t in clip
                            ],
                            gt_pose3d=gt3d[clip],
                            gt_keypoints_2d=gt2d[clip],
                            gt_visible=np.repeat(valid[clip, None], 17, 1),
                            keypoints_2d=det[clip, :, :2],
                            keypoint_scores=det[clip, :, 2],
                            camera=dict(
                                f=intrinsics[[0, 1], [0, 1]],
                                c=intrinsics[[0, 1], [2, 2]])))
        if not data_list:
            raise ValueError(f'{self.data_root!r} ({self.split}) yields no '
                             f'clip of {self.clip_len} frames')
        return data_list

    def prepare_data(self, idx: int) -> Dict:
        return self.pipeline(
            pack_clip(self.get_data_info(idx), self.load_frames))
