"""`make demo`'s command, shortened: offline, a rendered clip, the shipped
small RAFT and mediapipe, refinement included."""
import json
import os.path as osp
import subprocess
import sys

import cv2

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


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
