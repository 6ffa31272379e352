"""Parameters of the smoothing baselines chosen on validation clips."""
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from .baselines import gaussian_smooth, one_euro_smooth, savgol_smooth
from .benchmark.error_sums import Sums, add_pose


def smoothers(fps: float) -> Dict[str, Callable]:
    """name -> ``smooth(pose, params)`` for the three baselines
    (One-Euro needs the clips' frame rate)."""
    return dict(
        gaussian=lambda p, a: gaussian_smooth(p, **a),
        savgol=lambda p, a: savgol_smooth(p, **a),
        one_euro=lambda p, a: one_euro_smooth(p, fps, **a))


def tune_baselines(val_poses: Sequence[Tuple[np.ndarray, np.ndarray]],
                   grids: Dict[str, List[dict]],
                   fps: float) -> Tuple[dict, Dict[str, Callable]]:
    """Pick each smoother's parameters by MPJPE on validation clips.

    Args:
        val_poses (Sequence[tuple]): (initial, ground truth) (T, J, 3) m
            per validation clip.
        grids (dict): smoother name (of :func:`smoothers`) -> candidate
            parameter dicts.
        fps (float): frame rate of the clips.

    Returns:
        tuple[dict, dict]: per smoother ``dict(params, val_mpjpe, grid)``
        (the best candidate, its MPJPE in mm and every candidate's), and
        the smoothers themselves.
    """
    funcs = smoothers(fps)
    unknown = set(grids) - set(funcs)
    if unknown:
        raise ValueError(f'grids names unknown smoothers {sorted(unknown)}; '
                         f'expected some of {sorted(funcs)}')
    chosen = {}
    for name, grid in grids.items():
        scores = []
        for params in grid:
            sums = Sums()
            for pose, gt in val_poses:
                add_pose(sums, 'v', funcs[name](pose, params), gt)
            scores.append(sums.mean('v/mpjpe'))
        best = int(np.nanargmin(scores))
        chosen[name] = dict(
            params=grid[best],
            val_mpjpe=scores[best],
            grid=[dict(params=p, val_mpjpe=s) for p, s in zip(grid, scores)])
    return chosen, funcs
