"""Small figures that answer "what did the refinement change?".

* :func:`plot_clip_curves` (``tools/test.py --show-dir``, with ground
  truth): MPJPE per frame (initial, refined, a Gaussian-smoothed initial),
  EPE per frame pair before/after (person and background, or at joints)
  and every metric against the cycle.
* :func:`draw_refinement_summary` (the demo, no ground truth): how far
  each joint moved in every frame, and how much each bone's length varies
  over the clip before and after.

Both return (H, W, 3) uint8 RGB pictures; write them with
:func:`mmflowpose.visualization.save_image`.
"""
from typing import Dict, Optional

import matplotlib
import numpy as np

matplotlib.use('Agg', force=False)

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def _render(figure: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])


#: Line styles: initial/base dashed grey-blue, refined solid, baselines
#: dotted, so the plots read the same in grey print.
_STYLE = {
    'initial': dict(color='tab:gray', linestyle='--'),
    'refined': dict(color='tab:red', linestyle='-'),
    'base': dict(color='tab:gray', linestyle='--'),
}


def _style(name: str) -> dict:
    for key, style in _STYLE.items():
        if name.startswith(key) and ',' not in name:
            return dict(style)
    return dict(color='tab:blue', linestyle=':')


def plot_clip_curves(curves: Dict, title: str = '') -> np.ndarray:
    """Plot :func:`clip_curves` output.

    Args:
        curves (dict): ``mpjpe``, ``epe`` and/or ``cycles`` curves.
        title (str): figure title (e.g. the clip id).

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB, one column per available plot.
    """
    panels = [key for key in ('mpjpe', 'epe', 'cycles') if curves.get(key)]
    if not panels:
        raise ValueError('no curves to plot (the clip has no ground truth); '
                         f'got keys {sorted(curves)}')
    figure = Figure(figsize=(4.0 * len(panels), 3.0), dpi=100)
    for k, key in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), k + 1)
        if key == 'cycles':
            _plot_cycles(axes, curves['cycles'])
            continue
        for name, values in curves[key].items():
            style = _style(name)
            if name.endswith('background'):
                style.update(
                    linestyle=':' if name.startswith('base') else '-.',
                    alpha=0.8)
            values = np.asarray(values, np.float64)
            label = f'{name} ({np.nanmean(values):.2f})'
            axes.plot(
                np.arange(len(values)),
                values,
                label=label,
                marker='o' if len(values) < 12 else None,
                markersize=3,
                **style)
        axes.set_xlabel('frame' if key == 'mpjpe' else 'frame pair t->t+1')
        axes.set_ylabel('MPJPE (mm)' if key == 'mpjpe' else 'EPE (px)')
        axes.set_title(
            'pose error per frame'
            if key == 'mpjpe' else 'flow error per pair',
            fontsize=10)
        axes.legend(fontsize=7, loc='best')
        axes.grid(alpha=0.3)
        axes.set_ylim(bottom=0)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _render(figure)


def _plot_cycles(axes, cycles: Dict) -> None:
    """Each metric against the cycle (0 = before refinement); MPJPE on the
    left axis, EPE on the right one."""
    right = None
    lines = []
    for name, values in cycles.items():
        values = np.asarray(values, np.float64)
        target = axes
        if not name.startswith('MPJPE'):
            right = right or axes.twinx()
            target = right
        style = dict(color='tab:red') if name.startswith('MPJPE') else dict(
            linestyle='--')
        lines += target.plot(
            np.arange(len(values)),
            values,
            marker='o',
            markersize=4,
            label=name,
            **style)
    axes.set_xlabel('cycle (0 = initial)')
    axes.set_xticks(np.arange(max(len(v) for v in cycles.values())))
    axes.set_ylabel('MPJPE (mm)' if any(n.startswith('MPJPE')
                                        for n in cycles) else '')
    if right is not None:
        right.set_ylabel('EPE (px)')
    axes.set_title('metrics per cycle', fontsize=10)
    axes.legend(
        lines, [line.get_label() for line in lines], fontsize=7, loc='best')
    axes.grid(alpha=0.3)


