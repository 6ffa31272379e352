"""Input contracts shared by the clip datasets and the public APIs.

The rules (each refusal is a ``ValueError`` naming the input and the fix):

- **frames** are uint8 RGB ``(T, H, W, 3)`` (or one ``(H, W, 3)`` frame).
  Nothing is converted silently: a float array may be [0, 1] or [0, 255],
  bool and int16 have no single meaning, and each reading changes the flow
  several-fold. Every other dtype is refused with the conversion to apply.
- **3D poses** are in metres. A pose whose median nearest-joint distance
  (about one bone: 0.05-0.3 m for a person) exceeds
  :data:`MAX_BONE_METRES` looks like millimetres and is refused with the
  hint to divide by 1000.
- **keypoint scores** are confidences in [0, 1] (a little slack for
  rounding); other finite values are refused.
- **missing 2D keypoints** (non-finite coordinates or score, or further
  than one image size outside the image) are *filled over time*: each
  coordinate is linearly interpolated between the joint's nearest present
  frames (held constant before the first / after the last), a joint absent
  from the whole clip takes the mean of the frame's present joints, and
  every filled joint gets score 0. A lifter therefore never sees NaN or a
  fake (0, 0), and the score tells the refiner to ignore the joint. A
  warning gives the counts. More than half of the keypoints outside the
  image means they are not pixels of this image: refused.
"""
import warnings
from typing import Optional, Sequence, Tuple

import numpy as np

#: above this median nearest-joint distance a pose is not in metres
MAX_BONE_METRES = 5.0
#: scores may exceed [0, 1] by this much (float rounding)
SCORE_SLACK = 1e-3


def check_frames(frames, what: str = 'frames') -> np.ndarray:
    """Return ``frames`` as an array after checking the uint8 RGB rule.

    Raises:
        ValueError: wrong rank/channels, or a dtype other than uint8 (the
            message says how to convert).
    """
    frames = np.asarray(frames)
    if frames.ndim not in (3, 4) or frames.shape[-1] != 3:
        raise ValueError(f'{what} must be (T, H, W, 3) or (H, W, 3) RGB, got '
                         f'shape {frames.shape}')
    if frames.dtype == np.uint8:
        return frames
    if frames.dtype == np.bool_:
        hint = 'a bool mask is not an image'
    elif np.issubdtype(frames.dtype, np.floating):
        finite = frames[np.isfinite(frames)]
        top = float(finite.max()) if finite.size else float('nan')
        hint = ('values in [0, 1]: use (frames * 255).round().astype('
                'np.uint8)' if top <= 1.0 else
                'values in [0, 255]: use frames.round().clip(0, 255).astype('
                'np.uint8)')
    elif np.issubdtype(frames.dtype, np.integer):
        hint = ('16-bit images: use (frames // 257).astype(np.uint8)'
                if frames.dtype.itemsize == 2 else 'convert to uint8 0-255')
    else:
        hint = 'convert to uint8 0-255'
    raise ValueError(f'{what} must be uint8 RGB (0-255), got dtype '
                     f'{frames.dtype} ({hint})')


def median_bone_length(pose: np.ndarray) -> float:
    """Median distance of each joint to its nearest other joint."""
    pose = np.asarray(pose, np.float64).reshape(-1, *np.shape(pose)[-2:])
    diff = pose[:, :, None] - pose[:, None]
    dist = np.linalg.norm(diff, axis=-1)
    joints = dist.shape[-1]
    dist[:, np.arange(joints), np.arange(joints)] = np.inf
    nearest = dist.min(-1)
    nearest = nearest[np.isfinite(nearest)]
    return float(np.median(nearest)) if nearest.size else float('nan')


def check_pose_units(pose, what: str = 'pose3d') -> None:
    """Refuse a (…, J, 3) pose that is not in metres (see module doc)."""
    pose = np.asarray(pose)
    if pose.ndim < 2 or pose.shape[-1] != 3 or pose.shape[-2] < 2:
        raise ValueError(f'{what} must be (..., J, 3) with J >= 2, got '
                         f'{pose.shape}')
    bone = median_bone_length(pose)
    if bone > MAX_BONE_METRES:
        raise ValueError(
            f'{what} looks like millimetres (median bone length {bone:.0f}; '
            f'a person is 0.05-0.3 m per bone); poses are in metres: divide '
            'by 1000')


