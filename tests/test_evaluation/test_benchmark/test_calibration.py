"""Noise calibration on validation clips: the flow floor's statistics and
the detector-noise input checks."""
import math

import pytest
import torch

from mmflowpose.evaluation.benchmark import detector_noise, flow_floor_stats


def test_flow_floor_stats_by_hand():
    # clip 1: errors of +-1 px at 100 px/m; clip 2: +-4 px at 200 px/m,
    # one joint invalid (its 100 px error must not count)
    motion = torch.zeros(2, 3, 2)
    flow1 = torch.ones(2, 3, 2)
    flow1[1] = -1
    flow2 = 4 * flow1.clone()
    flow2[0, 0] = 100
    valid2 = torch.ones(2, 3, dtype=torch.bool)
    valid2[0, 0] = False
    parts = [(flow1, motion, 100.0, torch.ones(2, 3, dtype=torch.bool)),
             (flow2, motion, 200.0, valid2)]
    out = flow_floor_stats(parts, found=[1.0, 0.5])
    # |error| / scale: 12 values of 0.01 m and 10 of 0.02 m
    assert out['rms_m'] == pytest.approx(
        math.sqrt((12 * 0.01**2 + 10 * 0.02**2) / 22))
    # robust std = 1.4826 x median |error| = 1.4826 x 0.01
    assert out['floor_m'] == pytest.approx(0.01 / 0.6744897501960817)
    assert out['px_per_m'] == 150
    assert out['floor_px'] == pytest.approx(out['floor_m'] * 150)
    assert out['mediapipe_found'] == 0.75
    assert flow_floor_stats(parts)['mediapipe_found'] is None


def test_detector_noise_needs_rendered_clips():
    clip = dict(name='walk@0', data_samples=dict(
        keypoints_2d=torch.zeros(5, 17, 2).numpy()))
    with pytest.raises(ValueError, match='walk@0.*gt_keypoints_2d'):
        detector_noise([clip], 'white')
