"""2D -> 3D lifting samples made from motion capture and random cameras.

:class:`MocapLiftingDataset` turns world-space H36M-17 motions (CMU mocap
read by :func:`~mmflowpose.datasets.synthetic.mocap.load_mocap`, or procedural
motions) into the per-sample dicts mmpose's ``Human36mDataset`` produces,
so mmpose's lifting pipeline (``GenerateTarget`` with the
``VideoPoseLifting`` codec, ``PackPoseInputs``) and ``PoseLifter`` train on
them unchanged.

Convention:
    Motions are resampled to ``fps`` (H36M annotations: 50 Hz) by linear
    interpolation and cut into ``segment_frames`` segments. A sample is a
    window of ``seq_len`` frames around a centre frame (``causal=False``)
    or ending at it (``causal=True``), edge-padded like mmpose's
    ``pad_video_seq=True``. Each sample is seen through a static pinhole
    camera (OpenCV / H36M axes: x right, y down, z forward, metres; no
    distortion) looking at the window's mean root plus a horizontal jitter,
    from ``distance`` metres, with random azimuth, elevation, roll, focal
    length and principal point. ``keypoints`` are the projections in px
    plus Gaussian noise (``noise_std``); ``keypoints_3d`` are camera-frame
    metres, as H36M's ``S``. In ``test_mode`` (or with
    ``resample_cameras=False``) sample ``i`` always gets the same camera and
    noise; otherwise a fresh camera is drawn at every access.
"""
import copy
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset

from mmflowpose.registry import DATASETS
from .mocap import load_mocap
from .camera import look_at
from .motion import KINDS, procedural_motion

#: Default camera ranges: H36M-like (1000 px images, f ~ 1145 px, subject
#: 4.4-6.9 m away) widened to other distances, heights and lenses.
DEFAULT_CAMERA_RANGES = dict(
    azimuth_deg=(-180.0, 180.0),
    elevation_deg=(-5.0, 30.0),
    roll_deg=(-3.0, 3.0),
    distance=(3.5, 7.5),
    focal=(800.0, 1500.0),
    center_std=10.0,
    target_jitter=0.4,
    image_size=(1000, 1000))

_METAINFO_KEYS = ('upper_body_ids', 'lower_body_ids', 'flip_pairs',
                  'dataset_keypoint_weights', 'flip_indices',
                  'skeleton_links')


def resample_motion(joints: np.ndarray, src_fps: float,
                    dst_fps: float) -> np.ndarray:
    """Linearly resample (T, J, 3) joints from ``src_fps`` to ``dst_fps``.

    Args:
        joints (np.ndarray): (T, J, 3) positions.
        src_fps (float): frame rate of ``joints`` (Hz).
        dst_fps (float): wanted frame rate (Hz).

    Returns:
        np.ndarray: (T', J, 3) float64 with
        ``T' = floor((T - 1) * dst_fps / src_fps) + 1``; frame ``k`` is at
        time ``k / dst_fps`` s.
    """
    if not (src_fps > 0 and dst_fps > 0):
        raise ValueError(f'frame rates must be positive, got {src_fps}, '
                         f'{dst_fps}')
    joints = np.asarray(joints, np.float64)
    num = joints.shape[0]
    num_out = int(np.floor((num - 1) * dst_fps / src_fps + 1e-9)) + 1
    pos = np.arange(num_out) / dst_fps * src_fps  # fractional source index
    low = np.clip(np.floor(pos).astype(int), 0, num - 1)
    high = np.clip(low + 1, 0, num - 1)
    weight = (pos - low)[:, None, None]
    return (1 - weight) * joints[low] + weight * joints[high]


