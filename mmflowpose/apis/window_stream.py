"""Window streaming: cut a frame stream into overlapping windows, refine
each, and merge them back into one record per frame.

Only the current window's frames, stacked once, and what the previous
window still gives to the overlap (its poses, and the records of the
frames before the split with views of the current clip's pixels) are held
in memory, whatever the input's length: the previous window and the
decoded frames are released before a window is refined
(``tests/test_apis/test_window_memory.py``).
Refined 3D poses are blended linearly across the overlap; flows, sketches
and pictures come from the window whose centre is nearer.

After each refiner stage and each released window the allocator's free
pages go back to the system (:func:`release_free_heap`): a window's
transients (correlation volumes, fine-tuning's graph) leave holes in the
heap that would otherwise stay resident while the next stage and window
run (``docs/en/demo.md``, Cost).
"""
import math
import time
from typing import Dict, Iterator, List, Optional

import cv2
import numpy as np
from mmengine.logging import print_log

from mmflowpose.models.pose_estimators import NUM_JOINTS, empty_estimate
from mmflowpose.utils.memory import release_free_heap
from .refiner_arrays import refine_arrays

# the per-frame fields of a refiner result the records read
RESULT_KEYS = ('pose3d_init', 'pose3d', 'flow_init', 'flow', 'sketch_mask')

# what a stage of the refiner means in the progress log
STAGE_TEXT = dict(
    detect='detection', lift='3D lifting', flow='flow forward',
    pose='pose step', sketch='sketch', finetune='flow fine-tuning',
    resize='resizing')


def num_windows(num_frames: int, window: int, overlap: int) -> int:
    """Windows that :class:`WindowStream` cuts ``num_frames`` into."""
    if num_frames <= window:
        return 1
    return 1 + math.ceil((num_frames - window) / (window - overlap))


def check_result(result: Dict, num_frames: int, size) -> None:
    """Check a ``refine_clip`` result against the contract.

    Flows and sketch masks may be at the frames' size or at a smaller
    working size (``flow_output_size='working'``); :func:`frame_size_pair`
    maps each pair back when it is read.
    """
    height, width = size
    flow_size = tuple(np.shape(result.get('flow', ()))[1:3]) or (height,
                                                                 width)
    if len(flow_size) != 2 or not (0 < flow_size[0] <= height
                                   and 0 < flow_size[1] <= width):
        flow_size = (height, width)  # the shape check below names it
    expected = dict(
        pose3d_init=(num_frames, NUM_JOINTS, 3),
        pose3d=(num_frames, NUM_JOINTS, 3),
        flow_init=(num_frames - 1, *flow_size, 2),
        flow=(num_frames - 1, *flow_size, 2),
        sketch_mask=(num_frames - 1, *flow_size))
    for key, shape in expected.items():
        if key not in result:
            raise ValueError(f'refiner result has no {key!r} (keys: '
                             f'{sorted(result)})')
        got = tuple(np.shape(result[key]))
        if got != shape:
            raise ValueError(f'refiner result {key!r} has shape {got}, '
                             f'expected {shape}')


def frame_size_pair(value: np.ndarray, size, is_mask: bool) -> np.ndarray:
    """One pair's (h, w, 2) px flow or (h, w) mask at the frame ``size``.

    Same convention as the refiner's ``working_resolution`` (pixel centres
    at ``i + 0.5``, OpenCV's and ``align_corners=False``'s): bilinear
    values scaled by ``W / w`` (x) and ``H / h`` (y); nearest for masks.
    """
    height, width = size
    if value.shape[:2] == (height, width):
        return value
    if is_mask:
        return cv2.resize(value.astype(np.uint8), (width, height),
                          interpolation=cv2.INTER_NEAREST).astype(bool)
    scale = np.array([width / value.shape[1], height / value.shape[0]],
                     np.float32)
    return cv2.resize(np.asarray(value, np.float32), (width, height),
                      interpolation=cv2.INTER_LINEAR) * scale


class RefineProgress:
    """Log lines that advance during refinement: one per window, one per
    refiner stage (with the cycle it belongs to) and its seconds.

    Args:
        total (int): windows expected (0 when unknown).
        enabled (bool): log at all. Defaults to True.
        log (callable, optional): takes each line; default mmengine's
            ``print_log`` to the current logger.
    """

    def __init__(self, total: int, enabled: bool = True,
                 log=None) -> None:
        self.total, self.enabled = total, enabled
        self.log = log or (lambda text: print_log(text, logger='current'))
        self.index, self.cycle, self._tic = 0, 0, 0.

    def _log(self, text: str) -> None:
        if self.enabled:
            self.log(text)

    def window(self, start: int, stop: int) -> None:
        self.index += 1
        self.cycle = 0
        total = self.total or '?'
        self._log(f'window {self.index}/{total}: frames {start}-{stop - 1}')

    def stage(self, name: str, event: str) -> None:
        """``StageTimer`` callback."""
        if event == 'start':
            if name == 'pose':
                self.cycle += 1
            self._tic = time.perf_counter()
            return
        cycle = f'cycle {self.cycle}: ' if self.cycle else ''
        self._log(f'window {self.index}/{self.total or "?"} {cycle}'
                  f'{STAGE_TEXT.get(name, name)} done in '
                  f'{time.perf_counter() - self._tic:.1f} s')


