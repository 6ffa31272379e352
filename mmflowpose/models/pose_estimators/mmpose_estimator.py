"""An mmpose 2D detector + 3D lifter (``MMPoseInferencer``) as an
initial pose estimator.

See :mod:`.estimator_base` for the estimate's layout and axes.
"""
import os.path as osp
from typing import Dict, Optional

import numpy as np

from mmflowpose.registry import MODELS
from .estimator_base import (NUM_JOINTS, BasePoseEstimator, check_frames,
                             empty_estimate)


@MODELS.register_module()
class MMPoseLiftingEstimator(BasePoseEstimator):
    """An mmpose 2D detector + 3D lifter (``MMPoseInferencer``).

    Loading is lazy (first :meth:`estimate`). ``pose3d`` is an mmpose alias
    (``'human3d'``), a config name from mmpose's metafiles or a config path;
    ``pose3d_weights`` a local checkpoint or URL (None: the metafile's URL,
    which needs internet). A local path that does not exist raises
    ``FileNotFoundError`` naming it before anything is built.

    mmpose's ``Pose3DInferencer`` returns display coordinates (x, -z, -y)
    with the feet rebased to z = 0; they are turned back into the lifter's
    camera-like frame (x right, y down, z forward) and made root-relative.
    mmpose lifters output normalised units trained on metres (H36M), so the
    result is in metres up to the lifter's scale.

    Args:
        pose3d (str): 3D lifter alias, config name or path. Defaults to
            ``'human3d'``.
        pose3d_weights (str, optional): lifter checkpoint path or URL.
        pose2d (str, optional): 2D estimator alias/config (mmpose default
            ``'human'`` when None).
        pose2d_weights (str, optional): 2D checkpoint path or URL.
        det_model (str, optional): mmdet person detector config/alias.
        det_weights (str, optional): detector checkpoint path or URL.
        device (str, optional): torch device. Defaults to None (auto).
    """

    def __init__(self,
                 pose3d: str = 'human3d',
                 pose3d_weights: Optional[str] = None,
                 pose2d: Optional[str] = None,
                 pose2d_weights: Optional[str] = None,
                 det_model: Optional[str] = None,
                 det_weights: Optional[str] = None,
                 device: Optional[str] = None) -> None:
        self.pose3d = pose3d
        self.pose3d_weights = pose3d_weights
        self.pose2d = pose2d
        self.pose2d_weights = pose2d_weights
        self.det_model = det_model
        self.det_weights = det_weights
        self.device = device
        self._inferencer = None

    @staticmethod
    def _check_local(path: Optional[str], what: str) -> None:
        if path is None or '://' in path:
            return
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{what} weight file {path!r} does not exist; download it '
                'from the mmpose model zoo (see docs/en/demo.md) or pass a '
                'URL')

    def _build(self):
        for path, what in ((self.pose3d_weights, 'pose3d'),
                           (self.pose2d_weights, 'pose2d'),
                           (self.det_weights, 'detector')):
            self._check_local(path, what)
        if self.pose3d.endswith('.py') and not osp.isfile(self.pose3d):
            raise FileNotFoundError(
                f'pose3d config {self.pose3d!r} does not exist')
        from mmengine.registry import DefaultScope
        from mmpose.apis import MMPoseInferencer
        with DefaultScope.overwrite_default_scope('mmpose'):
            try:
                return MMPoseInferencer(
                    pose2d=self.pose2d,
                    pose2d_weights=self.pose2d_weights,
                    pose3d=self.pose3d,
                    pose3d_weights=self.pose3d_weights,
                    device=self.device,
                    det_model=self.det_model,
                    det_weights=self.det_weights)
            except (OSError, RuntimeError, ValueError) as error:
                raise RuntimeError(
                    f'could not build the mmpose estimator pose3d='
                    f'{self.pose3d!r} (weights {self.pose3d_weights!r}), '
                    f'pose2d={self.pose2d!r} (weights '
                    f'{self.pose2d_weights!r}): {error}. Offline, pass local '
                    'weight files or use --pose3d mediapipe') from error

    def reset(self) -> None:
        if self._inferencer is not None:
            buffer = getattr(self._inferencer.inferencer, '_buffer', None)
            if buffer is not None:
                buffer.clear()

    def estimate(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        frames = check_frames(frames)
        if self._inferencer is None:
            self._inferencer = self._build()
        inferencer = self._inferencer.inferencer
        out = empty_estimate(len(frames))
        # mmpose takes BGR arrays; one generator step per frame.
        inputs = [np.ascontiguousarray(f[..., ::-1]) for f in frames]
        results = self._inferencer(
            inputs, return_datasamples=True, disable_rebase_keypoint=True)
        for t, result in enumerate(results):
            sample = result['predictions'][0]
            pose2d = inferencer._buffer['pose_est_results_list'][-1]
            instances = sample.pred_instances
            if len(instances) == 0 or not pose2d or \
                    len(pose2d[0].pred_instances) == 0:
                continue
            shown = np.asarray(instances.keypoints[0], np.float64)
            pose3d = np.stack(
                [-shown[:, 0], -shown[:, 2], shown[:, 1]], axis=-1)
            kpt2d = np.asarray(pose2d[0].pred_instances.keypoints[0])
            scores = np.asarray(
                instances.keypoint_scores, np.float64).reshape(-1)
            out['keypoints_2d'][t] = kpt2d[:, :2]
            out['keypoint_scores'][t] = np.clip(scores[:NUM_JOINTS], 0, 1)
            out['pose3d'][t] = pose3d - pose3d[:1]
        return out
