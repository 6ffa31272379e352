"""Side-by-side pictures of a refined clip: pose, 3D before/after, flows.

One grid per frame (2 rows x 3 panels, each ``panel_size``)::

    | frame + 2D skeleton | 3D before (initial) | 3D after (refined) |
    | sketch mask overlay | base flow t->t+1    | refined flow t->t+1|

Both flows of a frame go through one :func:`mmcv.flow2rgb` call (they are
placed side by side first), so they share one max-magnitude normalisation
and their colours are comparable. The last frame of a clip has no forward
flow: its flow panels are blank (grey).
"""
import os
import os.path as osp
import tempfile
import warnings
from typing import Dict, Optional, Sequence, Tuple

import cv2
import matplotlib
import numpy as np
from mmengine.visualization import Visualizer

from mmflowpose.registry import VISUALIZERS

matplotlib.use('Agg', force=False)

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Panel colours (RGB) of left / right / centre limbs.
LEFT, RIGHT, CENTRE = (0, 170, 255), (255, 80, 40), (60, 220, 60)
BLANK = 96


def _bone_colours(joint_names: Sequence[str],
                  bones: Sequence[Tuple[int, int]]) -> list:
    colours = []
    for _, child in bones:
        name = joint_names[child]
        colours.append(LEFT if name.startswith('left') else
                       RIGHT if name.startswith('right') else CENTRE)
    return colours


