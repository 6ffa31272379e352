"""Human3.6M video clips in mmpose's annotation format.

Reads the files mmpose's ``Human36mDataset`` reads (written by mmpose's
``tools/dataset_converters/preprocess_h36m.py``, or by our synthetic clip
writer): an ``.npz`` with ``imgname`` (N,), ``S`` (N, J, 4) camera-frame
joints in metres + visibility, ``part`` (N, J, 3) pixels + visibility; a
camera pickle keyed by ``(subject, camera_id)``; optionally a 2D detection
``.npy`` (N, J, 3) and initial 3D estimates ``.npy`` (N, J, 3) in the same row
order. Rows are grouped into videos by (subject, action, camera) parsed from
``imgname`` (as mmpose does), sorted by frame number, optionally subsampled,
and cut into clips.

The paper's protocol: subjects S9/S11, camera 60457274, every 5th frame
(mmpose's converter already keeps every 5th), 14 joints, hip-aligned MPJPE;
ground-truth flow exists only at joints (``gt_joint_flow``).
"""
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from mmflowpose.registry import DATASETS
from mmflowpose.utils.safe_pickle import load_pickle
from .clip_utils import pack_clip
from .input_checks import check_pose_units, check_scores


def parse_h36m_imgname(imgname: str):
    """``S9/S9_Walking_1.60457274/S9_Walking_1.60457274_000101.jpg`` ->
    ``('S9', 'Walking_1', '60457274', 101)``."""
    base = osp.splitext(osp.basename(str(imgname)))[0]
    try:
        subject, rest = base.split('_', 1)
        action, rest = rest.split('.', 1)
        camera, frame = rest.rsplit('_', 1)
        return subject, action, camera, int(frame)
    except ValueError as error:
        raise ValueError(
            f'imgname {imgname!r} is not in H36M form '
            '"S<subj>_<Action>.<camera>_<frame>.jpg"') from error


def _require(data, keys: Sequence[str], path: str) -> None:
    missing = [key for key in keys if key not in data]
    if missing:
        raise KeyError(f'{path} lacks fields {missing}; expected mmpose H36M '
                       'annotations with imgname, S (N,J,4) and part (N,J,3)')


