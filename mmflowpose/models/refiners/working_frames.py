"""A window's working frames, made from its full-size frames on demand.

The flow networks and fine-tuning read the frames at the working size
(``working_resolution.py``). Held as one float tensor, a 16-frame window at
512 x 288 takes 28 MB next to its 25 MB of uint8 frames at 960 x 540, and
both grow with the window's length. :class:`WorkingFrames` holds only the
full-size frames (which the caller keeps anyway) and resizes the frames a
reader asks for: the flow reads a few pairs at a time, fine-tuning one box.
Each frame is resized on its own, as :func:`resize_frames` does, so the
numbers are the same whichever frames are asked for together.
"""
from typing import Tuple, Union

import torch
from torch import Tensor

from .working_resolution import resize_frames


class WorkingFrames:
    """(T, 3, h, w) float 0-255 frames of (T, 3, H, W) ``frames``, made
    when sliced.

    Supports ``len``, ``shape``, slicing along T (``frames[i:j]``: a new
    float tensor) and :meth:`crop`. The frames of the last slice are kept,
    so consecutive chunks of pairs (frames i..j, then j..k) resize their
    shared frame once.

    Args:
        frames (Tensor): (T, 3, H, W) 0-255 frames, any dtype and device.
        size (tuple[int, int]): the working (h, w).
        device (torch.device | str): where the working frames are made.
    """

    def __init__(self, frames: Tensor, size: Tuple[int, int],
                 device) -> None:
        self.source, self.size, self.device = frames, tuple(size), device
        self._kept = {}

    def __len__(self) -> int:
        return len(self.source)

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self), self.source.shape[1], *self.size))

    def _frame(self, index: int) -> Tensor:
        frame = self._kept.get(index)
        if frame is None:
            frame = resize_frames(
                self.source[index:index + 1].to(self.device), self.size)[0]
        return frame

    def __getitem__(self, index: slice) -> Tensor:
        if not isinstance(index, slice):
            raise TypeError('WorkingFrames takes a slice of frames, got '
                            f'{type(index).__name__}')
        indices = range(len(self))[index]
        frames = [self._frame(i) for i in indices]
        self._kept = dict(zip(indices, frames))
        if not frames:
            return torch.empty((0, *self.shape[1:]), device=self.device)
        return torch.stack(frames)

    def crop(self, box: Tuple[int, int, int, int]) -> Tensor:
        """(T, 3, y1 - y0, x1 - x0) frames of the ``box`` (y0, y1, x0,
        x1): one frame at a time, never the whole window at once."""
        y0, y1, x0, x1 = box
        out = torch.empty((*self.shape[:2], y1 - y0, x1 - x0),
                          device=self.device)
        for t in range(len(self)):
            out[t] = self._frame(t)[:, y0:y1, x0:x1]
        return out

    def whole(self) -> Tensor:
        """All the frames as one (T, 3, h, w) tensor."""
        return self[:]


def whole_frames(frames: Union[Tensor, WorkingFrames]) -> Tensor:
    """``frames`` as one tensor, for readers that need all of them."""
    return frames.whole() if isinstance(frames, WorkingFrames) else frames


def crop_frames(frames: Union[Tensor, WorkingFrames], box) -> Tensor:
    """The ``box`` (y0, y1, x0, x1) of (T, 3, h, w) ``frames``."""
    if isinstance(frames, WorkingFrames):
        return frames.crop(box)
    y0, y1, x0, x1 = box
    return frames[..., y0:y1, x0:x1]
