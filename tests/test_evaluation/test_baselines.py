"""Temporal smoothing baselines: jitter reduction, shapes, edge cases."""
import numpy as np
import pytest

from mmflowpose.evaluation.baselines import (gaussian_smooth,
                                             one_euro_smooth, savgol_smooth)

FPS = 30.0


def noisy_sine(num_frames=120, num_joints=4, noise=0.02, seed=0):
    """(T, J, 3) slow 0.5 Hz sine (0.1 m) plus white noise, and the clean."""
    t = np.arange(num_frames) / FPS
    phase = np.arange(num_joints * 3).reshape(1, num_joints, 3)
    clean = 0.1 * np.sin(2 * np.pi * 0.5 * t[:, None, None] + phase)
    rng = np.random.default_rng(seed)
    return clean + noise * rng.standard_normal(clean.shape), clean


def rmse(a, b):
    return float(np.sqrt(np.mean((a - b)**2)))


def accel(x):
    return float(np.abs(x[2:] - 2 * x[1:-1] + x[:-2]).mean())


SMOOTHERS = [
    lambda p: gaussian_smooth(p, sigma=2.0),
    lambda p: savgol_smooth(p, window=11, order=2),
    lambda p: one_euro_smooth(p, fps=FPS, mincutoff=3.0, beta=1.0),
]
# causal One-Euro lags the sine, so it removes less position error
RMSE_RATIO = [0.7, 0.7, 0.8]
IDS = ['gaussian', 'savgol', 'one_euro']


@pytest.mark.parametrize('smooth,ratio', zip(SMOOTHERS, RMSE_RATIO), ids=IDS)
def test_reduces_jitter_on_noisy_sine(smooth, ratio):
    noisy, clean = noisy_sine()
    out = smooth(noisy)
    assert out.shape == noisy.shape
    assert rmse(out, clean) < ratio * rmse(noisy, clean)
    assert accel(out) < 0.35 * accel(noisy)


@pytest.mark.parametrize('smooth', SMOOTHERS, ids=IDS)
def test_leading_dims_and_input_untouched(smooth):
    noisy, _ = noisy_sine(num_frames=20, num_joints=2)
    batch = np.stack([noisy, 2 * noisy])  # (B, T, J, 3)
    before = batch.copy()
    out = smooth(batch)
    assert out.shape == (2, 20, 2, 3)
    np.testing.assert_array_equal(batch, before)
    # each clip is filtered on its own (the filters are linear in scale
    # only for the Gaussian and Savitzky-Golay; all are per clip)
    np.testing.assert_allclose(out[0], smooth(noisy), atol=1e-12)


@pytest.mark.parametrize('smooth', SMOOTHERS, ids=IDS)
def test_constant_sequence_is_a_fixed_point(smooth):
    pose = np.tile(np.array([[0.1, -0.2, 3.0]]), (15, 5, 1))
    np.testing.assert_allclose(smooth(pose), pose, atol=1e-12)


def test_gaussian_sigma_zero_is_identity_copy():
    noisy, _ = noisy_sine(num_frames=10)
    out = gaussian_smooth(noisy, 0)
    np.testing.assert_array_equal(out, noisy)
    assert out is not noisy


def test_gaussian_three_frame_value():
    # impulse at t=1 of a 3-frame clip, sigma=1: scipy's truncated kernel
    # (radius 4) normalised, with nearest padding of zeros at both ends
    pose = np.zeros((3, 1, 3))
    pose[1, 0, 0] = 1.0
    out = gaussian_smooth(pose, 1.0)
    w = np.exp(-0.5 * np.arange(-4, 5)**2)
    w /= w.sum()
    assert out[1, 0, 0] == pytest.approx(w[4])
    assert out[0, 0, 0] == pytest.approx(w[3])


def test_savgol_preserves_polynomial_of_its_order():
    t = np.arange(12, dtype=float)
    quad = (0.01 * t**2 - 0.1 * t + 1)[:, None, None] * np.ones((1, 2, 3))
    np.testing.assert_allclose(savgol_smooth(quad, 7, 2), quad, atol=1e-10)


@pytest.mark.parametrize('num_frames,window', [(5, 9), (6, 9), (2, 5),
                                               (1, 5)])
def test_savgol_window_longer_than_clip(num_frames, window):
    noisy, _ = noisy_sine(num_frames=num_frames)
    out = savgol_smooth(noisy, window, 3)
    assert out.shape == noisy.shape
    assert np.isfinite(out).all()
    if num_frames <= 2:  # the longest odd window that fits is 1 frame
        np.testing.assert_array_equal(out, noisy)
    else:  # a line survives the shrunk window (order capped below it)
        line = np.linspace(0, 1, num_frames)[:, None, None] * np.ones(
            (1, 2, 3))
        np.testing.assert_allclose(savgol_smooth(line, window, 3), line,
                                   atol=1e-10)


def test_one_euro_is_causal_and_starts_at_first_value():
    noisy, _ = noisy_sine(num_frames=30)
    out = one_euro_smooth(noisy, FPS)
    np.testing.assert_allclose(out[0], noisy[0])
    changed = noisy.copy()
    changed[20:] += 1.0  # the future must not change the past
    np.testing.assert_allclose(one_euro_smooth(changed, FPS)[:20], out[:20])


def test_one_euro_beta_reduces_lag_on_a_ramp():
    ramp = (np.arange(60) / FPS)[:, None, None] * np.ones((1, 1, 3))
    slow = one_euro_smooth(ramp, FPS, mincutoff=0.5, beta=0.0)
    fast = one_euro_smooth(ramp, FPS, mincutoff=0.5, beta=5.0)
    assert np.abs(fast - ramp)[-1].max() < np.abs(slow - ramp)[-1].max()


@pytest.mark.parametrize('call,match', [
    (lambda p: gaussian_smooth(p, -1), 'sigma'),
    (lambda p: savgol_smooth(p, 4, 2), 'window'),
    (lambda p: savgol_smooth(p, 5, 5), 'order'),
    (lambda p: one_euro_smooth(p, 0), 'fps'),
    (lambda p: one_euro_smooth(p, 30, mincutoff=0), 'mincutoff'),
    (lambda p: one_euro_smooth(p, 30, beta=-1), 'beta'),
    (lambda p: gaussian_smooth(p[..., :2], 1), r'\(\*, T, J, 3\)'),
])
def test_bad_arguments(call, match):
    pose = np.zeros((8, 3, 3))
    with pytest.raises(ValueError, match=match):
        call(pose)


def test_non_finite_pose_is_rejected():
    pose = np.zeros((8, 3, 3))
    pose[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match='finite'):
        savgol_smooth(pose, 5, 2)
