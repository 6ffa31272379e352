"""Body landmarks (BlazePose-33, COCO-17) mapped onto H36M-17.

One table, :data:`H36M_FROM_BODY`, says which named body landmarks give each
H36M-17 joint; a landmark set only has to name its ids (:data:`COCO_IDS`,
``BLAZEPOSE_IDS`` in :mod:`.mediapipe_estimator`). Derived joints:

- ``root`` (pelvis) = midpoint of the hips, ``thorax`` = midpoint of the
  shoulders, ``spine`` = midpoint of pelvis and thorax (the mean of the four
  hips and shoulders), as mmpose's COCO -> H36M conversion does;
- ``neck_base`` = the nose, again as mmpose does, so a lifter fed converted
  COCO detections sees the convention mmpose's demos use;
- ``head`` = midpoint of the ears, the centre of the skull, which is where
  H36M's head joint sits (mmpose takes the eyes, which lie in front of it);
- H36M "foot" joints are the ankles.

A derived joint's score is the lowest score of its sources: it is only as
reliable as its weakest part.
"""
from typing import Dict, Tuple

import numpy as np

from .estimator_base import NUM_JOINTS

#: H36M-17 joint (mmpose order) -> named landmarks whose mean gives it.
H36M_FROM_BODY = (
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

#: COCO-17 keypoint names in mmpose's ``coco.py`` order (id = position).
COCO_NAMES = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
              'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
              'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
              'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
#: COCO-17 keypoint ids of the named landmarks.
COCO_IDS = {name: i for i, name in enumerate(COCO_NAMES)}


def h36m_mapping_matrix(ids: Dict[str, int], num_landmarks: int) -> np.ndarray:
    """(17, K) averaging matrix from K landmarks to H36M-17.

    Row j holds equal weights on the landmarks :data:`H36M_FROM_BODY` lists
    for joint j (the spine row averages the four hips and shoulders, which
    equals the midpoint of the hip and shoulder centres).

    Args:
        ids (dict): landmark name -> index, for every name in the table.
        num_landmarks (int): K, landmarks in the source set.
    """
    matrix = np.zeros((NUM_JOINTS, num_landmarks), dtype=np.float64)
    for j, (_, sources) in enumerate(H36M_FROM_BODY):
        for name in sources:
            matrix[j, ids[name]] = 1.0 / len(sources)
    return matrix


def map_to_h36m(points: np.ndarray, scores: np.ndarray, ids: Dict[str, int],
                num_landmarks: int,
                source: str) -> Tuple[np.ndarray, np.ndarray]:
    """Map landmarks to H36M-17 following :data:`H36M_FROM_BODY`.

    Args:
        points (np.ndarray): (..., K, C) coordinates (C = 2 or 3).
        scores (np.ndarray): (..., K) scores in [0, 1].
        ids (dict): landmark name -> index in K.
        num_landmarks (int): K expected.
        source (str): the landmark set's name, for error messages.

    Returns:
        tuple[np.ndarray, np.ndarray]: (..., 17, C) joints and (..., 17)
        scores clipped to [0, 1]; a derived joint gets the lowest score of
        its sources.
    """
    points = np.asarray(points)
    scores = np.asarray(scores)
    if points.ndim < 2 or points.shape[-2] != num_landmarks or \
            scores.shape != points.shape[:-1]:
        raise ValueError(f'{source} gives {num_landmarks} landmarks: points '
                         f'must be (..., {num_landmarks}, C) and scores '
                         f'(..., {num_landmarks}), got points {points.shape} '
                         f'and scores {scores.shape}')
    joints = np.einsum('jl,...lc->...jc',
                       h36m_mapping_matrix(ids, num_landmarks), points)
    joint_scores = np.stack([
        np.min(np.stack([scores[..., ids[n]] for n in sources], -1), -1)
        for _, sources in H36M_FROM_BODY
    ], -1)
    return joints, np.clip(joint_scores, 0.0, 1.0)


def coco_to_h36m(keypoints: np.ndarray,
                 scores: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """COCO-17 keypoints (..., 17, C) and scores (..., 17) -> H36M-17."""
    return map_to_h36m(keypoints, scores, COCO_IDS, 17, 'COCO')
