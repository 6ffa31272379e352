"""The command lines users copy: ``tools/test.py --help`` examples, the
README's tools/ commands, the launcher scripts' argument orders, and the
errors a user meets first (typos in ``--cfg-options``, missing data, no
network)."""
import importlib.util
import json
import os
import os.path as osp
import pickle
import re
import shlex
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# tiny clips and few steps: the examples' own options are kept
TINY = [
    'test_dataloader.dataset.num_clips=1',
    'test_dataloader.dataset.num_frames=4',
    'test_dataloader.dataset.image_size=[64,96]',
    'model.pose_optimizer.max_steps=5',
    'model.flow_networks.0.cfg_options.model.decoder.iters=2',
]


def _tools_test_module():
    spec = importlib.util.spec_from_file_location(
        'tools_test', osp.join(REPO, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _commands(text: str) -> list:
    """Shell commands (continuation lines joined) starting with a tool."""
    joined = re.sub(r'\\\n\s*', ' ', text)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        line for line in lines
        if line.startswith(('python tools/', 'tools/', 'bash tools/'))
    ]


EXAMPLES = _commands(_tools_test_module().EXAMPLES)


def _run(args, env=None, cwd=REPO):
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, OMP_NUM_THREADS='1', **(env or {})))


def test_readme_tool_commands_are_the_help_examples():
    with open(osp.join(REPO, 'README.md')) as file:
        readme = _commands(file.read())
    assert readme, 'README.md shows no tools/ command'
    for command in readme:
        assert command in EXAMPLES, (
            f'README command not among the tested --help examples: '
            f'{command}')
    assert len(EXAMPLES) == 4


