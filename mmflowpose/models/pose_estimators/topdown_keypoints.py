"""An mmpose top-down 2D model on one person box per frame, and its boxes.

The model is built from its config through the registry and runs through
its own test pipeline (load, box -> centre/scale, affine crop, pack), so the
crop, input size and decoding are exactly the config's. mmpose maps the
decoded keypoints back to image pixels; they may fall outside the image
(the crop around a whole-frame box is larger than the frame).

Boxes are (x1, y1, x2, y2) px. Without a person detector (mmdet is not a
dependency) a box is either the whole frame, as mmpose's inferencer does
without a detector, or :func:`keypoint_box`: the extent of the previous
frame's confident keypoints enlarged by a margin, which keeps a small person
in a big frame at the model's resolution.
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

from mmflowpose.utils.not_given import NOT_GIVEN


def whole_frame_box(height: int, width: int) -> np.ndarray:
    """The (4,) box (0, 0, W, H) covering a frame."""
    return np.array([0, 0, width, height], np.float32)


def keypoint_box(keypoints: np.ndarray,
                 scores: np.ndarray,
                 image_size: Tuple[int, int],
                 margin: float = 0.25,
                 score_thr: float = 0.3,
                 min_points: int = 3,
                 min_size: float = 32.0) -> Optional[np.ndarray]:
    """The box around one frame's confident keypoints, enlarged.

    Args:
        keypoints (np.ndarray): (K, 2) px (x, y).
        scores (np.ndarray): (K, ) in [0, 1].
        image_size (tuple): (H, W) of the frame.
        margin (float): fraction of the keypoints' width/height added on
            each side (the pipeline pads the box again by its own factor).
            Defaults to 0.25.
        score_thr (float): keypoints scoring below it are ignored.
            Defaults to 0.3.
        min_points (int): fewer confident keypoints than this give None
            (lost: the caller falls back to the whole frame). Defaults to 3.
        min_size (float): smallest box side in px, so a few clustered
            keypoints still give a usable crop. Defaults to 32.

    Returns:
        np.ndarray | None: (4,) box (x1, y1, x2, y2) clipped to the frame,
        or None when the person is lost.
    """
    keypoints = np.asarray(keypoints, np.float64)
    confident = keypoints[np.asarray(scores) >= score_thr]
    confident = confident[np.isfinite(confident).all(1)]
    if len(confident) < min_points:
        return None
    low, high = confident.min(0), confident.max(0)
    centre = (low + high) / 2
    half = np.maximum((high - low) * (0.5 + margin), min_size / 2)
    height, width = image_size
    x1, y1 = np.maximum(centre - half, 0)
    x2, y2 = np.minimum(centre + half, (width, height))
    if x2 - x1 < 1 or y2 - y1 < 1:  # keypoints entirely off the frame
        return None
    return np.array([x1, y1, x2, y2], np.float32)


class TopDownKeypoints:
    """A registry-built mmpose top-down model; one box per frame.

    Args:
        config (str | dict): mmpose top-down config (path, ``mmpose::``
            name or dict).
        checkpoint (str, optional): weights path or URL; None for random
            weights on purpose. Defaults to NOT_GIVEN (random, warns).
        device (str): torch device. Defaults to ``'cpu'``.
        cfg_options (dict, optional): overrides merged into the config.
        batch_size (int): frames per forward pass. Defaults to 16.
    """

    def __init__(self,
                 config: Union[str, dict],
                 checkpoint: Optional[str] = NOT_GIVEN,
                 device: str = 'cpu',
                 cfg_options: Optional[dict] = None,
                 batch_size: int = 16) -> None:
        from ..builder import init_model
        self.model = init_model(
            config,
            checkpoint,
            device=device,
            cfg_options=cfg_options,
            scope='mmpose')
        with DefaultScope.overwrite_default_scope('mmpose'):
            self.pipeline = Compose(
                self.model.cfg.test_dataloader.dataset.pipeline)
        self.batch_size = batch_size

    @property
    def dataset_name(self) -> str:
        return str(self.model.dataset_meta.get('dataset_name', ''))

    @property
    def num_keypoints(self) -> int:
        return int(self.model.dataset_meta['num_keypoints'])

    @torch.no_grad()
    def __call__(self, frames_bgr: Sequence[np.ndarray],
                 boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints of the person in each frame's box.

        Args:
            frames_bgr (Sequence[np.ndarray]): T (H, W, 3) uint8 BGR frames
                (the channel order mmpose's pipelines read).
            boxes (np.ndarray): (T, 4) boxes (x1, y1, x2, y2) px.

        Returns:
            tuple[np.ndarray, np.ndarray]: (T, K, 2) keypoints px and
            (T, K) raw scores (a heatmap peak may leave [0, 1]).
        """
        boxes = np.asarray(boxes, np.float32)
        if boxes.shape != (len(frames_bgr), 4):
            raise ValueError(f'boxes must be ({len(frames_bgr)}, 4), one '
                             f'(x1, y1, x2, y2) per frame, got {boxes.shape}')
        meta = dict(self.model.dataset_meta)
        data = []
        for frame, box in zip(frames_bgr, boxes):
            info = dict(
                img=frame, bbox=box[None], bbox_score=np.ones(1, np.float32))
            info.update(meta)
            data.append(self.pipeline(info))
        keypoints, scores = [], []
        with DefaultScope.overwrite_default_scope('mmpose'):
            for start in range(0, len(data), self.batch_size):
                batch = pseudo_collate(data[start:start + self.batch_size])
                for sample in self.model.test_step(batch):
                    keypoints.append(sample.pred_instances.keypoints[0])
                    scores.append(sample.pred_instances.keypoint_scores[0])
        return (np.asarray(keypoints,
                           np.float32), np.asarray(scores, np.float32))
