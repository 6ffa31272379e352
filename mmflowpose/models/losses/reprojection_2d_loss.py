"""L_2D: projected joints should match confident 2D detections."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmflowpose.registry import MODELS
from ..utils.checks import check_shape
from .smooth_l1 import check_loss_args, masked_smooth_l1


def reprojection_2d_loss(points2d: Tensor,
                         keypoints_2d: Tensor,
                         scores: Optional[Tensor] = None,
                         score_thr: float = 0.0,
                         weight_by_score: bool = False,
                         beta: float = 1.0) -> Tensor:
    """Smooth-L1 between projected joints and 2D detections.

    Detections with ``score <= score_thr`` or non-finite values (missing)
    are ignored; kept ones weigh 1, or their score if ``weight_by_score``.

    Args:
        points2d (Tensor): (B, T, J, 2) projected joints in px.
        keypoints_2d (Tensor): (B, T, J, 2) detections in px.
        scores (Tensor, optional): (B, T, J) detection scores. Defaults to
            None (all kept).
        score_thr (float): keep detections with ``score > score_thr``.
            Defaults to 0.0.
        weight_by_score (bool): weigh kept joints by their score. Defaults
            to False.
        beta (float): smooth-L1 threshold in px. Defaults to 1.0.

    Returns:
        Tensor: scalar weighted mean over joints and coordinates (px).
    """
    check_shape(points2d, ['*', 'J', 2], 'points2d')
    if keypoints_2d.shape != points2d.shape:
        raise ValueError(f'keypoints_2d must have shape '
                         f'{tuple(points2d.shape)}, got '
                         f'{tuple(keypoints_2d.shape)}')
    weights = None
    if scores is not None:
        if scores.shape != points2d.shape[:-1]:
            raise ValueError(f'scores must have shape '
                             f'{tuple(points2d.shape[:-1])}, got '
                             f'{tuple(scores.shape)}')
        finite = torch.isfinite(scores)
        keep = finite & (torch.where(finite, scores, 0 * scores) > score_thr)
        weights = scores if weight_by_score else torch.ones_like(scores)
        weights = torch.where(keep, weights, torch.zeros_like(weights))
    return masked_smooth_l1(points2d, keypoints_2d, weights, beta)


@MODELS.register_module()
class Reprojection2DLoss(nn.Module):
    """L_2D: smooth-L1 between projected joints and confident detections.

    Args:
        loss_weight (float): multiplier. Defaults to 0.01 (paper, px).
        beta (float): smooth-L1 threshold in px. Defaults to 1.0.
        score_thr (float): keep detections with ``score > score_thr``.
            Defaults to 0.0.
        weight_by_score (bool): weigh kept joints by their score. Defaults
            to False.
    """

    def __init__(self,
                 loss_weight: float = 0.01,
                 beta: float = 1.0,
                 score_thr: float = 0.0,
                 weight_by_score: bool = False):
        super().__init__()
        check_loss_args(loss_weight, beta)
        self.loss_weight = loss_weight
        self.beta = beta
        self.score_thr = score_thr
        self.weight_by_score = weight_by_score

    def forward(self,
                points2d: Tensor,
                keypoints_2d: Tensor,
                scores: Optional[Tensor] = None) -> Tensor:
        """(B, T, J, 2) x2 (+ (B, T, J) scores) -> scalar."""
        return self.loss_weight * reprojection_2d_loss(
            points2d, keypoints_2d, scores, self.score_thr,
            self.weight_by_score, self.beta)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(loss_weight={self.loss_weight}, '
                f'beta={self.beta}, score_thr={self.score_thr}, '
                f'weight_by_score={self.weight_by_score})')
