"""Frames of a video file, a folder of images or a list of arrays.

Frames are decoded one at a time (``mmcv.VideoReader`` for videos, mmcv's
``imread`` for images), so a caller that keeps a window of them holds only
that window in memory whatever the length of the input.
"""
import os
import os.path as osp
from typing import Iterator, List, Optional

import mmcv
import numpy as np

VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.mpg', '.mpeg',
              '.m4v', '.wmv')
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


class FrameSource:
    """Iterate (H, W, 3) uint8 RGB frames of one input.

    Checks what it can before anything is processed (existence, extension,
    decodability of the first frame); changing frame sizes raise
    ``ValueError`` when met.

    Args:
        inputs (str | np.ndarray | list): a video file, a folder of frames,
            a list of image paths, or (T, H, W, 3) / a list of (H, W, 3)
            uint8 arrays.
        channel_order (str): of array inputs, ``'bgr'`` or ``'rgb'``.
            Defaults to ``'bgr'``.
        fps (float, optional): overrides the video's rate (25 for frames).

    Attributes:
        name (str): output file stem. fps (float). num_frames (int): 0 when
        unknown. is_video (bool). size (tuple | None): (H, W) once read.
    """

    def __init__(self, inputs, channel_order: str = 'bgr',
                 fps: Optional[float] = None) -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError("channel_order must be 'bgr' or 'rgb', got "
                             f'{channel_order!r}')
        self.channel_order = channel_order
        self.is_video = False
        self._paths = self._arrays = None
        self.fps = fps
        if isinstance(inputs, str):
            self._open_path(inputs)
        elif isinstance(inputs, np.ndarray) and inputs.ndim == 4:
            self._set_arrays(list(inputs))
        elif isinstance(inputs, (list, tuple)):
            if all(isinstance(x, str) for x in inputs):
                self._set_paths(list(inputs), 'frames')
            else:
                self._set_arrays(list(inputs))
        else:
            raise TypeError('inputs must be a video path, a folder of '
                            'frames, a list of image paths or of (H, W, 3) '
                            f'uint8 arrays, got {type(inputs).__name__}')
        if self.fps is None:
            self.fps = 25.0
        self.size = None

    def _open_path(self, path: str) -> None:
        if not osp.exists(path):
            raise FileNotFoundError(f'input {path!r} does not exist')
        if osp.isdir(path):
            files = sorted(
                osp.join(path, f) for f in os.listdir(path)
                if osp.splitext(f)[1].lower() in IMAGE_EXTS)
            if not files:
                raise ValueError(f'input folder {path!r} holds no image '
                                 f'({", ".join(IMAGE_EXTS)})')
            self._set_paths(files, osp.basename(osp.normpath(path)))
            return
        ext = osp.splitext(path)[1].lower()
        if ext in IMAGE_EXTS:
            raise ValueError(f'input {path!r} is a single image; flow needs '
                             'a video, a folder or a list of >= 2 frames')
        if ext not in VIDEO_EXTS:
            raise ValueError(f'input {path!r}: unsupported extension {ext!r}'
                             f'; expected a video ({", ".join(VIDEO_EXTS)}),'
                             ' a folder of frames or a list of arrays')
        reader, _ = self._reader(path)
        fps = reader.fps
        self.num_frames = max(0, int(reader.frame_cnt))
        del reader
        self.fps = self.fps or (fps if fps and fps > 0 else None)
        self.path, self.is_video = path, True
        self.name = osp.splitext(osp.basename(path))[0]

    @staticmethod
    def _reader(path: str):
        """An opened ``mmcv.VideoReader`` and its first (BGR) frame."""
        # cache of 1: frames are read in order, each once
        reader = mmcv.VideoReader(path, cache_capacity=1)
        frame = reader.read() if reader.opened else None
        if frame is None:
            raise ValueError(f'input video {path!r} cannot be decoded (no '
                             'readable frame): the file is corrupt or its '
                             'codec is not supported by OpenCV')
        return reader, frame

    def _set_paths(self, paths: List[str], name: str) -> None:
        missing = [p for p in paths if not osp.isfile(p)]
        if missing:
            raise FileNotFoundError(f'input frame {missing[0]!r} does not '
                                    'exist')
        self._paths, self.name, self.num_frames = paths, name, len(paths)
        self._check_count()

    def _set_arrays(self, arrays: list) -> None:
        for i, array in enumerate(arrays):
            if not isinstance(array, np.ndarray) or array.ndim != 3 or \
                    array.shape[-1] != 3 or array.dtype != np.uint8:
                raise ValueError(
                    f'inputs[{i}] must be a (H, W, 3) uint8 array, got '
                    f'{getattr(array, "shape", type(array).__name__)} '
                    f'{getattr(array, "dtype", "")}')
        self._arrays, self.name, self.num_frames = arrays, 'frames', \
            len(arrays)
        self._check_count()

    def _check_count(self) -> None:
        if self.num_frames < 2:
            raise ValueError('flow needs at least 2 frames, got '
                             f'{self.num_frames}')

    def _check_size(self, frame: np.ndarray, index: int) -> np.ndarray:
        if self.size is None:
            self.size = frame.shape[:2]
        elif frame.shape[:2] != self.size:
            raise ValueError(
                f'frame {index} of {self.name!r} is {frame.shape[1]}x'
                f'{frame.shape[0]} but frame 0 is {self.size[1]}x'
                f'{self.size[0]}: all frames must have one size')
        return frame

    def __iter__(self) -> Iterator[np.ndarray]:
        self.size = None
        if self.is_video:
            yield from self._video_frames()
        elif self._paths is not None:
            for index, path in enumerate(self._paths):
                try:
                    frame = mmcv.imread(path, channel_order='rgb')
                except Exception as error:  # mmcv wraps the decoder's
                    raise ValueError(f'input frame {path!r} cannot be '
                                     f'decoded as an image ({error})')
                if frame is None:
                    raise ValueError(f'input frame {path!r} cannot be '
                                     'decoded as an image')
                yield self._check_size(np.ascontiguousarray(frame), index)
        else:
            for index, frame in enumerate(self._arrays):
                if self.channel_order == 'bgr':
                    frame = frame[..., ::-1]
                yield self._check_size(np.ascontiguousarray(frame), index)

    def _video_frames(self) -> Iterator[np.ndarray]:
        reader, frame = self._reader(self.path)
        index = 0
        while frame is not None:
            yield self._check_size(np.ascontiguousarray(frame[..., ::-1]),
                                   index)
            index += 1
            frame = reader.read()
        if index < 2:
            raise ValueError(f'input video {self.path!r} has {index} '
                             'readable frame(s); flow needs >= 2')
