"""Videos are written atomically; errors leave nothing behind."""
import os

import cv2
import numpy as np
import pytest

from mmflowpose.visualization import VideoSink, write_video


def test_video_written_atomically(tmp_path):
    frames = [np.full((48, 64, 3), 60 * t, np.uint8) for t in range(3)]
    path = str(tmp_path / 'clip.mp4')
    assert write_video(frames, path, fps=5) == path
    assert os.listdir(tmp_path) == ['clip.mp4']
    capture = cv2.VideoCapture(path)
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 3
    ok, first = capture.read()
    assert ok and first.shape == (48, 64, 3)
    capture.release()


def test_video_errors_leave_nothing(tmp_path):
    frames = [np.zeros((48, 64, 3), np.uint8), np.zeros((40, 64, 3), np.uint8)]
    with pytest.raises(ValueError, match='video frame 1 is 64x40'):
        write_video(frames, str(tmp_path / 'bad.mp4'))
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match='must end with'):
        VideoSink(str(tmp_path / 'bad.gif'), 5)
    with pytest.raises(ValueError, match='no frame'):
        VideoSink(str(tmp_path / 'none.avi'), 5).close()
    assert os.listdir(tmp_path) == []
