"""BlazePose (mediapipe) as an initial pose estimator, mapped to H36M-17.

See :mod:`.estimator_base` for the estimate's layout and axes.
"""
import sys
from typing import Dict, Sequence, Tuple

import numpy as np

from mmflowpose.registry import MODELS
from .estimator_base import BasePoseEstimator, check_frames, empty_estimate
from .h36m_mapping import h36m_mapping_matrix, map_to_h36m

#: BlazePose's 33 landmark names in its output order (id = position).
BLAZEPOSE_LANDMARKS = (
    'nose', 'left_eye_inner', 'left_eye', 'left_eye_outer', 'right_eye_inner',
    'right_eye', 'right_eye_outer', 'left_ear', 'right_ear', 'mouth_left',
    'mouth_right', 'left_shoulder', 'right_shoulder', 'left_elbow',
    'right_elbow', 'left_wrist', 'right_wrist', 'left_pinky', 'right_pinky',
    'left_index', 'right_index', 'left_thumb', 'right_thumb', 'left_hip',
    'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
    'left_heel', 'right_heel', 'left_foot_index', 'right_foot_index')
#: BlazePose landmark name -> id (the mapping reads the names it needs).
BLAZEPOSE_IDS = {name: i for i, name in enumerate(BLAZEPOSE_LANDMARKS)}

MEDIAPIPE_HINT = ('mediapipe is not installed: run `make install-demo` (it '
                  'installs mediapipe==0.10.21 without its jax dependency, '
                  'see requirements/demo-nodeps.txt)')


#: Where mediapipe keeps the exception of an optional import it tried, as
#: (module, attribute). Such an exception's traceback holds the frame of the
#: importing module and, through ``f_back``, every frame that was on the
#: stack when mediapipe was first imported, with their locals.
MEDIAPIPE_KEPT_ERRORS = (
    # mediapipe 0.10.x: ``try: import sounddevice as sd ... except
    # ImportError as ie: sd_error = ie`` (raised again by AudioRecord()).
    ('mediapipe.tasks.python.audio.core.audio_record', 'sd_error'), )


def drop_kept_tracebacks(
        kept: Sequence[Tuple[str, str]] = MEDIAPIPE_KEPT_ERRORS) -> int:
    """Drop the tracebacks of exceptions a library keeps as module
    attributes, so that the frames live at its import are freed.

    mediapipe keeps its failed ``sounddevice`` import; imported inside a
    call holding big arrays (a window's frames), it would keep them alive
    for the whole process. The exception itself stays (its message is
    what AudioRecord raises); only its traceback goes. Modules not imported
    and attributes absent (other mediapipe versions) are skipped, so this
    is safe to call at any time and any number of times.
    :meth:`MediaPipePoseEstimator.import_mediapipe` calls it.

    Args:
        kept (Sequence[tuple]): (module name, attribute) pairs. Defaults
            to :data:`MEDIAPIPE_KEPT_ERRORS`.

    Returns:
        int: how many tracebacks were dropped (chained exceptions,
        ``__cause__`` and ``__context__``, included).
    """
    dropped = 0
    for module_name, attribute in kept:
        module = sys.modules.get(module_name)
        errors = [getattr(module, attribute, None)]
        seen = set()
        while errors:
            error = errors.pop()
            # a chain can loop back (context set on a re-raise)
            if not isinstance(error, BaseException) or id(error) in seen:
                continue
            seen.add(id(error))
            if error.__traceback__ is not None:
                error.__traceback__ = None
                dropped += 1
            errors += [error.__cause__, error.__context__]
    return dropped


def blazepose_mapping_matrix() -> np.ndarray:
    """(17, 33) averaging matrix from BlazePose landmarks to H36M-17."""
    return h36m_mapping_matrix(BLAZEPOSE_IDS, 33)


def blazepose_to_h36m(landmarks: np.ndarray, visibility: np.ndarray) -> tuple:
    """BlazePose (..., 33, C) landmarks and (..., 33) visibility ->
    H36M-17 (see :mod:`.h36m_mapping`)."""
    return map_to_h36m(landmarks, visibility, BLAZEPOSE_IDS, 33, 'BlazePose')


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
    def import_mediapipe():
        """Import mediapipe's legacy ``solutions.pose`` module.

        The estimator imports it lazily, on its first :meth:`estimate`;
        the kept tracebacks are dropped (:func:`drop_kept_tracebacks`), so
        the frames of that call are not pinned by the import.

        Returns:
            module: ``mediapipe.solutions.pose``.

        Raises:
            ImportError: mediapipe is missing, or too new (>= 0.10.30) to
                have ``solutions.pose``; the message says what to install.
        """
        try:
            import mediapipe
            mp_pose = mediapipe.solutions.pose
        except ImportError as error:
            raise ImportError(MEDIAPIPE_HINT) from error
        except AttributeError as error:  # mediapipe >= 0.10.30
            raise ImportError(
                'this mediapipe has no legacy `solutions.pose` API (removed '
                'in 0.10.30); ' + MEDIAPIPE_HINT) from error
        drop_kept_tracebacks()
        return mp_pose

    def _graph(self):
        if self._pose is None:
            mp_pose = self.import_mediapipe()
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
