"""Windows and chunks of a long clip for the pose step.

A clip of T frames is cut into windows of ``size`` frames overlapping by
``overlap`` frames; windows are solved as one batched problem (gathered
with :func:`gather_windows`) and their results blended back with linear
ramps (:func:`overlap_ramp`, :class:`OverlapBlender`). Chunks are the same
cut one level up (:func:`chunk_clip`), for clips too long to hold every
window's working tensors at once.
"""
from typing import Callable, Dict, List, Tuple

import torch
from torch import Tensor

#: window-data fields that are per clip (N, ...), not per frame
PER_CLIP_KEYS = ('cam_scale', 'ref_lengths', 'px_per_m', 'sigma_2d',
                 'sigma_flow')
#: fields shared by every window as they are
SHARED_KEYS = ('flow_scale', 'anchor_scale')
#: per-pair fields (N, T - 1, ...): pair p = frame p -> p + 1
PER_PAIR_KEYS = ('flow', 'joint_flow', 'backward_flow',
                 'backward_joint_flow', 'flow_weights')


def window_starts(length: int, size: int, overlap: int) -> List[int]:
    """First frames of windows of ``size`` covering ``length`` frames.

    Consecutive windows share at least ``overlap`` frames; the last one
    ends at the last frame (so it may share more).

    Example:
        >>> window_starts(10, 4, 1)
        [0, 3, 6]
    """
    if size >= length:
        return [0]
    return list(range(0, length - size, size - overlap)) + [length - size]


def plan_windows(B: int, T: int, window_size, overlap: int
                 ) -> Tuple[int, List[Tuple[int, int]]]:
    """Window size and ``(clip, first frame)`` of every window.

    Args:
        B (int): clips.
        T (int): frames per clip.
        window_size (int, optional): None (or >= T) gives one window per
            clip.
        overlap (int): frames shared by consecutive windows.

    Returns:
        tuple: the window length and the list of ``(b, start)``.
    """
    size = T if window_size is None or T <= window_size else window_size
    starts = window_starts(T, size, overlap)
    return size, [(b, s) for b in range(B) for s in starts]


def overlap_ramp(size: int, overlap: int, ref: Tensor) -> Tensor:
    """(size,) blending weights rising over ``overlap + 1`` frames at both
    ends (1 inside), in ``ref``'s dtype and device."""
    i = torch.arange(size, dtype=ref.dtype, device=ref.device)
    ramp = torch.minimum((i + 1) / (overlap + 1), (size - i) / (overlap + 1))
    return ramp.clamp(max=1.0)


def gather_windows(data: Dict, index: Tensor, frames: Tensor) -> Dict:
    """Window data of G windows.

    Args:
        data (dict): clip data: per-frame (B, T, ...), per-pair
            (B, T - 1, ...), per-clip (B, ...) or shared values.
        index (Tensor): (G,) clip of each window.
        frames (Tensor): (G, W) frames of each window.

    Returns:
        dict: per-frame (G, W, ...), per-pair (G, W - 1, ...), per-clip
        (G, ...) and the shared values.
    """
    out = {}
    pair_frames = frames[:, :-1]
    for key, value in data.items():
        if key in PER_CLIP_KEYS:
            out[key] = value[index]
        elif key in SHARED_KEYS:
            out[key] = value
        elif key in PER_PAIR_KEYS:
            out[key] = value[index[:, None], pair_frames]
        else:
            out[key] = value[index[:, None], frames]
    return out


