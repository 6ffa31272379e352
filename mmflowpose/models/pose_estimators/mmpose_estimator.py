"""An mmpose top-down 2D model + 3D lifter as a clip-level estimator.

Both parts are built from their configs through mmpose's registry (no
inferencer): the 2D model runs on one box per frame
(:mod:`.topdown_keypoints`), its COCO-17 keypoints become H36M-17
(:mod:`.h36m_mapping`), and :class:`~.mmpose_lifter.MMPoseLifter` lifts the
whole clip with real temporal windows. See :mod:`.estimator_base` for the
estimate's layout and axes.
"""
import glob
import os.path as osp
from typing import Dict, Optional, Tuple

import numpy as np

from mmflowpose.registry import MODELS
from mmflowpose.utils.checkpoint import CheckpointError, _is_url
from .estimator_base import BasePoseEstimator, check_frames
from .h36m_mapping import coco_to_h36m
from .topdown_keypoints import keypoint_box, whole_frame_box

_ZOO = 'https://download.openmmlab.com/mmpose/v1/'

#: The short names mmpose's metafiles give (``Alias:``), mapped to packaged
#: configs and their model-zoo weights. ``human3d`` is mmpose's own choice,
#: the fine-tuned MotionBERT (243 frames, H36M, MPJPE 26.9 mm). mmpose's
#: ``human`` is RTMPose-m, whose CSPNeXt backbone is built by mmdet, which is
#: not a dependency here; HRNet-W32 (COCO AP 0.746, RTMPose-m's 0.749 on
#: body8) needs mmpose alone.
ALIASES = {
    'human': ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
              'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py',
              _ZOO + 'body_2d_keypoint/topdown_heatmap/coco/'
              'td-hm_hrnet-w32_8xb64-210e_coco-256x192-81c58e40_20220909.pth'),
    'human3d': ('mmpose::body_3d_keypoint/motionbert/h36m/'
                'motionbert_dstformer-ft-243frm_8xb32-120e_h36m.py',
                _ZOO + 'body_3d_keypoint/pose_lift/h36m/'
                'motionbert_ft_h36m-d80af323_20230531.pth'),
}


def metafile_model(name: str) -> Optional[Tuple[str, Optional[str]]]:
    """(``mmpose::`` config, weights URL) of a model named in mmpose's
    metafiles (``Name:`` in ``.mim/configs/**/*.yml``), or None."""
    import yaml

    from mmflowpose.compat.package_path import installed_path
    root = osp.join(installed_path('mmpose'), '.mim', 'configs')
    for path in sorted(
            glob.glob(osp.join(root, '**', '*.yml'), recursive=True)):
        with open(path) as file:
            text = file.read()
        if f'Name: {name}' not in text:  # parse only the likely file
            continue
        for model in yaml.safe_load(text).get('Models') or []:
            if model.get('Name') == name:
                config = model['Config'].split('configs/', 1)[-1]
                return 'mmpose::' + config, model.get('Weights')
    return None


def resolve_model(name: str, weights: Optional[str],
                  what: str) -> Tuple[str, str]:
    """(config, weights) of an alias, a model name from mmpose's metafiles,
    a config path or an ``mmpose::`` config name.

    Raises:
        ValueError: an unknown name, or a config without weights (aliases
            and metafile names come with default weights).
    """
    if name in ALIASES:
        config, url = ALIASES[name]
        return config, weights or url
    if not (name.endswith('.py') or '::' in name):
        found = metafile_model(name)
        if found is None:
            raise ValueError(
                f'{what} {name!r} is neither an alias '
                f'({", ".join(ALIASES)}), a model name from mmpose\'s '
                'metafiles, a config path (.py) nor a packaged config name '
                "('mmpose::body_3d_keypoint/...py')")
        name, weights = found[0], weights or found[1]
    if weights is None:
        raise ValueError(f'{what} config {name!r} needs {what}_weights (a '
                         'local checkpoint or a model-zoo URL); only the '
                         f'aliases {", ".join(ALIASES)} and metafile names '
                         'have default weights')
    return name, weights