def check_scores(scores, what: str = 'keypoint_scores') -> None:
    """Refuse finite scores outside [0, 1]."""
    scores = np.asarray(scores, np.float64)
    finite = scores[np.isfinite(scores)]
    if finite.size and (finite.min() < -SCORE_SLACK
                        or finite.max() > 1 + SCORE_SLACK):
        raise ValueError(
            f'{what} must be confidences in [0, 1], got values in '
            f'[{finite.min():.3g}, {finite.max():.3g}] (normalise them, e.g. '
            'divide heatmap maxima by their largest value)')


def _interpolate_over_time(values: np.ndarray,
                           present: np.ndarray) -> np.ndarray:
    """Fill (T,) ``values`` where not ``present`` (>= 1 present)."""
    times = np.arange(len(values))
    return np.interp(times, times[present], values[present])


def fill_missing_keypoints(
        keypoints,
        scores,
        image_size: Optional[Sequence[int]] = None,
        what: str = 'keypoints_2d') -> Tuple[np.ndarray, np.ndarray, int]:
    """Fill missing 2D joints over time and zero their scores.

    Args:
        keypoints (array): (T, J, 2) px.
        scores (array): (T, J) in [0, 1].
        image_size (tuple, optional): (H, W); keypoints further than one
            image size outside it count as missing. Defaults to None.
        what (str): name for messages (e.g. the clip id).

    Returns:
        tuple: keypoints (T, J, 2) float32 all finite, scores (T, J) float32
        (0 where filled) and the number of filled joints.

    Raises:
        ValueError: bad shapes, scores outside [0, 1], no present keypoint
            at all, or most keypoints far outside the image.
    """
    keypoints = np.array(keypoints, np.float32)
    scores = np.array(scores, np.float32)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2 or \
            scores.shape != keypoints.shape[:2]:
        raise ValueError(f'{what}: keypoints (T, J, 2) and scores (T, J) '
                         f'expected, got {keypoints.shape} and '
                         f'{scores.shape}')
    check_scores(scores, f'{what} scores')
    finite = np.isfinite(keypoints).all(-1)
    missing = ~finite | ~np.isfinite(scores)
    far = np.zeros_like(missing)
    if image_size is not None:
        height, width = image_size
        with np.errstate(invalid='ignore'):
            x, y = keypoints[..., 0], keypoints[..., 1]
            far = finite & ((x < -width) | (x > 2 * width) | (y < -height) |
                            (y > 2 * height))
        if far.sum() > 0.5 * finite.sum():
            raise ValueError(
                f'{what}: {int(far.sum())} of {int(finite.sum())} keypoints '
                f'lie more than one image size outside the {width}x{height} '
                'image; keypoints must be pixel coordinates of these frames')
        missing |= far
    count = int(missing.sum())
    if count == 0:
        return keypoints, scores, 0
    present = ~missing
    if not present.any():
        raise ValueError(f'{what}: no keypoint is present (all '
                         f'{missing.size} are non-finite or outside the '
                         'image)')
    frames_with_joints = present.any(1)
    for joint in range(keypoints.shape[1]):
        seen = present[:, joint]
        if seen.all():
            continue
        if seen.any():
            for axis in range(2):
                keypoints[:, joint, axis] = _interpolate_over_time(
                    keypoints[:, joint, axis], seen)
            continue
        # never seen in this clip: the mean of the frame's present joints
        # (the body's centre), interpolated over frames with nobody
        for axis in range(2):
            sums = np.where(present, keypoints[..., axis], 0).sum(1)
            centre = sums / np.maximum(present.sum(1), 1)
            keypoints[:, joint, axis] = _interpolate_over_time(
                centre, frames_with_joints)
    scores[missing] = 0
    warnings.warn(
        f'{what}: {count} of {missing.size} 2D keypoints missing '
        f'({int((~finite).sum())} non-finite, {int(far.sum())} far outside '
        f'the image, in {int(missing.any(1).sum())} of {len(missing)} '
        'frames); filled over time with score 0')
    return keypoints, scores, count