class OverlapBlender:
    """Weighted sums of overlapping window results, divided at the end.

    Args:
        pose (Tensor): (B, T, J, 3) template of the pose output.
        camera (Tensor): (B, T, C) template of the camera output.
    """

    def __init__(self, pose: Tensor, camera: Tensor):
        self.pose = torch.zeros_like(pose)
        self.camera = torch.zeros_like(camera)
        self.weight = pose.new_zeros(pose.shape[:2])

    def add(self, index: Tensor, frames: Tensor, pose: Tensor,
            camera: Tensor, weight: Tensor) -> None:
        """Add (G, W, J, 3) poses and (G, W, C) cameras with (G, W)
        weights at clips ``index`` (G,) and ``frames`` (G, W)."""
        where = (index[:, None], frames)
        self.pose.index_put_(where, pose * weight[..., None, None],
                             accumulate=True)
        self.camera.index_put_(where, camera * weight[..., None],
                               accumulate=True)
        self.weight.index_put_(where, weight, accumulate=True)

    def result(self) -> Tuple[Tensor, Tensor]:
        """(B, T, J, 3) pose and (B, T, C) camera, weighted means."""
        return (self.pose / self.weight[..., None, None],
                self.camera / self.weight[..., None])


def chunk_clip(value, B: int, T: int, first: int, last: int):
    """Frames ``first:last`` of a clip input (pairs ``first:last - 1``).

    Tensors (B, T, ...) and (B, T - 1, ...) are sliced along dim 1, dicts
    field by field; anything else (None, per-clip values) is returned as
    it is.
    """
    if isinstance(value, Tensor) and value.dim() >= 2 and \
            value.shape[0] == B and value.shape[1] in (T, T - 1):
        stop = last if value.shape[1] == T else last - 1
        return value[:, first:stop]
    if isinstance(value, dict):
        return {k: chunk_clip(v, B, T, first, last) for k, v in value.items()}
    return value


def chunk_weights(size: int, overlap: int, starts: List[int], start: int,
                  ref: Tensor) -> Tensor:
    """(size,) blending weights of the chunk at ``start``: ramps where it
    overlaps a neighbour, 1 at the clip's two ends."""
    ramp = overlap_ramp(size, overlap, ref)
    if len(starts) == 1:
        return torch.ones_like(ramp)
    i = torch.arange(size, device=ramp.device)
    if start == starts[0]:
        ramp = torch.where(i < overlap, torch.ones_like(ramp), ramp)
    if start == starts[-1]:
        ramp = torch.where(i >= size - overlap, torch.ones_like(ramp), ramp)
    return ramp


def optimize_in_chunks(optimize: Callable[..., Dict], inputs: Dict,
                       size: int, overlap: int
                       ) -> Tuple[Tensor, Tensor, List[Dict], List[int]]:
    """Run ``optimize`` on chunks of ``size`` frames and blend them.

    Only one chunk's inputs are sliced (views) and solved at a time, so the
    working memory does not grow with the clip length.

    Args:
        optimize (callable): ``optimize(**chunk_inputs) -> dict`` with
            ``pose`` (B, W, J, 3), ``camera`` ((B, W, 3) or a dict with
            ``translation``), ``history`` and ``steps``.
        inputs (dict): clip inputs; ``init_pose`` (B, T, J, 3) gives B, T.
        size (int): frames per chunk (< T).
        overlap (int): frames shared by consecutive chunks.

    Returns:
        tuple: blended pose (B, T, J, 3), camera (B, T, 3), the history
        (entries tagged with ``chunk_start``) and the steps of every chunk.
    """
    B, T = inputs['init_pose'].shape[:2]
    starts = window_starts(T, size, overlap)
    blender, history, steps = None, [], []
    for start in starts:
        part = optimize(**chunk_clip(inputs, B, T, start, start + size))
        pose, cam = part['pose'], part['camera']
        cam = cam['translation'] if isinstance(cam, dict) else cam
        if blender is None:
            blender = OverlapBlender(
                pose.new_zeros(B, T, *pose.shape[2:]),
                cam.new_zeros(B, T, cam.shape[-1]))
        w = chunk_weights(size, overlap, starts, start, pose)
        frames = torch.arange(start, start + size, device=w.device)
        blender.add(
            torch.arange(B, device=w.device), frames.expand(B, size), pose,
            cam, w.expand(B, size))
        history.extend(dict(entry, chunk_start=start)
                       for entry in part['history'])
        steps.extend(part['steps'])
    return (*blender.result(), history, steps)
