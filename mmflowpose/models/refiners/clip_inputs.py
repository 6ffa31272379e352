"""What a refiner needs of one clip, checked and on its device.

The clip's :class:`ClipDataSample` holds channel-first frames (T, 3, H, W)
and, unless a frame estimator supplies them, 2D detections; this module
fills missing joints, lifts the initial 3D pose and resizes the frames to
the flow networks' working size.
"""
from typing import NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmflowpose.structures import ClipDataSample
from ..utils.keypoint_fill import fill_missing_over_time
from .working_frames import WorkingFrames
from .working_resolution import working_size


class ClipInputs(NamedTuple):
    """One clip's inputs on the refiner's device.

    ``frames`` (T, 3, h, w) float 0-255 at the working size ``work_size``
    (:class:`WorkingFrames`, made from the clip's frames when read);
    ``keypoints_2d`` (T, J, 2) px and ``keypoint_scores`` (T, J) as used
    (missing joints filled over time, score 0); ``pose3d_init`` (T, J, 3)
    m root-relative (None until the label step lifts, when it runs);
    ``image_size`` the original (H, W); ``camera`` the intrinsics (dict of
    tensors) or None; ``pose_flow`` (P, 2, H, W) and
    ``sketch_keypoints`` (T, J, 2) the oracle inputs, or None;
    ``labels_mirrored`` (T,) bool the frames the label step relabelled
    (``label_step.py``), or None.
    """
    frames: WorkingFrames
    keypoints_2d: Tensor
    keypoint_scores: Tensor
    pose3d_init: Optional[Tensor]
    image_size: Tuple[int, int]
    work_size: Tuple[int, int]
    camera: Optional[dict]
    pose_flow: Optional[Tensor] = None
    sketch_keypoints: Optional[Tensor] = None
    labels_mirrored: Optional[Tensor] = None


def _on(value: Tensor, device) -> Tensor:
    return value.detach().to(device=device, dtype=torch.float32)


def detect(frame_estimators: Sequence, frames: Tensor) -> list:
    """Run the frame estimators on host (T, H, W, 3) images (third-party
    estimators read numpy images: an input edge): dicts with
    ``keypoints_2d`` (T, J, 2), ``keypoint_scores`` (T, J), ``pose3d``."""
    images = frames.permute(0, 2, 3, 1).cpu()
    detections = []
    for estimator in frame_estimators:
        if hasattr(estimator, 'reset'):
            estimator.reset()  # a new clip: no tracking from the last
        detections.append(estimator.estimate(images))
    return detections


def estimate_pose(lifters: Sequence, keypoints_2d: Tensor, scores: Tensor,
                  image_size, pose3d_init: Optional[Tensor],
                  detections: Sequence[dict]) -> Tensor:
    """Averaged root-relative 3D estimate (T, J, 3) m on the keypoints'
    device: the lifters on the 2D keypoints (mmpose lifters read host
    arrays), the frame estimators' own 3D, else ``pose3d_init``."""
    device = keypoints_2d.device
    estimates = []
    if len(lifters):
        host = keypoints_2d.cpu(), scores.cpu()
        estimates = [
            _on(torch.as_tensor(lifter(*host, image_size)), device)
            for lifter in lifters
        ]
    estimates += [_on(torch.as_tensor(d['pose3d']), device)
                  for d in detections]
    if not estimates:
        if pose3d_init is None:
            raise ValueError('no pose_estimators configured and the clip has '
                             'no precomputed pose3d_init')
        estimates = [_on(pose3d_init, device)]
    pose = torch.stack(estimates).mean(0)
    return pose - pose[:, :1]


def check_packed(frames, sample) -> None:
    """Raise unless a batch entry is a packed clip (``PackClipInputs``)."""
    if not isinstance(sample, ClipDataSample):
        raise TypeError('FlowPoseRefiner.predict needs packed clips '
                        "(pipeline=[dict(type='PackClipInputs')] in the "
                        f'dataset), got a {type(sample).__name__} sample')
    if frames is None:
        raise KeyError('FlowPoseRefiner needs the clip frames; set '
                       'load_frames=True in the dataset')


