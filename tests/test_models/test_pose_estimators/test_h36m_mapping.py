"""COCO-17 / BlazePose -> H36M-17: hand-computed joints and scores."""
import numpy as np
import pytest

from mmflowpose.models.pose_estimators.h36m_mapping import (COCO_IDS,
                                                            coco_to_h36m)
from mmflowpose.models.utils.skeleton import load_skeleton

J = {name: i for i, name in enumerate(load_skeleton('h36m').joint_names)}


def test_coco_ids_follow_mmpose_coco_order():
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    meta = parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/'
             'coco.py'))
    for name, index in COCO_IDS.items():
        assert meta['keypoint_id2name'][index] == name


def test_coco_to_h36m_hand_computed():
    # COCO keypoint k sits at (k, 10 k) with score k / 20
    keypoints = np.stack([np.arange(17.), 10 * np.arange(17.)], -1)
    scores = np.arange(17.) / 20
    joints, joint_scores = coco_to_h36m(keypoints, scores)
    assert joints.shape == (17, 2) and joint_scores.shape == (17, )
    expected = {
        'root': (11.5, 115.0),  # hips 11, 12
        'thorax': (5.5, 55.0),  # shoulders 5, 6
        'spine': (8.5, 85.0),  # midpoint of root and thorax
        'neck_base': (0.0, 0.0),  # nose
        'head': (3.5, 35.0),  # ears 3, 4
        'right_hip': (12.0, 120.0),
        'right_foot': (16.0, 160.0),  # right ankle
        'left_knee': (13.0, 130.0),
        'left_shoulder': (5.0, 50.0),
        'right_wrist': (10.0, 100.0),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(joints[J[name]], value, err_msg=name)
    # a derived joint scores as its weakest source
    assert joint_scores[J['root']] == pytest.approx(11 / 20)
    assert joint_scores[J['spine']] == pytest.approx(5 / 20)
    assert joint_scores[J['head']] == pytest.approx(3 / 20)
    assert joint_scores[J['neck_base']] == 0
    assert joint_scores[J['right_foot']] == pytest.approx(16 / 20)


def test_batched_and_clipped():
    rng = np.random.default_rng(0)
    keypoints = rng.normal(size=(3, 4, 17, 2))
    scores = rng.uniform(-0.5, 1.5, size=(3, 4, 17))
    joints, joint_scores = coco_to_h36m(keypoints, scores)
    assert joints.shape == (3, 4, 17, 2)
    assert (joint_scores >= 0).all() and (joint_scores <= 1).all()
    single, _ = coco_to_h36m(keypoints[2, 1], scores[2, 1])
    np.testing.assert_allclose(joints[2, 1], single)


@pytest.mark.parametrize('keypoints,scores', [
    (np.zeros((17, 2)), np.zeros(16)),
    (np.zeros((33, 2)), np.zeros(33)),
    (np.zeros(17), np.zeros(17)),
])
def test_bad_shapes(keypoints, scores):
    with pytest.raises(ValueError, match='COCO gives 17 landmarks'):
        coco_to_h36m(keypoints, scores)
