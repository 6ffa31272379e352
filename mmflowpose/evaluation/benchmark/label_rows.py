"""The label step (``models/refiners/label_step.py``) on a benchmark clip:
the detections relabelled along each flow and lifted again (the ground
truth's choice to compare with is :func:`.detections.mirrored_by_truth`)."""
from typing import Dict, Sequence, Tuple

import numpy as np
import torch

from mmflowpose.models.utils.label_tracking import (apply_mirror,
                                                    track_left_right)
from .detections import LR_SWAP


def labelled_inputs(estimator, keypoints: np.ndarray, scores: np.ndarray,
                    image_size: Tuple[int, int], flows: dict, cfg: dict,
                    names: Sequence[str]) -> Dict[str, tuple]:
    """Per flow in ``names``: ``(pose, keypoints, scores, mirrored)``, the
    lifted root-relative (T, J, 3) pose of the detections relabelled along
    that flow (:func:`track_left_right` with ``cfg``), the relabelled
    (T, J, 2) keypoints and (T, J) scores and the (T,) mirrored frames.

    Args:
        estimator: a lifter called as ``estimator(keypoints, scores,
            image_size)`` (``MMPoseLifter``).
        flows (dict): name -> (forward (P, 2, H, W) px, backward or None).
    """
    kp, sc = torch.from_numpy(keypoints), torch.from_numpy(scores)
    out = {}
    for name in names:
        mirrored = track_left_right(kp, sc, flows[name][0].float(), LR_SWAP,
                                    **cfg)
        new_kp = apply_mirror(kp, mirrored, LR_SWAP).numpy()
        new_sc = apply_mirror(sc, mirrored, LR_SWAP).numpy()
        pose = np.asarray(estimator(new_kp, new_sc, image_size), np.float32)
        out[name] = (pose - pose[:, :1], new_kp, new_sc, mirrored.numpy())
    return out
