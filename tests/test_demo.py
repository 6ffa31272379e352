"""`make demo`'s command, shortened: offline, a rendered clip, the shipped
small RAFT and mediapipe, refinement included."""
import json
import os.path as osp
import subprocess
import sys

import cv2

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# lines of absl/TFLite (mediapipe), mmengine/mmcv and mmflow's RAFT
NOISE = ('pkg_resources is deprecated', 'torch.meshgrid', 'XNNPACK',
         'inference_feedback_manager')


def test_offline_demo_runs_end_to_end(tmp_path):
    out = tmp_path / 'demo'
    result = subprocess.run([
        sys.executable, 'demo/flowpose_demo.py', '--offline', '--num-frames',
        '4', '--out-dir',
        str(out)
    ],
                            cwd=REPO,
                            capture_output=True,
                            text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'frames in' in result.stdout
    # progress advances during refinement: per window and per cycle stage
    for line in ('window 1/1: frames 0-3', 'window 1/1 flow forward done',
                 'window 1/1 cycle 1: pose step done',
                 'window 1/1 cycle 1: flow fine-tuning done'):
        assert line in result.stdout, result.stdout[-2000:]
    # the cost report: seconds per frame by stage and the peak memory
    assert 'cost: s/frame' in result.stdout
    assert 'finetune' in result.stdout and 'peak RSS' in result.stdout
    # third-party noise is hidden by default
    for noise in NOISE:
        assert noise not in result.stderr, result.stderr[-2000:]
    with open(out / 'predictions' / 'frames.json') as file:
        refined = json.load(file)
    with open(out / 'predictions' / 'frames_unrefined.json') as file:
        unrefined = json.load(file)
    assert len(refined) == len(unrefined) == 4
    first = refined[0]['instances'][0]
    assert len(first['keypoints']) == 17 and len(first['keypoints'][0]) == 3
    assert refined[0]['instances'][0]['keypoints'] != \
        unrefined[0]['instances'][0]['keypoints']
    video = cv2.VideoCapture(str(out / 'visualizations' / 'frames.mp4'))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 4


def test_demo_verbose_shows_third_party_logs(tmp_path):
    """--verbose lets the noise through (estimate only: a short run)."""
    result = subprocess.run([
        sys.executable, 'demo/flowpose_demo.py', '--offline', '--num-frames',
        '2', '--no-refine', '--vis-format', 'none', '--verbose', '--out-dir',
        str(tmp_path / 'demo')
    ],
                            cwd=REPO,
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert any(noise in result.stderr for noise in NOISE), \
        result.stderr[-2000:]


def test_finetune_pixels_flag_sets_the_budget():
    """--finetune-pixels writes flow_finetuner.max_pixels over the offline
    config's 65536; 0 removes the budget; tiny budgets are refused."""
    import importlib.util

    import pytest
    spec = importlib.util.spec_from_file_location(
        'flowpose_demo', osp.join(REPO, 'demo', 'flowpose_demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)

    def tuner(*flags):
        model, reason = demo.refine_config(
            demo.parse_args(['--offline', *flags]))
        assert reason is None
        return model['flow_finetuner']

    assert tuner()['max_pixels'] == 65536
    assert tuner('--finetune-pixels', '32768')['max_pixels'] == 32768
    assert tuner('--finetune-pixels', '0')['max_pixels'] is None
    with pytest.raises(SystemExit, match='at least 4096'):
        tuner('--finetune-pixels', '100')
