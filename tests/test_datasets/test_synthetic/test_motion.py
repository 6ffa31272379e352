import numpy as np
import pytest

from mmflowpose.datasets.synthetic import KINDS, procedural_motion
from mmflowpose.models.utils.skeleton import load_skeleton


@pytest.mark.parametrize('kind', KINDS)
def test_constant_bone_lengths(kind):
    out = procedural_motion(kind, num_frames=40, fps=30, seed=3)
    joints = out['joints'].astype(np.float64)
    assert joints.shape == (40, 17, 3) and out['joints'].dtype == np.float32
    bones = np.array(load_skeleton('h36m').bones)
    lengths = np.linalg.norm(joints[:, bones[:, 1]] - joints[:, bones[:, 0]],
                             axis=-1)
    assert np.ptp(lengths, axis=0).max() < 1e-5
    assert 0.35 < lengths[0, 1] < 0.55  # left thigh
    # Y-up, feet near the floor, head on top.
    assert abs(joints[:, [3, 6], 1].min()) < 0.1
    assert np.all(joints[:, 10, 1] > 1.3)


def test_left_right_and_walk_direction():
    out = procedural_motion('walk', num_frames=30, seed=5)
    joints = out['joints'].astype(np.float64)
    vel = joints[-1, 0] - joints[0, 0]
    vel[1] = 0
    left = np.cross([0., 1., 0.], vel)
    assert np.linalg.norm(vel) > 0.5  # ~1 m/s for 1 s
    assert np.dot(joints[0, 4] - joints[0, 1], left) > 0


def test_deterministic_by_seed():
    a = procedural_motion('jumping_jacks', 10, seed=1)['joints']
    b = procedural_motion('jumping_jacks', 10, seed=1)['joints']
    c = procedural_motion('jumping_jacks', 10, seed=2)['joints']
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_static_holds_pose():
    joints = procedural_motion('static', 5, seed=0)['joints']
    np.testing.assert_array_equal(joints, joints[:1].repeat(5, 0))


def test_bad_args():
    with pytest.raises(ValueError, match='kind'):
        procedural_motion('dance')
    with pytest.raises(ValueError, match='num_frames'):
        procedural_motion('walk', num_frames=0)
