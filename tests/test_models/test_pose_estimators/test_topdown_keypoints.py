"""Person boxes for the top-down 2D model: hand-computed values."""
import numpy as np

from mmflowpose.models.pose_estimators.topdown_keypoints import (
    keypoint_box, whole_frame_box)

POINTS = np.array([[100, 200], [140, 260], [120, 230], [0, 0]], np.float32)
SCORES = np.array([0.9, 0.8, 0.5, 0.1])  # the last point is not confident


def test_whole_frame_box():
    np.testing.assert_array_equal(whole_frame_box(360, 640), [0, 0, 640, 360])


def test_extent_enlarged_by_margin():
    # extent (100, 200)-(140, 260), centre (120, 230), size 40 x 60;
    # a 0.25 margin adds 10 px left/right and 15 px top/bottom
    box = keypoint_box(POINTS, SCORES, (720, 1280), margin=0.25)
    np.testing.assert_allclose(box, [90, 185, 150, 275])
    box = keypoint_box(POINTS, SCORES, (720, 1280), margin=0.0)
    np.testing.assert_allclose(box, [100, 200, 140, 260])


def test_clipped_to_the_frame():
    box = keypoint_box(POINTS, SCORES, (250, 145), margin=0.25)
    np.testing.assert_allclose(box, [90, 185, 145, 250])


def test_low_scores_ignored_and_lost():
    # with the threshold at 0.6 only two points remain: fewer than 3
    assert keypoint_box(POINTS, SCORES, (720, 1280), score_thr=0.6) is None
    box = keypoint_box(POINTS, SCORES, (720, 1280), margin=0.0, score_thr=0.0)
    np.testing.assert_allclose(box, [0, 0, 140, 260])  # (0, 0) joins
    nan = POINTS.copy()
    nan[1] = np.nan
    assert keypoint_box(nan, SCORES, (720, 1280)) is None


def test_minimum_size_and_off_frame():
    same = np.full((3, 2), 50.0)
    box = keypoint_box(same, np.ones(3), (720, 1280), min_size=32)
    np.testing.assert_allclose(box, [34, 34, 66, 66])
    outside = np.full((3, 2), -500.0)
    assert keypoint_box(outside, np.ones(3), (720, 1280)) is None
