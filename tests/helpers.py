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


_TOOLS_TEST_CONFIG = """
_base_ = [
    '{repo}/configs/_base_/default_runtime.py',
    '{repo}/configs/_base_/models/flowpose_refiner.py',
]
model = dict(
    num_cycles={num_cycles},
    pose_estimators=[
        dict(
            type='MMPoseLifter',
            config='mmpose::body_3d_keypoint/image_pose_lift/h36m/'
            'image-pose-lift_tcn_8xb64-200e_h36m.py')
    ],
    flow_networks=[
        dict(
            config='{raft}',
            cfg_options=dict(model=dict(decoder=dict(iters={iters}))))
    ],
    pose_optimizer=dict(max_steps={max_steps}),
    sketch_head=dict(square_size=3),
    flow_finetuner=dict(passes=1, batch_size=4))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='mmflowpose.clip_collate'),
    dataset=dict(
        type='H36MClipDataset',
        data_root='{data}',
        ann_file='annotations/clips.npz',
        camera_param_file='annotations/cameras.pkl',
        data_prefix=dict(img='images/'),
        clip_len={clip_len},
        pipeline=[dict(type='PackClipInputs')]))
test_evaluator = [
    dict(type='PerCycleMetric', metric=dict(type='MPJPEMetric')),{flow_metric}
]
randomness = dict(seed=0)
"""

_FLOW_METRIC = """
    dict(
        type='PerCycleMetric',
        metric=dict(type='EndPointError', mode='sparse')),"""


def tools_test_config(repo: str,
                      data_root: str,
                      num_cycles: int = 1,
                      iters: int = 1,
                      max_steps: int = 3,
                      clip_len: int = 3,
                      flow_metric: bool = False) -> str:
    """The text of a ``tools/test.py`` config: a tiny real refiner (an
    mmpose lifter, packaged RAFT) on an H36M-format clip folder.

    Args:
        repo (str): the repository root (the ``_base_`` configs).
        data_root (str): the clip folder (``annotations/clips.npz``,
            ``annotations/cameras.pkl``, ``images/``).
        num_cycles, iters, max_steps, clip_len (int): refiner cycles, RAFT
            iterations, pose steps and frames per clip.
        flow_metric (bool): also score sparse EPE per cycle.
    """
    return _TOOLS_TEST_CONFIG.format(
        repo=repo,
        data=data_root,
        raft=RAFT_CONFIG,
        num_cycles=num_cycles,
        iters=iters,
        max_steps=max_steps,
        clip_len=clip_len,
        flow_metric=_FLOW_METRIC if flow_metric else '')


def default_signals() -> None:
    """``preexec_fn`` for a child that a test interrupts: SIGINT and SIGTERM
    unblocked and at their default disposition, as in a user's shell.

    A child inherits its parent's signal mask and ignored signals across
    ``exec``; a library loaded earlier in the pytest process may have
    changed them, and the child would then never see the test's signal.
    """
    import signal
    signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)
    for signum in signals:
        signal.signal(signum, signal.SIG_DFL)
