"""Flow colours at an explicit percentile scale, the wheel legend, EPE."""
import mmcv
import numpy as np
import pytest

from mmflowpose.visualization.flow_colours import (colour_wheel, epe_map,
                                                   error_to_rgb, flow_to_rgb,
                                                   paste_wheel,
                                                   robust_flow_scale,
                                                   robust_scale)


def _uniform(dx, dy, shape=(4, 5)):
    flow = np.zeros(shape + (2, ), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def test_robust_scale_hand_computed():
    values = np.arange(101, dtype=np.float64)  # 0 .. 100
    assert robust_scale([values], 99) == pytest.approx(99.0)
    assert robust_scale([values[:50], values[50:]], 50) == pytest.approx(50)
    assert robust_scale([np.array([np.nan, 0.0])], 99, floor=0.3) == 0.3
    # magnitudes of (3, 4) vectors are 5
    assert robust_flow_scale([_uniform(3, 4)]) == pytest.approx(5.0)
    with pytest.raises(ValueError, match='percentile'):
        robust_scale([values], 0)


def test_flow_at_scale_has_mmcv_wheel_colour():
    rgb = flow_to_rgb(_uniform(2, 0), scale=2.0)
    wheel = mmcv.flow2rgb(_uniform(1, 0))[0, 0]  # unit vector: full colour
    np.testing.assert_allclose(rgb[0, 0], wheel * 255, atol=1)
    # half the scale: halfway to white, colour = 1 - r (1 - wheel)
    half = flow_to_rgb(_uniform(1, 0), scale=2.0)
    np.testing.assert_allclose(
        half[0, 0], (1 - 0.5 * (1 - wheel)) * 255, atol=1)
    # beyond the scale: saturated at the rim colour, not darker
    np.testing.assert_array_equal(flow_to_rgb(_uniform(20, 0), 2.0), rgb)
    # no motion is white
    assert (flow_to_rgb(_uniform(0, 0), 2.0) == 255).all()


def test_outlier_does_not_pale_the_field():
    flow = _uniform(2, 0, (10, 10))
    flow[0, 0] = (80, 0)  # one outlier pixel, as in the demo's flows
    scale = robust_flow_scale([flow], 90)
    assert scale == pytest.approx(2.0)
    ours = flow_to_rgb(flow, scale)
    theirs = np.clip(mmcv.flow2rgb(flow) * 255 + 0.5, 0, 255)
    # max normalisation leaves the field almost white; ours is saturated
    assert theirs[5, 5].min() > 240
    assert ours[5, 5].min() < 20


def test_colour_wheel_legend():
    wheel, mask = colour_wheel(10)
    assert wheel.shape == (21, 21, 3) and mask.sum() > 300
    assert (wheel[10, 10] == 255).all()  # centre: no motion, white
    # the pixel right of the centre has the colour of motion to the right
    np.testing.assert_array_equal(wheel[10, 20],
                                  flow_to_rgb(_uniform(3, 0, (1, 1)), 3)[0, 0])
    # and below the centre the colour of downward motion (image y down)
    np.testing.assert_array_equal(wheel[20, 10],
                                  flow_to_rgb(_uniform(0, 3, (1, 1)), 3)[0, 0])
    panel = np.full((180, 320, 3), 255, np.uint8)
    paste_wheel(panel, 'p99 = 3.0 px')
    corner = panel[-50:, -50:].reshape(-1, 3).astype(int)
    # many distinct saturated hues in the corner, white elsewhere
    assert len({tuple(c // 32) for c in corner}) > 20
    assert (panel[:100, :150] == 255).all()


def test_epe_maps_and_colours():
    gt = _uniform(1, 0)
    pred = _uniform(4, 4)
    valid = np.ones((4, 5), bool)
    valid[0, 0] = False
    error = epe_map(pred, gt, valid)
    assert np.isnan(error[0, 0]) and error[1, 1] == pytest.approx(5.0)
    rgb = error_to_rgb(error, 5.0)
    assert (rgb[0, 0] == 128).all()  # no ground truth: grey
    zero = error_to_rgb(np.zeros((1, 1)), 5.0)[0, 0]
    assert rgb[1, 1].astype(int).sum() > zero.astype(int).sum() + 300
    with pytest.raises(ValueError, match='flow must be'):
        flow_to_rgb(np.zeros((4, 5)), 1.0)
