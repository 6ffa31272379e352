"""Write each clip's refinement results to the work dir, atomically."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook

from mmflowpose.registry import HOOKS
from mmflowpose.utils.io import save_npz_atomic


@HOOKS.register_module()
class ClipResultsDumpHook(Hook):
    """Save ``<work_dir>/<out_dir>/<clip_id>.npz`` for every test clip.

    Each file holds ``pose3d_init``, ``pose3d`` (every cycle stacked as
    ``pose3d_cycles`` (C+1, T, J, 3)), ``camera``, ``keypoints_2d_refined``
    and, with ``save_flow``, ``flow_init``/``flow`` (T-1, H, W, 2) px.

    Args:
        out_dir (str): folder under the work dir. Defaults to
            'predictions'.
        save_flow (bool): also store dense flows. Defaults to False.
    """
    priority = 'LOW'

    def __init__(self, out_dir: str = 'predictions',
                 save_flow: bool = False) -> None:
        self.out_dir = out_dir
        self.save_flow = save_flow
        self._folder: Optional[str] = None

    def before_test(self, runner) -> None:
        self._folder = osp.join(runner.work_dir, self.out_dir)

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs: Optional[Sequence[dict]] = None) -> None:
        for output in outputs or []:
            result = output['refinement']
            arrays = dict(
                pose3d_init=result['pose3d_init'],
                pose3d=result['pose3d'],
                pose3d_cycles=np.stack(
                    [result['pose3d_init']] +
                    [c['pose3d'] for c in result['cycles']]),
                camera=result['camera'],
                keypoints_2d_refined=result['keypoints_2d_refined'])
            if self.save_flow:
                arrays.update(flow_init=result['flow_init'],
                              flow=result['flow'])
            save_npz_atomic(
                osp.join(self._folder, f"{output['clip_id']}.npz"), **arrays)
