"""Initial 2D + 3D pose estimators for the demo, in H36M-17 order.

Every estimator maps a clip of frames to the inputs of
``FlowPoseRefiner.refine_clip``::

    estimate(frames)  # (T, H, W, 3) uint8 RGB
    -> dict(keypoints_2d=(T, 17, 2) px (x, y),
            keypoint_scores=(T, 17) in [0, 1], 0 = missing,
            pose3d=(T, 17, 3) metres, root-relative)

Joint order is mmpose's H36M-17 (``load_skeleton('h36m')``). 3D axes follow
the H36M camera frame: x to the image right, y down, z away from the camera
(right-handed). Frames without a person get scores 0 and all-zero
coordinates (never NaN).

Two estimators are registered in :data:`mmflowpose.registry.MODELS`:

- :class:`MediaPipePoseEstimator` (:mod:`.mediapipe_estimator`): the
  offline default; BlazePose weights ship inside the mediapipe wheel.
- :class:`MMPoseLiftingEstimator` (:mod:`.mmpose_estimator`): an mmpose
  top-down 2D model and 3D lifter built from their configs, the lifter
  run on the whole clip; needs model-zoo weights.

This module holds their interface, shared helpers and the builder.
"""
from typing import Dict, Optional

import numpy as np

from mmflowpose.registry import MODELS

#: Number of H36M-17 joints every estimator returns.
NUM_JOINTS = 17


def check_frames(frames: np.ndarray, name: str = 'frames') -> np.ndarray:
    """Check a (T, H, W, 3) uint8 clip and return it as an array."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f'{name} must be a (T, H, W, 3) uint8 RGB array, '
                         f'got shape {frames.shape} dtype {frames.dtype}')
    if frames.shape[0] < 1:
        raise ValueError(f'{name} holds no frame')
    return frames


def empty_estimate(num_frames: int) -> Dict[str, np.ndarray]:
    """The estimate of ``num_frames`` frames with no person (all zero)."""
    return dict(
        keypoints_2d=np.zeros((num_frames, NUM_JOINTS, 2), np.float32),
        keypoint_scores=np.zeros((num_frames, NUM_JOINTS), np.float32),
        pose3d=np.zeros((num_frames, NUM_JOINTS, 3), np.float32))


class BasePoseEstimator:
    """Interface: ``estimate(frames) -> dict`` (see module docstring).

    Estimators may keep state between calls on consecutive chunks of one
    video (tracking); :meth:`reset` starts a new video.
    """

    def estimate(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget tracking state before a new, unrelated input."""

    def close(self) -> None:
        """Release resources (graphs, models)."""

    def __call__(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        return self.estimate(frames)


def build_pose_estimator(cfg,
                         weights: Optional[str] = None,
                         device: Optional[str] = None) -> BasePoseEstimator:
    """Build an estimator from ``'mediapipe'``, a config/alias or a dict.

    Args:
        cfg (str | dict | BasePoseEstimator): ``'mediapipe'``; a dict with
            ``type`` (built by :data:`MODELS`); any other string is taken as
            an mmpose 3D config or alias for :class:`MMPoseLiftingEstimator`;
            an object with ``estimate`` is returned as is.
        weights (str, optional): lifter weights for a config/alias string.
        device (str, optional): passed to mmpose estimators.
    """
    # imported here: both estimator modules import this one
    from .mediapipe_estimator import MediaPipePoseEstimator
    from .mmpose_estimator import MMPoseLiftingEstimator
    if hasattr(cfg, 'estimate'):
        return cfg
    if isinstance(cfg, str):
        if cfg.lower() == 'mediapipe':
            return MediaPipePoseEstimator()
        return MMPoseLiftingEstimator(
            pose3d=cfg, pose3d_weights=weights, device=device)
    if isinstance(cfg, dict):
        return MODELS.build(dict(cfg))
    raise TypeError('pose_estimator must be "mediapipe", an mmpose config '
                    'or alias, a dict with `type`, or an object with '
                    f'`estimate`, got {type(cfg).__name__}')
