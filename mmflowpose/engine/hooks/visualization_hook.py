"""Per-clip pictures of the refinement during ``tools/test.py``."""
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook

from mmflowpose.registry import HOOKS


@HOOKS.register_module()
class FlowPoseVisualizationHook(Hook):
    """Draw every ``interval``-th test clip into ``<work_dir>/<out_dir>``.

    For each clip: ``<clip_id>.mp4``, the :class:`FlowPoseVisualizer` grid
    of every frame (with the clip's ground truth: GT skeleton in the 3D
    panel, EPE maps of the base and refined flow); ``<clip_id>.png``, the
    grid of frame ``frame``; and, when the clip has ground truth,
    ``<clip_id>_curves.png``: MPJPE per frame (initial, refined, Gaussian
    smoothed initial), EPE per pair before/after (person and background, or
    at the joints) and the metrics per cycle (see
    :func:`plot_clip_curves`). Files are written atomically with the
    user's umask.

    Args:
        out_dir (str): folder, relative to the work dir unless absolute.
            Defaults to 'vis'.
        enable (bool): draw at all. Defaults to True.
        interval (int): draw every n-th test iteration. Defaults to 1.
        fps (float): video frame rate. Defaults to 10.
        frame (int): frame of the still picture (clipped to the clip).
            Defaults to 0.
        sigma (float): width in frames of the Gaussian smoother plotted as
            a baseline. Defaults to 2.
        visualizer (dict, optional): ``FlowPoseVisualizer`` arguments.
    """
    priority = 'LOW'

    def __init__(self,
                 out_dir: str = 'vis',
                 enable: bool = True,
                 interval: int = 1,
                 fps: float = 10.0,
                 frame: int = 0,
                 sigma: float = 2.0,
                 visualizer: Optional[dict] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if frame < 0:
            raise ValueError(f'frame must be >= 0, got {frame}')
        self.out_dir = out_dir
        self.enable = enable
        self.interval = interval
        self.fps = fps
        self.frame = int(frame)
        self.sigma = float(sigma)
        self.visualizer_cfg = dict(visualizer or {})
        self._folder = None
        self._visualizer = None

    def before_test(self, runner) -> None:
        if not self.enable:
            return
        from mmflowpose.visualization import FlowPoseVisualizer
        self._folder = self.out_dir if osp.isabs(self.out_dir) else \
            osp.join(runner.work_dir, self.out_dir)
        os.makedirs(self._folder, exist_ok=True)
        self._visualizer = FlowPoseVisualizer.get_instance(
            'flowpose_visualization_hook', **self.visualizer_cfg)

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs: Optional[Sequence[dict]] = None) -> None:
        if not self.enable or not self.every_n_inner_iters(
                batch_idx, self.interval):
            return
        for frames, output in zip(data_batch['inputs'], outputs or []):
            self.draw_clip(frames, output)

    def draw_clip(self, frames, output) -> dict:
        """Write the pictures of one clip: its (T, 3, H, W) frames and the
        refiner's :class:`ClipDataSample`; return {kind: path}."""
        from mmflowpose.visualization import (clip_curves, plot_clip_curves,
                                              save_image, write_video)
        grids = list(self._visualizer.draw_clip(frames, output))
        clip_id = str(output.metainfo['clip_id'])
        stem = osp.join(self._folder, clip_id)
        written = dict(video=write_video(grids, stem + '.mp4', self.fps))
        still = grids[min(self.frame, len(grids) - 1)]
        written['picture'] = save_image(stem + '.png', still)
        curves = clip_curves(output, self.sigma)
        if curves:
            written['curves'] = save_image(
                stem + '_curves.png', plot_clip_curves(curves, clip_id))
        return written
