"""The refiner's cycles: warm starts, annealed anchors, backward flow."""
import pytest
import torch
from helpers import tiny_raft

from mmflowpose.datasets import SyntheticClipDataset
from mmflowpose.models.refiners.flow_side import backward_flow
from mmflowpose.registry import MODELS

RAFT = tiny_raft(iters=2)


def build(**overrides):
    cfg = dict(
        type='FlowPoseRefiner',
        num_cycles=2,
        flow_networks=[RAFT],
        pose_optimizer=dict(
            type='PoseOptimizer',
            weighting='noise_aware',
            max_steps=80,
            min_steps=20),
        sketch_head=dict(type='PoseSketchFlowHead', square_size=3),
        flow_finetuner=dict(passes=0))
    cfg.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(cfg)


@pytest.fixture(scope='module')
def clip():
    return SyntheticClipDataset(
        num_clips=1, num_frames=8, image_size=(64, 96), seed=3,
        pipeline=[dict(type='PackClipInputs')])[0]


def refine(refiner, clip):
    return refiner.refine_clip(clip['inputs'], clip['data_samples'])


def test_warm_start_continues_from_the_previous_cycle(clip):
    cold = refine(build(), clip)
    warm = refine(build(warm_start=True), clip)
    # the flow is fixed (passes=0): a cold restart repeats cycle 1 exactly
    torch.testing.assert_close(cold.pred_pose3d[1], cold.pred_pose3d[2])
    # a warm start continues from cycle 1's result: cycle 2 goes on from
    # there (not a repeat) and moves less than cycle 1 did from the start
    init, first, second = warm.pred_pose3d
    step2 = (second - first).abs().mean()
    assert 0 < step2 < (first - init).abs().mean()
    torch.testing.assert_close(warm.pred_pose3d[1], cold.pred_pose3d[1])


def test_annealed_anchor_lets_later_cycles_move_further(clip):
    out = refine(build(warm_start=True, anchor_anneal=0.1), clip)
    init = out.pred_pose3d[0]
    moved = [(pose - init).abs().mean() for pose in out.pred_pose3d[1:]]
    assert moved[1] > moved[0]


def test_backward_flow_runs_the_networks_on_swapped_frames(clip):
    refiner = build(backward_flow=True, num_cycles=1)
    frames = clip['inputs'].float()
    size = tuple(frames.shape[-2:])
    backward = backward_flow(refiner.finetuners, frames)
    tuner = refiner.finetuners[0]
    expected = tuner.predict(frames[1:], frames[:-1])
    assert backward.shape == (len(frames) - 1, 2) + size
    torch.testing.assert_close(backward, expected, atol=1e-3, rtol=1e-3)
    seen = {}
    optimize = refiner.pose_optimizer.optimize

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return optimize(*args, **kwargs)

    refiner.pose_optimizer.optimize = spy
    refine(refiner, clip)
    assert seen['backward_flow'] is not None
    assert seen['backward_flow'].shape[1:3] == (len(frames) - 1, 2)


def test_bad_anneal():
    with pytest.raises(ValueError, match='anchor_anneal'):
        build(anchor_anneal=1.5)
