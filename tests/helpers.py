"""Builders shared by several test folders (importable as ``helpers``: pytest
puts ``tests/`` on ``sys.path`` for its ``conftest.py``).

A tiny, real refiner: mmflow's packaged RAFT at random weights with few
refinement iterations, a few pose steps, small sketch squares. Tests that
check contracts (shapes, layouts, error paths), not accuracy, build this one
instead of writing the block again.
"""
import copy

RAFT_CONFIG = 'mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py'


def tiny_raft(iters: int = 1) -> dict:
    """A ``flow_networks`` entry: packaged RAFT, ``iters`` iterations."""
    return dict(
        config=RAFT_CONFIG,
        cfg_options=dict(model=dict(decoder=dict(iters=iters))))


def tiny_refiner_cfg(max_steps: int = 5,
                     passes: int = 0,
                     num_cycles: int = 1,
                     iters: int = 1,
                     **overrides) -> dict:
    """A ``FlowPoseRefiner`` config dict (a new one on every call).

    Args:
        max_steps (int): pose optimiser steps. Defaults to 5.
        passes (int): flow fine-tuning passes (batch size 4). Defaults to 0.
        num_cycles (int): flow/pose cycles. Defaults to 1.
        iters (int): RAFT refinement iterations. Defaults to 1.
        **overrides: top-level keys replacing the defaults.
    """
    cfg = dict(
        type='FlowPoseRefiner',
        num_cycles=num_cycles,
        flow_networks=[tiny_raft(iters)],
        pose_optimizer=dict(type='PoseOptimizer', max_steps=max_steps),
        sketch_head=dict(type='PoseSketchFlowHead', square_size=3),
        flow_finetuner=dict(passes=passes, batch_size=4))
    cfg.update(copy.deepcopy(overrides))
    return cfg