@MODELS.register_module()
class MMPoseLiftingEstimator(BasePoseEstimator):
    """An mmpose top-down 2D model + 3D lifter, both registry-built.

    Per frame, the 2D model sees one box: the whole frame, or with
    ``track_boxes`` the previous frame's confident keypoints enlarged by
    ``box_margin`` (the whole frame again when they are lost). Its COCO-17
    keypoints are mapped to H36M-17 and the lifter lifts the whole clip,
    after up to ``seq_len`` frames of the previous :meth:`estimate` call
    as temporal context, so consecutive chunks of one video join up.
    :meth:`reset` forgets them and the tracked box.

    Loading is lazy (first :meth:`estimate`); a local weight file or config
    that does not exist raises ``FileNotFoundError`` naming it before
    anything is built. ``pose3d`` is in the lifter's camera-like axes (x
    right, y down, z forward), root-relative, in metres up to the lifter's
    scale.

    Args:
        pose3d (str): lifter alias (:data:`ALIASES`), model name from
            mmpose's metafiles, config path or ``mmpose::`` config name.
            Defaults to ``'human3d'``.
        pose3d_weights (str, optional): lifter checkpoint path or URL;
            required for a config path or ``mmpose::`` name.
        pose2d (str, optional): COCO-17 (or H36M-17) top-down 2D model,
            same forms; None means ``'human'``.
        pose2d_weights (str, optional): 2D checkpoint path or URL.
        det_model (str, optional): not supported (no mmdet); must be None.
        det_weights (str, optional): not supported; must be None.
        device (str, optional): torch device; None picks CUDA if present.
        track_boxes (bool): follow the person with the previous frame's
            keypoints instead of using the whole frame. Defaults to False.
        box_margin (float): see :func:`.keypoint_box`. Defaults to 0.25.
        box_score_thr (float): see :func:`.keypoint_box`. Defaults to 0.3.
        pose2d_cfg_options (dict, optional): overrides merged into the 2D
            config (e.g. ``{'model.test_cfg.flip_test': False}`` halves its
            time).
        pose3d_cfg_options (dict, optional): overrides for the lifter's.
    """

    def __init__(self,
                 pose3d: str = 'human3d',
                 pose3d_weights: Optional[str] = None,
                 pose2d: Optional[str] = None,
                 pose2d_weights: Optional[str] = None,
                 det_model: Optional[str] = None,
                 det_weights: Optional[str] = None,
                 device: Optional[str] = None,
                 track_boxes: bool = False,
                 box_margin: float = 0.25,
                 box_score_thr: float = 0.3,
                 pose2d_cfg_options: Optional[dict] = None,
                 pose3d_cfg_options: Optional[dict] = None) -> None:
        if det_model is not None or det_weights is not None:
            raise ValueError(
                'det_model/det_weights are not supported: mmdet is not a '
                'dependency; the 2D model sees the whole frame, or with '
                'track_boxes=True the previous frame\'s keypoints')
        if box_margin < 0 or not 0 <= box_score_thr <= 1:
            raise ValueError('box_margin must be >= 0 and box_score_thr in '
                             f'[0, 1], got {box_margin}, {box_score_thr}')
        self.pose3d = pose3d
        self.pose3d_weights = pose3d_weights
        self.pose2d = 'human' if pose2d is None else pose2d
        self.pose2d_weights = pose2d_weights
        self.device = device
        self.track_boxes = bool(track_boxes)
        self.box_margin = float(box_margin)
        self.box_score_thr = float(box_score_thr)
        self.cfg_options = dict(
            pose2d=pose2d_cfg_options, pose3d=pose3d_cfg_options)
        self._parts = None
        #: (T, 4) boxes the 2D model saw in the last call, for inspection.
        self.last_boxes = None
        self.reset()

    @staticmethod
    def _check_local(path: Optional[str], what: str) -> None:
        if path is None or _is_url(path):
            return
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{what} weight file {path!r} does not exist; download it '
                'from the mmpose model zoo (see docs/en/demo.md) or pass a '
                'URL')

    def _build(self):
        from ..builder import resolve_config_path
        from .mmpose_lifter import MMPoseLifter
        from .topdown_keypoints import TopDownKeypoints
        pose2d = resolve_model(self.pose2d, self.pose2d_weights, 'pose2d')
        pose3d = resolve_model(self.pose3d, self.pose3d_weights, 'pose3d')
        for (config, weights), what in ((pose2d, 'pose2d'), (pose3d,
                                                             'pose3d')):
            self._check_local(weights, what)
            resolve_config_path(config)  # FileNotFoundError naming it
        device = self.device
        if device is None:
            import torch
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        try:
            top_down = TopDownKeypoints(
                *pose2d, device=device, cfg_options=self.cfg_options['pose2d'])
            lifter = MMPoseLifter(
                *pose3d, device=device, cfg_options=self.cfg_options['pose3d'])
        except CheckpointError as error:
            if not (_is_url(pose2d[1]) or _is_url(pose3d[1])):
                raise
            raise RuntimeError(
                f'could not build the mmpose estimator pose2d={pose2d[0]!r} '
                f'(weights {pose2d[1]!r}), pose3d={pose3d[0]!r} (weights '
                f'{pose3d[1]!r}): {error}. Offline, pass local weight files '
                'or use --pose3d mediapipe') from error
        if top_down.dataset_name not in ('coco', 'h36m') or \
                top_down.num_keypoints != 17:
            raise ValueError(
                f'pose2d {pose2d[0]!r} predicts {top_down.num_keypoints} '
                f'{top_down.dataset_name!r} keypoints; COCO-17 or H36M-17 '
                'are needed')
        return top_down, lifter

    def reset(self) -> None:
        """Forget the tracked box and the lifter's context frames."""
        self._box = None
        self._context = None

    def _keypoints(self, frames_bgr, height, width):
        """(T, K, 2) keypoints, (T, K) scores in [0, 1], (T, 4) boxes."""
        top_down = self._parts[0]
        whole = whole_frame_box(height, width)
        if not self.track_boxes:
            boxes = np.tile(whole, (len(frames_bgr), 1))
            keypoints, scores = top_down(frames_bgr, boxes)
            return keypoints, np.clip(scores, 0, 1), boxes
        # each box follows from the frame before: one frame at a time
        keypoints, scores, boxes = [], [], []
        for frame in frames_bgr:
            box = whole if self._box is None else self._box
            kpt, score = top_down([frame], box[None])
            score = np.clip(score, 0, 1)
            self._box = keypoint_box(kpt[0], score[0], (height, width),
                                     self.box_margin, self.box_score_thr)
            keypoints.append(kpt[0])
            scores.append(score[0])
            boxes.append(box)
        return np.stack(keypoints), np.stack(scores), np.stack(boxes)

    def _lift(self, keypoints: np.ndarray, scores: np.ndarray,
              image_size: Tuple[int, int]) -> np.ndarray:
        """Lift (T, 17, 2) keypoints after the previous call's last frames
        (same video: same image size); returns (T, 17, 3)."""
        lifter = self._parts[1]
        num_frames = len(keypoints)
        context = self._context
        if context is None or context[2] != image_size:
            context = (keypoints[:0], scores[:0], image_size)
        if lifter.seq2seq:
            # windows tile the clip from its start: take the context that
            # makes the new frames end a window, so they share it with the
            # past instead of with copies of their own last frame
            used = (-num_frames) % lifter.seq_len
        else:  # a window per frame reaching seq_len // 2 (or all) back
            used = lifter.seq_len
        used = min(used, len(context[0]))
        all_keypoints = np.concatenate(
            [context[0][len(context[0]) - used:], keypoints])
        all_scores = np.concatenate(
            [context[1][len(context[1]) - used:], scores])
        pose3d = lifter(all_keypoints, all_scores, image_size)[used:]
        self._context = (all_keypoints[-lifter.seq_len:],
                         all_scores[-lifter.seq_len:], image_size)
        return pose3d

    def estimate(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        """Estimate 2D and 3D pose of the person in a clip.

        Args:
            frames (np.ndarray): (T, H, W, 3) uint8 RGB.

        Returns:
            dict: ``keypoints_2d`` (T, 17, 2) px, ``keypoint_scores``
            (T, 17) in [0, 1], ``pose3d`` (T, 17, 3) root-relative; float32.
            Frames where every joint scores 0 are all zero.
        """
        frames = check_frames(frames)
        if self._parts is None:
            self._parts = self._build()
        top_down = self._parts[0]
        height, width = frames.shape[1:3]
        # mmpose's pipelines read BGR, as from cv2.imread
        bgr = [np.ascontiguousarray(f[..., ::-1]) for f in frames]
        keypoints, scores, self.last_boxes = self._keypoints(
            bgr, height, width)
        if top_down.dataset_name == 'coco':
            keypoints, scores = coco_to_h36m(keypoints, scores)
        keypoints = np.nan_to_num(keypoints).astype(np.float32)
        scores = scores.astype(np.float32)
        pose3d = self._lift(keypoints, scores, (height, width))
        missing = ~(scores > 0).any(1)
        keypoints[missing] = 0
        pose3d[missing] = 0
        return dict(
            keypoints_2d=keypoints,
            keypoint_scores=scores,
            pose3d=np.nan_to_num(pose3d).astype(np.float32))
