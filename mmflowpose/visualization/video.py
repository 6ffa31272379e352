"""Videos written atomically: a temporary file, then one rename."""
import os
import os.path as osp

import cv2
import numpy as np

from .files import temp_beside


class VideoSink:
    """Write RGB frames to a video atomically (temp file, then os.replace).

    The temporary file lives next to the target (same file system) and has
    the user's normal permissions (``0666 & ~umask``); nothing appears at
    ``path`` until :meth:`close` succeeds, and :meth:`abort` removes the
    temporary file.

    Args:
        path (str): target ``.mp4`` (mp4v) or ``.avi`` (MJPG) file.
        fps (float): frame rate.
    """

    CODECS = {'.mp4': 'mp4v', '.avi': 'MJPG'}

    def __init__(self, path: str, fps: float) -> None:
        ext = osp.splitext(path)[1].lower()
        if ext not in self.CODECS:
            raise ValueError(f'video path {path!r} must end with one of '
                             f'{sorted(self.CODECS)}')
        if not fps > 0:
            raise ValueError(f'fps must be > 0, got {fps!r}')
        self.path, self.fps, self.ext = path, float(fps), ext
        self.tmp_path = temp_beside(path, suffix=ext)
        self._writer = None
        self.size = None
        self.count = 0

    def write(self, image: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame (all of one size)."""
        height, width = image.shape[:2]
        if self._writer is None:
            self.size = (width, height)
            fourcc = cv2.VideoWriter_fourcc(*self.CODECS[self.ext])
            self._writer = cv2.VideoWriter(self.tmp_path, fourcc, self.fps,
                                           self.size)
            if not self._writer.isOpened():
                self.abort()
                raise OSError(f'OpenCV cannot write video {self.path!r}')
        elif (width, height) != self.size:
            raise ValueError(f'video frame {self.count} is {width}x{height}, '
                             f'the first was {self.size[0]}x{self.size[1]}')
        self._writer.write(np.ascontiguousarray(image[..., ::-1]))
        self.count += 1

    def close(self) -> str:
        if self._writer is None:
            self.abort()
            raise ValueError(f'no frame was written to {self.path!r}')
        self._writer.release()
        self._writer = None
        os.replace(self.tmp_path, self.path)
        return self.path

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if osp.exists(self.tmp_path):
            os.remove(self.tmp_path)


def write_video(images, path: str, fps: float = 25.0) -> str:
    """Write (H, W, 3) uint8 RGB images to ``path`` atomically."""
    sink = VideoSink(path, fps)
    try:
        for image in images:
            sink.write(image)
        return sink.close()
    except BaseException:
        sink.abort()
        raise
