"""The refined skeleton over the ghost of the initial one, in one plot."""
import numpy as np

from mmflowpose.models.utils.skeleton import load_skeleton
from mmflowpose.visualization.pose2d import bone_colours
from mmflowpose.visualization.pose3d_panel import Pose3dOverlay


def standing_pose():
    """(17, 3) metres, camera axes (y down), a person standing."""
    names = load_skeleton('h36m').joint_names
    height = {
        'foot': 0.9,
        'knee': 0.45,
        'hip': 0.0,
        'wrist': -0.1,
        'elbow': -0.25,
        'shoulder': -0.5
    }
    pose = np.zeros((17, 3))
    for j, name in enumerate(names):
        side = 0.15 if name.startswith('left') else \
            -0.15 if name.startswith('right') else 0.0
        y = next((v for k, v in height.items() if k in name), None)
        y = {
            'root': 0.0,
            'spine': -0.25,
            'thorax': -0.5,
            'neck_base': -0.6,
            'head': -0.7
        }.get(name, y)
        pose[j] = (side, y, 0.0)
    return pose


def _overlay(size=(150, 200)):
    skeleton = load_skeleton('h36m')
    return Pose3dOverlay(skeleton.bones,
                         bone_colours(skeleton.joint_names, skeleton.bones),
                         size)


def _changed(a, b):
    """Pixels that differ, outside the text rows at the top and bottom."""
    diff = np.abs(a.astype(int) - b.astype(int)).sum(-1) > 30
    rows = diff.shape[0]
    diff[:rows // 8] = False
    diff[-rows // 8:] = False
    return diff


def test_ghost_and_refined_differ_where_joints_moved():
    overlay = _overlay()
    pose = standing_pose()
    moved = pose.copy()
    moved[10] += (0.4, 0.0, 0.0)  # head 40 cm to the right
    same = overlay.draw(pose, pose)
    assert same.shape == (150, 200, 3) and same.dtype == np.uint8
    refined_moved = overlay.draw(pose, moved)
    changed = _changed(same, refined_moved)
    assert 0 < changed.mean() < 0.1
    # the change is in the upper half of the plot, where the head is
    ys = np.nonzero(changed)[0]
    assert ys.mean() < 75
    # the ghost: the same refined pose with a different initial one
    no_ghost_shift = overlay.draw(moved, moved)
    ghost = _changed(no_ghost_shift, refined_moved)
    assert ghost.any()

    # grey ghost pixels (R = G = B, mid grey) among the changed ones: with
    # the initial head in its old place the ghost sits left of where it
    # sits when the initial pose is the moved one (head 40 cm right)
    def grey_columns(image):
        rgb = image.astype(int)
        flat = (np.ptp(rgb, axis=-1) < 12) & (rgb[..., 0] > 110) & \
            (rgb[..., 0] < 215)
        return np.nonzero(flat & ghost)[1]

    old_place, new_place = grey_columns(refined_moved), grey_columns(
        no_ghost_shift)
    assert len(old_place) > 5 and len(new_place) > 5
    assert old_place.mean() < new_place.mean() - 5


def test_displacement_coloured_and_reported():
    overlay = _overlay((240, 320))
    pose = standing_pose()
    moved = pose + (0.0, 0.0, 0.05)  # every joint 50 mm deeper
    moved[0] = pose[0]  # ... except the root
    image = overlay.draw(pose, moved)
    assert 'mean' in overlay.note.get_text()
    # displacements are root-relative: 16 joints of 50 mm, the root 0
    assert overlay.note.get_text() == \
        'joint shift: mean 47 mm, max 50 mm'
    assert overlay._moves.get_array().max() == np.float64(50.0)
    still = overlay.draw(pose, pose)
    assert overlay.note.get_text() == 'joint shift: mean 0 mm, max 0 mm'
    assert not np.array_equal(image, still)


def test_ground_truth_dashed_black_and_hidden_pose():
    overlay = _overlay()
    pose = standing_pose()
    plain = overlay.draw(pose, pose)
    truth = pose.copy()
    truth[:, 0] += 0.3  # beside the estimate (root-relative: only shape)
    truth[0, 0] -= 0.3
    with_gt = overlay.draw(pose, pose, truth)
    dark = lambda im: (im.astype(int).sum(-1) < 150)  # noqa: E731
    assert _changed(plain, with_gt).any()
    assert (dark(with_gt) & ~dark(plain)).sum() > 20
    assert 'dashed: GT' in overlay.title.get_text()
    nobody = overlay.draw(pose, pose, hidden=True)
    nan = overlay.draw(pose * np.nan, pose)
    np.testing.assert_array_equal(nobody, nan)
    assert overlay.note.get_text() == 'no person'
