"""Temporal smoothing baselines for 3D pose sequences.

Three filters a refiner must beat: a Gaussian (non-causal), a
Savitzky-Golay polynomial filter (non-causal) and the One-Euro filter
(causal, adaptive cut-off; Casiez et al., CHI 2012, via the
``OneEuroFilter`` package). Each smooths every joint coordinate
independently over time.

Convention: poses are ``(*, T, J, 3)`` arrays (any leading dims, time on
axis -3) in any unit; the output has the input's shape and a floating
dtype, and the input is never modified.
"""
import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import savgol_filter


def _as_pose(pose, name: str = 'pose') -> np.ndarray:
    pose = np.asarray(pose)
    if pose.ndim < 3 or pose.shape[-1] != 3:
        raise ValueError(f'{name} must have shape (*, T, J, 3), got '
                         f'{pose.shape}')
    if not np.issubdtype(pose.dtype, np.floating):
        pose = pose.astype(np.float64)
    if not np.isfinite(pose).all():
        raise ValueError(f'{name} must be finite (fill missing joints '
                         'before smoothing)')
    return pose


def gaussian_smooth(pose, sigma: float) -> np.ndarray:
    """Gaussian filter over time (edges: nearest-value padding).

    Args:
        pose (np.ndarray): (*, T, J, 3) poses.
        sigma (float): kernel std in frames, >= 0; 0 returns a copy.

    Returns:
        np.ndarray: (*, T, J, 3) smoothed poses.
    """
    pose = _as_pose(pose)
    if not sigma >= 0:
        raise ValueError(f'sigma must be >= 0 frames, got {sigma}')
    if sigma == 0:
        return pose.copy()
    return gaussian_filter1d(pose, float(sigma), axis=-3, mode='nearest')


def savgol_smooth(pose, window: int, order: int) -> np.ndarray:
    """Savitzky-Golay filter over time.

    Edge cases: a window longer than the clip is shrunk to the longest odd
    window that fits (T or T - 1 frames); the polynomial order is then
    capped at ``window - 1``; a window of 1 frame returns a copy. Edges
    use scipy's ``mode='interp'`` (a polynomial fitted to the first/last
    window).

    Args:
        pose (np.ndarray): (*, T, J, 3) poses.
        window (int): odd window length in frames, >= 1.
        order (int): polynomial order, 0 <= order < window.

    Returns:
        np.ndarray: (*, T, J, 3) smoothed poses.
    """
    pose = _as_pose(pose)
    window, order = int(window), int(order)
    if window < 1 or window % 2 == 0:
        raise ValueError(f'window must be an odd number of frames >= 1, '
                         f'got {window}')
    if not 0 <= order < window:
        raise ValueError(f'order must be in [0, window) = [0, {window}), '
                         f'got {order}')
    num_frames = pose.shape[-3]
    fit = num_frames if num_frames % 2 else num_frames - 1
    window = min(window, fit)
    order = min(order, window - 1)
    if window <= 1:
        return pose.copy()
    return savgol_filter(pose, window, order, axis=-3, mode='interp')


def one_euro_smooth(pose,
                    fps: float,
                    mincutoff: float = 1.0,
                    beta: float = 0.0,
                    dcutoff: float = 1.0) -> np.ndarray:
    """One-Euro filter over time (causal: frame t sees frames <= t).

    Every coordinate of every joint gets its own filter, fed the frames in
    order with timestamps ``t / fps``.

    Args:
        pose (np.ndarray): (*, T, J, 3) poses.
        fps (float): frame rate in Hz, > 0.
        mincutoff (float): minimum cut-off frequency in Hz, > 0. Lower
            removes more jitter. Defaults to 1.0.
        beta (float): speed coefficient, >= 0; higher reduces lag on fast
            motion. Defaults to 0.0.
        dcutoff (float): cut-off of the speed estimate in Hz, > 0.
            Defaults to 1.0.

    Returns:
        np.ndarray: (*, T, J, 3) filtered poses.
    """
    try:
        from OneEuroFilter import OneEuroFilter
    except ImportError as err:  # pragma: no cover - dependency hint
        raise ImportError('one_euro_smooth needs the OneEuroFilter package: '
                          'pip install OneEuroFilter') from err
    pose = _as_pose(pose)
    for name, value in [('fps', fps), ('mincutoff', mincutoff),
                        ('dcutoff', dcutoff)]:
        if not value > 0:
            raise ValueError(f'{name} must be > 0, got {value}')
    if not beta >= 0:
        raise ValueError(f'beta must be >= 0, got {beta}')
    num_frames = pose.shape[-3]
    # (T, S) signals: one column per (leading index, joint, coordinate)
    signals = np.moveaxis(pose, -3, 0).reshape(num_frames, -1)
    out = np.empty_like(signals)
    for column in range(signals.shape[1]):
        filt = OneEuroFilter(float(fps), float(mincutoff), float(beta),
                             float(dcutoff))
        for t in range(num_frames):
            out[t, column] = filt(float(signals[t, column]), t / fps)
    shape = (num_frames, ) + pose.shape[:-3] + pose.shape[-2:]
    return np.moveaxis(out.reshape(shape), 0, -3)
