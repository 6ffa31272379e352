"""The demo's summary figure: joint shifts and bone-length spread."""
import numpy as np
import pytest

from mmflowpose.visualization import draw_refinement_summary
from mmflowpose.visualization.plots import bone_length_spread

from test_pose3d_panel import standing_pose


def test_bone_length_spread_hand_computed():
    poses = np.zeros((2, 2, 3))
    poses[0, 1] = (1.0, 0, 0)  # bone length 1 in frame 0
    poses[1, 1] = (3.0, 0, 0)  # 3 in frame 1 -> std 1
    np.testing.assert_allclose(bone_length_spread(poses, [(0, 1)]), [1.0])
    np.testing.assert_allclose(
        bone_length_spread(poses, [(0, 1)], mask=[True, False]), [0.0])


def _clip(num_frames=8, seed=0):
    rng = np.random.default_rng(seed)
    refined = np.stack([standing_pose()] * num_frames)
    # the initial estimate jitters: bone lengths change from frame to frame
    initial = refined + rng.normal(0, 0.02, refined.shape)
    return initial, refined


def test_summary_shows_shift_and_spread():
    initial, refined = _clip()
    picture = draw_refinement_summary(initial, refined, title='demo')
    assert picture.shape == (360, 1000, 3) and picture.dtype == np.uint8
    from mmflowpose.models.utils.skeleton import load_skeleton
    bones = load_skeleton('h36m').bones
    assert bone_length_spread(refined, bones).max() == 0
    assert bone_length_spread(initial, bones).mean() > 0.005
    # no change: the heat map is uniform (one colour), unlike a real shift
    still = draw_refinement_summary(refined, refined)
    left = slice(60, 300), slice(120, 480)
    assert len(np.unique(still[left].reshape(-1, 3), axis=0)) < \
        len(np.unique(picture[left].reshape(-1, 3), axis=0))
    # frames without a person are left out, not drawn as zero shift
    scores = np.ones(initial.shape[:2])
    scores[3] = 0
    gap = draw_refinement_summary(initial, refined, scores)
    assert not np.array_equal(gap, picture)


def test_summary_bad_input():
    initial, refined = _clip()
    with pytest.raises(ValueError, match='pose3d_init and pose3d'):
        draw_refinement_summary(initial, refined[:, :, :2])
    with pytest.raises(ValueError, match='joints'):
        draw_refinement_summary(initial[:, :5], refined[:, :5])