def sample_camera(rng: np.random.Generator, target: np.ndarray,
                  ranges: Dict) -> Dict:
    """Draw a static pinhole camera looking at ``target``.

    Args:
        rng (np.random.Generator): random source.
        target (np.ndarray): (3,) world point (metres, Y-up) to look at
            before the jitter.
        ranges (dict): keys of :data:`DEFAULT_CAMERA_RANGES`.

    Returns:
        dict: ``K`` (3, 3), ``R`` (3, 3), ``t`` (3,) with
        ``x_cam = R @ x_world + t``, ``image_size`` (H, W).
    """
    azimuth = np.deg2rad(rng.uniform(*ranges['azimuth_deg']))
    elevation = np.deg2rad(rng.uniform(*ranges['elevation_deg']))
    roll = np.deg2rad(rng.uniform(*ranges['roll_deg']))
    distance = rng.uniform(*ranges['distance'])
    focal = rng.uniform(*ranges['focal'])
    height, width = ranges['image_size']
    jitter = ranges['target_jitter'] * rng.uniform(-1, 1, size=3)
    jitter[1] *= 0.5
    look = np.asarray(target, np.float64) + jitter
    eye = look + distance * np.array([
        np.sin(azimuth) * np.cos(elevation),
        np.sin(elevation),
        np.cos(azimuth) * np.cos(elevation)
    ])
    rot, _ = look_at(eye, look)
    c, s = np.cos(roll), np.sin(roll)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]) @ rot
    center = np.array([(width - 1) / 2.0, (height - 1) / 2.0]) + \
        ranges['center_std'] * rng.standard_normal(2)
    K = np.array([[focal, 0, center[0]], [0, focal, center[1]], [0, 0, 1.0]])
    return dict(K=K, R=rot, t=-rot @ eye, image_size=(height, width))


def _clip_name(path: str) -> str:
    stem = osp.splitext(osp.basename(path))[0]
    return re.sub(r'[^A-Za-z0-9]+', '-', stem).strip('-')


