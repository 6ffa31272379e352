"""The pose step's objective with every term weighed by its noise level.

A negative log-likelihood view of the paper's objective: each term is a
Huber NLL of its residual divided by the noise of what it compares with,
so no hand-set weight depends on the image size or the units:

- ``2d``: projections vs detections, noise ``sigma_2d`` (px, per clip);
- ``opt``: projected joint motion vs the flow at the joints, noise
  ``sigma_flow`` (px, per clip), per-joint confidences from the forward-
  backward check and the detection scores;
- ``3d``: the joints vs the initial estimate, noise ``sigma_3d`` (m): the
  estimator's total error;
- ``vel``: the frame-to-frame change of the correction ``pose - init``,
  noise ``sigma_vel`` (m): the estimator's error is temporally
  correlated, so a correction that jumps between frames is unlikely even
  when a large, slowly varying one is not;
- ``acc``: a motion prior on joint acceleration, ``sigma_acc`` (m/frame^2);
- ``bones``: bone lengths vs their median over the window's frames (the
  value itself is free), ``sigma_bone`` (m);
- ``camera``: camera (root) acceleration, ``sigma_acc`` as well.

Pixel noise levels given as numbers are in metres at the subject and
converted with the clip's camera scale (px per metre), so one calibration
holds at any resolution; ``'auto'`` estimates them on the clip itself
(:mod:`.noise_levels`, no ground truth).
"""
import math
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmflowpose.registry import MODELS
from ..losses.flow_consistency_loss import joint_flow_from_dense
from ..losses.robust_nll import (acceleration_prior_loss, robust_nll,
                                 velocity_anchor_loss)
from ..utils.geometry import bone_lengths
from .noise_levels import (detection_noise, flow_confidence, flow_noise,
                           round_trip_noise)

TERMS = ('2d', 'opt', '3d', 'vel', 'acc', 'bones', 'camera')
# where L_opt reads the flow of frame t: at the current estimate's
# projection (the paper) or at the 2D detections
FLOW_SAMPLE_POINTS = ('estimate', 'detections')
_METRIC = ('sigma_3d', 'sigma_vel', 'sigma_acc', 'sigma_bone')


def sample_joint_flow(flow: Tensor, points: Tensor,
                      scale: Optional[Tensor]) -> Tensor:
    """(B, P, J, 2) image-px flow at (B, P, J, 2) image-px points.

    ``scale`` (2,) maps image px to flow px when the flow is smaller than
    the image (a working resolution); outside points give NaN.
    """
    if scale is None:
        sampled, inside = joint_flow_from_dense(flow, points)
    else:
        sampled, inside = joint_flow_from_dense(flow, points * scale)
        sampled = sampled / scale
    nan = torch.full_like(sampled, float('nan'))
    return torch.where(inside[..., None], sampled, nan)


