"""2D detections of a benchmark clip: which fields a detector's
keypoints live in, the detections as the refiner sees them, and the
mediapipe estimator run on the rendered frames."""
from typing import Optional, Tuple

import numpy as np
import torch

# BlazePose's person detector keys on the face. On the first, faceless
# mannequin its default threshold (0.5) missed the person in most frames
# of 3 of 8 validation clips, and 0.2 was chosen on validation clips; with
# the rendered face (datasets/synthetic/appearance.py) both find the person
# (97.0% of validation frames at 0.2, 95.2% at 0.5), so 0.2 stays.
MEDIAPIPE = dict(min_detection_confidence=0.2)
#: detector name -> (keypoint field, score field) of a clip sample:
#: 'white' = true projections + white noise (the dataset's), 'mediapipe'
#: = BlazePose on the rendered frames (:func:`add_mediapipe`),
#: 'mediapipe_lr' = its left/right-corrected diagnostic copy
DETECTORS = dict(
    white=('keypoints_2d', 'keypoint_scores'),
    mediapipe=('mp_keypoints_2d', 'mp_keypoint_scores'),
    mediapipe_lr=('mplr_keypoints_2d', 'mp_keypoint_scores'))


def lr_swap_ids(skeleton: str = 'h36m') -> list:
    """Joint order of ``skeleton`` with left and right exchanged."""
    from mmflowpose.models.utils.skeleton import load_skeleton
    names = list(load_skeleton(skeleton).joint_names)
    mirror = [
        n.replace('left', '@').replace('right', 'left').replace('@', 'right')
        for n in names
    ]
    return [names.index(n) for n in mirror]


#: H36M-17 joint order with left and right exchanged
LR_SWAP = lr_swap_ids()


def mirrored_by_truth(keypoints: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(T,) bool, DIAGNOSTIC: frames whose detections (T, J, 2) are closer
    to the true projections ``gt`` with left and right exchanged."""
    as_is = np.linalg.norm(keypoints - gt, axis=-1).mean(1)
    swapped = np.linalg.norm(keypoints[:, LR_SWAP] - gt, axis=-1).mean(1)
    return swapped < as_is


def sanitize(sample: dict,
             detector: str = 'white') -> Tuple[np.ndarray, np.ndarray]:
    """A detector's (T, J, 2) px keypoints and (T, J) scores as the
    refiner sees them: a NaN joint becomes (0, 0) with score 0."""
    if detector not in DETECTORS:
        raise ValueError(f'detector must be one of {sorted(DETECTORS)}, '
                         f'got {detector!r}')
    kp_key, score_key = DETECTORS[detector]
    kp = np.asarray(sample[kp_key], np.float32)
    scores = np.asarray(sample[score_key], np.float32)
    missing = ~np.isfinite(kp).all(-1)
    return np.nan_to_num(kp), np.where(missing, 0, scores).astype(np.float32)


def add_mediapipe(item: dict, options: Optional[dict] = None) -> float:
    """Run the project's mediapipe estimator (video mode, a fresh tracker
    per clip) on a rendered clip's frames and store its H36M-17
    detections in the sample next to the white-noise ones
    (``mp_keypoints_2d``, ``mp_keypoint_scores``).

    Frames where it finds nobody keep score 0 and their joints are filled
    over time, as the refiner does before lifting (never a (0, 0) joint
    lifted as a real position). Also stores the diagnostic
    ``mplr_keypoints_2d`` (it reads the ground truth): per frame the
    labelling, as detected or left/right mirrored, closer to the true
    projections, and ``mp_lr_swapped``, the share of mirrored frames.

    Args:
        item (dict): a rendered clip (``inputs.frames`` (T, H, W, 3)
            uint8, ``data_samples.gt_keypoints_2d`` (T, J, 2) px).
        options (dict, optional): estimator arguments. Defaults to
            :data:`MEDIAPIPE`.

    Returns:
        float: the share of frames with a person found.
    """
    from mmflowpose.models.pose_estimators import MediaPipePoseEstimator
    from mmflowpose.models.utils.keypoint_fill import fill_missing_over_time
    est = MediaPipePoseEstimator(**(options or MEDIAPIPE))
    try:
        out = est(item['inputs']['frames'])
    finally:
        est.close()
    scores = out['keypoint_scores']
    missing = np.broadcast_to(~(scores.max(1, keepdims=True) > 0),
                              scores.shape)
    kp = fill_missing_over_time(
        torch.from_numpy(out['keypoints_2d']),
        torch.from_numpy(np.ascontiguousarray(missing))).numpy()
    sample = item['data_samples']
    sample['mp_keypoints_2d'] = kp.astype(np.float32)
    sample['mp_keypoint_scores'] = scores
    # BlazePose can mistake a back view for a front view and swap left and
    # right (18% of validation frames with the rendered face, 65% without)
    mirrored = mirrored_by_truth(kp, np.asarray(sample['gt_keypoints_2d']))
    sample['mplr_keypoints_2d'] = np.where(mirrored[:, None, None],
                                           kp[:, LR_SWAP],
                                           kp).astype(np.float32)
    sample['mp_lr_swapped'] = float(mirrored.mean())
    return float((scores.max(1) > 0).mean())
