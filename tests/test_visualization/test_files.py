"""Pictures and videos are written atomically with the user's umask."""
import os
import stat

import cv2
import numpy as np
import pytest

from mmflowpose.visualization import save_image, write_video
from mmflowpose.visualization.files import current_umask, default_file_mode


@pytest.fixture
def umask():
    """Set a umask for the test and restore the previous one."""
    previous = os.umask(0o022)
    os.umask(previous)

    def set_mask(mask):
        os.umask(mask)

    yield set_mask
    os.umask(previous)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize('mask', [0o022, 0o027, 0o002])
def test_files_follow_umask(tmp_path, umask, mask):
    umask(mask)
    assert current_umask() == mask
    assert default_file_mode() == 0o666 & ~mask
    picture = save_image(
        str(tmp_path / 'a.png'), np.zeros((8, 8, 3), np.uint8))
    video = write_video(
        [np.zeros((16, 16, 3), np.uint8)] * 2, str(tmp_path / 'a.mp4'), fps=5)
    # mkstemp alone would have given 0600 whatever the umask
    assert _mode(picture) == 0o666 & ~mask
    assert _mode(video) == 0o666 & ~mask
    assert sorted(os.listdir(tmp_path)) == ['a.mp4', 'a.png']


def test_save_image_round_trip_and_errors(tmp_path):
    image = np.zeros((4, 6, 3), np.uint8)
    image[..., 0] = 255  # red in RGB
    path = save_image(str(tmp_path / 'red.png'), image)
    np.testing.assert_array_equal(cv2.imread(path)[..., ::-1], image)
    with pytest.raises(ValueError, match='uint8'):
        save_image(str(tmp_path / 'bad.png'), image.astype(np.float32))
    with pytest.raises(ValueError, match='extension'):
        save_image(str(tmp_path / 'bad.nope'), image)
    assert sorted(os.listdir(tmp_path)) == ['red.png']