def _fit(image: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Letterbox ``image`` (h, w, 3) into a (H, W) = ``size`` panel."""
    height, width = size
    scale = min(height / image.shape[0], width / image.shape[1])
    new_w = max(1, int(round(image.shape[1] * scale)))
    new_h = max(1, int(round(image.shape[0] * scale)))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    panel = np.zeros((height, width, 3), np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    panel[top:top + new_h, left:left + new_w] = resized
    return panel


def _resize(image: np.ndarray, scale: float,
            interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    """Resize (h, w, ...) by ``scale`` (no-op for 1)."""
    if abs(scale - 1.0) < 1e-6:
        return image
    width = max(1, int(round(image.shape[1] * scale)))
    height = max(1, int(round(image.shape[0] * scale)))
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _label(panel: np.ndarray, text: str) -> np.ndarray:
    # white text on a dark outline stays readable on white flow panels
    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(panel, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    colour, thickness, cv2.LINE_AA)
    return panel


@VISUALIZERS.register_module()
class FlowPoseVisualizer(Visualizer):
    """Draw the refiner's results frame by frame.

    Args:
        name (str): instance name (mmengine's ``ManagerMixin``).
            Defaults to ``'flowpose_visualizer'``.
        skeleton (str | dict): mmpose metainfo for the joint layout.
            Defaults to ``'h36m'``.
        panel_size (tuple[int, int]): (H, W) of each of the 6 panels, px.
            Defaults to (240, 320).
        kpt_thr (float): joints with a score below are not drawn.
            Defaults to 0.3.
        radius_3d (float): half extent of the 3D axes around the root,
            metres. Defaults to 1.0.
        **kwargs: passed to :class:`mmengine.visualization.Visualizer`.
    """

    def __init__(self,
                 name: str = 'flowpose_visualizer',
                 skeleton='h36m',
                 panel_size: Tuple[int, int] = (240, 320),
                 kpt_thr: float = 0.3,
                 radius_3d: float = 1.0,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        from mmflowpose.models.utils.skeleton import load_skeleton
        self.skeleton = load_skeleton(skeleton)
        if len(panel_size) != 2 or min(panel_size) < 32:
            raise ValueError('panel_size must be (H, W) with both >= 32, '
                             f'got {panel_size!r}')
        if radius_3d <= 0:
            raise ValueError(f'radius_3d must be > 0, got {radius_3d!r}')
        self.panel_size = (int(panel_size[0]), int(panel_size[1]))
        self.kpt_thr = float(kpt_thr)
        self.radius_3d = float(radius_3d)
        self.colours = _bone_colours(self.skeleton.joint_names,
                                     self.skeleton.bones)
        height, width = self.panel_size
        dpi = 100
        self._figure = Figure(figsize=(2 * width / dpi, height / dpi),
                              dpi=dpi)
        self._canvas = FigureCanvasAgg(self._figure)

    # -- single panels -------------------------------------------------
    def draw_pose_2d(self, image: np.ndarray, keypoints: np.ndarray,
                     scores: np.ndarray) -> np.ndarray:
        """Frame (H, W, 3) RGB with its (J, 2) px skeleton drawn on a copy.

        Uses the mmengine drawing API (``set_image``/``draw_lines``/
        ``draw_circles``); joints below ``kpt_thr`` are skipped.
        """
        with warnings.catch_warnings():
            # joints extrapolated outside the frame are drawn clipped
            warnings.filterwarnings('ignore', message='.*out of bounds')
            return self._draw_pose_2d(image, keypoints, scores)

    def _draw_pose_2d(self, image, keypoints, scores) -> np.ndarray:
        self.set_image(np.ascontiguousarray(image))
        width = max(1, int(round(max(image.shape[:2]) / 300)))
        for (a, b), colour in zip(self.skeleton.bones, self.colours):
            if scores[a] < self.kpt_thr or scores[b] < self.kpt_thr:
                continue
            self.draw_lines(
                keypoints[[a, b], 0], keypoints[[a, b], 1],
                colors=[colour], line_widths=2 * width)
        visible = scores >= self.kpt_thr
        if visible.any():
            self.draw_circles(
                keypoints[visible], np.full(visible.sum(), 2.0 * width),
                edge_colors='white', face_colors='white')
        return self.get_image()

    def _axes_3d(self):
        """Create the two 3D axes and their bone lines once."""
        if getattr(self, '_lines', None) is not None:
            return self._lines
        radius = self.radius_3d
        self._lines = []
        for k, title in enumerate(('3D initial', '3D refined')):
            axes = self._figure.add_subplot(1, 2, k + 1, projection='3d')
            axes.view_init(elev=12, azim=-70)
            axes.set_xlim(-radius, radius)
            axes.set_ylim(-radius, radius)
            axes.set_zlim(-radius, radius)
            axes.set_box_aspect((1, 1, 1))
            axes.set_title(title, fontsize=9, pad=0)
            axes.set_xticklabels([])
            axes.set_yticklabels([])
            axes.set_zticklabels([])
            axes.set_xlabel('x', fontsize=7, labelpad=-12)
            axes.set_ylabel('depth', fontsize=7, labelpad=-12)
            axes.set_zlabel('up', fontsize=7, labelpad=-12)
            lines = [
                axes.plot([0, 0], [0, 0], [0, 0], linewidth=2.5,
                          color=np.array(colour) / 255)[0]
                for colour in self.colours
            ]
            self._lines.append(lines)
        self._figure.subplots_adjust(0, 0, 1, 0.94, 0, 0)
        return self._lines

    def draw_pose_3d_pair(self, before: np.ndarray, after: np.ndarray,
                          scores: Optional[np.ndarray] = None) -> np.ndarray:
        """Two 3D skeletons (J, 3) metres, camera axes, rendered side by side.

        The plots show x to the right, depth (camera z) into the page and
        up = -y (camera y points down), each centred on its root joint.
        Nothing is drawn for a pose with non-finite values, or when
        ``scores`` (J, ) are all zero (no person).

        Returns:
            np.ndarray: (H, 2 W, 3) uint8 RGB for ``panel_size`` (H, W).
        """
        no_person = scores is not None and not np.any(np.asarray(scores) > 0)
        for lines, pose in zip(self._axes_3d(), (before, after)):
            pose = np.asarray(pose, np.float64)
            hidden = no_person or not np.isfinite(pose).all()
            pose = np.zeros_like(pose) if hidden else pose - pose[:1]
            # plot coordinates: (x, z, -y) = (right, depth, up)
            shown = np.stack([pose[:, 0], pose[:, 2], -pose[:, 1]], -1)
            for line, (a, b) in zip(lines, self.skeleton.bones):
                line.set_data_3d(shown[[a, b], 0], shown[[a, b], 1],
                                 shown[[a, b], 2])
                line.set_visible(not hidden)
        self._canvas.draw()
        rgba = np.asarray(self._canvas.buffer_rgba())
        return _fit(np.ascontiguousarray(rgba[..., :3]),
                    (self.panel_size[0], 2 * self.panel_size[1]))

    @staticmethod
    def flows_to_rgb(flow_a: np.ndarray, flow_b: np.ndarray) -> tuple:
        """Colour two (H, W, 2) px flows with one shared normalisation.

        ``mmcv.flow2rgb`` divides by the largest magnitude in its input; the
        two flows are concatenated along the width so that one maximum is
        used for both.

        Returns:
            tuple[np.ndarray, np.ndarray]: two (H, W, 3) uint8 RGB images.
        """
        import mmcv
        if flow_a.shape != flow_b.shape or flow_a.ndim != 3 or \
                flow_a.shape[-1] != 2:
            raise ValueError('flows must both be (H, W, 2), got '
                             f'{flow_a.shape} and {flow_b.shape}')
        both = np.concatenate([flow_a, flow_b], axis=1).astype(np.float32)
        rgb = mmcv.flow2rgb(both)
        rgb = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
        width = flow_a.shape[1]
        return rgb[:, :width], rgb[:, width:]

    @staticmethod
    def overlay_mask(image: np.ndarray, mask: np.ndarray,
                     colour=(255, 0, 255), alpha: float = 0.6) -> np.ndarray:
        """Blend ``colour`` into (H, W, 3) ``image`` where (H, W) ``mask``."""
        out = image.astype(np.float32).copy()
        mask = np.asarray(mask, bool)
        out[mask] = (1 - alpha) * out[mask] + alpha * np.asarray(colour)
        return out.astype(np.uint8)

    # -- whole grid ----------------------------------------------------
    def draw_frame(self,
                   image: np.ndarray,
                   keypoints_2d: np.ndarray,
                   keypoint_scores: np.ndarray,
                   pose3d_init: np.ndarray,
                   pose3d: np.ndarray,
                   flow_init: Optional[np.ndarray] = None,
                   flow: Optional[np.ndarray] = None,
                   sketch_mask: Optional[np.ndarray] = None,
                   title: str = '') -> np.ndarray:
        """Draw one frame's 2 x 3 grid.

        Args:
            image (np.ndarray): (H, W, 3) uint8 RGB frame.
            keypoints_2d (np.ndarray): (J, 2) px.
            keypoint_scores (np.ndarray): (J, ).
            pose3d_init (np.ndarray): (J, 3) metres, initial.
            pose3d (np.ndarray): (J, 3) metres, refined.
            flow_init (np.ndarray, optional): (H, W, 2) px base flow t->t+1.
            flow (np.ndarray, optional): (H, W, 2) px refined flow.
            sketch_mask (np.ndarray, optional): (H, W) bool pose sketch.
            title (str): text on the first panel (e.g. frame index).

        Returns:
            np.ndarray: (2 Hp, 3 Wp, 3) uint8 RGB for ``panel_size``
            (Hp, Wp).
        """
        size = self.panel_size
        image = np.ascontiguousarray(image)
        keypoint_scores = np.asarray(keypoint_scores)
        # draw at panel resolution (matplotlib cost grows with pixels)
        scale = min(size[0] / image.shape[0], size[1] / image.shape[1])
        small = _resize(image, scale)
        pose_panel = _label(_fit(self.draw_pose_2d(
            small, np.asarray(keypoints_2d) * scale, keypoint_scores), size),
            title or '2D pose')
        panel_3d = self.draw_pose_3d_pair(pose3d_init, pose3d,
                                          keypoint_scores)
        if sketch_mask is not None:
            mask = _resize(np.asarray(sketch_mask, np.uint8), scale,
                           cv2.INTER_NEAREST) > 0
            sketch = _label(_fit(self.overlay_mask(small, mask), size),
                            'pose sketch')
        else:
            sketch = _label(np.full(size + (3, ), BLANK, np.uint8),
                            'no sketch')
        if flow_init is not None and flow is not None:
            mag = float(max(np.linalg.norm(flow_init, axis=-1).max(),
                            np.linalg.norm(flow, axis=-1).max()))
            # colours only depend on the flows relative to their max: the
            # shared normalisation survives the (area) downscaling
            rgb_init, rgb_ref = self.flows_to_rgb(
                _resize(np.asarray(flow_init, np.float32), scale),
                _resize(np.asarray(flow, np.float32), scale))
            flow_init_panel = _label(_fit(rgb_init, size), 'base flow')
            flow_panel = _label(_fit(rgb_ref, size),
                                f'refined flow (max {mag:.1f}px)')
        else:
            flow_init_panel = _label(np.full(size + (3, ), BLANK, np.uint8),
                                     'no flow')
            flow_panel = flow_init_panel.copy()
        top = np.concatenate([pose_panel, panel_3d], axis=1)
        bottom = np.concatenate([sketch, flow_init_panel, flow_panel], axis=1)
        return np.concatenate([top, bottom], axis=0)

    def draw_clip(self, frames: np.ndarray, estimate: Dict,
                  result: Optional[Dict], start: int = 0):
        """Yield the grid of each frame of a clip.

        Args:
            frames (np.ndarray): (T, H, W, 3) uint8 RGB.
            estimate (dict): ``keypoints_2d`` (T, J, 2), ``keypoint_scores``
                (T, J) of the initial estimator.
            result (dict, optional): ``refine_clip`` output (``pose3d_init``,
                ``pose3d`` (T, J, 3), ``flow_init``, ``flow`` (T-1, H, W, 2),
                ``sketch_mask`` (T-1, H, W)); None draws poses from
                ``estimate['pose3d']`` and no flow.
            start (int): index of the first frame, for the titles.

        Yields:
            np.ndarray: one grid per frame (see :meth:`draw_frame`).
        """
        num_frames = len(frames)
        for t in range(num_frames):
            pair = t if t < num_frames - 1 else None
            if result is None:
                init = after = estimate['pose3d'][t]
                flow_init = flow = mask = None
            else:
                init, after = result['pose3d_init'][t], result['pose3d'][t]
                flow_init = None if pair is None else result['flow_init'][t]
                flow = None if pair is None else result['flow'][t]
                mask = None if pair is None else \
                    result.get('sketch_mask', [None] * num_frames)[t]
            yield self.draw_frame(frames[t], estimate['keypoints_2d'][t],
                                  estimate['keypoint_scores'][t], init, after,
                                  flow_init, flow, mask,
                                  title=f'frame {start + t}')


class VideoSink:
    """Write RGB frames to a video atomically (temp file, then os.replace).

    The temporary file lives next to the target (same file system); nothing
    appears at ``path`` until :meth:`close` succeeds, and :meth:`abort`
    removes the temporary file.

    Args:
        path (str): target ``.mp4`` (mp4v) or ``.avi`` (MJPG) file.
        fps (float): frame rate.
    """

    CODECS = {'.mp4': 'mp4v', '.avi': 'MJPG'}

    def __init__(self, path: str, fps: float) -> None:
        ext = osp.splitext(path)[1].lower()
        if ext not in self.CODECS:
            raise ValueError(f'video path {path!r} must end with one of '
                             f'{sorted(self.CODECS)}')
        if not fps > 0:
            raise ValueError(f'fps must be > 0, got {fps!r}')
        self.path, self.fps, self.ext = path, float(fps), ext
        folder = osp.dirname(osp.abspath(path))
        handle, self.tmp_path = tempfile.mkstemp(
            suffix=ext, prefix='.tmp-', dir=folder)
        os.close(handle)
        self._writer = None
        self.size = None
        self.count = 0

    def write(self, image: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame (all of one size)."""
        height, width = image.shape[:2]
        if self._writer is None:
            self.size = (width, height)
            fourcc = cv2.VideoWriter_fourcc(*self.CODECS[self.ext])
            self._writer = cv2.VideoWriter(self.tmp_path, fourcc, self.fps,
                                           self.size)
            if not self._writer.isOpened():
                self.abort()
                raise OSError(f'OpenCV cannot write video {self.path!r}')
        elif (width, height) != self.size:
            raise ValueError(f'video frame {self.count} is {width}x{height}, '
                             f'the first was {self.size[0]}x{self.size[1]}')
        self._writer.write(np.ascontiguousarray(image[..., ::-1]))
        self.count += 1

    def close(self) -> str:
        if self._writer is None:
            self.abort()
            raise ValueError(f'no frame was written to {self.path!r}')
        self._writer.release()
        self._writer = None
        os.replace(self.tmp_path, self.path)
        return self.path

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if osp.exists(self.tmp_path):
            os.remove(self.tmp_path)


def write_video(images, path: str, fps: float = 25.0) -> str:
    """Write (H, W, 3) uint8 RGB images to ``path`` atomically."""
    sink = VideoSink(path, fps)
    try:
        for image in images:
            sink.write(image)
        return sink.close()
    except BaseException:
        sink.abort()
        raise