def test_offline_example_prints_metrics_per_cycle(tmp_path):
    args = shlex.split(EXAMPLES[0])
    work = tmp_path / 'work'
    result = _run([sys.executable] + args[1:] +
                  ['--work-dir', str(work), '--cfg-options'] + TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    # third-party noise is hidden by default; metric lines stay
    assert 'pkg_resources' not in result.stderr
    assert 'Hooks will be executed' not in result.stdout + result.stderr
    log = result.stdout + result.stderr
    assert 'MPJPE per cycle: cycle 0:' in log
    # progress inside the clip, then the cost per frame
    for line in ('clip 1/1: initial flow', 'clip 1/1, cycle 2/2: pose from '
                 'flow', 'clip 1/1, cycle 2/2: flow from pose (fine-tuning)',
                 'cost: '):
        assert line in log, line
    assert 'MPJPE_nonfinite per cycle' not in log  # all zero: not logged
    with open(work / 'metrics.json') as file:
        metrics = json.load(file)['metrics']
    for key in ('cycle0/MPJPE', 'cycle2/MPJPE', 'cycle2/EPE_inside'):
        assert metrics[key] > 0, key


def test_one_cycle_example_writes_out_dump_and_pictures(tmp_path):
    command = EXAMPLES[1].replace('results.json',
                                  str(tmp_path / 'results.json'))
    command = command.replace('predictions.pkl',
                              str(tmp_path / 'predictions.pkl'))
    args = shlex.split(command)
    work = tmp_path / 'work'
    result = _run([sys.executable] + args[1:] +
                  ['--work-dir', str(work), '--cfg-options'] + TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / 'results.json') as file:
        out = json.load(file)
    assert 'cycle1/MPJPE' in out and 'cycle2/MPJPE' not in out
    with open(tmp_path / 'predictions.pkl', 'rb') as file:
        dumped = pickle.load(file)  # our own output file
    # every cycle stacked: entry 0 initial, entry 1 after the one cycle
    assert len(dumped) == 1 and dumped[0]['pred_pose3d'].shape == (2, 4, 17, 3)
    assert os.listdir(work / 'vis')


def test_swap_example_uses_the_new_checkpoint(tmp_path):
    """Offline, the swapped-in GMA's own URL is the one tried, named in a
    one-line error (after the data was found)."""
    from mmflowpose.datasets.synthetic import make_clip, write_h36m
    data = tmp_path / 'data'
    write_h36m(
        make_clip('procedural', image_size=(64, 96), num_frames=4),
        str(data),
        action='Walking',
        subject='S9',
        camera_id='60457274',
        ann_name='h36m_test')
    args = shlex.split(EXAMPLES[2])
    result = _run([sys.executable] + args[1:] + [
        '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'test_dataloader.dataset.data_root={data}',
        'test_dataloader.dataset.ann_file=annotations/h36m_test.npz',
        'test_dataloader.dataset.camera_param_file=annotations/cameras.pkl',
        'test_dataloader.dataset.data_prefix.img=images/',
        'test_dataloader.dataset.clip_len=4'
    ])
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('tools/test.py: error: CheckpointError: cannot '
                           'download checkpoint https://download.openmmlab.'
                           'com/mmflow/gma/gma_8x2_120k_mixed_368x768.pth')
    assert 'set `checkpoint` to the local path' in last
    assert 'Traceback' not in result.stderr


def test_dist_example_runs_two_processes(tmp_path):
    args = shlex.split(EXAMPLES[3])
    assert args[0] == 'tools/dist_test.sh'
    work = tmp_path / 'work'
    result = _run(['bash'] + args +
                  ['--work-dir', str(work), '--cfg-options'] + TINY +
                  ['model.num_cycles=1'],
                  env=dict(PYTHON=sys.executable, PORT='29631'))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(work / 'metrics.json') as file:
        assert 'cycle1/EPE' in json.load(file)['metrics']


@pytest.mark.parametrize('argv,expected', [
    (['cfg.py', '2', '--work-dir', 'w'], ['cfg.py', '--launcher', 'pytorch',
                                          '--work-dir', 'w']),
    (['cfg.py', 'ckpt.pth', '2'], ['cfg.py', 'ckpt.pth', '--launcher',
                                   'pytorch']),
    (['cfg.py', 'ckpt.pth', '4', '--show-dir', 'v'
      ], ['cfg.py', 'ckpt.pth', '--launcher', 'pytorch', '--show-dir', 'v']),
])
def test_dist_test_argument_order(argv, expected):
    # PYTHON=echo prints the torchrun command instead of running it
    result = _run(['bash', 'tools/dist_test.sh'] + argv,
                  env=dict(PYTHON='echo'))
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    count = argv[1] if argv[1].isdigit() else argv[2]
    assert f'--nproc_per_node={count}' in words
    start = words.index(osp.join('tools', 'test.py')) + 1
    assert words[start:] == expected


def test_dist_test_needs_a_process_count():
    result = _run(['bash', 'tools/dist_test.sh', 'cfg.py', 'ckpt.pth'],
                  env=dict(PYTHON='echo'))
    assert result.returncode == 2
    assert 'GPUS (a process count) must follow' in result.stderr


def test_slurm_test_passes_config_checkpoint_and_launcher(tmp_path):
    fake = tmp_path / 'bin'
    fake.mkdir()
    (fake / 'srun').write_text('#!/bin/sh\necho srun "$@"\n')
    (fake / 'srun').chmod(0o755)
    result = _run([
        'bash', 'tools/slurm_test.sh', 'gpu', 'job1', 'cfg.py', 'ckpt.pth',
        '--work-dir', 'w'
    ],
                  env=dict(
                      PATH=f'{fake}:{os.environ["PATH"]}',
                      GPUS='2',
                      GPUS_PER_NODE='2'))
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert words[:3] == ['srun', '-p', 'gpu']
    assert '--job-name=job1' in words and '--ntasks=2' in words
    start = words.index(osp.join('tools', 'test.py')) + 1
    assert words[start:] == [
        'cfg.py', 'ckpt.pth', '--launcher', 'slurm', '--work-dir', 'w'
    ]


def test_cfg_options_typo_names_the_model_key(tmp_path):
    result = _run([
        sys.executable, 'tools/test.py',
        'configs/flowpose/flowpose_videopose3d-raft_h36m.py',
        '--cfg-options', 'num_cycles=3'
    ])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "tools/test.py: error: ConfigError: --cfg-options num_cycles: the "
        "config has no key 'num_cycles' and the Runner does not read one; "
        'did you mean model.num_cycles?')


def test_missing_data_fails_before_any_download(tmp_path):
    # the README's H36M command in a folder without data/
    result = _run([
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'),
        osp.join(REPO, 'configs', 'flowpose',
                 'flowpose_videopose3d-raft_h36m.py')
    ],
                  cwd=str(tmp_path))
    assert result.returncode == 2
    assert 'Downloading' not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        'tools/test.py: error: FileNotFoundError: annotation file '
        "'data/h36m/annotation_body3d/fps10/h36m_test.npz' not found")


def test_random_weights_warn_unless_none_is_explicit():
    import logging

    from mmengine.logging import MMLogger

    from mmflowpose.apis import init_model

    class Recorder(logging.Handler):

        def __init__(self):
            super().__init__(level=logging.WARNING)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    recorder = Recorder()
    logger = MMLogger.get_current_instance()
    logger.addHandler(recorder)
    try:
        config = 'mmflow::pwcnet/pwcnet_8xb1_slong_flyingchairs-384x448.py'
        init_model(config)
        assert any(
            "PWCNet from 'mmflow::pwcnet/pwcnet_8xb1_slong_flyingchairs-"
            "384x448.py' is built with random weights" in message
            for message in recorder.messages), recorder.messages
        recorder.messages.clear()
        init_model(config, None)
        assert not any('random weights' in m for m in recorder.messages)
    finally:
        logger.removeHandler(recorder)
