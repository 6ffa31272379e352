"""L_temp: smooth joints and cameras over time, constant bone lengths."""
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmflowpose.registry import MODELS
from ..utils.checks import check_shape
from ..utils.geometry import BoneSpec, bone_lengths
from .smooth_l1 import check_loss_args, masked_smooth_l1


def temporal_smoothness_loss(x: Tensor, beta: float = 1.0) -> Tensor:
    """Smooth-L1 of first differences along time (dim 1).

    Args:
        x (Tensor): (B, T, ..., C) sequence, e.g. joints (B, T, J, 3) in
            metres or cameras (B, T, 3); the last axis is the coordinate.
        beta (float): smooth-L1 threshold in the units of ``x``. Defaults
            to 1.0.

    Returns:
        Tensor: scalar mean over differences; 0 for a single frame.
    """
    if x.ndim < 3:
        raise ValueError('x must have shape (B, T, ..., C), got '
                         f'{tuple(x.shape)}')
    diff = x[:, 1:] - x[:, :-1]
    return masked_smooth_l1(diff, torch.zeros_like(diff), None, beta)


def reference_bone_lengths(pose: Tensor, bones: BoneSpec) -> Tensor:
    """One robust bone-length estimate per clip: the median over frames.

    Args:
        pose (Tensor): (B, T, J, 3) joints; non-finite frames are skipped.
        bones (Tensor | sequence): (E, 2) (parent, child) joint ids.

    Returns:
        Tensor: (B, E) lengths, computed without gradient.
    """
    check_shape(pose, ['B', 'T', 'J', 3], 'pose')
    with torch.no_grad():
        return bone_lengths(pose, bones).nanmedian(dim=1).values


def bone_length_loss(pose: Tensor,
                     bones: BoneSpec,
                     ref_lengths: Optional[Tensor] = None,
                     beta: float = 1.0) -> Tensor:
    """Smooth-L1 between every frame's bone lengths and one per-clip value.

    Tying all frames to one estimate (not each frame to the previous one)
    avoids locking in early errors (see ``design.md``).

    Args:
        pose (Tensor): (B, T, J, 3) joints (metres).
        bones (Tensor | sequence): (E, 2) (parent, child) joint ids.
        ref_lengths (Tensor, optional): (B, E) per-clip lengths. Defaults
            to None: :func:`reference_bone_lengths` of ``pose`` itself.
        beta (float): smooth-L1 threshold in metres. Defaults to 1.0.

    Returns:
        Tensor: scalar mean over frames and bones.
    """
    check_shape(pose, ['B', 'T', 'J', 3], 'pose')
    lengths = bone_lengths(pose, bones)  # (B, T, E)
    if ref_lengths is None:
        ref_lengths = reference_bone_lengths(pose, bones)
    if ref_lengths.shape != (lengths.shape[0], lengths.shape[2]):
        raise ValueError(f'ref_lengths must have shape (B, E) = '
                         f'{(lengths.shape[0], lengths.shape[2])}, got '
                         f'{tuple(ref_lengths.shape)}')
    return masked_smooth_l1(lengths[..., None], ref_lengths[:, None, :,
                                                            None], None,
                            beta)


def temporal_loss(pose: Tensor,
                  camera: Optional[Tensor] = None,
                  bones: Optional[BoneSpec] = None,
                  ref_lengths: Optional[Tensor] = None,
                  joint_weight: float = 300.0,
                  camera_weight: float = 0.1,
                  bone_weight: float = 10000.0,
                  beta: float = 1.0) -> Dict[str, Tensor]:
    """The three weighted parts of L_temp; a part with weight 0 is skipped.

    Args:
        pose (Tensor): (B, T, J, 3) joints (metres).
        camera (Tensor, optional): (B, T, C) per-frame camera. Defaults to
            None (no camera part).
        bones (Tensor | sequence, optional): (E, 2) bones; required when
            ``bone_weight > 0``.
        ref_lengths (Tensor, optional): (B, E) per-clip bone lengths.
        joint_weight (float): joint smoothness weight. Defaults to 300.0.
        camera_weight (float): camera smoothness weight. Defaults to 0.1.
        bone_weight (float): bone-length weight. Defaults to 10000.0.
        beta (float): smooth-L1 threshold. Defaults to 1.0.

    Returns:
        dict[str, Tensor]: scalars ``joints``, ``camera``, ``bones`` (only
        the enabled parts).
    """
    parts = {}
    if joint_weight > 0:
        parts['joints'] = joint_weight * temporal_smoothness_loss(pose, beta)
    if camera_weight > 0 and camera is not None:
        parts['camera'] = camera_weight * temporal_smoothness_loss(
            camera, beta)
    if bone_weight > 0:
        if bones is None:
            raise ValueError('bones (E, 2) are required when bone_weight > 0')
        parts['bones'] = bone_weight * bone_length_loss(
            pose, bones, ref_lengths, beta)
    return parts


@MODELS.register_module()
class TemporalLoss(nn.Module):
    """L_temp: joint and camera smoothness plus constant bone lengths.

    Args:
        joint_weight (float): first-difference weight on joints. Defaults
            to 300.0 (paper, metres).
        camera_weight (float): first-difference weight on the camera.
            Defaults to 0.1.
        bone_weight (float): bone-length weight. Defaults to 10000.0.
        bones (sequence, optional): (E, 2) default (parent, child) pairs;
            ``forward`` may override them. Defaults to None.
        loss_weight (float): multiplier of the sum. Defaults to 1.0.
        beta (float): smooth-L1 threshold. Defaults to 1.0.
    """

    def __init__(self,
                 joint_weight: float = 300.0,
                 camera_weight: float = 0.1,
                 bone_weight: float = 10000.0,
                 bones: Optional[BoneSpec] = None,
                 loss_weight: float = 1.0,
                 beta: float = 1.0):
        super().__init__()
        check_loss_args(loss_weight, beta)
        for name, value in [('joint_weight', joint_weight),
                            ('camera_weight', camera_weight),
                            ('bone_weight', bone_weight)]:
            if not value >= 0:
                raise ValueError(f'{name} must be >= 0, got {value}')
        self.joint_weight = joint_weight
        self.camera_weight = camera_weight
        self.bone_weight = bone_weight
        self.bones = None if bones is None else tuple(
            tuple(int(i) for i in b) for b in bones)
        self.loss_weight = loss_weight
        self.beta = beta

    def forward(self,
                pose: Tensor,
                camera: Optional[Tensor] = None,
                bones: Optional[BoneSpec] = None,
                ref_lengths: Optional[Tensor] = None,
                return_parts: bool = False) -> Union[Tensor, Dict]:
        """(B, T, J, 3) joints (+ (B, T, C) camera) -> scalar or parts."""
        parts = temporal_loss(pose, camera,
                              self.bones if bones is None else bones,
                              ref_lengths, self.joint_weight,
                              self.camera_weight, self.bone_weight, self.beta)
        parts = {k: self.loss_weight * v for k, v in parts.items()}
        if return_parts:
            return parts
        if not parts:
            return pose.sum() * 0
        return sum(parts.values())

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(joint_weight={self.joint_weight}, '
                f'camera_weight={self.camera_weight}, '
                f'bone_weight={self.bone_weight}, '
                f'loss_weight={self.loss_weight}, beta={self.beta})')
