"""Simulated 3D-estimator and 2D-detector errors on ground-truth poses.

A "noisy ground-truth estimator" for clips with exact ground truth, with the
error structure of real lifters rather than white noise:

- **per-sequence bias**: one random offset per joint for the whole clip
  (systematic limb-length / pose errors), std ``bias_std`` metres;
- **correlated jitter**: per-joint noise smoothed over time with a Gaussian
  kernel of ``jitter_corr_frames`` frames (std ``jitter_std`` m after
  smoothing), as lifters' errors drift over a few frames;
- **depth error**: extra noise along the camera's z axis, std ``depth_std``
  m, correlated like the jitter (depth is the hardest direction);
- **2D detections**: GT projections plus white noise ``det_std`` px;
  ``dropout`` is the chance that a joint's detection is missing in a frame
  (score 0 and NaN coordinates).

All draws come from ``numpy.random.default_rng(seed)``.
"""
from typing import Dict

import numpy as np
from scipy.ndimage import gaussian_filter1d


def _correlated(rng, shape, std: float, corr_frames: float) -> np.ndarray:
    noise = rng.standard_normal(shape)
    if corr_frames > 0 and shape[0] > 1:
        noise = gaussian_filter1d(noise, corr_frames, axis=0, mode='nearest')
        noise /= max(noise.std(), 1e-12)
    return noise * std


def simulate_estimates(joints_cam: np.ndarray,
                       joints_2d: np.ndarray,
                       seed: int = 0,
                       bias_std: float = 0.03,
                       jitter_std: float = 0.02,
                       jitter_corr_frames: float = 2.0,
                       depth_std: float = 0.03,
                       det_std: float = 2.0,
                       dropout: float = 0.0) -> Dict[str, np.ndarray]:
    """Noisy 3D estimates and 2D detections of one clip.

    Args:
        joints_cam (np.ndarray): (T, J, 3) ground-truth joints, camera
            frame, metres.
        joints_2d (np.ndarray): (T, J, 2) ground-truth projections, px.
        seed (int): random seed. Defaults to 0.
        bias_std, jitter_std, depth_std (float): metres (see module doc).
        jitter_corr_frames (float): temporal correlation (Gaussian sigma,
            frames). Defaults to 2.
        det_std (float): 2D detection noise, px. Defaults to 2.
        dropout (float): probability of a missing detection. Defaults to 0.

    Returns:
        dict: ``pose3d`` (T, J, 3) root-relative estimate in metres,
        ``keypoints_2d`` (T, J, 2) px (NaN where dropped) and
        ``keypoint_scores`` (T, J) (0 where dropped, else 1).
    """
    joints_cam = np.asarray(joints_cam, np.float64)
    num_frames, num_joints = joints_cam.shape[:2]
    rng = np.random.default_rng(seed)
    pose = joints_cam - joints_cam[:, :1]
    pose = pose + rng.standard_normal((1, num_joints, 3)) * bias_std
    pose = pose + _correlated(rng, (num_frames, num_joints, 3), jitter_std,
                              jitter_corr_frames)
    pose[..., 2] += _correlated(rng, (num_frames, num_joints), depth_std,
                                jitter_corr_frames)
    pose = pose - pose[:, :1]
    keypoints = np.asarray(joints_2d, np.float64) + rng.standard_normal(
        (num_frames, num_joints, 2)) * det_std
    dropped = rng.random((num_frames, num_joints)) < dropout
    keypoints[dropped] = np.nan
    scores = np.where(dropped, 0.0, 1.0)
    return dict(
        pose3d=pose.astype(np.float32),
        keypoints_2d=keypoints.astype(np.float32),
        keypoint_scores=scores.astype(np.float32))
