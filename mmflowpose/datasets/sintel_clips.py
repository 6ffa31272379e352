"""Sintel-format sequences as clips for :class:`FlowPoseRefiner`.

Sintel has dense flow ground truth but no pose annotations. The refiner
gets its 2D/3D pose either from a frame estimator in its config (e.g.
``MediaPipePoseEstimator``) or from precomputed estimates:
``<estimates_dir>/<seq>.npz`` with ``frame_ids`` (N,), ``keypoints_2d``
(N, J, 2) px, ``keypoint_scores`` (N, J) and optionally ``pose3d``
(N, J, 3) metres, rows matched to the clip by frame id.
"""
import os.path as osp
from typing import Dict, Optional

import numpy as np

from mmflowpose.registry import DATASETS
from .input_checks import (check_frames, check_pose_units,
                           fill_missing_keypoints)
from .sintel_sequence import SintelSequenceDataset


@DATASETS.register_module()
class SintelClipDataset(SintelSequenceDataset):
    """:class:`SintelSequenceDataset` clips in the refiner's item layout.

    Args:
        estimates_dir (str, optional): folder of per-sequence estimate
            files (see module doc). Defaults to None.
        **kwargs: :class:`SintelSequenceDataset` arguments (``data_root``,
            ``pass_name``, ``sequences``, ``clip_length``, ...).

    Items: ``dict(inputs=dict(frames), data_samples=dict(clip_id,
    img_paths, image_size, gt_flow (T-1, H, W, 2), gt_flow_valid (valid and
    not occluded) [, keypoints_2d, keypoint_scores, pose3d_init]))``.
    """

    def __init__(self, estimates_dir: Optional[str] = None, **kwargs):
        self.estimates_dir = estimates_dir
        super().__init__(**kwargs)

    def _estimates(self, seq: str, frame_ids) -> Dict[str, np.ndarray]:
        if self.estimates_dir is None:
            return {}
        path = osp.join(self.estimates_dir, f'{seq}.npz')
        if not osp.isfile(path):
            raise FileNotFoundError(f'pose estimates {path!r} not found')
        try:
            data = dict(np.load(path, allow_pickle=False))
        except Exception as error:  # object arrays, not a zip, truncated
            raise ValueError(f'pose estimates {path!r} are not a readable '
                             f'numeric .npz: {error}') from error
        missing = [k for k in ('frame_ids', 'keypoints_2d', 'keypoint_scores')
                   if k not in data]
        if missing:
            raise KeyError(f'{path!r} lacks {missing}')
        rows = {int(f): i for i, f in enumerate(data['frame_ids'])}
        absent = [f for f in frame_ids if int(f) not in rows]
        if absent:
            raise KeyError(f'{path!r} has no estimates for frames {absent}')
        index = [rows[int(f)] for f in frame_ids]
        out = dict(
            keypoints_2d=data['keypoints_2d'][index].astype(np.float32),
            keypoint_scores=data['keypoint_scores'][index].astype(
                np.float32))
        if 'pose3d' in data:
            out['pose3d_init'] = data['pose3d'][index].astype(np.float32)
            check_pose_units(out['pose3d_init'], f'pose3d of {path!r}')
        return out

    def prepare_data(self, idx: int) -> Dict:
        clip = self.load_clip(self.get_data_info(idx))
        samples = dict(
            clip_id=f"{clip['seq_name']}_{clip['frame_ids'][0]:04d}",
            img_paths=clip['img_paths'],
            image_size=tuple(clip['imgs'].shape[1:3]))
        if 'flows' in clip:
            valid = clip['flow_valid']
            if 'occlusions' in clip:
                valid = valid & ~clip['occlusions']
            samples.update(gt_flow=clip['flows'], gt_flow_valid=valid)
        samples.update(self._estimates(clip['seq_name'], clip['frame_ids']))
        if 'keypoints_2d' in samples:
            keypoints, scores, _ = fill_missing_keypoints(
                samples['keypoints_2d'], samples['keypoint_scores'],
                samples['image_size'],
                f"keypoints_2d of clip {samples['clip_id']}")
            samples.update(keypoints_2d=keypoints, keypoint_scores=scores)
        frames = check_frames(clip['imgs'],
                              f"frames of clip {samples['clip_id']}")
        return self.pipeline(
            dict(inputs=dict(frames=frames), data_samples=samples))
