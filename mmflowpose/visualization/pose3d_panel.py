"""One 3D plot: the refined skeleton over a faded ghost of the initial one.

Drawn in one axes with one view, so the eye compares positions directly:
the initial skeleton is a pale grey ghost, the refined one has mmpose's
left/right/centre colours, each joint's displacement is a line from the
ghost joint to the refined joint plus a dot on the refined joint, both
coloured by its length (a fixed mm scale, colour bar at the right, so
colours mean the same in every frame; a shift of a few cm is a short line
but still a readable colour), and the ground truth, when given, is black
and dashed.

Axes follow the camera (as mmpose's ``Pose3dLocalVisualizer`` plots camera
keypoints): x to the right, depth (camera z) into the page, up = -y; every
skeleton is centred on its own root joint, +-``radius`` metres.
"""
from typing import Optional, Sequence, Tuple

import matplotlib
import numpy as np

matplotlib.use('Agg', force=False)

from matplotlib import colormaps  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import ListedColormap, Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Displacement colours: plasma without its pale yellow end, which would
#: vanish on the white background.
DISPLACEMENT_CMAP = ListedColormap(colormaps['plasma'](np.linspace(
    0.0, 0.85, 256)))
GHOST = (0.55, 0.55, 0.55)
_BOX = dict(facecolor='white', alpha=0.8, edgecolor='none', pad=1.0)


def to_plot_axes(pose: np.ndarray) -> np.ndarray:
    """(J, 3) camera coordinates -> (J, 3) plot (right, depth, up)."""
    return np.stack([pose[:, 0], pose[:, 2], -pose[:, 1]], -1)


