"""Pose estimators: BlazePose -> H36M-17 mapping and real-frame runs."""
import glob
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from mmflowpose.models.pose_estimators import (MMPoseLiftingEstimator,
                                               build_pose_estimator)
from mmflowpose.models.pose_estimators.mediapipe_estimator import (
    BLAZEPOSE_IDS, MediaPipePoseEstimator, blazepose_mapping_matrix,
    blazepose_to_h36m)
from mmflowpose.models.utils.skeleton import load_skeleton
from mmflowpose.registry import MODELS

pytest.importorskip('mediapipe', reason='run `make install-demo`')

H36M = load_skeleton('h36m')
J = {name: i for i, name in enumerate(H36M.joint_names)}


def _read_rgb(path, size=None):
    image = cv2.imread(path)[..., ::-1]
    if size is not None:
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


def test_mapping_matrix_rows():
    matrix = blazepose_mapping_matrix()
    assert matrix.shape == (17, 33)
    np.testing.assert_allclose(matrix.sum(1), np.ones(17))
    assert matrix[J['root'], 23] == 0.5 and matrix[J['root'], 24] == 0.5
    assert matrix[J['right_foot'], BLAZEPOSE_IDS['right_ankle']] == 1.0


def test_mapping_hand_computed():
    # landmark l sits at (l, 2 l); visibility l / 100
    landmarks = np.stack([np.arange(33.), 2 * np.arange(33.)], -1)
    visibility = np.arange(33.) / 100
    joints, scores = blazepose_to_h36m(landmarks, visibility)
    np.testing.assert_allclose(joints[J['root']], [23.5, 47.0])
    # spine = mean of hips (23, 24) and shoulders (11, 12) = 17.5
    np.testing.assert_allclose(joints[J['spine']], [17.5, 35.0])
    np.testing.assert_allclose(joints[J['thorax']], [11.5, 23.0])
    np.testing.assert_allclose(joints[J['head']], [7.5, 15.0])  # ears 7, 8
    np.testing.assert_allclose(joints[J['neck_base']], [0.0, 0.0])  # nose
    np.testing.assert_allclose(joints[J['left_wrist']], [15.0, 30.0])
    # derived joints take their weakest source
    assert scores[J['root']] == pytest.approx(0.23)
    assert scores[J['spine']] == pytest.approx(0.11)


def test_mapping_bad_shape():
    with pytest.raises(ValueError, match='33 landmarks'):
        blazepose_to_h36m(np.zeros((17, 2)), np.zeros(17))


def test_h36m_images(fixtures):
    paths = [
        fixtures('mmpose', 'h36m', 'S1', 'S1_Directions_1.54138969',
                 'S1_Directions_1.54138969_000001.jpg'),
        fixtures('mmpose', 'h36m', 'S7', 'S7_Greeting.55011271',
                 'S7_Greeting.55011271_000396.jpg'),
        fixtures('mmpose', 'h36m', 'S8', 'S8_WalkDog_1.55011271',
                 'S8_WalkDog_1.55011271_000026.jpg'),
    ]  # standing subjects
    frames = np.stack([_read_rgb(p, (500, 500)) for p in paths])
    estimator = MediaPipePoseEstimator(static_image_mode=True)
    out = estimator.estimate(frames)
    estimator.close()
    assert out['keypoints_2d'].shape == (3, 17, 2)
    assert out['keypoint_scores'].shape == (3, 17)
    assert out['pose3d'].shape == (3, 17, 3)
    assert (out['keypoint_scores'].mean(1) > 0.7).all()
    kpt = out['keypoints_2d']
    assert (kpt >= 0).all() and (kpt < 500).all()
    pose = out['pose3d']
    np.testing.assert_allclose(pose[:, J['root']], 0, atol=1e-6)
    hip_width = np.linalg.norm(
        pose[:, J['left_hip']] - pose[:, J['right_hip']], axis=-1)
    assert ((hip_width > 0.1) & (hip_width < 0.35)).all(), hip_width
    # y points down: head above the root, feet below it
    height = pose[:, [J['left_foot'], J['right_foot']], 1].mean(1) - \
        pose[:, J['head'], 1]
    assert ((height > 1.0) & (height < 2.1)).all(), height
    thigh = np.linalg.norm(
        pose[:, J['left_knee']] - pose[:, J['left_hip']], axis=-1)
    assert ((thigh > 0.25) & (thigh < 0.6)).all(), thigh
    # 2D and 3D agree on left/right: image x of the left hip minus the
    # right hip has the sign of the 3D x difference
    dx2 = kpt[:, J['left_hip'], 0] - kpt[:, J['right_hip'], 0]
    dx3 = pose[:, J['left_hip'], 0] - pose[:, J['right_hip'], 0]
    assert (np.sign(dx2) == np.sign(dx3)).all()


