"""Smoke run of benchmarks/label_step.py (the label step's settings chosen
on validation clips, scored on test clips) with tiny settings."""
import importlib.util
import json
import math
import os.path as osp

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_quick_run_chooses_on_validation_and_scores_test(tmp_path,
                                                         fixtures):
    spec = importlib.util.spec_from_file_location(
        'label_step_benchmark', osp.join(ROOT, 'benchmarks',
                                         'label_step.py'))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # skips without the mocap fixtures
    bench.accuracy.MOCAP_ROOT = osp.dirname(fixtures('mocap', 'MANIFEST.md'))
    out = tmp_path / 'label_step.json'
    threads = torch.get_num_threads()
    try:
        bench.main(['--quick', '--out', str(out), '--threads', '1'])
    finally:
        torch.set_num_threads(threads)
    result = json.loads(out.read_text())
    chosen = bench.name_of(result['chosen'])
    assert result['chosen']['mirror_prior'] in (0.5, 2.0)
    assert isinstance(result['kept'], bool)
    val = result['validation']['rows']
    # the choice is the validation minimum over the grid
    scored = [k for k in val if k.startswith('network/')]
    assert len(scored) == 2
    assert val[f'network/{chosen}']['mpjpe'] == min(
        val[k]['mpjpe'] for k in scored)
    test = result['test']['rows']
    for flow in bench.FLOWS:
        row = test[f'{flow}/{chosen}']
        assert math.isfinite(row['mpjpe']) and 0 <= row['agree'] <= 1
    for key in ('detected', 'diagnostic'):
        assert math.isfinite(test[key]['mpjpe']), key
    assert 0 <= test['truth_mirrored'] <= 1
