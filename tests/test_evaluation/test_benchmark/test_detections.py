"""Detector fields, sanitising and the left/right mirror table."""
import numpy as np
import pytest

from mmflowpose.evaluation.benchmark import LR_SWAP, lr_swap_ids, sanitize
from mmflowpose.models.utils.skeleton import load_skeleton


def test_sanitize_zeroes_missing_joints_and_their_scores():
    kp = np.ones((2, 17, 2), np.float32)
    kp[1, 3] = np.nan
    sample = dict(keypoints_2d=kp, keypoint_scores=np.full((2, 17), 0.9),
                  mp_keypoints_2d=kp * 2, mp_keypoint_scores=np.ones((2, 17)))
    out, scores = sanitize(sample)
    assert (out[1, 3] == 0).all() and scores[1, 3] == 0
    assert (out[0] == 1).all() and np.allclose(scores[0], 0.9)
    assert scores.dtype == np.float32
    # another detector reads its own fields
    out, scores = sanitize(sample, 'mediapipe')
    assert out[0, 0, 0] == 2 and scores[0, 0] == 1
    assert np.isnan(kp[1, 3]).all()  # the input is not modified
    with pytest.raises(ValueError, match='detector'):
        sanitize(sample, 'openpose')


def test_lr_swap_mirrors_left_and_right():
    names = list(load_skeleton('h36m').joint_names)
    assert LR_SWAP == lr_swap_ids('h36m')
    # an involution that keeps the centre line
    assert [LR_SWAP[i] for i in LR_SWAP] == list(range(17))
    for centre in ('root', 'spine', 'thorax', 'head'):
        i = names.index(centre)
        assert LR_SWAP[i] == i
    assert names[LR_SWAP[names.index('left_wrist')]] == 'right_wrist'
    assert names[LR_SWAP[names.index('right_hip')]] == 'left_hip'