class WindowStream:
    """Per-frame records of a frame stream refined window by window.

    Args:
        estimator: ``estimate(frames) -> dict`` (see ``pose_estimators``).
        refiner: ``refine_clip(frames, keypoints_2d, keypoint_scores,
            pose3d) -> dict``, or None (refined = initial, no flow).
        window (int): frames per window.
        overlap (int): frames shared by consecutive windows.
        timings (dict): seconds per stage, accumulated here.
        progress (RefineProgress, optional): per-window log.
        release_heap (bool): give the heap's free pages back to the
            system after each refiner stage and each window (glibc only;
            a few ms each, results unchanged). Defaults to True.
    """

    def __init__(self, estimator, refiner, window: int, overlap: int,
                 timings: Dict, progress: Optional[RefineProgress] = None,
                 release_heap: bool = True):
        self.estimator, self.refiner = estimator, refiner
        self.window, self.overlap = window, overlap
        self.timings, self.progress = timings, progress
        self.release_heap = release_heap
        # the previous window's tail: dict(start, end, clip, estimate,
        # result), set by __call__, shrunk by _windows (:meth:`_shrink_tail`)
        self._pending: Optional[Dict] = None

    def _release(self) -> None:
        if self.release_heap:
            release_free_heap()

    def _stage_event(self, name: str, event: str) -> None:
        """``StageTimer`` callback: the progress log, and the heap's free
        pages released when a stage ends (its transients are freed then,
        before the next stage allocates its own)."""
        if self.progress is not None:
            self.progress.stage(name, event)
        if event == 'end':
            self._release()

    def _clock(self, key: str, tic: float) -> None:
        self.timings[key] += time.perf_counter() - tic

    def _windows(self, frames_iter: Iterator) -> Iterator:
        """Yield (start, frames, estimate, result) per window."""
        stride = self.window - self.overlap
        frames: List[np.ndarray] = []
        estimate = {k: v[:0] for k, v in empty_estimate(0).items()}
        start = 0
        exhausted = False
        while not exhausted:
            tic = time.perf_counter()
            while len(frames) < self.window:
                try:
                    frames.append(next(frames_iter))
                except StopIteration:
                    exhausted = True
                    break
            self._clock('read', tic)
            new = len(frames) - len(estimate['pose3d'])
            if new == 0 or len(frames) < 2:
                # nothing new after the last window (or < 2 frames in all)
                break
            if self.progress is not None:
                self.progress.window(start, start + len(frames))
            clip = np.stack(frames)
            # one copy of the window's pixels: the list now holds views of
            # the stacked clip, and the decoded frames (and, through the
            # overlap's views, the previous window's clip) are freed
            frames = list(clip)
            self._shrink_tail(start, clip)
            tic = time.perf_counter()
            fresh = self.estimator.estimate(clip[-new:])
            estimate = {
                k: np.concatenate([estimate[k], np.asarray(fresh[k])])
                for k in estimate
            }
            self._clock('estimate', tic)
            result = self._refine(clip, estimate)
            yield start, clip, estimate, result
            # the caller keeps what it still needs (:func:`_tail`); nothing
            # of this window may outlive the next one's stacking
            del clip, result
            if exhausted:
                break
            # copies of the overlap: views would keep this window's whole
            # stacked clip alive while the next window's frames are decoded
            # and stacked (25 MB for 16 frames of 960 x 540)
            frames = [np.array(f) for f in frames[stride:]]
            estimate = {k: v[stride:] for k, v in estimate.items()}
            start += stride

    def _shrink_tail(self, start: int, clip: np.ndarray) -> None:
        """Drop what the previous window's tail no longer gives, before
        the next window (frames from ``start``, stacked in ``clip``) is
        refined.

        Of the overlap, the previous window still gives the records of the
        frames before the split (:meth:`__call__`) and every frame's pose
        for the blend; the frames after the split, their flows and its
        copies of the overlap's pixels (the next clip holds the same
        pixels) are not needed: 6 MB of frames and 2.5 MB of flows for an
        overlap of 4 at 960 x 540 while the next window is refined.
        """
        tail = self._pending
        if tail is None or tail['start'] < start:
            return
        # none when the tail starts past the split (overlap > 2 x stride)
        keep = max(0, start + (tail['end'] - start) // 2 - tail['start'])
        tail['clip'] = clip[tail['start'] - start:][:keep]
        if tail['result'] is not None:
            for key in ('flow_init', 'flow', 'sketch_mask'):
                tail['result'][key] = tail['result'][key][:keep]

    def _refine(self, clip: np.ndarray, estimate: Dict) -> Optional[Dict]:
        if self.refiner is None or not np.any(estimate['keypoint_scores'] > 0):
            return None
        timer = getattr(self.refiner, 'timer', None)
        if timer is not None:
            timer.callback = self._stage_event
        tic = time.perf_counter()
        result = refine_arrays(
            self.refiner, clip, estimate['keypoints_2d'].astype(np.float32),
            estimate['keypoint_scores'].astype(np.float32),
            estimate['pose3d'].astype(np.float32))
        self._clock('refine', tic)
        if timer is not None:
            for key, seconds in timer.pop().items():
                self.timings[f'refine.{key}'] += seconds
        # device-to-host copy of whatever a refiner returned as tensors:
        # from here on the results go to files and pictures
        result = {
            k: (v.detach().cpu().numpy() if hasattr(v, 'detach') else v)
            for k, v in dict(result).items()
        }
        check_result(result, len(clip), clip.shape[1:3])
        # the refiner's tensors are gone now (host copies above)
        self._release()
        return result

    def __call__(self, frames_iter: Iterator) -> Iterator[Dict]:
        """Yield one record per frame, windows merged (see module doc).

        The frames of a window that the next window will not cover are
        emitted as soon as the window is refined; only its last
        ``overlap`` frames (and their results) wait for the next window.
        """
        stride = self.window - self.overlap
        emitted = 0
        self._pending = None
        for window in self._windows(iter(frames_iter)):
            start, clip, estimate, result = window
            tail = self._pending
            if tail is not None:
                split = start + (tail['end'] - start) // 2
                for t in range(emitted, tail['end']):
                    if t < split:
                        record = _record(t, tail['start'], tail['clip'],
                                         tail['estimate'], tail['result'])
                    else:
                        record = _record(t, start, clip, estimate, result)
                    weight = (t - start + 1) / (tail['end'] - start + 1)
                    record['pose3d'] = _blend(
                        tail['result'], tail['estimate'], t - tail['start'],
                        result, estimate, t - start, weight)
                    yield record
                emitted = tail['end']
                # the previous window's tail is emitted: drop it (and the
                # last record's full-size flows) before anything else runs
                record = tail = self._pending = None
            # frames before the next window's start need no other window
            for t in range(emitted, start + stride):
                if t - start >= len(clip) - self.overlap:
                    break
                yield _record(t, start, clip, estimate, result)
                emitted = t + 1
            self._pending = _tail(window, emitted)
            # release this window before the next is read and refined: its
            # overlap lives on in the tail (copies), the rest is done
            del window, clip, estimate, result
            self._release()
        tail, self._pending = self._pending, None
        if tail is not None:
            for t in range(emitted, tail['end']):
                yield _record(t, tail['start'], tail['clip'],
                              tail['estimate'], tail['result'])


def _tail(window, first: int):
    """The part of a window from frame ``first`` on (copies, so the rest
    of the window's arrays can be freed)."""
    start, clip, estimate, result = window
    i = first - start
    estimate = {k: np.array(v[i:]) for k, v in estimate.items()}
    if result is not None:
        # the sketch's joints too, so the overlap's pictures keep arrows
        keys = RESULT_KEYS + (('keypoints_2d_refined', ) if result.get(
            'keypoints_2d_refined') is not None else ())
        result = {k: np.array(result[k][i:]) for k in keys}
    return dict(start=first, end=start + len(clip), clip=np.array(clip[i:]),
                estimate=estimate, result=result)


def _blend(res_a, est_a, i, res_b, est_b, j, weight) -> np.ndarray:
    pose_a = est_a['pose3d'][i] if res_a is None else res_a['pose3d'][i]
    pose_b = est_b['pose3d'][j] if res_b is None else res_b['pose3d'][j]
    return (1 - weight) * np.asarray(pose_a) + weight * np.asarray(pose_b)


def _record(t: int, start: int, clip, estimate, result) -> Dict:
    i = t - start
    # the pairs the result holds (a shrunk tail holds fewer than its frames)
    pair = result is not None and i < len(result['flow'])
    record = dict(
        frame_id=t,
        image=clip[i],
        keypoints_2d=estimate['keypoints_2d'][i],
        keypoint_scores=estimate['keypoint_scores'][i],
        pose3d_init=estimate['pose3d'][i],
        pose3d=estimate['pose3d'][i],
        flow_init=None, flow=None, sketch_mask=None)
    if result is not None:
        record['pose3d_init'] = result['pose3d_init'][i]
        record['pose3d'] = result['pose3d'][i]
        if pair:
            for key in ('flow_init', 'flow', 'sketch_mask'):
                record[key] = frame_size_pair(result[key][i],
                                              clip.shape[1:3],
                                              key == 'sketch_mask')
            if result.get('keypoints_2d_refined') is not None:
                # (2, J, 2) px joints at t and t+1 the sketch was drawn
                # from: the sketch panel draws their motion as arrows
                record['sketch_keypoints'] = \
                    result['keypoints_2d_refined'][i:i + 2]
    return record
