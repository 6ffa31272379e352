import importlib.util
import os
import os.path as osp

import numpy as np

TOOL = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                'tools', 'make_synthetic_clips.py')


def _tool():
    spec = importlib.util.spec_from_file_location('make_synthetic_clips',
                                                  TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_procedural_clips(tmp_path):
    _tool().main([str(tmp_path), '--num-clips', '2', '--num-frames', '2',
                  '--size', '24', '32'])
    clean = tmp_path / 'sintel' / 'training' / 'clean'
    assert sorted(os.listdir(clean)) == ['jumping_jacks001', 'walk000']
    flows = os.listdir(tmp_path / 'sintel' / 'training' / 'flow' / 'walk000')
    assert flows == ['frame_0001.flo']
    ann = np.load(tmp_path / 'h36m' / 'annotations' / 'SYN_walk000.npz')
    assert ann['S'].shape == (2, 17, 4)


def test_mocap_clips(tmp_path, fixtures):
    amc = fixtures('mocap', 'usc_cs520_starter', '09_06-run.amc')
    _tool().main([str(tmp_path), '--motion', amc, '--num-clips', '1',
                  '--num-frames', '2', '--size', '24', '32', '--formats',
                  'sintel'])
    assert os.listdir(tmp_path / 'sintel' / 'training' / 'clean') == [
        '0906run000']
    assert not (tmp_path / 'h36m').exists()
