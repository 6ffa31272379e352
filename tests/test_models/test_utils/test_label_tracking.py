"""Left/right labels carried along the flow (label_tracking.py), checked
against an exhaustive search and on a mirrored stretch of a moving
skeleton."""
import itertools

import pytest
import torch

from mmflowpose.models.utils.label_tracking import (apply_mirror,
                                                    mirror_costs,
                                                    track_left_right,
                                                    track_points)
from mmflowpose.models.utils.skeleton import load_skeleton

FLIP = load_skeleton('h36m').flip_indices
H, W = 120, 160


def walking_clip(num_frames=8, step=(3.0, 1.0), seed=0):
    """A skeleton-sized point cloud translated by ``step`` px per frame and
    the matching constant flow."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.rand(17, 2, generator=gen) * torch.tensor([30., 80.]) + 40
    # a left joint and its right partner share a height and sit 25 px
    # either side of the same column, like shoulders and hips
    for joint, partner in enumerate(FLIP):
        if partner > joint:
            base[partner] = base[joint]
            base[joint, 0] -= 25
            base[partner, 0] += 25
    shift = torch.arange(num_frames)[:, None, None] * torch.tensor(step)
    keypoints = base[None] + shift
    flow = torch.tensor(step).view(1, 2, 1, 1).repeat(num_frames - 1, 1, H,
                                                      W)
    return keypoints, torch.ones(num_frames, 17), flow


def brute_force(keypoints, scores, flow, sigma, prior, horizon):
    same, mirror = mirror_costs(keypoints, scores, flow, FLIP, sigma,
                                horizon)
    num_frames = len(keypoints)
    best = None
    for states in itertools.product([0, 1], repeat=num_frames):
        cost = prior * sum(states) + sum(
            float((mirror if states[t] != states[t + k] else same)[k - 1, t])
            for k in range(1, horizon + 1) for t in range(num_frames - k))
        if best is None or cost < best[0] - 1e-6:
            best = (float(cost), states)
    return torch.tensor(best[1], dtype=torch.bool)


@pytest.mark.parametrize('seed,prior,horizon', [(0, 0.5, 1), (1, 2.0, 1),
                                                (2, 30.0, 1), (3, 0.5, 3),
                                                (4, 2.0, 2), (5, 4.0, 4)])
def test_viterbi_matches_exhaustive_search(seed, prior, horizon):
    keypoints, scores, flow = walking_clip(7, seed=seed)
    gen = torch.Generator().manual_seed(seed + 10)
    keypoints = keypoints + 8 * torch.randn(keypoints.shape, generator=gen)
    mirrored = torch.rand(7, generator=gen) < 0.4
    keypoints = apply_mirror(keypoints, mirrored, FLIP)
    scores = torch.rand(7, 17, generator=gen)
    got = track_left_right(keypoints, scores, flow, FLIP, 0.05, prior,
                           horizon)
    want = brute_force(keypoints, scores, flow, 0.05, prior, horizon)
    assert torch.equal(got, want)


def test_mirrored_stretch_is_found_and_undone():
    keypoints, scores, flow = walking_clip(10)
    truth = torch.zeros(10, dtype=torch.bool)
    truth[4:7] = True
    detected = apply_mirror(keypoints, truth, FLIP)
    found = track_left_right(detected, scores, flow, FLIP)
    assert torch.equal(found, truth)
    assert torch.allclose(apply_mirror(detected, found, FLIP), keypoints)


def test_without_evidence_names_are_kept():
    keypoints, scores, flow = walking_clip(6)
    detected = apply_mirror(keypoints, torch.tensor([0, 1, 1, 0, 0, 0]).bool(),
                            FLIP)
    # no confident joint: no evidence against the detector's names
    found = track_left_right(detected, torch.zeros_like(scores), flow, FLIP)
    assert not found.any()


def test_the_flow_carries_the_names_where_frame_distance_cannot():
    # joints move 45 px per frame, more than half the left-right distance
    # (50 px): zero flow (nearest previous position) reads a mirror in
    # every frame; the true flow does not
    keypoints, scores, flow = walking_clip(6, step=(45.0, 0.0))
    wide = torch.zeros(5, 2, H, 400)
    wide[:, 0] = 45.0
    found = track_left_right(keypoints, scores, wide, FLIP)
    assert not found.any()
    same, mirror = mirror_costs(keypoints, scores, torch.zeros_like(wide),
                                FLIP)
    assert (mirror < same).all()


def test_bad_shapes_are_named():
    keypoints, scores, flow = walking_clip(5)
    with pytest.raises(ValueError, match='flow must be'):
        track_left_right(keypoints, scores, flow[:2], FLIP)
    with pytest.raises(ValueError, match='flip_indices must have 17'):
        track_left_right(keypoints, scores, flow, FLIP[:5])


def test_track_points_follows_a_varying_flow_like_a_plain_loop():
    gen = torch.Generator().manual_seed(3)
    flow = torch.randn(5, 2, 30, 40, generator=gen)
    points = torch.rand(6, 4, 2, generator=gen) * torch.tensor([39., 29.])
    moved, inside = track_points(points, flow, 3)
    assert moved.shape == (3, 4, 2) and inside.shape == (3, 4)
    for t in range(3):
        for j in range(4):
            x, y = points[t, j].tolist()
            ok = True
            for k in range(3):
                if not (0 <= x <= 39 and 0 <= y <= 29):
                    ok = False
                    break
                # bilinear sample at (x, y), pixel centres at integers
                x0, y0 = int(x), int(y)
                x1, y1 = min(x0 + 1, 39), min(y0 + 1, 29)
                ax, ay = x - x0, y - y0
                f = flow[t + k]
                value = ((1 - ax) * (1 - ay) * f[:, y0, x0] + ax *
                         (1 - ay) * f[:, y0, x1] + (1 - ax) * ay *
                         f[:, y1, x0] + ax * ay * f[:, y1, x1])
                x, y = x + float(value[0]), y + float(value[1])
            assert bool(inside[t, j]) == ok
            if ok:
                assert moved[t, j].tolist() == pytest.approx([x, y],
                                                             abs=1e-4)


def test_labels_are_found_without_reading_the_device():
    # the refiner runs the step on its device: no host copy and no Python
    # read of a tensor (each would be a device sync on CUDA)
    from torch.overrides import TorchFunctionMode

    class Reads(TorchFunctionMode):

        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, '__name__', str(func))
            if name in ('cpu', 'numpy', '__array__', 'item', 'tolist',
                        '__bool__', '__int__', '__float__', '__index__'):
                self.names.append(name)
            return func(*args, **(kwargs or {}))

    keypoints, scores, flow = walking_clip(6)
    mirrored = torch.tensor([0, 0, 1, 1, 0, 0], dtype=torch.bool)
    detected = apply_mirror(keypoints, mirrored, FLIP)
    with Reads() as reads:
        found = track_left_right(detected, scores, flow, FLIP, horizon=2)
        apply_mirror(detected, found, FLIP)
    assert reads.names == []
    assert torch.equal(found, mirrored)


def test_skeleton_flip_indices_come_from_mmpose_metainfo():
    from mmflowpose.models.utils.skeleton import Skeleton
    h36m = load_skeleton('h36m')
    names = h36m.joint_names
    for joint, partner in enumerate(h36m.flip_indices):
        # left_hip <-> right_hip and so on; the spine keeps its place
        assert names[partner] == names[joint].replace(
            'left', '@').replace('right', 'left').replace('@', 'right')
    assert Skeleton('two', ('a', 'b'), ()).flip_indices == (0, 1)
    with pytest.raises(ValueError, match='permutation'):
        Skeleton('two', ('a', 'b'), (), flip_indices=(0, 0))
