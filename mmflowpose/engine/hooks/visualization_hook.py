"""Per-clip pictures of the refinement during ``tools/test.py``."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmengine.hooks import Hook

from mmflowpose.registry import HOOKS


@HOOKS.register_module()
class FlowPoseVisualizationHook(Hook):
    """Write, for every ``interval``-th test clip, a video of the
    :class:`FlowPoseVisualizer` grid (frame with 2D skeleton, 3D skeleton
    before/after, pose sketch, base and fine-tuned flow) and a PNG of its
    first frame, to ``<work_dir>/<out_dir>/<clip_id>.{mp4,png}``.

    Args:
        out_dir (str): folder, relative to the work dir unless absolute.
            Defaults to 'vis'.
        enable (bool): draw at all. Defaults to True.
        interval (int): draw every n-th test iteration. Defaults to 1.
        fps (float): video frame rate. Defaults to 10.
        visualizer (dict, optional): ``FlowPoseVisualizer`` arguments.
    """
    priority = 'LOW'

    def __init__(self,
                 out_dir: str = 'vis',
                 enable: bool = True,
                 interval: int = 1,
                 fps: float = 10.0,
                 visualizer: Optional[dict] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.out_dir = out_dir
        self.enable = enable
        self.interval = interval
        self.fps = fps
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
        from mmflowpose.visualization import write_video
        for inputs, output in zip(data_batch['inputs'], outputs or []):
            result = output['refinement']
            estimate = dict(
                keypoints_2d=result['keypoints_2d'],
                keypoint_scores=result['keypoint_scores'])
            grids = list(
                self._visualizer.draw_clip(inputs['frames'], estimate,
                                           result))
            stem = osp.join(self._folder, str(output['clip_id']))
            write_video(grids, stem + '.mp4', self.fps)
            # mmcv writes through a temporary name, then renames
            temp = f'{stem}.tmp.png'
            mmcv.imwrite(grids[0][..., ::-1], temp)
            os.replace(temp, stem + '.png')
