"""Smoke run of benchmarks/accuracy.py with tiny settings."""
import importlib.util
import json
import math
import os.path as osp

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_benchmark():
    spec = importlib.util.spec_from_file_location(
        'accuracy_benchmark', osp.join(ROOT, 'benchmarks', 'accuracy.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def finite_numbers(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from finite_numbers(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from finite_numbers(value)
    elif isinstance(tree, float):
        yield tree


def test_quick_run_writes_results(tmp_path, fixtures):
    bench = load_benchmark()
    # skips without the mocap fixtures
    bench.MOCAP_ROOT = osp.dirname(fixtures('mocap', 'MANIFEST.md'))
    out = tmp_path / 'results'
    threads = torch.get_num_threads()
    try:
        bench.main(['--quick', '--no-trained', '--out-dir', str(out)],
                   settings_override=dict(num_frames=6, max_steps=20))
    finally:
        torch.set_num_threads(threads)
    for name in ('results.json', 'results.md', 'cycles.png',
                 'baselines.png'):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob('*.tmp'))
    results = json.loads((out / 'results.json').read_text())
    for key in ('initial_mpjpe', 'refined_mpjpe', 'initial_p_mpjpe',
                'refined_p_mpjpe', 'initial_accel', 'refined_accel'):
        assert math.isfinite(results['pose'][key]), key
    for key in ('initial_epe', 'refined_epe', 'initial_epe_human',
                'refined_epe_human', 'initial_epe_background',
                'refined_epe_background'):
        assert math.isfinite(results['flow'][key]), key
    for name in ('gaussian', 'savgol', 'one_euro'):
        assert math.isfinite(results['baselines'][name]['mpjpe']), name
        assert math.isfinite(results['baselines'][name]['accel']), name
    loop = results['baselines']['per_frame_loop']
    for key in ('mpjpe', 'p_mpjpe', 'accel', 'seconds', 'frames_per_s'):
        assert math.isfinite(loop[key]), key
    speed = results['speed']
    assert speed['frames'] == results['meta']['num_test_clips'] * 6
    for key in ('per_frame_loop_frames_per_s', 'pose_step_frames_per_s'):
        assert speed[key] > 0, key
    # at most max_steps Adam steps per frame
    assert 0 < speed['per_frame_loop_steps_per_frame'] <= 20
    assert 'per_frame_loop' in (out / 'results.md').read_text()
    assert [r['name'] for r in results['ablation']][:5] == [
        'L_3D', '+L_2D', '+L_temp w/o bone', '+bone', '+L_opt'
    ]
    for variant in ('network', 'gt_flow', 'oracle_sketch'):
        cycles = results['cycles'][variant]
        assert [r['cycle'] for r in cycles] == [0, 1]
        # cycle 0 is the initial estimate, the same for every variant
        assert cycles[0]['mpjpe'] == pytest.approx(
            results['pose']['initial_mpjpe'])
    # the L_3D-only row keeps the initial pose (its optimum)
    assert results['ablation'][0]['mpjpe'] == pytest.approx(
        results['pose']['initial_mpjpe'], abs=0.5)
    # every number written is finite except documented n/a values
    assert all(math.isfinite(v) for v in finite_numbers(results['pose']))
    assert 'refined' in (out / 'results.md').read_text()


def test_held_out_motions_are_not_training_motions(fixtures):
    bench = load_benchmark()
    bench.MOCAP_ROOT = osp.dirname(fixtures('mocap', 'MANIFEST.md'))
    test, val, source = bench.split_motions()
    assert test and val
    assert not set(test) & set(val)
    assert 'held out' in source
