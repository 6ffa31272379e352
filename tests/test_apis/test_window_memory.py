"""WindowStream holds one window of pixels, whatever the input's length.

Issue 14: the peak memory of a 4x longer input must stay within 10% of a
short one's. These tests follow every decoded frame and every window's
clip with weak references and check, at each refiner call, that only the
current window's clip (and what the previous window still gives to the
overlap) is alive: no decoded frame, no earlier window, no earlier record.
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


class StampingRefiner:
    """Flows and poses that name their window and pair: flow[i] holds
    ``100 * first frame + frame i`` (frames are filled with their index),
    pose3d is the initial pose plus the window's first frame. At each call
    it records what the stream's tail of the previous window holds."""

    def __init__(self):
        self.stream = None
        self.tails = []  # per call: (tail frames, tail pairs, shared)

    def refine_clip(self, frames, keypoints_2d, keypoint_scores, pose3d):
        tail = self.stream._pending
        if tail is not None:
            self.tails.append((len(tail['clip']),
                               len(tail['result']['flow']),
                               np.shares_memory(tail['clip'], frames)))
        num, height, width = frames.shape[:3]
        first = float(frames[0, 0, 0, 0])
        flow = np.empty((num - 1, height, width, 2), np.float32)
        flow[:] = (100 * first + frames[:-1, :1, :1, :1]).astype(np.float32)
        return dict(pose3d_init=pose3d, pose3d=pose3d + first,
                    flow_init=flow, flow=flow.copy(),
                    sketch_mask=np.zeros((num - 1, height, width), bool))


def stamped_run(window, overlap, num_frames):
    """A stream of ``num_frames`` stamped frames through a
    :class:`StampingRefiner` (which sees the stream): (refiner, records)."""
    refiner = StampingRefiner()
    stream = WindowStream(CountingEstimator(), refiner, window=window,
                          overlap=overlap, timings=defaultdict(float))
    refiner.stream = stream
    return refiner, list(stream(_source(num_frames, [])))


def test_overlap_records_from_the_nearer_window_tail_without_copies():
    """Windows of 6 overlapping by 4 (starts 0, 2, 4 over 10 frames): the
    records of an overlap's first half come from the earlier window, the
    rest from the later one, poses blended; while the later window is
    refined the earlier one's tail holds only that first half, as views of
    the later window's pixels (no copy of the overlap's frames)."""
    refiner, records = stamped_run(window=6, overlap=4, num_frames=10)
    assert [r['frame_id'] for r in records] == list(range(10))
    # window 2 (frames 2-7) is refined holding window 1's frames 2, 3 (of
    # its overlap 2-5) and their 2 pairs, inside window 2's own clip;
    # window 3 (4-9) gets none of window 2's 6, 7 (both past its split, 6)
    assert refiner.tails == [(2, 2, True), (0, 0, False)]
    starts = [0, 0, 0, 0, 2, 2, 4, 4, 4, 4]  # the window each record is from
    for t, (record, start) in enumerate(zip(records, starts)):
        assert int(record['image'][0, 0, 0]) == t
        if t < 9:  # frame 9 is the last: no pair
            assert record['flow'][0, 0, 0] == 100 * start + t
        else:
            assert record['flow'] is None
    # the blend: frame 3 lies in windows 0-5 (+0) and 2-7 (+2), weight of
    # the later window (3 - 2 + 1) / (6 - 2 + 1) = 0.4
    np.testing.assert_allclose(records[3]['pose3d'], 0.4 * 2, rtol=1e-6)
    np.testing.assert_allclose(records[1]['pose3d'], 0.0)
    # frame 6: windows 2-7 (+2) and 4-9 (+4), weight (6 - 4 + 1) / 5
    np.testing.assert_allclose(records[6]['pose3d'], 0.4 * 2 + 0.6 * 4,
                               rtol=1e-6)


def test_tail_past_the_split_keeps_nothing():
    """Overlap 5 of 7 (stride 2): the earlier window's tail starts past the
    later window's split, so the later window gives all those records."""
    refiner, records = stamped_run(window=7, overlap=5, num_frames=11)
    assert [r['frame_id'] for r in records] == list(range(11))
    assert refiner.tails[0] == (2, 2, True)  # window 2-8: frames 2, 3 of 0-6
    assert all(tail[:2] == (0, 0) for tail in refiner.tails[1:])
    for t, record in enumerate(records):
        assert int(record['image'][0, 0, 0]) == t
        if t < 10:
            start, frame = divmod(int(record['flow'][0, 0, 0]), 100)
            # the pair t -> t+1 of a window that holds both frames
            assert frame == t and start <= t < start + 6