def bone_length_spread(poses: np.ndarray,
                       bones,
                       mask: Optional[np.ndarray] = None) -> np.ndarray:
    """(E, ) standard deviation over frames of each bone's length.

    Args:
        poses (np.ndarray): (T, J, 3) metres.
        bones (sequence): E (parent, child) joint ids.
        mask (np.ndarray, optional): (T, ) bool frames to use (e.g. frames
            with a person).

    Returns:
        np.ndarray: (E, ) in the unit of ``poses``.
    """
    poses = np.asarray(poses, np.float64)
    if mask is not None:
        poses = poses[np.asarray(mask, bool)]
    index = np.asarray(bones)
    lengths = np.linalg.norm(
        poses[:, index[:, 1]] - poses[:, index[:, 0]], axis=-1)
    if len(lengths) < 2:
        return np.zeros(len(index))
    return lengths.std(axis=0)


def draw_refinement_summary(pose3d_init: np.ndarray,
                            pose3d: np.ndarray,
                            keypoint_scores: Optional[np.ndarray] = None,
                            skeleton='h36m',
                            title: str = '') -> np.ndarray:
    """What the refinement did to a clip's 3D poses, without ground truth.

    Left: displacement of every joint in every frame (root-relative, mm),
    a joints x frames heat map. Right: the spread (std over frames) of each
    bone's length before and after; a real person's bones do not change
    length, so a smaller spread is a sign of a more plausible pose.

    Args:
        pose3d_init (np.ndarray): (T, J, 3) initial estimate, metres.
        pose3d (np.ndarray): (T, J, 3) refined, metres.
        keypoint_scores (np.ndarray, optional): (T, J); frames whose scores
            are all 0 (no person) are left out.
        skeleton (str | dict): mmpose metainfo naming the joints.
            Defaults to 'h36m'.
        title (str): figure title (e.g. the video name).

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    from mmflowpose.models.utils.skeleton import load_skeleton
    skeleton = load_skeleton(skeleton)
    before = np.asarray(pose3d_init, np.float64)
    after = np.asarray(pose3d, np.float64)
    if before.shape != after.shape or before.ndim != 3 or \
            before.shape[-1] != 3:
        raise ValueError('pose3d_init and pose3d must both be (T, J, 3), '
                         f'got {before.shape} and {after.shape}')
    skeleton.check_joints(before.shape[1], 'pose3d')
    person = np.ones(len(before), bool) if keypoint_scores is None else \
        np.asarray(keypoint_scores).max(-1) > 0
    shift = np.linalg.norm(
        (after - after[:, :1]) - (before - before[:, :1]), axis=-1) * 1000.0
    shift[~person] = np.nan
    spread = [
        bone_length_spread(p, skeleton.bones, person) * 1000.0
        for p in (before, after)
    ]
    figure = Figure(figsize=(10.0, 3.6), dpi=100)
    grid = figure.add_gridspec(1, 2, width_ratios=(1.35, 1.0))
    axes = figure.add_subplot(grid[0])
    image = axes.imshow(
        shift.T, aspect='auto', cmap='magma', interpolation='nearest')
    axes.set_yticks(np.arange(len(skeleton.joint_names)))
    axes.set_yticklabels(skeleton.joint_names, fontsize=6)
    axes.set_xlabel('frame')
    axes.set_title(
        f'joint shift, mm (mean {np.nanmean(shift):.1f})', fontsize=10)
    figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02)
    axes = figure.add_subplot(grid[1])
    names = [
        f'{skeleton.joint_names[a]}-{skeleton.joint_names[b]}'.replace(
            'left_', 'l_').replace('right_', 'r_') for a, b in skeleton.bones
    ]
    rows = np.arange(len(names))
    axes.barh(
        rows + 0.2,
        spread[0],
        height=0.4,
        color='tab:gray',
        label=f'initial (mean {spread[0].mean():.1f})')
    axes.barh(
        rows - 0.2,
        spread[1],
        height=0.4,
        color='tab:red',
        label=f'refined (mean {spread[1].mean():.1f})')
    axes.set_yticks(rows)
    axes.set_yticklabels(names, fontsize=6)
    axes.invert_yaxis()
    axes.set_xlabel('bone-length spread over the clip, mm (std)')
    axes.set_title('bone lengths: spread before / after', fontsize=10)
    # below the axis: long bars would hide a legend inside the plot
    axes.legend(
        fontsize=7,
        loc='upper center',
        ncol=2,
        bbox_to_anchor=(0.5, -0.16),
        frameon=False)
    axes.grid(alpha=0.3, axis='x')
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _render(figure)