class Pose3dOverlay:
    """Renders :meth:`draw` into an (H, W) RGB image with matplotlib.

    Args:
        bones (sequence): (parent, child) joint ids.
        colours (sequence): RGB (0-255) colour per bone.
        size (tuple[int, int]): (H, W) of the picture, px.
        radius (float): half extent of the axes around the root, metres.
            Defaults to 1.0.
        max_displacement_mm (float): displacement that gets the last colour
            of the colour bar (longer ones too). Defaults to 100.
    """

    def __init__(self,
                 bones: Sequence[Tuple[int, int]],
                 colours: Sequence[Tuple[int, int, int]],
                 size: Tuple[int, int],
                 radius: float = 1.0,
                 max_displacement_mm: float = 100.0) -> None:
        if not max_displacement_mm > 0:
            raise ValueError('max_displacement_mm must be > 0, got '
                             f'{max_displacement_mm!r}')
        self.bones = [tuple(b) for b in bones]
        self.size = (int(size[0]), int(size[1]))
        self.radius = float(radius)
        self.norm = Normalize(0.0, float(max_displacement_mm))
        height, width = self.size
        # fonts are in points: a dpi proportional to the height keeps the
        # text the same fraction of the panel at every panel size
        dpi = height / 2.4
        self.figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes((0.0, 0.0, 0.84, 1.0),
                                         projection='3d')
        # draw in the order below (ghost, truth, refined, displacement),
        # not by depth, so the displacement lines are never hidden
        self.axes.computed_zorder = False
        self._setup_axes()
        line = self._new_line
        self.ghost = [
            line(color=GHOST, alpha=0.5, linewidth=5.0, zorder=1)
            for _ in self.bones
        ]
        self.refined = [
            line(color=np.array(c) / 255, linewidth=2.0, zorder=3)
            for c in colours
        ]
        self.truth = [
            line(color='black', linewidth=1.2, linestyle='--', zorder=2)
            for _ in self.bones
        ]
        self._moves = self._dots = None
        bar_axes = self.figure.add_axes((0.86, 0.14, 0.022, 0.6))
        self.figure.colorbar(
            matplotlib.cm.ScalarMappable(self.norm, DISPLACEMENT_CMAP),
            cax=bar_axes)
        bar_axes.tick_params(labelsize=8, length=2, pad=1)
        bar_axes.set_title('mm', fontsize=8, pad=2)
        self.title = self.figure.text(
            0.01, 0.98, '', fontsize=9.5, va='top', bbox=_BOX)
        self.note = self.figure.text(0.01, 0.015, '', fontsize=9.5, bbox=_BOX)

    def _setup_axes(self) -> None:
        axes, radius = self.axes, self.radius
        axes.view_init(elev=12, azim=-70)
        axes.set_xlim(-radius, radius)
        axes.set_ylim(-radius, radius)
        axes.set_zlim(-radius, radius)
        # a wide panel has room to zoom into the cube; a narrow one would
        # push the cube's labels under the colour bar
        wide = self.size[1] / self.size[0] >= 1.5
        axes.set_box_aspect((1, 1, 1), zoom=1.55 if wide else 1.3)
        axes.set_xticklabels([])
        axes.set_yticklabels([])
        axes.set_zticklabels([])
        # the vertical axis is up (no label: it would sit under the bar)
        for setter, name in ((axes.set_xlabel, 'x'), (axes.set_ylabel,
                                                      'depth')):
            setter(name, fontsize=8, labelpad=-14)

    def _new_line(self, **style):
        """One empty 3D line, moved into place by :meth:`draw`."""
        return self.axes.plot([0, 0], [0, 0], [0, 0], **style)[0]

    @staticmethod
    def _set(line, points, a, b, visible) -> None:
        line.set_data_3d(points[[a, b], 0], points[[a, b], 1], points[[a, b],
                                                                      2])
        line.set_visible(visible)

    def draw(self,
             initial: np.ndarray,
             refined: np.ndarray,
             ground_truth: Optional[np.ndarray] = None,
             hidden: bool = False) -> np.ndarray:
        """Render one frame.

        Args:
            initial (np.ndarray): (J, 3) metres, camera axes.
            refined (np.ndarray): (J, 3) metres.
            ground_truth (np.ndarray, optional): (J, 3) metres.
            hidden (bool): draw empty axes ("no person"). Poses with
                non-finite values are hidden too.

        Returns:
            np.ndarray: (H, W, 3) uint8 RGB of ``size``.
        """
        initial = np.asarray(initial, np.float64)
        refined = np.asarray(refined, np.float64)
        hidden = hidden or not (np.isfinite(initial).all()
                                and np.isfinite(refined).all())
        with_gt = ground_truth is not None and not hidden and \
            np.isfinite(ground_truth).all()
        poses = [
            np.zeros_like(refined) if hidden else p - p[:1]
            for p in (initial, refined)
        ]
        ghost, moved = (to_plot_axes(p) for p in poses)
        truth = to_plot_axes(np.asarray(ground_truth, np.float64) -
                             np.asarray(ground_truth)[:1]) if with_gt \
            else ghost
        for k, (a, b) in enumerate(self.bones):
            self._set(self.ghost[k], ghost, a, b, not hidden)
            self._set(self.refined[k], moved, a, b, not hidden)
            self._set(self.truth[k], truth, a, b, with_gt)
        distance = np.linalg.norm(poses[1] - poses[0], axis=-1) * 1000.0
        for artist in (self._moves, self._dots):
            if artist is not None:
                artist.remove()
        self._moves = self._dots = None
        if not hidden:
            # lines from each ghost joint to its refined joint, then a dot
            # at the refined end: the length and colour say how far it went
            from mpl_toolkits.mplot3d.art3d import Line3DCollection
            segments = np.stack([ghost, moved], axis=1)
            self._moves = Line3DCollection(
                segments,
                cmap=DISPLACEMENT_CMAP,
                norm=self.norm,
                linewidths=2.6,
                zorder=4)
            self._moves.set_array(distance)
            self.axes.add_collection3d(self._moves)
            self._dots = self.axes.scatter(
                moved[:, 0],
                moved[:, 1],
                moved[:, 2],
                c=distance,
                cmap=DISPLACEMENT_CMAP,
                norm=self.norm,
                s=14,
                depthshade=False,
                edgecolors='none',
                zorder=5)
        label = 'grey: initial   colour: refined'
        self.title.set_text(label + ('   dashed: GT' if with_gt else ''))
        self.note.set_text('no person' if hidden else
                           f'joint shift: mean {distance.mean():.0f} mm, '
                           f'max {distance.max():.0f} mm')
        self.canvas.draw()
        rgba = np.asarray(self.canvas.buffer_rgba())
        image = np.ascontiguousarray(rgba[..., :3])
        if image.shape[:2] != self.size:
            import cv2
            image = cv2.resize(
                image, self.size[::-1], interpolation=cv2.INTER_AREA)
        return image