def prepare_clip(refiner, frames: Tensor,
                 sample: ClipDataSample) -> ClipInputs:
    """Check and prepare one clip for ``refiner`` (see :class:`ClipInputs`).

    Raises:
        ValueError: frames not (T >= 2, 3, H, W), keypoints of the wrong
            shape or joint count, or no 2D keypoints nor frame estimator.
        KeyError: an oracle setting needs a field the clip lacks.
    """
    clip = sample.metainfo.get('clip_id')
    if not isinstance(frames, Tensor) or frames.ndim != 4 or \
            frames.shape[1] != 3:
        raise ValueError(f'clip {clip!r}: frames must be a (T, 3, H, W) RGB '
                         'tensor, got '
                         f'{tuple(getattr(frames, "shape", ())) or frames}')
    num_frames, height, width = frames.shape[0], *frames.shape[2:]
    if num_frames < 2:
        raise ValueError(f'a clip needs >= 2 frames, got {num_frames}')
    device, timer = refiner.device, refiner.timer
    detections = []
    if refiner.frame_estimators:
        with timer('detect'):
            detections = detect(refiner.frame_estimators, frames)
    kp, scores = sample.keypoints_2d, sample.keypoint_scores
    if kp is None:
        if not detections:
            raise ValueError(
                f'clip {clip!r} has no 2D keypoints and no frame estimator '
                '(e.g. MediaPipePoseEstimator) is configured')
        kp = torch.as_tensor(detections[0]['keypoints_2d'])
        scores = torch.as_tensor(detections[0]['keypoint_scores'])
    kp, scores = _on(kp, device), _on(scores, device)
    if kp.shape[:1] != (num_frames, ) or scores.shape != kp.shape[:2]:
        raise ValueError(
            f'keypoints_2d {tuple(kp.shape)} and keypoint_scores '
            f'{tuple(scores.shape)} must be (T, J, 2) and (T, J) with '
            f'T = {num_frames} frames')
    refiner.skeleton.check_joints(kp.shape[1], 'keypoints_2d')
    # joints the detector missed (NaN; a frame with nobody): score 0 and
    # filled over time before any lifter sees them (never NaN, never a
    # (0, 0) joint lifted as a real position)
    missing = ~torch.isfinite(kp).all(-1)
    scores = torch.where(missing, torch.zeros_like(scores), scores)
    kp = fill_missing_over_time(kp, missing)
    image_size = (int(height), int(width))
    work_size = working_size(image_size, refiner.flow_max_side)
    pose_init = None
    if refiner.label_tracking is None:
        # with the label step the lifters run once, on the relabelled
        # detections (label_step.relabel_clip)
        with timer('lift', device):
            pose_init = estimate_pose(refiner.pose_estimators, kp, scores,
                                      image_size, sample.pose3d_init,
                                      detections)
    # resized when the flow or fine-tuning reads them (a few at a time),
    # never held as a whole window
    work_frames = WorkingFrames(frames, work_size, device)
    oracle = dict()
    if refiner.pose_flow == 'ground_truth':
        oracle['pose_flow'] = _on(_require(sample, 'gt_flow'), device)
    if refiner.sketch_source == 'ground_truth':
        oracle['sketch_keypoints'] = _on(
            _require(sample, 'gt_keypoints_2d'), device)
    return ClipInputs(work_frames, kp, scores, pose_init, image_size,
                      work_size, sample.camera_tensors(device), **oracle)


def _require(sample: ClipDataSample, key: str) -> Tensor:
    if sample.get(key) is None:
        raise KeyError(f'the oracle setting needs the clip field {key!r}, '
                       f'which clip {sample.metainfo.get("clip_id")!r} '
                       'lacks')
    return sample.get(key)
