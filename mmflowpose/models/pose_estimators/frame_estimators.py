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

- :class:`MediaPipePoseEstimator` (``type='MediaPipePoseEstimator'``): the
  offline default; BlazePose weights ship inside the mediapipe wheel.
- :class:`MMPoseLiftingEstimator` (``type='MMPoseLiftingEstimator'``): an
  mmpose 2D detector + 3D lifter through ``mmpose.apis.MMPoseInferencer``;
  needs model-zoo weights.
"""
import os.path as osp
from typing import Dict, Optional

import numpy as np

from mmflowpose.registry import MODELS

#: Number of H36M-17 joints every estimator returns.
NUM_JOINTS = 17

#: BlazePose landmark ids used by :data:`BLAZEPOSE_TO_H36M`.
BLAZEPOSE_IDS = dict(
    nose=0, left_ear=7, right_ear=8, left_shoulder=11, right_shoulder=12,
    left_elbow=13, right_elbow=14, left_wrist=15, right_wrist=16,
    left_hip=23, right_hip=24, left_knee=25, right_knee=26, left_ankle=27,
    right_ankle=28)

#: H36M-17 joint -> BlazePose landmarks whose mean gives it. ``spine`` is
#: the midpoint of the hip centre and the shoulder centre (as mmpose's
#: COCO -> H36M conversion does). ``neck_base`` is the nose, again as in
#: mmpose's COCO conversion, so a lifter trained on converted COCO detections
#: sees the same convention. ``head`` is the midpoint of the ears (centre of
#: the skull). H36M "foot" joints are the ankles.
BLAZEPOSE_TO_H36M = (
    ('root', ('left_hip', 'right_hip')),
    ('right_hip', ('right_hip', )),
    ('right_knee', ('right_knee', )),
    ('right_foot', ('right_ankle', )),
    ('left_hip', ('left_hip', )),
    ('left_knee', ('left_knee', )),
    ('left_foot', ('left_ankle', )),
    ('spine', ('left_hip', 'right_hip', 'left_shoulder', 'right_shoulder')),
    ('thorax', ('left_shoulder', 'right_shoulder')),
    ('neck_base', ('nose', )),
    ('head', ('left_ear', 'right_ear')),
    ('left_shoulder', ('left_shoulder', )),
    ('left_elbow', ('left_elbow', )),
    ('left_wrist', ('left_wrist', )),
    ('right_shoulder', ('right_shoulder', )),
    ('right_elbow', ('right_elbow', )),
    ('right_wrist', ('right_wrist', )),
)

MEDIAPIPE_HINT = ('mediapipe is not installed: run `make install-demo` (it '
                  'installs mediapipe==0.10.21 without its jax dependency, '
                  'see requirements/demo-nodeps.txt)')


def blazepose_mapping_matrix() -> np.ndarray:
    """(17, 33) averaging matrix from BlazePose landmarks to H36M-17.

    Row j holds equal weights on the landmarks listed for joint j in
    :data:`BLAZEPOSE_TO_H36M` (the spine row averages the four hips and
    shoulders, which equals the midpoint of the hip and shoulder centres).
    """
    matrix = np.zeros((NUM_JOINTS, 33), dtype=np.float64)
    for j, (_, sources) in enumerate(BLAZEPOSE_TO_H36M):
        for name in sources:
            matrix[j, BLAZEPOSE_IDS[name]] = 1.0 / len(sources)
    return matrix


def blazepose_to_h36m(landmarks: np.ndarray,
                      visibility: np.ndarray) -> tuple:
    """Map BlazePose landmarks to H36M-17.

    Args:
        landmarks (np.ndarray): (..., 33, C) coordinates (C = 2 or 3).
        visibility (np.ndarray): (..., 33) scores in [0, 1].

    Returns:
        tuple[np.ndarray, np.ndarray]: (..., 17, C) joints and (..., 17)
        scores; a derived joint gets the lowest score of its sources.
    """
    if landmarks.shape[-2] != 33 or visibility.shape[-1] != 33:
        raise ValueError('BlazePose gives 33 landmarks, got landmarks '
                         f'{landmarks.shape} and visibility '
                         f'{visibility.shape}')
    joints = np.einsum('jl,...lc->...jc', blazepose_mapping_matrix(),
                       landmarks)
    scores = np.stack([
        np.min(np.stack([visibility[..., BLAZEPOSE_IDS[n]] for n in src], -1),
               -1) for _, src in BLAZEPOSE_TO_H36M
    ], -1)
    return joints, np.clip(scores, 0.0, 1.0)


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


@MODELS.register_module()
class MediaPipePoseEstimator(BasePoseEstimator):
    """BlazePose (mediapipe legacy ``solutions.pose``) mapped to H36M-17.

    2D keypoints come from ``pose_landmarks`` (normalised image coordinates
    times width/height); 3D from ``pose_world_landmarks``: metres, origin at
    the hip midpoint, x right, y down, z away from the camera, i.e. the axes
    of H36M camera coordinates, so no axis flip is applied. The result is
    made exactly root-relative by subtracting the mapped root. Scores are
    BlazePose's per-landmark ``visibility`` (``presence`` is not filled by
    the legacy API).

    Args:
        static_image_mode (bool): detect the person in every frame (for
            unrelated images) instead of tracking through a video.
            Defaults to False.
        model_complexity (int): BlazePose model; only 1 (the "full" model)
            ships in the mediapipe 0.10.21 wheel, 0 and 2 are downloaded on
            first use. Defaults to 1.
        min_detection_confidence (float): person detector threshold.
            Defaults to 0.5.
        min_tracking_confidence (float): landmark tracking threshold.
            Defaults to 0.5.
        smooth_landmarks (bool): mediapipe's temporal filter (video mode
            only). Defaults to True.
    """

    def __init__(self,
                 static_image_mode: bool = False,
                 model_complexity: int = 1,
                 min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5,
                 smooth_landmarks: bool = True) -> None:
        if model_complexity not in (0, 1, 2):
            raise ValueError('model_complexity must be 0, 1 or 2, got '
                             f'{model_complexity!r}')
        for name, value in (('min_detection_confidence',
                             min_detection_confidence),
                            ('min_tracking_confidence',
                             min_tracking_confidence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {value!r}')
        self.options = dict(
            static_image_mode=bool(static_image_mode),
            model_complexity=int(model_complexity),
            smooth_landmarks=bool(smooth_landmarks),
            min_detection_confidence=float(min_detection_confidence),
            min_tracking_confidence=float(min_tracking_confidence))
        self._pose = None

    @staticmethod
    def _import_mediapipe():
        try:
            import mediapipe
            return mediapipe.solutions.pose
        except ImportError as error:
            raise ImportError(MEDIAPIPE_HINT) from error
        except AttributeError as error:  # mediapipe >= 0.10.30
            raise ImportError(
                'this mediapipe has no legacy `solutions.pose` API (removed '
                'in 0.10.30); ' + MEDIAPIPE_HINT) from error

    def _graph(self):
        if self._pose is None:
            mp_pose = self._import_mediapipe()
            self._pose = mp_pose.Pose(**self.options)
        return self._pose

    def reset(self) -> None:
        self.close()

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def estimate(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        """Run BlazePose on each frame.

        Args:
            frames (np.ndarray): (T, H, W, 3) uint8 RGB.

        Returns:
            dict: ``keypoints_2d`` (T, 17, 2) px, ``keypoint_scores``
            (T, 17), ``pose3d`` (T, 17, 3) metres root-relative; float32.
        """
        frames = check_frames(frames)
        num_frames, height, width = frames.shape[:3]
        graph = self._graph()
        out = empty_estimate(num_frames)
        for t in range(num_frames):
            result = graph.process(np.ascontiguousarray(frames[t]))
            if result.pose_landmarks is None or \
                    result.pose_world_landmarks is None:
                continue
            image = np.array([(p.x * width, p.y * height, p.visibility)
                              for p in result.pose_landmarks.landmark])
            world = np.array([(p.x, p.y, p.z)
                              for p in result.pose_world_landmarks.landmark])
            if not (np.isfinite(image).all() and np.isfinite(world).all()):
                continue
            kpt2d, scores = blazepose_to_h36m(image[:, :2], image[:, 2])
            pose3d, _ = blazepose_to_h36m(world, image[:, 2])
            out['keypoints_2d'][t] = kpt2d
            out['keypoint_scores'][t] = scores
            out['pose3d'][t] = pose3d - pose3d[:1]
        return out


@MODELS.register_module()
class MMPoseLiftingEstimator(BasePoseEstimator):
    """An mmpose 2D detector + 3D lifter (``MMPoseInferencer``).

    Loading is lazy (first :meth:`estimate`). ``pose3d`` is an mmpose alias
    (``'human3d'``), a config name from mmpose's metafiles or a config path;
    ``pose3d_weights`` a local checkpoint or URL (None: the metafile's URL,
    which needs internet). A local path that does not exist raises
    ``FileNotFoundError`` naming it before anything is built.

    mmpose's ``Pose3DInferencer`` returns display coordinates (x, -z, -y)
    with the feet rebased to z = 0; they are turned back into the lifter's
    camera-like frame (x right, y down, z forward) and made root-relative.
    mmpose lifters output normalised units trained on metres (H36M), so the
    result is in metres up to the lifter's scale.

    Args:
        pose3d (str): 3D lifter alias, config name or path. Defaults to
            ``'human3d'``.
        pose3d_weights (str, optional): lifter checkpoint path or URL.
        pose2d (str, optional): 2D estimator alias/config (mmpose default
            ``'human'`` when None).
        pose2d_weights (str, optional): 2D checkpoint path or URL.
        det_model (str, optional): mmdet person detector config/alias.
        det_weights (str, optional): detector checkpoint path or URL.
        device (str, optional): torch device. Defaults to None (auto).
    """

    def __init__(self,
                 pose3d: str = 'human3d',
                 pose3d_weights: Optional[str] = None,
                 pose2d: Optional[str] = None,
                 pose2d_weights: Optional[str] = None,
                 det_model: Optional[str] = None,
                 det_weights: Optional[str] = None,
                 device: Optional[str] = None) -> None:
        self.pose3d = pose3d
        self.pose3d_weights = pose3d_weights
        self.pose2d = pose2d
        self.pose2d_weights = pose2d_weights
        self.det_model = det_model
        self.det_weights = det_weights
        self.device = device
        self._inferencer = None

    @staticmethod
    def _check_local(path: Optional[str], what: str) -> None:
        if path is None or '://' in path:
            return
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{what} weight file {path!r} does not exist; download it '
                'from the mmpose model zoo (see docs/en/demo.md) or pass a '
                'URL')

    def _build(self):
        for path, what in ((self.pose3d_weights, 'pose3d'),
                           (self.pose2d_weights, 'pose2d'),
                           (self.det_weights, 'detector')):
            self._check_local(path, what)
        if self.pose3d.endswith('.py') and not osp.isfile(self.pose3d):
            raise FileNotFoundError(
                f'pose3d config {self.pose3d!r} does not exist')
        from mmengine.registry import DefaultScope
        from mmpose.apis import MMPoseInferencer
        with DefaultScope.overwrite_default_scope('mmpose'):
            try:
                return MMPoseInferencer(
                    pose2d=self.pose2d,
                    pose2d_weights=self.pose2d_weights,
                    pose3d=self.pose3d,
                    pose3d_weights=self.pose3d_weights,
                    device=self.device,
                    det_model=self.det_model,
                    det_weights=self.det_weights)
            except (OSError, RuntimeError, ValueError) as error:
                raise RuntimeError(
                    f'could not build the mmpose estimator pose3d='
                    f'{self.pose3d!r} (weights {self.pose3d_weights!r}), '
                    f'pose2d={self.pose2d!r} (weights '
                    f'{self.pose2d_weights!r}): {error}. Offline, pass local '
                    'weight files or use --pose3d mediapipe') from error

    def reset(self) -> None:
        if self._inferencer is not None:
            buffer = getattr(self._inferencer.inferencer, '_buffer', None)
            if buffer is not None:
                buffer.clear()

    def estimate(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        frames = check_frames(frames)
        if self._inferencer is None:
            self._inferencer = self._build()
        inferencer = self._inferencer.inferencer
        out = empty_estimate(len(frames))
        # mmpose takes BGR arrays; one generator step per frame.
        inputs = [np.ascontiguousarray(f[..., ::-1]) for f in frames]
        results = self._inferencer(
            inputs, return_datasamples=True, disable_rebase_keypoint=True)
        for t, result in enumerate(results):
            sample = result['predictions'][0]
            pose2d = inferencer._buffer['pose_est_results_list'][-1]
            instances = sample.pred_instances
            if len(instances) == 0 or not pose2d or \
                    len(pose2d[0].pred_instances) == 0:
                continue
            shown = np.asarray(instances.keypoints[0], np.float64)
            pose3d = np.stack(
                [-shown[:, 0], -shown[:, 2], shown[:, 1]], axis=-1)
            kpt2d = np.asarray(pose2d[0].pred_instances.keypoints[0])
            scores = np.asarray(
                instances.keypoint_scores, np.float64).reshape(-1)
            out['keypoints_2d'][t] = kpt2d[:, :2]
            out['keypoint_scores'][t] = np.clip(scores[:NUM_JOINTS], 0, 1)
            out['pose3d'][t] = pose3d - pose3d[:1]
        return out


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


__all__ = [
    'BasePoseEstimator', 'MediaPipePoseEstimator', 'MMPoseLiftingEstimator',
    'build_pose_estimator', 'blazepose_to_h36m', 'blazepose_mapping_matrix',
    'BLAZEPOSE_TO_H36M', 'empty_estimate', 'check_frames'
]