@DATASETS.register_module()
class MocapLiftingDataset(BaseDataset):
    """H36M-style 2D->3D lifting samples from mocap and random cameras.

    Each sample (``get_data_info``) holds what mmpose's ``Human36mDataset``
    gives: ``keypoints`` (T, 17, 2) px, ``keypoints_visible`` (T, 17),
    ``keypoints_3d`` (T, 17, 3) camera metres, ``keypoints_3d_visible``
    (T, 17), ``lifting_target`` (1, 17, 3), ``lifting_target_visible``
    (1, 17), ``camera_param`` (H36M ``cameras.pkl`` fields ``R``, ``T``,
    ``f``, ``c``, ``k``, ``p``, ``w``, ``h``, ``name``), ``factor`` (T,)
    zeros, ``img_paths``/``target_img_path`` (H36M-style fake names
    ``S<clip>_<Name>.<cam>_<frame>.jpg``), ``img_ids``, ``id``,
    ``category_id``, ``num_keypoints`` and the metainfo keys
    (``flip_indices``...). T = ``seq_len``.

    Args:
        clips (sequence[str]): mocap files (``.amc``/``.bvh``, relative to
            ``data_root``) or ``'procedural:<kind>[:<seed>]'`` motions.
        data_root (str, optional): folder of the mocap files.
        seq_len (int): frames per sample. Defaults to 27.
        causal (bool): target = last frame (True) or middle frame (False).
            Defaults to False.
        fps (float): resampling rate (Hz). Defaults to 50.0 (H36M).
        segment_frames (int): frames per segment after resampling.
            Defaults to 250.
        sample_stride (int): frames between consecutive sample centres.
            Defaults to 1.
        cameras_per_sample (int): camera draws per window (each a data
            sample). Defaults to 1.
        procedural_frames (int): length of procedural motions (frames at
            ``fps``). Defaults to 250.
        noise_std (float): std of the 2D noise (px). Defaults to 2.0.
        camera_ranges (dict, optional): overrides of
            :data:`DEFAULT_CAMERA_RANGES`.
        resample_cameras (bool, optional): draw a new camera at each access.
            Defaults to None (``not test_mode``).
        seed (int): base seed of fixed cameras and noise. Defaults to 0.
        metainfo (dict, optional): defaults to mmpose's H36M metainfo.
        pipeline (list): transforms. Defaults to ().
        test_mode (bool): Defaults to False.
        **kwargs: other :class:`mmengine.dataset.BaseDataset` arguments.
    """
    METAINFO: dict = dict(from_file='configs/_base_/datasets/h36m.py')

    def __init__(self,
                 clips: Sequence[str],
                 data_root: Optional[str] = None,
                 seq_len: int = 27,
                 causal: bool = False,
                 fps: float = 50.0,
                 segment_frames: int = 250,
                 sample_stride: int = 1,
                 cameras_per_sample: int = 1,
                 procedural_frames: int = 250,
                 noise_std: float = 2.0,
                 camera_ranges: Optional[Dict] = None,
                 resample_cameras: Optional[bool] = None,
                 seed: int = 0,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs):
        if isinstance(clips, str) or not clips:
            raise ValueError('clips must be a non-empty list of mocap files '
                             f"or 'procedural:<kind>' names, got {clips!r}")
        for name, value in (('seq_len', seq_len),
                            ('segment_frames', segment_frames),
                            ('sample_stride', sample_stride),
                            ('cameras_per_sample', cameras_per_sample),
                            ('procedural_frames', procedural_frames)):
            if int(value) < 1:
                raise ValueError(f'{name} must be >= 1, got {value}')
        if not fps > 0:
            raise ValueError(f'fps must be positive, got {fps}')
        if not noise_std >= 0:
            raise ValueError(f'noise_std must be >= 0, got {noise_std}')
        ranges = copy.deepcopy(DEFAULT_CAMERA_RANGES)
        unknown = set(camera_ranges or {}) - set(ranges)
        if unknown:
            raise ValueError(f'camera_ranges has unknown keys '
                             f'{sorted(unknown)}; known: {sorted(ranges)}')
        ranges.update(copy.deepcopy(camera_ranges or {}))
        self.clips = list(clips)
        self.seq_len = int(seq_len)
        self.causal = causal
        self.fps = float(fps)
        self.segment_frames = int(segment_frames)
        self.sample_stride = int(sample_stride)
        self.cameras_per_sample = int(cameras_per_sample)
        self.procedural_frames = int(procedural_frames)
        self.noise_std = float(noise_std)
        self.camera_ranges = ranges
        self.resample_cameras = (not test_mode) if resample_cameras is None \
            else bool(resample_cameras)
        self.seed = int(seed)
        self.segments: List[np.ndarray] = []
        self.segment_names: List[str] = []
        super().__init__(
            ann_file='',
            metainfo=metainfo,
            data_root=data_root or '',
            pipeline=list(pipeline),
            test_mode=test_mode,
            serialize_data=False,
            **kwargs)

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[dict] = None) -> dict:
        from mmpose.datasets.datasets.utils import parse_pose_metainfo
        if metainfo is None:
            metainfo = copy.deepcopy(cls.METAINFO)
        if not isinstance(metainfo, dict):
            raise TypeError(f'metainfo must be a dict, got '
                            f'{type(metainfo).__name__}')
        return parse_pose_metainfo(metainfo) if metainfo else metainfo

    def _load_motion(self, clip: str) -> Tuple[str, np.ndarray]:
        if clip.startswith('procedural:'):
            parts = clip.split(':')
            kind = parts[1]
            if kind not in KINDS:
                raise ValueError(f'clip {clip!r}: kind must be one of '
                                 f'{KINDS}')
            seed = int(parts[2]) if len(parts) > 2 else 0
            motion = procedural_motion(kind, self.procedural_frames,
                                       self.fps, seed)
            return f'proc-{kind}-{seed}', np.asarray(motion['joints'],
                                                     np.float64)
        path = clip if osp.isabs(clip) else osp.join(self.data_root, clip)
        if not osp.isfile(path):
            raise FileNotFoundError(f'mocap clip {clip!r} not found at '
                                    f'{path} (data_root={self.data_root!r})')
        motion = load_mocap(path)
        joints = resample_motion(motion['joints'], motion['fps'], self.fps)
        return _clip_name(path), joints

    def load_data_list(self) -> List[dict]:
        """One entry per (segment, window centre, camera draw)."""
        data_list = []
        for clip in self.clips:
            name, joints = self._load_motion(clip)
            for start in range(0, len(joints), self.segment_frames):
                segment = joints[start:start + self.segment_frames]
                if len(segment) < max(2, self.seq_len // 2):
                    continue  # a short tail: too few frames to lift
                seg_id = len(self.segments)
                self.segments.append(segment)
                self.segment_names.append(f'{name}-{start:06d}')
                for centre in range(0, len(segment), self.sample_stride):
                    for cam in range(self.cameras_per_sample):
                        data_list.append(
                            dict(segment=seg_id, centre=centre, camera=cam))
        if not data_list:
            raise ValueError(
                f'no samples from clips {self.clips}: every segment is '
                f'shorter than max(2, seq_len // 2) = '
                f'{max(2, self.seq_len // 2)} frames')
        return data_list

    def _window(self, num_frames: int, centre: int) -> np.ndarray:
        if self.causal:
            offsets = np.arange(-self.seq_len + 1, 1)
        else:
            half = (self.seq_len - 1) // 2
            offsets = np.arange(-half, self.seq_len - half)
        return np.clip(centre + offsets, 0, num_frames - 1)

    def get_data_info(self, idx: int) -> dict:
        """The H36M-style sample ``idx`` (see the class docstring)."""
        entry = super().get_data_info(idx)
        segment = self.segments[entry['segment']]
        frames = self._window(len(segment), entry['centre'])
        world = segment[frames]  # (T, 17, 3)
        if self.resample_cameras:
            rng = np.random.default_rng()
        else:
            rng = np.random.default_rng([self.seed, int(idx)])
        target = world[:, 0].mean(0)
        for _ in range(20):  # redraw cameras that are inside the body
            cam = sample_camera(rng, target, self.camera_ranges)
            points = np.einsum('ij,tkj->tki', cam['R'], world) + cam['t']
            if points[..., 2].min() > 0.5:
                break
        else:
            raise RuntimeError(f'sample {idx}: no camera in front of the '
                               'subject after 20 draws; raise distance')
        uvw = points @ cam['K'].T
        keypoints = uvw[..., :2] / uvw[..., 2:3]
        keypoints = keypoints + self.noise_std * rng.standard_normal(
            keypoints.shape)
        num = self.seq_len
        visible = np.ones((num, 17), np.float32)
        target_idx = [-1] if self.causal else [num // 2]
        height, width = cam['image_size']
        cam_name = f'cam{entry["camera"]}'
        name = self.segment_names[entry['segment']]
        img_paths = [
            f'S{entry["segment"]}_{name}.{cam_name}_{int(f):06d}.jpg'
            for f in frames
        ]
        camera_param = dict(
            R=cam['R'].astype(np.float32),
            T=(-cam['R'].T @ cam['t']).reshape(3, 1).astype(np.float32),
            f=np.array([[cam['K'][0, 0]], [cam['K'][1, 1]]], np.float32),
            c=np.array([[cam['K'][0, 2]], [cam['K'][1, 2]]], np.float32),
            k=np.zeros((3, 1), np.float32),
            p=np.zeros((2, 1), np.float32),
            w=int(width), h=int(height), name=cam_name, id=cam_name)
        keypoints_3d = points.astype(np.float32)
        info = dict(
            num_keypoints=17,
            keypoints=keypoints.astype(np.float32),
            keypoints_visible=visible,
            keypoints_3d=keypoints_3d,
            keypoints_3d_visible=visible.copy(),
            scale=np.float32(0),
            center=np.zeros((1, 2), np.float32),
            id=int(idx),
            category_id=1,
            iscrowd=0,
            img_paths=img_paths,
            img_ids=[int(f) for f in frames],
            lifting_target=keypoints_3d[target_idx],
            lifting_target_visible=visible[target_idx],
            target_img_path=[img_paths[target_idx[0]]],
            camera_param=camera_param,
            factor=np.zeros(num, np.float32),
            sample_idx=entry.get('sample_idx', idx))
        for key in _METAINFO_KEYS:  # lists of ints/tuples, or arrays
            value = self._metainfo[key]
            info[key] = value.copy() if hasattr(value, 'copy') else value
        return info
