"""Atomic picture and video files with the user's normal permissions.

``tempfile.mkstemp`` creates its file with mode 0600 whatever the umask,
and ``os.replace`` keeps that mode: a video written through a temporary
name would stay unreadable to the user's group. The package's one atomic
writer (:func:`mmflowpose.utils.io.write_atomic`) gives every file
``0666 & ~umask`` (what ``open(path, 'w')`` would have given) before it is
moved into place; this module adds pictures on top of it.
"""
import numpy as np

from mmflowpose.utils.io import (current_umask, default_file_mode,
                                 temp_beside, write_atomic)

__all__ = [
    'current_umask', 'default_file_mode', 'temp_beside', 'write_atomic',
    'save_image'
]


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
