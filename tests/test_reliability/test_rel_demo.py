"""demo/flowpose_demo.py with bad inputs: one line
``demo/flowpose_demo.py: error: ...``, exit code 2, the output folder keeps
the previous results; a rerun replaces them whole; Ctrl-C mid-run publishes
nothing."""
import importlib.util
import json
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import default_signals

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def demo():
    spec = importlib.util.spec_from_file_location(
        'flowpose_demo', osp.join(REPO, 'demo', 'flowpose_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _previous_results(out):
    for entry in ('predictions', 'visualizations', 'flows'):
        (out / entry / 'old').mkdir(parents=True)
        (out / entry / 'old' / 'x.json').write_text('{"old": true}')
    (out / 'mine.txt').write_text('a user file beside the outputs')
    return _snapshot(out)


def _snapshot(out):
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in out.rglob('*') if p.is_file()
    }


@pytest.mark.parametrize(
    'argv, pattern',
    [
        (['{tmp}/missing.mp4', '--no-refine'],
         "FileNotFoundError: input '.*missing.mp4' does not exist"),
        (['{tmp}/fake.mp4', '--no-refine'],
         "ValueError: input video '.*fake.mp4' cannot be decoded"),
        (['{tmp}/empty_folder', '--no-refine'],
         "ValueError: input folder '.*empty_folder' holds no image"),
        ([], 'error: give an input video/folder, or --offline'),
        (['--offline', '--pose3d', 'human3d'],
         'error: --offline uses --pose3d mediapipe'),
        (['--offline', '--flow-weights', '{tmp}/nofile.pth'],
         'error: --flow-weights .*nofile.pth: file not found'),
        (['--offline', '--flow-weights', '{tmp}/fake.mp4', '--num-frames',
          '2'], "CheckpointError: checkpoint '.*fake.mp4' could not be read"),
        (['--offline', '--window', '1', '--num-frames', '2'],
         'ValueError: window must be >= 2 frames, got 1'),
    ],
    ids=[
        'missing-input', 'not-a-video', 'empty-folder', 'no-input',
        'offline-lifter', 'missing-weights', 'corrupt-weights', 'window'
    ])
def test_bad_input_one_line(demo, tmp_path, capsys, argv, pattern):
    (tmp_path / 'fake.mp4').write_text('not a video')
    (tmp_path / 'empty_folder').mkdir()
    out = tmp_path / 'out'
    before = _previous_results(out)
    argv = [a.format(tmp=tmp_path) for a in argv] + ['--out-dir', str(out)]
    assert demo.cli(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith('demo/flowpose_demo.py: error: '), err
    assert re.search(pattern, err[-1]), err[-1]
    assert 'Traceback' not in '\n'.join(err)
    assert _snapshot(out) == before
    assert sorted(os.listdir(out)) == [
        'flows', 'mine.txt', 'predictions', 'visualizations'
    ]


def test_out_dir_is_a_file(demo, tmp_path, capsys):
    out = tmp_path / 'out'
    out.write_text('a file')
    assert demo.cli(['--offline', '--no-refine', '--out-dir', str(out)]) == 2
    assert re.search(r'error: (FileExists|NotADirectory)Error: .*out',
                     capsys.readouterr().err)
    assert out.read_text() == 'a file'


def test_failed_first_run_leaves_no_folder(demo, tmp_path, capsys):
    out = tmp_path / 'new_out'
    assert demo.cli([str(tmp_path / 'missing.mp4'), '--out-dir',
                     str(out)]) == 2
    assert not out.exists()


def test_debug_shows_the_traceback(demo, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        demo.cli([
            str(tmp_path / 'missing.mp4'), '--no-refine', '--debug',
            '--out-dir',
            str(tmp_path / 'out')
        ])


def test_staged_json_never_holds_nan(demo, tmp_path):
    (tmp_path / 'predictions').mkdir()
    path = tmp_path / 'predictions' / 'frames.json'
    path.write_text('[{"keypoints": [NaN, 1.0, Infinity]}]')
    with pytest.warns(UserWarning, match='2 non-finite values written as '
                      'null'):
        demo._strict_json(str(tmp_path))
    assert json.loads(path.read_text()) == [{'keypoints': [None, 1.0, None]}]


def test_rerun_replaces_the_whole_output(demo, tmp_path, capsys):
    out = tmp_path / 'out'
    _previous_results(out)
    (out / '.flowpose-tmp-killed').mkdir()  # a stage of a killed run
    argv = ['--offline', '--no-refine', '--num-frames', '2', '--vis-format',
            'none', '--out-dir', str(out)]
    assert demo.cli(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    # no stale entry of the earlier run, no stage, the user's file kept
    assert sorted(os.listdir(out)) == ['mine.txt', 'predictions']
    assert sorted(os.listdir(out / 'predictions')) == [
        'frames.json', 'frames_meta.json', 'frames_unrefined.json'
    ]
    # the printed paths are the published ones
    assert osp.relpath(out / 'predictions' / 'frames.json') in printed
    assert '.flowpose-run-' not in printed
    with open(out / 'predictions' / 'frames.json') as file:
        json.load(file, parse_constant=pytest.fail)


def test_interrupted_demo_keeps_previous_results(tmp_path):
    out = tmp_path / 'out'
    before = _previous_results(out)
    process = subprocess.Popen(
        [
            # many cycles: a run far longer than the wait below, so the
            # signal lands inside it however fast refinement gets
            sys.executable, 'demo/flowpose_demo.py', '--offline',
            '--num-frames', '4', '--num-cycles', '100', '--out-dir',
            str(out)
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        preexec_fn=default_signals)
    deadline = time.time() + 300
    while not any(n.startswith('.flowpose-run-') for n in os.listdir(out)):
        assert process.poll() is None, process.stderr.read()[-2000:]
        assert time.time() < deadline
        time.sleep(0.2)
    time.sleep(2.0)  # building the networks or refining
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1] == (
        'demo/flowpose_demo.py: interrupted: nothing published (previous '
        'results untouched)')
    assert _snapshot(out) == before
    assert not [n for n in os.listdir(out) if n.startswith('.')]


def test_frames_without_a_person_are_reported(demo, tmp_path):
    (tmp_path / 'predictions').mkdir()
    frames = [dict(frame_id=i, instances=[] if i else [dict(x=1)])
              for i in range(3)]
    (tmp_path / 'predictions' / 'clip.json').write_text(json.dumps(frames))
    (tmp_path / 'predictions' / 'nobody.json').write_text(
        json.dumps([dict(instances=[])] * 4))
    (tmp_path / 'predictions' / 'clip_meta.json').write_text('{}')
    assert demo.coverage_warnings(None, str(tmp_path)) == [
        "no person found in 2 of 3 frames of 'clip' (their predictions are "
        'empty)',
        "no person found in any of the 4 frames of 'nobody': its "
        'predictions are empty'
    ]


def test_truncated_video_is_reported(demo, tmp_path, capsys):
    import cv2
    from mmflowpose.datasets.synthetic import make_clip
    clip = make_clip('procedural:walk', camera=0, image_size=(256, 320),
                     num_frames=8, seed=0)
    video = tmp_path / 'walk.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 25,
                             (320, 256))
    for frame in clip['frames']:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    video.write_bytes(video.read_bytes()[:video.stat().st_size // 2])
    out = tmp_path / 'out'
    assert demo.cli([
        str(video), '--no-refine', '--vis-format', 'none', '--out-dir',
        str(out)
    ]) == 0
    err = capsys.readouterr().err
    assert re.search(
        r'demo/flowpose_demo.py: warning: .*walk.avi: decoded [1-7] of the '
        '8 frames the container declares', err), err