@DATASETS.register_module()
class H36MClipDataset(BaseDataset):
    """Consecutive-frame clips of Human3.6M-format annotations.

    Args:
        ann_file (str): the ``.npz`` annotation file.
        camera_param_file (str): camera pickle (``cameras.pkl``).
        data_root (str): folder the ``imgname`` paths are relative to.
        subjects (Sequence[str], optional): keep these subjects
            (e.g. ``('S9', 'S11')``). Defaults to all.
        cameras (Sequence[str], optional): keep these camera ids
            (e.g. ``('60457274',)``). Defaults to all.
        frame_stride (int): keep every n-th annotated row of a video.
            Defaults to 1.
        clip_len (int): frames per clip. Defaults to 16.
        clip_step (int): first-frame distance between clips; ``clip_len``
            gives non-overlapping clips. Defaults to None (= clip_len).
        keep_remainder (bool): a shorter last clip (>= 2 frames) is kept.
            Defaults to True.
        detection_file (str, optional): 2D detections ``.npy`` (N, J, 3)
            (x, y, score); without it the ground-truth 2D joints with score
            1 are used as detections.
        pose3d_init_file (str, optional): precomputed 3D estimates ``.npy``
            (N, J, 3) metres (camera frame or root-relative).
        load_frames (bool): read the images. Defaults to True.
        data_prefix (dict): ``img`` is the folder the ``imgname`` paths
            are relative to, under ``data_root`` (mmengine convention).
            Defaults to ``dict(img='')``.
        lazy_init / serialize_data etc.: as mmengine's ``BaseDataset``.

    Each item is ``dict(inputs=dict(frames=(T, H, W, 3) uint8 RGB),
    data_samples=dict(...))`` with, in ``data_samples``: ``clip_id``,
    ``img_paths``, ``keypoints_2d`` (T, J, 2), ``keypoint_scores`` (T, J),
    ``gt_pose3d`` (T, J, 3) m, ``gt_keypoints_2d`` (T, J, 2) px,
    ``gt_joint_flow`` (T-1, J, 2) px, ``gt_joint_flow_valid`` (T-1, J),
    ``camera`` (dict f, c, k, p, w, h), ``image_size`` (H, W) and, if given,
    ``pose3d_init`` (T, J, 3).
    """

    def __init__(self,
                 ann_file: str,
                 camera_param_file: str,
                 data_root: str = '',
                 subjects: Optional[Sequence[str]] = None,
                 cameras: Optional[Sequence[str]] = None,
                 frame_stride: int = 1,
                 clip_len: int = 16,
                 clip_step: Optional[int] = None,
                 keep_remainder: bool = True,
                 detection_file: Optional[str] = None,
                 pose3d_init_file: Optional[str] = None,
                 load_frames: bool = True,
                 **kwargs) -> None:
        if clip_len < 2:
            raise ValueError(f'clip_len must be >= 2, got {clip_len}')
        if frame_stride < 1:
            raise ValueError(f'frame_stride must be >= 1, got {frame_stride}')
        self.camera_param_file = camera_param_file
        self.subjects = tuple(subjects) if subjects else None
        self.cameras = tuple(str(c) for c in cameras) if cameras else None
        self.frame_stride = frame_stride
        self.clip_len = clip_len
        self.clip_step = clip_step or clip_len
        self.keep_remainder = keep_remainder
        self.detection_file = detection_file
        self.pose3d_init_file = pose3d_init_file
        self.load_frames = load_frames
        kwargs.setdefault('serialize_data', False)
        kwargs.setdefault('data_prefix', dict(img=''))
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def _join(self, path: Optional[str]) -> Optional[str]:
        if path is None or osp.isabs(path) or not self.data_root:
            return path
        return osp.join(self.data_root, path)

    def load_data_list(self) -> List[Dict]:
        ann_path = self.ann_file
        if not osp.isfile(ann_path):
            raise FileNotFoundError(f'annotation file {ann_path!r} not found')
        try:
            data = np.load(ann_path, allow_pickle=False)
        except Exception as error:
            raise ValueError(f'{ann_path!r} is not a readable .npz annotation '
                             f'file: {error}') from error
        _require(data, ('imgname', 'S', 'part'), ann_path)
        imgnames = data['imgname']
        pose3d = data['S'][..., :3].astype(np.float32)
        keypoints = data['part'][..., :2].astype(np.float32)
        visible = data['part'][..., 2].astype(np.float32)
        n_rows, n_joints = pose3d.shape[:2]
        check_pose_units(pose3d, f'S (3D joints) of {ann_path!r}')
        detections = self._load_rows(self.detection_file, n_rows, n_joints, 3,
                                     'detection_file')
        if detections is not None:
            check_scores(detections[..., 2],
                         f'scores of detection_file {self.detection_file!r}')
        init = self._load_rows(self.pose3d_init_file, n_rows, n_joints, 3,
                               'pose3d_init_file')
        if init is not None:
            check_pose_units(init,
                             f'pose3d_init_file {self.pose3d_init_file!r}')
        cameras = self._load_cameras(self._join(self.camera_param_file))

        videos = defaultdict(list)
        for row, name in enumerate(imgnames):
            subject, action, camera, frame = parse_h36m_imgname(name)
            if self.subjects and subject not in self.subjects:
                continue
            if self.cameras and camera not in self.cameras:
                continue
            videos[(subject, action, camera)].append((frame, row))

        data_list = []
        for (subject, action, camera), frames in sorted(videos.items()):
            rows = [row for _, row in sorted(frames)][::self.frame_stride]
            key = (subject, camera)
            if key not in cameras:
                raise KeyError(f'{self.camera_param_file!r} has no camera '
                               f'{key} needed by {subject} {action}')
            for start in range(0, len(rows), self.clip_step):
                clip_rows = rows[start:start + self.clip_len]
                if len(clip_rows) < self.clip_len and (
                        not self.keep_remainder or len(clip_rows) < 2):
                    continue
                item = dict(
                    clip_id=f'{subject}_{action}.{camera}_{start:06d}',
                    img_paths=[
                        osp.join(self.data_prefix.get('img', ''),
                                 str(imgnames[r])) for r in clip_rows
                    ],
                    gt_pose3d=pose3d[clip_rows],
                    gt_keypoints_2d=keypoints[clip_rows],
                    gt_visible=visible[clip_rows],
                    camera=cameras[key])
                if detections is not None:
                    item['keypoints_2d'] = detections[clip_rows, :, :2]
                    item['keypoint_scores'] = detections[clip_rows, :, 2]
                else:
                    item['keypoints_2d'] = keypoints[clip_rows]
                    item['keypoint_scores'] = visible[clip_rows]
                if init is not None:
                    item['pose3d_init'] = init[clip_rows]
                data_list.append(item)
                if start + self.clip_len >= len(rows):
                    break
        if not data_list:
            raise ValueError(
                f'{ann_path!r} yields no clip of >= 2 frames with '
                f'subjects={self.subjects}, cameras={self.cameras}, '
                f'clip_len={self.clip_len}')
        return data_list

    def _load_rows(self, path, n_rows, n_joints, channels, what):
        path = self._join(path)
        if path is None:
            return None
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path!r} not found')
        try:
            # allow_pickle=False: an object array would unpickle code.
            rows = np.load(path, allow_pickle=False).astype(np.float32)
        except (ValueError, OSError, EOFError) as error:
            raise ValueError(f'{what} {path!r} is not a readable numeric '
                             f'.npy file: {error}') from error
        if rows.shape != (n_rows, n_joints, channels):
            raise ValueError(f'{what} {path!r} has shape {rows.shape}, '
                             f'expected {(n_rows, n_joints, channels)} to '
                             'match the annotation rows')
        return rows

    @staticmethod
    def _load_cameras(path: str) -> Dict:
        raw = load_pickle(path, 'camera_param_file')
        if not isinstance(raw, dict):
            raise ValueError(f'camera_param_file {path!r} holds a '
                             f'{type(raw).__name__}, expected a dict keyed '
                             'by (subject, camera_id)')
        cameras = {}
        for key, value in raw.items():
            camera = {
                name: np.asarray(value[name], np.float32).reshape(-1)
                for name in ('f', 'c', 'k', 'p') if name in value
            }
            for name in ('R', 'T'):
                if name in value:
                    camera[name] = np.asarray(value[name], np.float32)
            camera['w'], camera['h'] = int(value['w']), int(value['h'])
            cameras[(str(key[0]), str(key[1]))] = camera
        return cameras

    def prepare_data(self, idx: int) -> Dict:
        return self.pipeline(
            pack_clip(self.get_data_info(idx), self.load_frames))
