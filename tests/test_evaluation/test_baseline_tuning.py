"""Smoother parameters picked by validation MPJPE."""
import numpy as np
import pytest

from mmflowpose.evaluation.baseline_tuning import smoothers, tune_baselines


def _val(seed):
    rng = np.random.default_rng(seed)
    T = 30
    gt = np.zeros((T, 17, 3))
    gt[..., 0] = np.linspace(0, 0.5, T)[:, None]  # slow straight walk
    gt[..., 1] = np.arange(17) * 0.1
    return gt + 0.02 * rng.normal(size=gt.shape), gt


def test_tuning_picks_the_smoothing_that_removes_jitter():
    val = [_val(0), _val(1)]
    grids = dict(gaussian=[dict(sigma=0), dict(sigma=3)],
                 savgol=[dict(window=5, order=3), dict(window=15, order=1)])
    chosen, funcs = tune_baselines(val, grids, fps=30.0)
    assert chosen['gaussian']['params'] == dict(sigma=3)
    assert chosen['savgol']['params'] == dict(window=15, order=1)
    scores = [g['val_mpjpe'] for g in chosen['gaussian']['grid']]
    assert chosen['gaussian']['val_mpjpe'] == min(scores)
    # sigma 0 is no smoothing at all: the raw error (~0.02 x sqrt(2 x 3)
    # m per joint after root alignment, ~45 mm)
    assert 30 < scores[0] < 60 and scores[1] < 0.6 * scores[0]
    assert set(funcs) == {'gaussian', 'savgol', 'one_euro'}


def test_one_euro_uses_the_frame_rate():
    pose, _ = _val(0)
    slow = smoothers(5.0)['one_euro'](pose, dict(mincutoff=1, beta=0))
    fast = smoothers(120.0)['one_euro'](pose, dict(mincutoff=1, beta=0))
    # the same cut-off in Hz smooths more frames at a higher frame rate
    assert np.abs(np.diff(fast, axis=0)).mean() < np.abs(
        np.diff(slow, axis=0)).mean()


def test_unknown_smoother_is_named():
    with pytest.raises(ValueError, match='kalman'):
        tune_baselines([_val(0)], dict(kalman=[{}]), fps=30.0)
