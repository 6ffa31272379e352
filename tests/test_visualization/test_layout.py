"""Panel sizes follow the input's aspect ratio; text grows with panels."""
import numpy as np
import pytest

from mmflowpose.visualization.layout import (auto_panel_size, fit, font_scale,
                                             put_text)


@pytest.mark.parametrize(
    'image_size, expected',
    [
        ((720, 1280), (360, 640)),  # 720p: halved
        ((1080, 1920), (360, 640)),  # 1080p: a third, same panel
        ((256, 320), (256, 320)),  # fits: kept as is
        ((1920, 1080), (360, 202)),  # portrait phone video, even sides
        ((48, 64), (180, 240)),  # tiny: enlarged so labels fit
    ])
def test_auto_panel_size(image_size, expected):
    assert auto_panel_size(image_size) == expected


def test_auto_panel_size_bad_input():
    with pytest.raises(ValueError, match='image_size'):
        auto_panel_size((0, 10))


def test_fit_letterboxes_only_other_aspect_ratios():
    image = np.full((90, 160, 3), 200, np.uint8)
    same = fit(image, (180, 320))
    assert same.shape == (180, 320, 3) and (same == 200).all()
    square = fit(image, (160, 160))
    assert (square[0] == 0).all() and (square[80] == 200).all()


def test_text_size_follows_panel_height():
    assert font_scale(360) > font_scale(180) >= 0.4
    small = put_text(np.zeros((250, 320, 3), np.uint8), 'frame 12')
    large = put_text(np.zeros((500, 640, 3), np.uint8), 'frame 12')
    rows = lambda p: np.flatnonzero(p.any(axis=(1, 2)))  # noqa: E731
    # the text is about twice as tall on a twice as tall panel
    height_small = np.ptp(rows(small))
    height_large = np.ptp(rows(large))
    assert 1.6 < height_large / height_small < 2.4
