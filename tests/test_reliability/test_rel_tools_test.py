"""tools/test.py with bad inputs: one line ``tools/test.py: error: ...``,
exit code 2, and the work dir keeps the previous complete results (no
stage, no half-written set). Most cases call ``cli()`` in-process; two
subprocesses are interrupted (SIGINT, SIGTERM) mid-run."""
import importlib.util
import json
import os
import os.path as osp
import pickle
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import default_signals, tools_test_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'tools_test_py', osp.join(REPO, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from mmflowpose.datasets.synthetic import make_clip, write_h36m
    root = tmp_path_factory.mktemp('tools_rel')
    clip = make_clip('procedural', image_size=(64, 96), seed=0, num_frames=3)
    write_h36m(clip, str(root / 'data'), action='Walk0', camera_id='c0',
               ann_name='clips')
    config = root / 'cfg.py'
    config.write_text(tools_test_config(REPO, root / 'data'))
    return root, str(config), _load_tool()


def _variant(root, name, config):
    """A copy of the data (and config) to break one file in."""
    data = root / name
    shutil.copytree(root / 'data', data)
    text = open(config).read().replace(str(root / 'data'), str(data))
    path = root / f'{name}.py'
    path.write_text(text)
    return data, str(path)


def _previous_results(work):
    """A complete earlier run: what every failed run must leave alone."""
    (work / 'predictions').mkdir(parents=True)
    (work / 'predictions' / 'old_clip.npz').write_bytes(b'old')
    (work / 'metrics.json').write_text('{"metrics": {"MPJPE": 1.0}}')
    return _snapshot(work)


def _snapshot(work):
    """The results in ``work``, without the Runner's own log artefacts
    (``<timestamp>/`` log folders and the ``<config>.py`` it dumps)."""
    return {
        str(p.relative_to(work)): p.read_bytes()
        for p in work.rglob('*')
        if p.is_file() and not p.relative_to(work).parts[0][0].isdigit()
        and not (p.parent == work and p.suffix == '.py')
    }


def _assert_clean_failure(capsys, rc, pattern, work, before):
    import re
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert err[-1].startswith('tools/test.py: error: '), err
    assert re.search(pattern, err[-1]), err[-1]
    assert 'Traceback' not in '\n'.join(err)
    if work.exists():
        assert _snapshot(work) == before
        assert not [n for n in os.listdir(work) if n.startswith('.flowpose')]


def _run(tool, argv):
    return tool.cli([str(a) for a in argv])


def test_missing_config(setup, tmp_path, capsys):
    _, _, tool = setup
    work = tmp_path / 'work'
    before = _previous_results(work)
    rc = _run(tool, [tmp_path / 'nope.py', '--work-dir', work])
    _assert_clean_failure(capsys, rc, 'nope.py', work, before)


def test_config_with_syntax_error(setup, tmp_path, capsys):
    _, _, tool = setup
    bad = tmp_path / 'bad.py'
    bad.write_text('model = dict(\n')
    work = tmp_path / 'work'
    before = _previous_results(work)
    rc = _run(tool, [bad, '--work-dir', work])
    _assert_clean_failure(capsys, rc, 'bad.py', work, before)


@pytest.mark.parametrize(
    'option, pattern',
    [('model.num_cyclez=2', 'num_cyclez'), ('modle.num_cycles=2', 'modle')],
    ids=['model-key', 'top-level'])
def test_unknown_cfg_option(setup, tmp_path, capsys, option, pattern):
    _, config, tool = setup
    work = tmp_path / 'work'
    before = _previous_results(work)
    rc = _run(tool, [config, '--work-dir', work, '--cfg-options', option])
    _assert_clean_failure(capsys, rc, pattern, work, before)


@pytest.mark.parametrize(
    'content, pattern',
    [(b'just some text\n', r"CheckpointError: checkpoint '.*model.pth' "
      r'could not be read'),
     (b'', r"CheckpointError: checkpoint '.*model.pth' could not be read"),
     (None, r"CheckpointError: checkpoint '.*model.pth' is a folder"),
     ('missing', r"FileNotFoundError: checkpoint '.*model.pth' does not")],
    ids=['text', 'empty', 'folder', 'missing'])
def test_bad_checkpoint(setup, tmp_path, capsys, content, pattern):
    _, config, tool = setup
    path = tmp_path / 'model.pth'
    if content is None:
        path.mkdir()
    elif content != 'missing':
        path.write_bytes(content)
    work = tmp_path / 'work'
    before = _previous_results(work)
    rc = _run(tool, [config, path, '--work-dir', work])
    _assert_clean_failure(capsys, rc, pattern, work, before)


class _Touch:

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, 'w')


def test_crafted_checkpoint_runs_nothing(setup, tmp_path, capsys):
    import torch
    _, config, tool = setup
    marker = tmp_path / 'marker'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _Touch(marker)}, str(path))
    work = tmp_path / 'work'
    before = _previous_results(work)
    rc = _run(tool, [config, path, '--work-dir', work])
    _assert_clean_failure(capsys, rc, 'outside the allow-list', work, before)
    assert not marker.exists()


def test_work_dir_is_a_file(setup, tmp_path, capsys):
    _, config, tool = setup
    work = tmp_path / 'work'
    work.write_text('a file')
    rc = _run(tool, [config, '--work-dir', work])
    _assert_clean_failure(capsys, rc, r'(FileExists|NotADirectory)Error',
                          tmp_path / 'absent', {})
    assert work.read_text() == 'a file'