def test_demo_video_tracking(fixtures):
    capture = cv2.VideoCapture(fixtures('mmpose', 'demo', 'demo.mp4'))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame[..., ::-1])
    capture.release()
    frames = np.stack(frames)
    estimator = build_pose_estimator('mediapipe')
    out = estimator(frames)
    estimator.close()
    height, width = frames.shape[1:3]
    assert out['pose3d'].dtype == np.float32
    assert all(np.isfinite(v).all() for v in out.values())
    assert (out['keypoint_scores'] > 0.5).any(1).all()  # person in all
    # confident joints lie in the image; the others (the cropped feet of
    # this clip, scores 0.5-0.7) may be extrapolated a little outside it
    kpt = out['keypoints_2d'][out['keypoint_scores'] > 0.8]
    assert (kpt[:, 0] >= 0).all() and (kpt[:, 0] < width).all()
    assert (kpt[:, 1] >= 0).all() and (kpt[:, 1] < height).all()
    kpt = out['keypoints_2d'][out['keypoint_scores'] > 0]
    assert (np.abs(kpt - [width / 2, height / 2]) <
            [0.55 * width, 0.55 * height]).all()


def test_posetrack_consecutive(fixtures):
    folder = osp.dirname(
        fixtures('mmpose', 'posetrack18', 'videos', '000001_mpiinew_test',
                 '000000.jpg'))
    frames = np.stack([
        _read_rgb(p, (640, 360))
        for p in sorted(glob.glob(osp.join(folder, '*.jpg')))
    ])
    estimator = MediaPipePoseEstimator()
    out = estimator.estimate(frames)
    estimator.close()
    assert (out['keypoint_scores'][:, J['root']] > 0.5).all()
    # one person tracked: the root moves little between frames at 640 px
    step = np.linalg.norm(np.diff(out['keypoints_2d'][:, 0], axis=0), axis=-1)
    assert (step < 40).all(), step


def test_no_person_gives_zeros():
    rng = np.random.default_rng(0)
    frames = np.stack([
        np.full((120, 160, 3), 128, np.uint8),
        rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    ])
    estimator = MediaPipePoseEstimator(static_image_mode=True)
    out = estimator.estimate(frames)
    estimator.close()
    for value in out.values():
        assert not np.isnan(value).any()
        assert (value == 0).all()


@pytest.mark.parametrize('frames', [
    np.zeros((2, 8, 8, 3), np.float32),
    np.zeros((8, 8, 3), np.uint8),
    np.zeros((2, 8, 8, 4), np.uint8),
    np.zeros((0, 8, 8, 3), np.uint8),
])
def test_bad_frames(frames):
    with pytest.raises(ValueError, match='frames'):
        MediaPipePoseEstimator().estimate(frames)


def test_bad_options():
    with pytest.raises(ValueError, match='model_complexity'):
        MediaPipePoseEstimator(model_complexity=3)
    with pytest.raises(ValueError, match='min_detection_confidence'):
        MediaPipePoseEstimator(min_detection_confidence=1.5)


def test_missing_mediapipe(monkeypatch):
    monkeypatch.setitem(sys.modules, 'mediapipe', None)
    with pytest.raises(ImportError, match='make install-demo'):
        MediaPipePoseEstimator().estimate(np.zeros((1, 8, 8, 3), np.uint8))


def test_registry_builds():
    estimator = MODELS.build(
        dict(type='MediaPipePoseEstimator', static_image_mode=True))
    assert isinstance(estimator, MediaPipePoseEstimator)
    assert estimator.options['static_image_mode'] is True
    lifter = build_pose_estimator(
        dict(type='MMPoseLiftingEstimator', pose3d='human3d'))
    assert isinstance(lifter, MMPoseLiftingEstimator)
    assert build_pose_estimator(estimator) is estimator
    with pytest.raises(TypeError, match='pose_estimator'):
        build_pose_estimator(3)


def test_mmpose_lifter_names_missing_weights(tmp_path):
    missing = str(tmp_path / 'videopose3d_h36m.pth')
    estimator = build_pose_estimator('human3d', weights=missing)
    assert isinstance(estimator, MMPoseLiftingEstimator)
    with pytest.raises(FileNotFoundError, match='videopose3d_h36m.pth'):
        estimator.estimate(np.zeros((1, 8, 8, 3), np.uint8))
