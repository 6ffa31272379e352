"""WindowStream holds one window of pixels, whatever the input's length.

Issue 14: the peak memory of a 4x longer input must stay within 10% of a
short one's. These tests follow every decoded frame and every window's
clip with weak references and check, at each refiner call, that only the
current window's clip (and the copies of the previous window's overlap)
are alive: no decoded frame, no earlier window, no earlier record.
"""
import weakref
from collections import defaultdict

import numpy as np

from mmflowpose.apis.window_stream import WindowStream

NUM_JOINTS = 17


class CountingEstimator:
    """``estimate`` with every joint seen (score 1) at a fixed place."""

    def estimate(self, frames):
        num = len(frames)
        return dict(
            keypoints_2d=np.full((num, NUM_JOINTS, 2), 4., np.float32),
            keypoint_scores=np.ones((num, NUM_JOINTS), np.float32),
            pose3d=np.zeros((num, NUM_JOINTS, 3), np.float32))


class WatchingRefiner:
    """Records, at each call, which earlier pixel arrays are still alive.

    Args:
        decoded (list): weak references to every frame the source has
            yielded so far (filled by the test's frame source).
    """

    def __init__(self, decoded):
        self.decoded = decoded
        self.clips = []  # weak references to each call's frames
        self.alive = []  # per call: (decoded frames, earlier clips) alive

    def refine_clip(self, frames, keypoints_2d, keypoint_scores, pose3d):
        self.alive.append((sum(ref() is not None for ref in self.decoded),
                           sum(ref() is not None for ref in self.clips)))
        self.clips.append(weakref.ref(frames))
        num, height, width = frames.shape[:3]
        flow = np.ones((num - 1, height, width, 2), np.float32)
        return dict(pose3d_init=pose3d, pose3d=pose3d + 1,
                    flow_init=flow, flow=flow.copy(),
                    sketch_mask=np.zeros((num - 1, height, width), bool))


def _frame(t, decoded, size):
    frame = np.full((*size, 3), t, np.uint8)
    decoded.append(weakref.ref(frame))
    return frame


def _source(num, decoded, size=(24, 32)):
    for t in range(num):
        # no local name: a suspended generator would keep its last frame
        yield _frame(t, decoded, size)


def test_one_window_of_pixels_alive_at_each_refine():
    decoded = []
    refiner = WatchingRefiner(decoded)
    stream = WindowStream(CountingEstimator(), refiner, window=4,
                          overlap=1, timings=defaultdict(float))
    # map() keeps no reference to the previous record, as a consumer that
    # writes each record and drops it (the inferencer)
    ids = list(map(lambda r: r['frame_id'], stream(_source(11, decoded))))
    assert ids == list(range(11))
    # 11 frames in windows of 4 overlapping by 1: starts 0, 3, 6, 9
    assert len(refiner.alive) == 4
    # no decoded frame outlives its stacking into the window's clip, and
    # no earlier window's clip is alive while the next one is refined
    assert refiner.alive == [(0, 0)] * 4


def test_a_kept_record_keeps_only_its_own_window():
    """A consumer holding records keeps their windows alive (the records
    view them): the stream's own references are what the test above
    checks, not the caller's."""
    decoded = []
    refiner = WatchingRefiner(decoded)
    stream = WindowStream(CountingEstimator(), refiner, window=4,
                          overlap=1, timings=defaultdict(float))
    records = list(stream(_source(7, decoded)))
    assert [r['frame_id'] for r in records] == list(range(7))
    # the first window's frames 0-2 were kept by the consumer
    assert refiner.alive[1] == (0, 1)
    assert int(records[0]['image'][0, 0, 0]) == 0
    assert int(records[6]['image'][0, 0, 0]) == 6


def test_no_earlier_clip_alive_while_the_next_frames_are_decoded():
    """The overlap is copied out of a window, so its whole stacked clip is
    gone before the next window's frames are decoded and stacked."""
    decoded = []
    refiner = WatchingRefiner(decoded)
    clips_alive = []

    def source():
        for t in range(7):
            clips_alive.append(
                sum(ref() is not None for ref in refiner.clips))
            yield _frame(t, decoded, (24, 32))

    stream = WindowStream(CountingEstimator(), refiner, window=4,
                          overlap=1, timings=defaultdict(float))
    ids = list(map(lambda r: r['frame_id'], stream(source())))
    assert ids == list(range(7))
    # frames 4-6 are decoded after the first window was refined
    assert clips_alive == [0] * 7
