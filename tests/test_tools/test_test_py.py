"""End to end: tools/test.py and tools/dist_test.sh on a tiny clip dataset
written in the H36M annotation format, with real (randomly initialised)
mmpose and mmflow networks."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from helpers import tools_test_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from mmflowpose.datasets.synthetic import make_clip, write_h36m
    root = tmp_path_factory.mktemp('h36m_like')
    data = root / 'data'
    parts = []
    for i in range(2):
        clip = make_clip(
            'procedural', image_size=(64, 96), seed=i, num_frames=5)
        written = write_h36m(
            clip,
            str(data),
            action=f'Walk{i}',
            camera_id=f'c{i}',
            ann_name=f'clip{i}')
        parts.append(dict(np.load(written['npz'])))
    # one annotation file with both videos, as mmpose's converter writes
    merged = {
        key: np.concatenate([p[key] for p in parts])
        for key in ('imgname', 'S', 'part', 'center', 'scale')
    }
    np.savez(data / 'annotations' / 'clips.npz', **merged)
    config = root / 'flowpose_test.py'
    config.write_text(tools_test_config(
        REPO, data, num_cycles=2, iters=2, max_steps=40, clip_len=5,
        flow_metric=True))
    return root, str(config)


def run(args, env=None):
    result = subprocess.run(
        args,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, OMP_NUM_THREADS='1', **(env or {})))
    assert result.returncode == 0, result.stdout[-2000:] + \
        result.stderr[-4000:]
    return result


def read_metrics(work_dir):
    with open(osp.join(work_dir, 'metrics.json')) as file:
        return json.load(file)['metrics']


def test_tools_test_py_reports_every_cycle(setup):
    root, config = setup
    work = str(root / 'work')
    run([
        sys.executable, 'tools/test.py', config, '--work-dir', work,
        '--show-dir', 'vis'
    ])
    metrics = read_metrics(work)
    import cv2
    video = cv2.VideoCapture(osp.join(work, 'vis', 'SYN_Walk0.c0_000000.mp4'))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    picture = cv2.imread(osp.join(work, 'vis', 'SYN_Walk1.c1_000000.png'))
    assert picture is not None and picture.shape[2] == 3
    for cycle in range(3):
        assert np.isfinite(metrics[f'cycle{cycle}/MPJPE'])
        assert np.isfinite(metrics[f'cycle{cycle}/EPE'])
    predictions = sorted(os.listdir(osp.join(work, 'predictions')))
    assert predictions == [
        'SYN_Walk0.c0_000000.npz', 'SYN_Walk1.c1_000000.npz'
    ]
    saved = np.load(osp.join(work, 'predictions', predictions[0]))
    assert saved['pose3d_cycles'].shape == (3, 5, 17, 3)

    # swap the flow network from the command line
    swapped = str(root / 'work_gma')
    run([
        sys.executable, 'tools/test.py', config, '--work-dir', swapped,
        '--cfg-options', 'model.flow_networks.0.config='
        'mmflow::gma/gma_8xb2_120k_flyingchairs-368x496.py',
        'model.num_cycles=1'
    ])
    swapped_metrics = read_metrics(swapped)
    assert 'cycle1/EPE' in swapped_metrics
    assert 'cycle2/EPE' not in swapped_metrics
    assert swapped_metrics['cycle0/EPE'] != metrics['cycle0/EPE']

    # two processes (gloo) give the metrics of one
    distributed = str(root / 'work_dist')
    run(['bash', 'tools/dist_test.sh', config, '2', '--work-dir', distributed],
        env=dict(PYTHON=sys.executable, PORT='29617'))
    dist_metrics = read_metrics(distributed)
    assert dist_metrics.keys() == metrics.keys()
    for key, value in metrics.items():
        assert dist_metrics[key] == pytest.approx(value, rel=1e-4), key


def test_unknown_network_in_config_is_named(setup):
    root, config = setup
    result = subprocess.run([
        sys.executable, 'tools/test.py', config, '--work-dir',
        str(root / 'bad'), '--cfg-options',
        'model.flow_networks.0.config=mmflow::raft/raft_nope.py'
    ],
                            cwd=REPO,
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode != 0
    assert 'raft_nope.py' in result.stderr
    assert not osp.exists(str(root / 'bad' / 'metrics.json'))
