"""The pose sketch drawn as motion arrows."""
import numpy as np
import pytest

from mmflowpose.visualization.flow_colours import flow_to_rgb
from mmflowpose.visualization.sketch_panel import (arrow_gain, bone_points,
                                                   draw_sketch_arrows,
                                                   grid_samples)


def test_bone_points_hand_computed():
    points = np.array([[0.0, 0.0], [4.0, 2.0], [9.0, 9.0]])
    shown = np.array([True, True, False])
    out = bone_points(points, [(0, 1), (1, 2)], shown, per_bone=3)
    np.testing.assert_allclose(out, [[0, 0], [2, 1], [4, 2]])
    both = bone_points(np.stack([points, points + 1]), [(0, 1)], shown)
    assert both.shape == (2, 3, 2)
    assert bone_points(points, [(1, 2)], shown).shape == (0, 2)


def test_arrows_point_along_the_motion_in_flow_colours():
    image = np.full((100, 100, 3), 200, np.uint8)
    starts = np.array([[30.0, 50.0]])
    moves = np.array([[2.0, 0.0]])  # 2 px to the right
    out, gain = draw_sketch_arrows(
        image, None, starts, moves, flow_scale=2.0, gain=10)
    assert gain == 10
    colour = flow_to_rgb(moves[None].astype(np.float32), 2.0)[0, 0]
    hit = np.all(np.abs(out.astype(int) - colour) <= 2, axis=-1)
    ys, xs = np.nonzero(hit)
    # the arrow runs from x = 30 to x = 30 + 10 * 2 on row 50
    assert xs.min() >= 29 and xs.max() <= 51 and xs.max() >= 48
    assert abs(ys.mean() - 50) < 2
    # the frame is darkened so that arrows stand out
    assert out[10, 10, 0] == int(200 * 0.45)


def test_mask_is_tinted_and_gain_is_automatic():
    image = np.zeros((60, 60, 3), np.uint8)
    mask = np.zeros((60, 60), bool)
    mask[:5, :5] = True
    out, gain = draw_sketch_arrows(image, mask, np.zeros((0, 2)),
                                   np.zeros((0, 2)), 1.0)
    assert (out[0, 0] > 0).all() and (out[30, 30] == 0).all()
    # 90th percentile of 1.5 px arrows -> 60 / 16 / 1.5 = 2.5 -> 2
    assert arrow_gain(np.full((5, 2), [1.5, 0.0]), 60, 1.0) == 2.0
    # still sketches are not blown up beyond the 0.5 px floor
    assert arrow_gain(np.zeros((5, 2)), 60, 1.0) == pytest.approx(8.0)


def test_grid_samples_inside_mask():
    flow = np.zeros((8, 8, 2), np.float32)
    flow[..., 0] = np.arange(8)[None, :]
    mask = np.zeros((8, 8), bool)
    mask[:, 4:] = True
    points, vectors = grid_samples(flow, mask, 2)
    assert (points[:, 0] >= 4).all() and len(points) == 8
    np.testing.assert_array_equal(vectors[:, 0], points[:, 0])