@MODELS.register_module()
class NoiseAwareObjective(nn.Module):
    """Noise-weighted pose-step terms (see the module docstring).

    Args:
        sigma_2d (float | str): detector noise per coordinate, metres at
            the subject (times px/m gives px), or ``'auto'`` (estimated per
            clip from the detections). Defaults to 'auto'.
        sigma_flow (float | str): flow error at the joints per coordinate,
            metres at the subject, or ``'auto'`` (per clip from detections
            and flow). Defaults to 'auto'.
        sigma_3d (float): estimator error per coordinate (m). Defaults to
            0.05 (calibrate on validation clips).
        sigma_vel (float): frame-to-frame change of the estimator error
            (m). Defaults to 0.01.
        sigma_acc (float): true joint acceleration (m / frame^2). Defaults
            to 0.01.
        sigma_bone (float): bone-length variation (m). Defaults to 0.01.
        sigma_2d_fallback (float): metres at the subject, used when
            ``'auto'`` cannot estimate (fewer than 5 frames). Defaults to
            0.01.
        sigma_2d_min (float): lower bound of an estimated detector noise,
            metres at the subject (a detector is never exact). Defaults to
            0.002.
        sigma_flow_min (float): lower bound of an estimated flow noise,
            metres at the subject. Defaults to 0.002.
        sigma_2d_motion (float, optional): error of the detections'
            frame-to-frame motion per coordinate, metres at the subject,
            calibrated on validation clips. The flow noise estimate
            subtracts this (squared) from the variance of detection motion
            minus flow; None assumes white detector noise (``2
            sigma_2d^2``), which is wrong for a real detector whose errors
            persist over frames. Defaults to None.
        fb_tolerance (float): forward-backward errors of this many noise
            levels get confidence exp(-0.5). Defaults to 3.0.
        delta (float): Huber threshold in noise levels. Defaults to 2.0.
        terms (sequence[str]): enabled terms, from ``TERMS``. Defaults to
            all of them.
        flow_sample_points (str): where ``opt`` samples the flow of frame
            t: ``'estimate'`` (the current projection, as in the paper)
            or ``'detections'`` (the 2D detections, fixed during the
            step: an estimate that is off the limb reads the motion of
            whatever lies under it, see docs/en/results/flow_sampling.md).
            Defaults to 'estimate'.
    """

    def __init__(self,
                 sigma_2d: Union[float, str] = 'auto',
                 sigma_flow: Union[float, str] = 'auto',
                 sigma_3d: float = 0.05,
                 sigma_vel: float = 0.01,
                 sigma_acc: float = 0.01,
                 sigma_bone: float = 0.01,
                 sigma_2d_fallback: float = 0.01,
                 sigma_2d_min: float = 0.002,
                 sigma_flow_min: float = 0.002,
                 sigma_2d_motion: Optional[float] = None,
                 fb_tolerance: float = 3.0,
                 delta: float = 2.0,
                 terms: Sequence[str] = TERMS,
                 flow_sample_points: str = 'estimate'):
        super().__init__()
        for name, value in (('sigma_2d', sigma_2d), ('sigma_flow',
                                                     sigma_flow)):
            if value != 'auto' and not (isinstance(value, (int, float))
                                        and value > 0):
                raise ValueError(f"{name} must be 'auto' or a positive "
                                 f'number of metres, got {value!r}')
        for name, value in (('sigma_3d', sigma_3d), ('sigma_vel', sigma_vel),
                            ('sigma_acc', sigma_acc), ('sigma_bone',
                                                       sigma_bone),
                            ('sigma_2d_fallback', sigma_2d_fallback),
                            ('sigma_2d_min', sigma_2d_min),
                            ('sigma_flow_min', sigma_flow_min),
                            ('fb_tolerance', fb_tolerance), ('delta',
                                                             delta)):
            if not (isinstance(value, (int, float)) and value > 0
                    and math.isfinite(value)):
                raise ValueError(f'{name} must be a positive number, got '
                                 f'{value!r}')
        if sigma_2d_motion is not None and not (
                isinstance(sigma_2d_motion, (int, float))
                and sigma_2d_motion > 0 and math.isfinite(sigma_2d_motion)):
            raise ValueError('sigma_2d_motion must be None or a positive '
                             f'number of metres, got {sigma_2d_motion!r}')
        unknown = set(terms) - set(TERMS)
        if unknown:
            raise ValueError(f'unknown terms {sorted(unknown)}; expected a '
                             f'subset of {list(TERMS)}')
        if flow_sample_points not in FLOW_SAMPLE_POINTS:
            raise ValueError('flow_sample_points must be one of '
                             f'{list(FLOW_SAMPLE_POINTS)}, got '
                             f'{flow_sample_points!r}')
        self.flow_sample_points = flow_sample_points
        self.sigma_2d = sigma_2d
        self.sigma_flow = sigma_flow
        self.sigma_3d = float(sigma_3d)
        self.sigma_vel = float(sigma_vel)
        self.sigma_acc = float(sigma_acc)
        self.sigma_bone = float(sigma_bone)
        self.sigma_2d_fallback = float(sigma_2d_fallback)
        self.sigma_2d_min = float(sigma_2d_min)
        self.sigma_flow_min = float(sigma_flow_min)
        self.sigma_2d_motion = None if sigma_2d_motion is None else \
            float(sigma_2d_motion)
        self.fb_tolerance = float(fb_tolerance)
        self.delta = float(delta)
        self.terms = tuple(terms)

    # ------------------------------------------------------------ per clip
    def prepare(self, data: Dict) -> Dict:
        """Fill per-clip noise levels (px) and flow confidences in ``data``.

        Reads ``keypoints_2d``, ``scores``, ``px_per_m`` (B,) and the flow
        fields; writes ``sigma_2d`` and ``sigma_flow`` (B,) px and, when a
        backward flow is given and no ``flow_weights``, ``flow_weights``
        (B, P, J) from :func:`flow_confidence`.
        """
        kp, scores = data['keypoints_2d'], data['scores']
        px = data['px_per_m']
        if self.sigma_2d == 'auto':
            det = detection_noise(kp, scores)
            fallback = self.sigma_2d_fallback * px
            det = torch.where(torch.isfinite(det), det, fallback)
            det = torch.maximum(det, self.sigma_2d_min * px)
        else:
            det = self.sigma_2d * px
        data['sigma_2d'] = det
        fwd = self._flow_at_detections(data)
        if fwd is None:
            return data
        if self.sigma_flow == 'auto':
            # flow_noise subtracts 2 x its det_sigma^2: the motion error of
            # white detections, or the calibrated one
            motion = det if self.sigma_2d_motion is None else \
                self.sigma_2d_motion * px / math.sqrt(2.)
            sig = flow_noise(fwd, kp, motion, scores)
            sig = torch.where(torch.isfinite(sig), sig, det)
            bwd = self._backward_at(data, kp[:, :-1] + fwd)
            if bwd is not None:
                # when the detector is much noisier than the flow, the
                # estimate above is a small difference of large variances
                # and falls to the floor; the round trip bounds it below
                trip = round_trip_noise(fwd, bwd, scores)
                sig = torch.where(torch.isfinite(trip),
                                  torch.maximum(sig, trip), sig)
            data['sigma_flow'] = torch.maximum(sig, self.sigma_flow_min * px)
        else:
            data['sigma_flow'] = self.sigma_flow * px
        bwd = self._backward_at(data, kp[:, :-1] + fwd)
        if bwd is not None and data.get('flow_weights') is None:
            data['flow_weights'] = flow_confidence(fwd, bwd,
                                                   data['sigma_flow'], scores,
                                                   self.fb_tolerance)
        return data

    @staticmethod
    def _flow_at_detections(data: Dict) -> Optional[Tensor]:
        if data.get('joint_flow') is not None:
            return data['joint_flow']
        if data.get('flow') is None:
            return None
        with torch.no_grad():
            return sample_joint_flow(data['flow'],
                                     data['keypoints_2d'][:, :-1],
                                     data.get('flow_scale'))

    @staticmethod
    def _backward_at(data: Dict, end: Tensor) -> Optional[Tensor]:
        if data.get('backward_joint_flow') is not None:
            return data['backward_joint_flow']
        if data.get('backward_flow') is None:
            return None
        with torch.no_grad():
            return sample_joint_flow(data['backward_flow'],
                                     torch.nan_to_num(end),
                                     data.get('flow_scale'))

    # ----------------------------------------------------------- the terms
    def forward(self,
                pose: Tensor,
                camera: Tensor,
                points: Optional[Tensor],
                data: Dict,
                bones: Tensor,
                anchor_scale: float = 1.0) -> Dict[str, Tensor]:
        """Scalar terms ``loss_<name>`` for a batch of windows.

        Args:
            pose (Tensor): (N, T, J, 3) joints (m).
            camera (Tensor): (N, T, 3) weak camera ``(s, tx, ty)`` or root
                translation (m).
            points (Tensor, optional): (N, T, J, 2) projections (px);
                needed by ``2d`` and ``opt``.
            data (dict): window data after :meth:`prepare`.
            bones (Tensor): (E, 2) bone index.
            anchor_scale (float): multiplies the ``3d`` and ``vel`` terms
                (annealed over the refiner's cycles). Defaults to 1.0.

        Returns:
            dict[str, Tensor]: one scalar per enabled term, each a mean NLL
            per joint (items per frame other than J are rescaled to J).
        """
        J = pose.shape[2]
        out = {}
        on = set(self.terms)
        if '2d' in on and points is not None:
            w = torch.nan_to_num(data['scores'], nan=0.0).clamp(0, 1)
            out['loss_2d'] = robust_nll(points, data['keypoints_2d'],
                                        data['sigma_2d'], w, self.delta)
        if 'opt' in on and points is not None and pose.shape[1] > 1 and \
                'sigma_flow' in data:
            start = points[:, :-1]
            if data.get('joint_flow') is not None:
                target = data['joint_flow']
            elif self.flow_sample_points == 'detections':
                target = self._flow_at_detections(data)
            else:
                target = sample_joint_flow(data['flow'], start,
                                           data.get('flow_scale'))
            out['loss_opt'] = robust_nll(points[:, 1:] - start, target,
                                         data['sigma_flow'],
                                         data.get('flow_weights'),
                                         self.delta)
        init = data['init_pose']
        if '3d' in on:
            out['loss_3d'] = anchor_scale * robust_nll(
                pose, init, self.sigma_3d, None, self.delta)
        if 'vel' in on and pose.shape[1] > 1:
            out['loss_vel'] = anchor_scale * velocity_anchor_loss(
                pose, init, self.sigma_vel, self.delta)
        if 'acc' in on and pose.shape[1] > 2:
            out['loss_acc'] = acceleration_prior_loss(pose, self.sigma_acc,
                                                      self.delta)
        if 'bones' in on:
            # constant lengths, value free: tied to the current median
            # (no gradient), not to the initial estimate's, whose static
            # bias the 2D evidence may be correcting
            lengths = bone_lengths(pose, bones)[..., None]
            ref = lengths.detach().nanmedian(dim=1, keepdim=True).values
            out['loss_bones'] = len(bones) / J * robust_nll(
                lengths, ref, self.sigma_bone, None, self.delta)
        if 'camera' in on and camera.shape[1] > 2:
            acc = camera[:, 2:] - 2 * camera[:, 1:-1] + camera[:, :-2]
            if data.get('cam_scale') is not None:
                # weak camera (s, tx, ty) in px -> metres at the subject
                acc = acc / data['cam_scale'].view(-1, 1, 1)
            out['loss_camera'] = robust_nll(
                acc, torch.zeros_like(acc), self.sigma_acc, None,
                self.delta) / J
        return out

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sigma_2d={self.sigma_2d!r}, '
                f'sigma_flow={self.sigma_flow!r}, sigma_3d={self.sigma_3d}, '
                f'sigma_vel={self.sigma_vel}, sigma_acc={self.sigma_acc}, '
                f'sigma_bone={self.sigma_bone}, delta={self.delta}, '
                f'terms={self.terms}, '
                f'flow_sample_points={self.flow_sample_points!r})')
