"""Smoke run of benchmarks/accuracy.py with tiny settings."""
import importlib.util
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_benchmark():
    spec = importlib.util.spec_from_file_location(
        'accuracy_benchmark', osp.join(ROOT, 'benchmarks', 'accuracy.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_results(tmp_path, fixtures):
    bench = load_benchmark()
    # skips without the mocap fixtures
    bench.MOCAP_ROOT = osp.dirname(fixtures('mocap', 'MANIFEST.md'))
    out = tmp_path / 'results'
    threads = torch.get_num_threads()
    try:
        bench.main(['--quick', '--no-trained', '--out-dir',
                    str(out), '--threads', '1'],
                   settings_override=dict(num_frames=6, max_steps=20))
    finally:
        torch.set_num_threads(threads)
    for name in ('results.json', 'results.md', 'cycles.png',
                 'baselines.png'):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob('*.tmp'))
    results = json.loads((out / 'results.json').read_text())
    pose = results['pose']
    for key in ('initial_mpjpe', 'refined_mpjpe', 'initial_accel',
                'refined_accel', 'zero_flow_mpjpe', 'gt_flow_mpjpe',
                'refined_paper_mpjpe', 'no_opt_mpjpe', 'dis_flow_mpjpe',
                'static_floor_mpjpe'):
        assert math.isfinite(pose[key]), key
    # the static floor removes every time-varying error: no acceleration
    setup = results['setups'][results['meta']['primary_setup']]
    assert setup['rows']['static-error floor']['accel'] == pytest.approx(
        0.0, abs=1e-3)
    assert setup['rows']['static-error floor']['mpjpe'] <= \
        pose['initial_mpjpe'] + 1e-6
    flow = results['flow']
    for key in ('initial_epe', 'initial_epe_person',
                'initial_epe_background'):
        assert math.isfinite(flow[key]), key
    # left for the flow step's benchmark
    for key in ('refined_epe', 'refined_epe_person',
                'refined_epe_background', 'oracle_epe_person'):
        assert key in flow
    for name in ('gaussian', 'savgol', 'one_euro', 'per_frame_loop'):
        assert math.isfinite(results['baselines'][name]['mpjpe']), name
        assert math.isfinite(results['baselines'][name]['accel']), name
    loop = results['baselines']['per_frame_loop']
    assert 0 < loop['steps_per_frame'] <= 20
    for variant in ('network', 'zero', 'gt', 'dis'):
        cycles = results['cycles'][variant]
        assert [r['cycle'] for r in cycles] == [0, 1, 2]
        # cycle 0 is the initial estimate, the same for every variant
        assert cycles[0]['mpjpe'] == pytest.approx(pose['initial_mpjpe'])
    assert [r['name'] for r in results['ablation']][2:] == [
        'no_vel', 'no_acc', 'no_bones', 'no_2d'
    ]
    motion = results['joint_motion_px']
    assert set(motion) == {
        'network', 'dis', 'zero', 'detections', 'initial_projection'
    }
    assert all(v >= 0 for v in motion.values())
    cal = setup['calibration']
    assert 0 < cal['sigma_vel'] and 0 < cal['sigma_3d']
    text = (out / 'results.md').read_text()
    assert 'noise-aware, zero flow' in text and 'per_frame_loop' in text
    assert results['meta']['num_val_clips'] >= 1


def test_held_out_motions_are_not_training_motions(fixtures):
    bench = load_benchmark()
    bench.MOCAP_ROOT = osp.dirname(fixtures('mocap', 'MANIFEST.md'))
    test, val, source = bench.split_motions()
    assert test and val
    assert not set(test) & set(val)
    assert 'held out' in source


def test_validation_clips_are_sampled_like_test_clips(fixtures):
    bench = load_benchmark()
    bench.MOCAP_ROOT = osp.dirname(fixtures('mocap', 'MANIFEST.md'))
    _, val, _ = bench.split_motions()
    settings = dict(num_frames=6, det_std_rel=0.01, image_size=(32, 48))
    clips = bench.make_pose_clips(val[:1], 3, settings, 0)
    starts = [int(c['name'].split('@')[1]) for c in clips]
    # evenly spaced over the motion, not all at frame 0
    assert len(starts) == 3 and starts[0] == 0 and starts[-1] > starts[1] > 0
    # the unrendered clip has exactly the rendered clip's poses and noise
    rendered = bench.make_clips(val[:1], 3, settings, 0)[1]['data_samples']
    unrendered = clips[1]['data_samples']
    for key in ('gt_pose3d', 'pose3d_init', 'keypoints_2d',
                'keypoint_scores'):
        np.testing.assert_allclose(unrendered[key], rendered[key],
                                   atol=1e-4, err_msg=key)