def test_debug_shows_the_traceback(setup, tmp_path):
    _, _, tool = setup
    with pytest.raises(Exception, match='nope.py'):
        _run(tool, [tmp_path / 'nope.py', '--debug'])


def test_crafted_camera_pickle_refused_end_to_end(setup, tmp_path, capsys):
    root, config, tool = setup
    data, config = _variant(root, 'evil_cameras', config)
    marker = tmp_path / 'marker'
    with open(data / 'annotations' / 'cameras.pkl', 'wb') as file:
        pickle.dump({('SYN', 'c0'): dict(w=_Touch(marker))}, file)
    work = tmp_path / 'work'
    before = _previous_results(work)
    rc = _run(tool, [config, '--work-dir', work])
    _assert_clean_failure(
        capsys, rc, r"UnsafePickleError: camera_param_file '.*cameras.pkl' "
        r'refused: global (builtins|io)\.open is not allow-listed', work,
        before)
    assert not marker.exists()


def test_corrupt_frame_is_named(setup, tmp_path, capsys):
    root, config, tool = setup
    data, config = _variant(root, 'corrupt_frame', config)
    frame = sorted((data / 'images').rglob('*.png'))[1]
    frame.write_bytes(frame.read_bytes()[:60])
    work = tmp_path / 'work'
    before = _previous_results(work)
    rc = _run(tool, [config, '--work-dir', work])
    _assert_clean_failure(
        capsys, rc, f"ValueError: frame '.*{frame.name}' could not be "
        'decoded', work, before)


def test_rerun_publishes_a_fresh_set(setup, tmp_path, capsys):
    _, config, tool = setup
    work = tmp_path / 'work'
    _previous_results(work)
    # a stage left by a killed run (its pid is gone) and the old
    # inferencer's hidden folder
    (work / '.flowpose-run-999999999-dead').mkdir()
    (work / '.flowpose-tmp-old').mkdir()
    assert _run(tool, [config, '--work-dir', work]) == 0
    assert os.listdir(work / 'predictions') == ['SYN_Walk0.c0_000000.npz']
    text = (work / 'metrics.json').read_text()
    metrics = json.loads(text, parse_constant=pytest.fail)['metrics']
    assert np.isfinite(metrics['MPJPE']) and metrics['MPJPE_nonfinite'] == 0
    assert not [n for n in os.listdir(work) if n.startswith('.')]


def _wait_for_stage(work, process, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f'finished before the signal: {process.returncode} '
                        f'{process.stderr.read()[-2000:]}')
        if any(n.startswith('.flowpose-run-') for n in os.listdir(work)):
            return
        time.sleep(0.2)
    pytest.fail('no stage appeared')


def test_interrupted_runs_leave_previous_results(setup, tmp_path):
    """SIGINT and SIGTERM, each mid-run (both processes run at once)."""
    _, config, _ = setup
    runs = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        work = tmp_path / f'work_{signum}'
        before = _previous_results(work)
        # a pose step far longer than the wait below: the signal lands
        # inside the run, never after it (a finished run that is then
        # killed dies with SIGTERM's default action)
        process = subprocess.Popen(
            [
                sys.executable, 'tools/test.py', config, '--work-dir',
                str(work), '--cfg-options',
                'model.pose_optimizer.max_steps=1000000',
                'model.pose_optimizer.stop_tol=0'
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, OMP_NUM_THREADS='1'),
            preexec_fn=default_signals)
        runs[signum] = (work, before, process)
    for signum, (work, before, process) in runs.items():
        _wait_for_stage(work, process)
        time.sleep(1.0)  # inside the run: building or refining
        process.send_signal(signum)
    for signum, (work, before, process) in runs.items():
        _, err = process.communicate(timeout=300)
        expected = 130 if signum == signal.SIGINT else 143
        assert process.returncode == expected, err[-2000:]
        assert err.strip().splitlines()[-1].startswith('tools/test.py: '), err
        assert 'nothing published (previous results untouched)' in err
        assert _snapshot(work) == before
        assert not [n for n in os.listdir(work) if n.startswith('.flowpose')]


def test_nan_flow_weights_stop_the_run(setup, tmp_path, capsys):
    """The issue's case: NaN flow weights used to give NaN poses and a
    finite MPJPE; now the clip stops with a clear error, nothing
    published."""
    import torch

    from mmflowpose.apis import init_model
    from mmflowpose.utils.checkpoint import save_checkpoint_atomic
    _, config, tool = setup
    net = init_model('mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py',
                     cfg_options=dict(model=dict(decoder=dict(iters=1))))
    with torch.no_grad():
        for param in net.parameters():
            param.fill_(float('nan'))
    weights = tmp_path / 'nan_raft.pth'
    save_checkpoint_atomic(net, str(weights))
    work = tmp_path / 'work'
    before = _previous_results(work)
    rc = _run(tool, [
        config, '--work-dir', work, '--cfg-options',
        f'model.flow_networks.0.checkpoint={weights}'
    ])
    _assert_clean_failure(
        capsys, rc, r'FloatingPointError: flow network 0 predicted \d+ '
        r'non-finite values \(frame pairs \[0, 1\]\); refinement of this '
        'clip stopped', work, before)
