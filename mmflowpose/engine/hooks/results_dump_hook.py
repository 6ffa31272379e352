"""Write each clip's refinement results to the work dir, atomically."""
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook

from mmflowpose.registry import HOOKS
from mmflowpose.utils.io import save_npz_atomic

#: ClipDataSample field -> array name in the file (every cycle stacked)
ARRAYS = dict(pred_pose3d='pose3d_cycles', pred_camera='camera_cycles',
              pred_keypoints_2d='keypoints_2d_cycles',
              keypoints_2d='keypoints_2d', keypoint_scores='keypoint_scores')


@HOOKS.register_module()
class ClipResultsDumpHook(Hook):
    """Save ``<work_dir>/<out_dir>/<clip_id>.npz`` for every test clip.

    Each file holds the :class:`ClipDataSample` predictions of every cycle
    (entry 0 = initial): ``pose3d_cycles`` (C+1, T, J, 3) m,
    ``camera_cycles`` (C+1, T, 3), ``keypoints_2d_cycles`` (C+1, T, J, 2)
    px, the detections used (``keypoints_2d``, ``keypoint_scores``) and,
    with ``save_flow``, ``flow_cycles`` (C+1, P, 2, H, W) px. The file is
    the numpy edge: arrays keep the samples' channel-first layout.

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
                        outputs: Optional[Sequence] = None) -> None:
        fields = dict(ARRAYS, pred_flow='flow_cycles') if self.save_flow \
            else ARRAYS
        for output in outputs or []:
            arrays = {
                name: output.get(field).detach().cpu().numpy()
                for field, name in fields.items()
                if output.get(field) is not None
            }
            save_npz_atomic(
                osp.join(self._folder, f"{output.metainfo['clip_id']}.npz"),
                **arrays)
