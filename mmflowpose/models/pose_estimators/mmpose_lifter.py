"""Any mmpose 2D-to-3D lifter as a clip-level 3D pose estimator.

The lifter's own test pipeline (its codec normalises the 2D input) prepares
one window per prediction; all windows of a clip go through the model in one
batch. Single-target lifters (VideoPose3D, SimpleBaseline3D) get a window
centred on (or, if causal, ending at) every frame; sequence-to-sequence
lifters (MotionBERT, ``multiple_target > 0``) get consecutive windows. Clip
ends are padded by repeating the first/last frame, so clips shorter than the
receptive field are accepted (documented choice: pad, never refuse).
"""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from torch import nn

from mmflowpose.registry import MODELS
from mmflowpose.utils.not_given import NOT_GIVEN


def _edge_padded(array: np.ndarray, indices: np.ndarray) -> np.ndarray:
    return array[np.clip(indices, 0, len(array) - 1)]


@MODELS.register_module()
class MMPoseLifter(nn.Module):
    """Wrap an mmpose pose lifter built from its config.

    Args:
        config (str | dict): mmpose config (path, ``mmpose::`` name or dict).
        checkpoint (str, optional): weights path or URL (model zoo); None
            for random weights on purpose, left out for random weights
            with a warning. Defaults to NOT_GIVEN.
        cfg_options (dict, optional): overrides merged into the config.
        batch_size (int): windows per forward pass. Defaults to 256.
        device (str): torch device. Defaults to ``'cpu'``.
    """

    def __init__(self,
                 config: Union[str, dict],
                 checkpoint: Optional[str] = NOT_GIVEN,
                 cfg_options: Optional[dict] = None,
                 batch_size: int = 256,
                 device: str = 'cpu') -> None:
        super().__init__()
        from ..builder import init_model
        self.lifter = init_model(
            config,
            checkpoint,
            device=device,
            cfg_options=cfg_options,
            scope='mmpose')
        cfg = self.lifter.cfg
        dataset_cfg = cfg.test_dataloader.dataset
        self.seq_len = int(dataset_cfg.get('seq_len', 1))
        self.seq2seq = int(dataset_cfg.get('multiple_target', 0)) > 0
        if self.seq2seq:
            self.seq_len = int(dataset_cfg.multiple_target)
        self.causal = bool(dataset_cfg.get('causal', False))
        with DefaultScope.overwrite_default_scope('mmpose'):
            self.pipeline = Compose(dataset_cfg.pipeline)
        self.batch_size = batch_size
        for param in self.lifter.parameters():
            param.requires_grad_(False)

    @property
    def num_keypoints(self) -> int:
        return int(self.lifter.dataset_meta['num_keypoints'])

    def _windows(self, num_frames: int) -> Sequence[np.ndarray]:
        if self.seq2seq:
            starts = range(0, num_frames, self.seq_len)
            return [np.arange(s, s + self.seq_len) for s in starts]
        if self.causal:
            offsets = np.arange(-self.seq_len + 1, 1)
        else:
            offsets = np.arange(self.seq_len) - self.seq_len // 2
        return [t + offsets for t in range(num_frames)]

    @torch.no_grad()
    def forward(self, keypoints_2d: np.ndarray, keypoint_scores: np.ndarray,
                image_size: Sequence[int]) -> np.ndarray:
        """Lift one clip.

        Args:
            keypoints_2d (np.ndarray): (T, J, 2) px.
            keypoint_scores (np.ndarray): (T, J).
            image_size (tuple): (H, W) of the frames.

        Returns:
            np.ndarray: (T, J, 3) root-relative 3D joints in metres, in the
            lifter's (camera-aligned) axes; a lifter that drops the root
            (SimpleBaseline3D) gets it back at zero.
        """
        keypoints_2d = np.asarray(keypoints_2d, np.float32)
        num_frames, num_joints = keypoints_2d.shape[:2]
        if num_joints != self.num_keypoints:
            raise ValueError(f'the lifter expects {self.num_keypoints} '
                             f'joints, the clip has {num_joints}')
        height, width = image_size
        windows = self._windows(num_frames)
        data = []
        meta = dict(self.lifter.dataset_meta)
        # one lifting target per window, or one per frame for seq2seq lifters
        targets = self.seq_len if self.seq2seq else 1
        for window in windows:
            keypoints = _edge_padded(keypoints_2d, window)
            visible = _edge_padded(
                np.asarray(keypoint_scores, np.float32), window)
            info = dict(
                keypoints=keypoints,
                keypoints_visible=(visible > 0).astype(np.float32),
                lifting_target=np.zeros((targets, num_joints, 3), np.float32),
                lifting_target_visible=np.ones((targets, num_joints, 1),
                                               np.float32),
                factor=np.zeros((len(window), ), np.float32),
                camera_param=dict(w=width, h=height))
            info.update(meta)
            data.append(self.pipeline(info))
        predictions = []
        with DefaultScope.overwrite_default_scope('mmpose'):
            for start in range(0, len(data), self.batch_size):
                batch = pseudo_collate(data[start:start + self.batch_size])
                for sample in self.lifter.test_step(batch):
                    predictions.append(
                        np.asarray(sample.pred_instances.keypoints))
        if self.seq2seq:
            pose = np.concatenate(
                [p.reshape(-1, p.shape[-2], 3) for p in predictions])
            pose = pose[:num_frames]
        else:
            pose = np.stack(
                [p.reshape(-1, p.shape[-2], 3)[0] for p in predictions])
        if pose.shape[1] == num_joints - 1:  # root removed by the codec
            pose = np.concatenate([np.zeros_like(pose[:, :1]), pose], axis=1)
        root = pose[:, :1]
        return (pose - root).astype(np.float32)
