"""The pose step's objective with the paper's fixed weights.

``L = L_opt + L_3D + L_2D + L_temp`` (BMVC 2022), each term a registered
loss built from its config; a None config drops the term. The
noise-aware alternative is :class:`.NoiseAwareObjective`; both are called
the same way by :class:`.PoseOptimizer`.
"""
import copy
from typing import Dict, Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmflowpose.registry import MODELS
from .noise_aware_objective import sample_joint_flow


def _build(cfg: Optional[Dict]) -> Optional[nn.Module]:
    return None if cfg is None else MODELS.build(copy.deepcopy(cfg))


class PaperObjective(nn.Module):
    """Weighted sum terms of the paper's pose objective.

    Args:
        flow_loss (dict, optional): L_opt config (``FlowConsistencyLoss``).
        pose3d_loss (dict, optional): L_3D config.
        reprojection_loss (dict, optional): L_2D config.
        temporal_loss (dict, optional): L_temp config (joints, camera and
            bone parts, returned separately).
    """

    def __init__(self,
                 flow_loss: Optional[Dict] = None,
                 pose3d_loss: Optional[Dict] = None,
                 reprojection_loss: Optional[Dict] = None,
                 temporal_loss: Optional[Dict] = None):
        super().__init__()
        self.flow_loss = _build(flow_loss)
        self.pose3d_loss = _build(pose3d_loss)
        self.reprojection_loss = _build(reprojection_loss)
        self.temporal_loss = _build(temporal_loss)

    def uses_flow(self, data: Dict, num_frames: int) -> bool:
        """Whether L_opt applies: enabled, >= 2 frames and a flow given."""
        return self.flow_loss is not None and num_frames > 1 and (
            data.get('flow') is not None
            or data.get('joint_flow') is not None)

    def forward(self,
                pose: Tensor,
                camera: Tensor,
                points: Tensor,
                data: Dict,
                bones: Tensor,
                anchor_scale: float = 1.0) -> Dict[str, Tensor]:
        """Loss terms of a batch of windows.

        Args:
            pose (Tensor): (N, T, J, 3) joints (metres).
            camera (Tensor): (N, T, 3) camera in natural units.
            points (Tensor): (N, T, J, 2) projected joints (px).
            data (dict): ``init_pose``, ``keypoints_2d``, ``scores``,
                ``ref_lengths`` and optional ``flow``/``joint_flow``/
                ``backward_*``/``flow_weights``/``flow_scale``.
            bones (Tensor): (E, 2) bone joint index pairs.
            anchor_scale (float): multiplies L_3D. Defaults to 1.0.

        Returns:
            dict[str, Tensor]: scalar ``loss_opt``, ``loss_3d``,
            ``loss_2d``, ``loss_temp_joints``, ``loss_temp_camera``,
            ``loss_temp_bones`` (enabled ones only).
        """
        terms = {}
        if self.uses_flow(data, pose.shape[1]):
            terms['loss_opt'] = self._flow_term(points, data)
        if self.pose3d_loss is not None:
            terms['loss_3d'] = anchor_scale * self.pose3d_loss(
                pose, data['init_pose'])
        if self.reprojection_loss is not None:
            terms['loss_2d'] = self.reprojection_loss(
                points, data['keypoints_2d'], data['scores'])
        if self.temporal_loss is not None:
            parts = self.temporal_loss(
                pose,
                camera,
                bones=bones,
                ref_lengths=data['ref_lengths'],
                return_parts=True)
            terms.update({f'loss_temp_{k}': v for k, v in parts.items()})
        return terms

    def _flow_term(self, points: Tensor, data: Dict) -> Tensor:
        scale = data.get('flow_scale')
        if scale is None:
            return self.flow_loss(points, data.get('flow'),
                                  data.get('joint_flow'),
                                  data.get('flow_weights'),
                                  data.get('backward_flow'),
                                  data.get('backward_joint_flow'))
        # a flow of another size than the image: sample it at the joints
        # mapped to its grid, in image px, so the loss stays in image px
        fwd = sample_joint_flow(data['flow'], points[:, :-1], scale)
        back = None
        if data.get('backward_flow') is not None:
            with torch.no_grad():
                end = (points[:, :-1] + fwd).detach()
                back = sample_joint_flow(data['backward_flow'], end, scale)
        return self.flow_loss(
            points,
            joint_flow=fwd,
            weights=data.get('flow_weights'),
            backward_joint_flow=back)
