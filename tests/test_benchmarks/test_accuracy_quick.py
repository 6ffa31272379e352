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


def test_quick_run_writes_results(tmp_path, fixtures):
    bench = load_benchmark()
    # skips without the mocap fixtures
    bench.MOCAP_ROOT = osp.dirname(fixtures('mocap', 'MANIFEST.md'))
    out = tmp_path / 'results'
    threads = torch.get_num_threads()
    try:
        # the shipped checkpoints: the trained lifter runs the label step
        bench.main(['--quick', '--out-dir', str(out), '--threads', '1'],
                   settings_override=dict(num_frames=6, max_steps=20))
    finally:
        torch.set_num_threads(threads)
    for name in ('results.json', 'results.md', 'cycles.png',
                 'baselines.png'):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob('*.tmp'))

    def no_nan(value):
        raise AssertionError(f'non-strict JSON value {value}')

    results = json.loads((out / 'results.json').read_text(),
                         parse_constant=no_nan)
    # the headline runs the real detector (mediapipe on the renders)
    primary = results['meta']['primary_setup']
    assert primary.startswith('mediapipe detections')
    assert results['setups'][primary]['detector']['name'] == 'mediapipe'
    assert results['flow_floor']['floor_m'] > 0
    assert any(g.startswith('refined MPJPE <= 0.85') for g in
               results['goals'])
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
    # filled by the (tiny) guarded flow step on the headline's joints
    for key in ('refined_epe', 'refined_epe_person',
                'refined_epe_background', 'oracle_epe_person'):
        assert math.isfinite(flow[key]), key
    assert flow['step']['frames'] == 3
    for name in ('gaussian', 'savgol', 'one_euro', 'per_frame_loop'):
        assert math.isfinite(results['baselines'][name]['mpjpe']), name
        assert math.isfinite(results['baselines'][name]['accel']), name
    loop = results['baselines']['per_frame_loop']
    assert 0 < loop['steps_per_frame'] <= 20
    labels = setup['label_step']
    assert 0 <= labels['truth_mirrored'] <= 1
    for variant in ('network', 'zero', 'gt', 'dis'):
        cycles = results['cycles'][variant]
        assert [r['cycle'] for r in cycles] == [0, 1, 2]
        # cycle 0 is the initial estimate, the same for every flow
        assert cycles[0]['mpjpe'] == pytest.approx(pose['initial_mpjpe'])
        step = labels['flows'][variant]
        assert 0 <= step['mirrored'] <= 1 and 0 <= step['agree'] <= 1
    # the label-step rows start from the detections relabelled along their
    # own flow and lifted again
    for row, flow in (('labels', 'network'), ('labels_zero', 'zero'),
                      ('labels_dis', 'dis')):
        assert results['cycles'][row][0]['mpjpe'] == pytest.approx(
            labels['flows'][flow]['mpjpe'])
    for key in ('label_step_mpjpe', 'label_step_refined_mpjpe',
                'label_step_zero_flow_mpjpe', 'label_step_dis_flow_mpjpe'):
        assert math.isfinite(pose[key]), key
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
