"""Smoke-run the speed benchmarks (tiny settings, results to a temp file):
they must run and print their closing ratio line."""
import json
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run(args):
    result = subprocess.run([sys.executable] + args, cwd=REPO,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()


def test_pose_optimizer_benchmark(tmp_path):
    out = tmp_path / 'pose.json'
    lines = run([
        'benchmarks/pose_optimizer.py', '--quick', '--steps', '3', '--sizes',
        '300', '600', '--out', str(out)
    ])
    assert lines[-1].startswith('batched_vs_loop_speedup=')
    assert float(lines[-1].split('=')[1]) > 1
    result = json.loads(out.read_text())
    assert [m['frames'] for m in result['memory']] == [300, 600]
    agree = result['agreement']  # the batched vs the per-frame reference
    assert agree['batched']['groups'] == 1
    assert agree['reference']['groups'] == agree['frames'] == 10
    assert agree['distance_mm'] > 0


def test_flow_sketch_benchmark(tmp_path):
    out = tmp_path / 'flow.json'
    lines = run(['benchmarks/flow_sketch.py', '--quick', '--out', str(out)])
    assert lines[-1].startswith('sketch_vs_raft_forward=')
    assert json.loads(out.read_text())
