"""The inferencer's numpy edge of :class:`FlowPoseRefiner`.

The window stream holds decoded frames and estimates as host arrays and
writes files from them; the refiner takes and returns tensors (a
:class:`ClipDataSample`). :func:`refine_arrays` converts at this one edge,
including the one layout change of the flows, (P, 2, H, W) -> (P, H, W, 2),
for pictures and ``.flo`` files.
"""
from typing import Dict

import numpy as np
import torch

from mmflowpose.models.refiners import FlowPoseRefiner
from mmflowpose.structures import ClipDataSample


def _host(value: torch.Tensor) -> np.ndarray:
    return value.detach().cpu().numpy()


def refine_arrays(refiner, frames: np.ndarray, keypoints_2d: np.ndarray,
                  keypoint_scores: np.ndarray, pose3d: np.ndarray) -> Dict:
    """Refine a window given as arrays; return arrays.

    Args:
        refiner: a :class:`FlowPoseRefiner`, or any object whose
            ``refine_clip(frames, keypoints_2d, keypoint_scores, pose3d)``
            takes and returns these arrays (called as is).
        frames (np.ndarray): (T, H, W, 3) uint8 RGB.
        keypoints_2d (np.ndarray): (T, J, 2) px.
        keypoint_scores (np.ndarray): (T, J).
        pose3d (np.ndarray): (T, J, 3) m initial estimate.

    Returns:
        dict: ``pose3d_init``, ``pose3d`` (T, J, 3), ``flow_init``,
        ``flow`` (T-1, h, w, 2) px, ``sketch_mask`` (T-1, h, w) and
        ``keypoints_2d_refined`` (T, J, 2) of the last cycle.
    """
    if not isinstance(refiner, FlowPoseRefiner):
        return refiner.refine_clip(frames, keypoints_2d, keypoint_scores,
                                   pose3d)
    sample = ClipDataSample(metainfo=dict(clip_id='window'))
    sample.keypoints_2d = torch.from_numpy(keypoints_2d)
    sample.keypoint_scores = torch.from_numpy(keypoint_scores)
    sample.pose3d_init = torch.from_numpy(pose3d)
    tensor = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)
    out = refiner.refine_clip(tensor, sample)
    if out.pred_flow is None:
        raise ValueError('the inferencer needs the dense flows: set '
                         'keep_dense_flow=True in the refiner')
    return dict(
        pose3d_init=_host(out.pred_pose3d[0]),
        pose3d=_host(out.pred_pose3d[-1]),
        flow_init=_host(out.pred_flow[0].permute(0, 2, 3, 1)),
        flow=_host(out.pred_flow[-1].permute(0, 2, 3, 1)),
        sketch_mask=_host(out.pred_sketch_mask[-1]),
        keypoints_2d_refined=_host(out.pred_keypoints_2d[-1]))
