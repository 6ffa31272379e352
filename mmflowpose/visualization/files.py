"""Atomic picture and video files with the user's normal permissions.

``tempfile.mkstemp`` creates its file with mode 0600 whatever the umask,
and ``os.replace`` keeps that mode: a video written through a temporary
name would stay unreadable to the user's group. Every file written here is
given ``0666 & ~umask`` (what ``open(path, 'w')`` would have given) before
it is moved into place.
"""
import os
import os.path as osp
import tempfile
from typing import Callable

import numpy as np


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows."""
    try:
        with open('/proc/self/status') as file:
            for line in file:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    # elsewhere the only portable way is to set it and put it back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """Mode a plain ``open(path, 'w')`` gives a new file: 0666 & ~umask."""
    return 0o666 & ~current_umask()


def temp_beside(path: str, suffix: str = '') -> str:
    """A new empty temporary file next to ``path`` (same file system),
    already carrying :func:`default_file_mode`."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix=suffix, dir=folder)
    os.close(handle)
    os.chmod(temp, default_file_mode())
    return temp


def write_atomic(path: str,
                 write: Callable[[str], None],
                 suffix: str = '') -> str:
    """Call ``write(temp)`` then rename ``temp`` to ``path``.

    Nothing appears at ``path`` unless ``write`` succeeds; the temporary
    file is removed on any error.
    """
    temp = temp_beside(path, suffix or osp.splitext(path)[1])
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        if osp.exists(temp):
            os.remove(temp)
    return path


def save_image(path: str, image: np.ndarray) -> str:
    """Write an (H, W, 3) uint8 RGB picture (``.png``/``.jpg``) atomically.

    Raises:
        ValueError: if the image is not (H, W, 3) uint8 or OpenCV cannot
            encode the extension.
    """
    import cv2
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f'image for {path!r} must be (H, W, 3) uint8 RGB, '
                         f'got {image.shape} {image.dtype}')

    def write(temp):
        try:
            ok = cv2.imwrite(temp, np.ascontiguousarray(image[..., ::-1]))
        except cv2.error:  # some OpenCV builds raise instead of False
            ok = False
        if not ok:
            raise ValueError(f'OpenCV cannot write {path!r} (extension?)')

    return write_atomic(path, write)
