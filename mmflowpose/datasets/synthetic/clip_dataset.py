"""Rendered clips with exact ground truth, made on the fly (no files).

Each item renders one clip with :func:`make_clip` (a capsule body moving
with real mocap or procedural motion, seen by a perspective camera) and
simulates estimator errors with :func:`simulate_estimates`. Everything is
deterministic in (``seed``, item index), so the dataset needs no download
and gives the same numbers on every machine.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmflowpose.registry import DATASETS
from ..clip_utils import joint_flow_from_keypoints
from .estimate_noise import simulate_estimates


@DATASETS.register_module()
class SyntheticClipDataset(BaseDataset):
    """Synthetic clips for refinement tests, benchmarks and the demo.

    Args:
        motions (Sequence[str]): per clip a mocap file path (BVH/ASF+AMC,
            read by :func:`load_mocap`) or ``'procedural:<kind>'``; cycled
            when ``num_clips`` is larger. Defaults to
            ``('procedural:walk',)``.
        num_clips (int): clips in the dataset. Defaults to 1.
        num_frames (int): frames per clip. Defaults to 16.
        image_size (tuple[int, int]): (H, W). Defaults to (128, 128).
        frame_step (int): take every n-th mocap frame (e.g. 120 -> 30 fps
            with 4). Defaults to 1.
        start_frame (int): first mocap frame. Defaults to 0.
        seed (int): base seed; clip i uses ``seed + i``. Defaults to 0.
        noise (dict, optional): arguments of :func:`simulate_estimates`
            (``seed`` excluded). Defaults to its defaults.
        with_estimates (bool): add ``pose3d_init`` from the noise model.
            Defaults to True.

    Items are ``dict(inputs=dict(frames), data_samples=dict(...))`` with the
    fields of :class:`H36MClipDataset` plus dense ``gt_flow`` (T-1, H, W, 2),
    ``gt_flow_valid`` (non-occluded pixels) and ``human_mask`` (T, H, W).
    """

    def __init__(self,
                 motions: Sequence[str] = ('procedural:walk', ),
                 num_clips: int = 1,
                 num_frames: int = 16,
                 image_size: Tuple[int, int] = (128, 128),
                 frame_step: int = 1,
                 start_frame: int = 0,
                 seed: int = 0,
                 noise: Optional[Dict] = None,
                 with_estimates: bool = True,
                 **kwargs) -> None:
        if num_frames < 2:
            raise ValueError(f'num_frames must be >= 2, got {num_frames}')
        if not motions:
            raise ValueError('motions must name at least one motion')
        self.motions = list(motions)
        self.num_clips = int(num_clips)
        self.num_frames = int(num_frames)
        self.image_size = tuple(image_size)
        self.frame_step = int(frame_step)
        self.start_frame = int(start_frame)
        self.seed = int(seed)
        self.noise = dict(noise or {})
        self.with_estimates = with_estimates
        kwargs.setdefault('serialize_data', False)
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self) -> List[Dict]:
        return [
            dict(
                clip_id=f'synthetic_{i:04d}',
                motion=self.motions[i % len(self.motions)],
                seed=self.seed + i) for i in range(self.num_clips)
        ]

    def _motion(self, name: str, seed: int) -> Union[str, Dict]:
        if name.startswith('procedural'):
            return name
        from .mocap import load_mocap
        motion = load_mocap(name)
        joints = motion['joints'][self.start_frame::self.frame_step]
        if len(joints) < self.num_frames:
            raise ValueError(
                f'{name} has {len(joints)} frames after start_frame='
                f'{self.start_frame}, frame_step={self.frame_step}; '
                f'{self.num_frames} are needed')
        return dict(
            joints=joints[:self.num_frames],
            fps=motion['fps'] / self.frame_step,
            source=name)

    def prepare_data(self, idx: int) -> Dict:
        from .clip import make_clip
        info = self.get_data_info(idx)
        clip = make_clip(
            self._motion(info['motion'], info['seed']),
            image_size=self.image_size,
            seed=info['seed'],
            num_frames=self.num_frames)
        num_frames = len(clip['frames'])
        visible = np.ones(clip['joints_2d'].shape[:2], np.float32)
        joint_flow, joint_valid = joint_flow_from_keypoints(
            clip['joints_2d'], visible)
        camera = clip['camera']
        samples = dict(
            clip_id=info['clip_id'],
            img_paths=[
                f"{info['clip_id']}/{t:04d}" for t in range(num_frames)
            ],
            gt_pose3d=clip['joints_3d_cam'],
            gt_keypoints_2d=clip['joints_2d'],
            gt_visible=visible,
            gt_joint_flow=joint_flow,
            gt_joint_flow_valid=joint_valid,
            gt_flow=clip['flow'],
            gt_flow_valid=~clip['occlusion'],
            human_mask=clip['human_mask'],
            camera=dict(
                f=np.array([camera['K'][0, 0], camera['K'][1, 1]],
                           np.float32),
                c=np.array([camera['K'][0, 2], camera['K'][1, 2]],
                           np.float32),
                w=self.image_size[1],
                h=self.image_size[0]),
            image_size=self.image_size)
        if self.with_estimates:
            estimates = simulate_estimates(
                clip['joints_3d_cam'],
                clip['joints_2d'],
                seed=info['seed'],
                **self.noise)
            samples['pose3d_init'] = estimates['pose3d']
            samples['keypoints_2d'] = estimates['keypoints_2d']
            samples['keypoint_scores'] = estimates['keypoint_scores']
        else:
            samples['keypoints_2d'] = clip['joints_2d']
            samples['keypoint_scores'] = visible
        return self.pipeline(
            dict(inputs=dict(frames=clip['frames']), data_samples=samples))
