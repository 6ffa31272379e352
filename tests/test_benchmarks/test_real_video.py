"""Smoke run of benchmarks/real_video.py (3 half-size frames of the real
mmpose demo video, the demo's default setup)."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_real_video_benchmark_quick(tmp_path, fixtures):
    video = fixtures('mmpose', 'demo', 'demo.mp4')  # skips without it
    root = osp.dirname(osp.dirname(osp.dirname(video)))
    out = tmp_path / 'real_video.json'
    result = subprocess.run(
        [
            sys.executable, 'benchmarks/real_video.py', '--quick',
            '--inputs', 'demo', '--variants', 'default', 'passes0', '--out',
            str(out)
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, MMFLOWPOSE_FIXTURES=root))
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r'peak_rss_mb=(\d+) s_per_frame=([\d.]+)', last)
    assert match, last
    runs = json.loads(out.read_text())['runs']
    default, passes0 = runs['demo/default'], runs['demo/passes0']
    assert default['num_frames'] == 3
    assert int(match.group(1)) == round(default['peak_rss_mb'])
    assert default['stages']['refine.finetune'] > 0
    # no fine-tuning: the stage is absent, the flow runs once, not twice
    assert 'refine.finetune' not in passes0['stages'] or \
        passes0['stages']['refine.finetune'] < 0.01
    assert default['refine_change_mm'] > 0
    # a digest of the refined joints, to compare variants that must not
    # change results (e.g. ``keep_heap``)
    assert re.fullmatch(r'[0-9a-f]{40}', default['pose3d_sha1'])
