"""Noise levels of the pose step's measurements, from the data alone.

The noise-aware objective (:class:`NoiseAwareObjective`) weighs every term
by the noise of what it compares with. Two of those noise levels can be
measured on the clip being refined, without ground truth:

- **detections** (px): white detector noise is what a local quadratic fit
  over time does not explain (:func:`detection_noise`);
- **flow at the joints** (px): the detections' frame-to-frame motion minus
  the flow has variance ``2 sigma_det^2 + sigma_flow^2`` when the detector's
  noise is white and independent of the flow's error
  (:func:`flow_noise`); the forward-backward round trip gives a per-joint
  confidence (:func:`flow_confidence`).

The lifter's errors (static part, frame-to-frame change) and the prior on
joint acceleration cannot be seen without ground truth: they are
calibrated once on validation clips (:func:`calibrate_pose_noise`), never
on the clips being evaluated.
"""
import math
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

from ..utils.checks import check_shape

# median of |x| for a standard normal x: turns a median into a std
_MAD_TO_STD = 1.0 / 0.6744897501960817


def _robust_std(values: Tensor, mask: Tensor) -> Tensor:
    """Per-clip robust std (1.4826 x median |v|) of (B, ...) values."""
    out = []
    for v, m in zip(values.flatten(1), mask.flatten(1)):
        v = v[m & torch.isfinite(v)]
        out.append(v.abs().median() * _MAD_TO_STD if v.numel() else
                   torch.tensor(float('nan'), dtype=values.dtype))
    return torch.stack(out).to(values.device)


def detection_noise(keypoints_2d: Tensor,
                    scores: Optional[Tensor] = None,
                    floor: float = 1e-3) -> Tensor:
    """Std (px, per coordinate) of white detector noise, one per clip.

    The residual of a 5-frame quadratic (Savitzky-Golay) fit at the centre
    frame is ``x_t - sum_k c_k x_{t+k}``; for white noise of std sigma its
    std is ``sigma * sqrt(1 - 17/35)`` and smooth motion contributes
    little at video rates, so the robust std of the residual, rescaled,
    estimates sigma (an upper bound when the motion is fast).

    Args:
        keypoints_2d (Tensor): (B, T, J, 2) detections (px), T >= 5.
        scores (Tensor, optional): (B, T, J); a residual uses only frames
            whose five detections all have ``score > 0``.
        floor (float): smallest returned value (px). Defaults to 1e-3.

    Returns:
        Tensor: (B,) px. NaN where fewer than 5 frames are available.
    """
    check_shape(keypoints_2d, ['B', 'T', 'J', 2], 'keypoints_2d')
    B, T = keypoints_2d.shape[:2]
    if T < 5:
        return keypoints_2d.new_full((B, ), float('nan'))
    kernel = keypoints_2d.new_tensor([-3., 12., 17., 12., -3.]) / 35.
    x = keypoints_2d
    fit = sum(kernel[k] * x[:, k:T - 4 + k] for k in range(5))
    resid = x[:, 2:T - 2] - fit
    ok = torch.isfinite(resid).all(-1)
    if scores is not None:
        good = (scores > 0) & torch.isfinite(scores)
        for k in range(5):
            ok = ok & good[:, k:T - 4 + k]
    std = _robust_std(resid, ok[..., None].expand_as(resid))
    return (std / math.sqrt(1 - 17. / 35.)).clamp_min(floor)


def flow_noise(joint_flow: Tensor,
               keypoints_2d: Tensor,
               det_sigma: Tensor,
               scores: Optional[Tensor] = None,
               floor: float = 0.05) -> Tensor:
    """Std (px, per coordinate) of the flow's error at the joints.

    ``(d_{t+1} - d_t) - f_t`` (detection motion minus the flow sampled at
    the detections of frame t) has variance ``2 sigma_det^2 +
    sigma_flow^2``; the detector's part, from :func:`detection_noise`, is
    subtracted. The difference of robust variances can be small or
    negative when the detector is much noisier than the flow, hence the
    ``floor`` (then the flow is known to be at least that good).

    Args:
        joint_flow (Tensor): (B, P, J, 2) forward flow at the detections of
            frame p (px); NaN = unknown.
        keypoints_2d (Tensor): (B, T, J, 2) detections (px), P = T - 1.
        det_sigma (Tensor): (B,) detector noise (px).
        scores (Tensor, optional): (B, T, J) detection scores.
        floor (float): smallest returned value (px). Defaults to 0.05.

    Returns:
        Tensor: (B,) px.
    """
    check_shape(joint_flow, ['B', 'P', 'J', 2], 'joint_flow')
    B, P = joint_flow.shape[:2]
    if keypoints_2d.shape[:2] != (B, P + 1):
        raise ValueError(f'keypoints_2d must have (B, T) = {(B, P + 1)} '
                         f'for {P} flow pairs, got '
                         f'{tuple(keypoints_2d.shape[:2])}')
    resid = keypoints_2d[:, 1:] - keypoints_2d[:, :-1] - joint_flow
    ok = torch.isfinite(resid).all(-1)
    if scores is not None:
        good = (scores > 0) & torch.isfinite(scores)
        ok = ok & good[:, 1:] & good[:, :-1]
    total = _robust_std(resid, ok[..., None].expand_as(resid))**2
    var = total - 2 * det_sigma.to(total)**2
    return var.clamp_min(floor**2).sqrt()


def round_trip_noise(joint_flow: Tensor,
                     backward_joint_flow: Tensor,
                     scores: Optional[Tensor] = None) -> Tensor:
    """Std (px, per coordinate) of the flow's error from its round trip.

    Forward flow at a joint plus backward flow at its end point is 0 for
    an exact flow; with independent errors of std sigma in both
    directions it has std ``sqrt(2) sigma``. A lower bound where both
    directions err alike (a limb's motion missed both ways), but, unlike
    :func:`flow_noise`, not drowned by the detector's noise: the
    objective takes the larger of the two.

    Args:
        joint_flow (Tensor): (B, P, J, 2) forward flow at the joints (px).
        backward_joint_flow (Tensor): (B, P, J, 2) backward flow at the
            forward end points (px).
        scores (Tensor, optional): (B, T, J); pairs with a score-0 joint
            are left out.

    Returns:
        Tensor: (B,) px; NaN where no pair is usable.
    """
    check_shape(joint_flow, ['B', 'P', 'J', 2], 'joint_flow')
    if backward_joint_flow.shape != joint_flow.shape:
        raise ValueError('backward_joint_flow must have the shape of '
                         f'joint_flow {tuple(joint_flow.shape)}, got '
                         f'{tuple(backward_joint_flow.shape)}')
    resid = joint_flow + backward_joint_flow
    ok = torch.isfinite(resid).all(-1)
    if scores is not None:
        good = (scores > 0) & torch.isfinite(scores)
        ok = ok & good[:, 1:] & good[:, :-1]
    return _robust_std(resid, ok[..., None].expand_as(resid)) / math.sqrt(2.)


def flow_confidence(joint_flow: Tensor,
                    backward_joint_flow: Tensor,
                    flow_sigma: Tensor,
                    scores: Optional[Tensor] = None,
                    tolerance: float = 3.0) -> Tensor:
    """Per-joint weight of the flow from its forward-backward round trip.

    A consistent joint has ``f + b`` of the size of the flow's noise
    (``sqrt(2) sigma_flow`` per coordinate); an occluded or mismatched one
    does not. The weight is a Gaussian in the round-trip error measured in
    ``tolerance * sqrt(2) * sigma_flow`` units, times the detection
    confidence of both frames when ``scores`` are given.

    Args:
        joint_flow (Tensor): (B, P, J, 2) forward flow at the joints (px).
        backward_joint_flow (Tensor): (B, P, J, 2) backward flow at the
            forward end points (px).
        flow_sigma (Tensor): (B,) flow noise (px).
        scores (Tensor, optional): (B, T, J) detection scores in [0, 1].
        tolerance (float): round-trip errors of ``tolerance`` noise levels
            get weight exp(-0.5). Defaults to 3.0.

    Returns:
        Tensor: (B, P, J) weights in [0, 1]; 0 where anything is unknown.
    """
    check_shape(joint_flow, ['B', 'P', 'J', 2], 'joint_flow')
    if backward_joint_flow.shape != joint_flow.shape:
        raise ValueError('backward_joint_flow must have the shape of '
                         f'joint_flow {tuple(joint_flow.shape)}, got '
                         f'{tuple(backward_joint_flow.shape)}')
    if not tolerance > 0:
        raise ValueError(f'tolerance must be > 0, got {tolerance}')
    err = torch.linalg.vector_norm(joint_flow + backward_joint_flow, dim=-1)
    scale = tolerance * math.sqrt(2.) * flow_sigma.to(err).view(-1, 1, 1)
    weight = torch.exp(-0.5 * (err / scale)**2)
    weight = torch.where(torch.isfinite(weight), weight,
                         torch.zeros_like(weight))
    if scores is not None:
        s = torch.nan_to_num(scores.to(weight), nan=0.0).clamp(0, 1)
        weight = weight * s[:, 1:] * s[:, :-1]
    return weight


def _check_clip_counts(**clips) -> None:
    """Raise unless the per-clip sequences have one, non-zero length."""
    counts = [len(value) for value in clips.values()]
    if len(set(counts)) != 1 or not counts[0]:
        names = list(clips)
        raise ValueError(
            'need the same, non-zero number of clips in '
            f"{', '.join(names[:-1])} and {names[-1]}, got "
            f"{', '.join(map(str, counts[:-1]))} and {counts[-1]}")


def calibrate_pose_noise(init_poses: Sequence[Tensor],
                         gt_poses: Sequence[Tensor],
                         root_joint: int = 0) -> Dict[str, float]:
    """Noise levels of a 3D estimator and of true motion, from GT clips.

    Use VALIDATION clips only: these numbers become the weights of the
    objective applied to other clips.

    Args:
        init_poses (sequence[Tensor]): per clip (T, J, 3) estimates (m).
        gt_poses (sequence[Tensor]): per clip (T, J, 3) ground truth (m).
        root_joint (int): both are made relative to this joint first.
            Defaults to 0.

    Returns:
        dict: per-coordinate stds in metres: ``sigma_3d`` (the error),
        ``sigma_static`` (its per-clip mean part), ``sigma_vel`` (its
        frame-to-frame change), all robust (median based), and
        ``sigma_acc`` (true joint acceleration, metres / frame^2, RMS).
    """
    _check_clip_counts(init_poses=init_poses, gt_poses=gt_poses)
    err, static, vel, acc = [], [], [], []
    for init, gt in zip(init_poses, gt_poses):
        init = torch.as_tensor(init, dtype=torch.float64)
        gt = torch.as_tensor(gt, dtype=torch.float64)
        if init.shape != gt.shape or init.dim() != 3:
            raise ValueError(f'clip poses must both be (T, J, 3), got '
                             f'{tuple(init.shape)} and {tuple(gt.shape)}')
        r = root_joint
        e = (init - init[:, r:r + 1]) - (gt - gt[:, r:r + 1])
        rel = gt - gt[:, r:r + 1]
        keep = torch.ones(e.shape[1], dtype=torch.bool)
        keep[r] = False  # the root's error is 0 by construction
        e, rel = e[:, keep], rel[:, keep]
        err.append(e.flatten())
        static.append(e.mean(0).flatten())
        vel.append((e[1:] - e[:-1]).flatten())
        acc.append((rel[2:] - 2 * rel[1:-1] + rel[:-2]).flatten())

    def std(parts):
        v = torch.cat(parts)
        return float(v.abs().median() * _MAD_TO_STD) if v.numel() else \
            float('nan')

    def rms(parts):
        v = torch.cat(parts)
        return float(v.pow(2).mean().sqrt()) if v.numel() else float('nan')

    # true acceleration is heavy-tailed (still most of the time, then a
    # swing): a median-based scale is the still part's and would make the
    # prior fight every real movement, so its scale is the RMS
    return dict(
        sigma_3d=std(err),
        sigma_static=std(static),
        sigma_vel=std(vel),
        sigma_acc=rms(acc))


def subject_scale(points_2d: Tensor, points_3d: Tensor,
                  root_joint: int = 0) -> Tensor:
    """Pixels per metre at the subject, one per clip (least squares).

    The scale ``s`` that best maps the root-relative 3D joints' x, y onto
    the root-relative 2D joints (weak perspective). It turns a pixel error
    into metres at the subject, so a noise level calibrated at one image
    size holds at any other.

    Args:
        points_2d (Tensor): (B, T, J, 2) px.
        points_3d (Tensor): (B, T, J, 3) metres, camera axes.
        root_joint (int): joint both are made relative to. Defaults to 0.

    Returns:
        Tensor: (B,) px per metre.
    """
    check_shape(points_2d, ['B', 'T', 'J', 2], 'points_2d')
    check_shape(points_3d, ['B', 'T', 'J', 3], 'points_3d')
    if points_2d.shape[:3] != points_3d.shape[:3]:
        raise ValueError('points_2d and points_3d must have the same (B, T, '
                         f'J), got {tuple(points_2d.shape[:3])} and '
                         f'{tuple(points_3d.shape[:3])}')
    r = root_joint
    p = (points_2d - points_2d[:, :, r:r + 1]).to(torch.float64)
    q = (points_3d[..., :2] - points_3d[:, :, r:r + 1, :2]).to(p)
    return (p * q).flatten(1).sum(1) / q.pow(2).flatten(1).sum(1)


def calibrate_flow_floor(flow_at_joints: Sequence[Tensor],
                         joint_motion: Sequence[Tensor],
                         px_per_m: Sequence[float],
                         valid: Optional[Sequence[Tensor]] = None) -> float:
    """Model error of the flow term: exact flow vs the joints' motion.

    The pose step compares the projected motion of a joint centre with the
    dense flow at its projection. Even an exact flow measures the motion of
    the visible surface there (a rotating limb's skin, a self-occluding
    arm), not of the joint centre inside the body, so the flow noise of the
    objective can never be smaller than this difference. Measured on
    VALIDATION clips with ground-truth flow, it becomes the objective's
    ``sigma_flow_min``: without it a per-clip estimate of a nearly exact
    flow is ~0 and the flow term outweighs everything else.

    Args:
        flow_at_joints (sequence[Tensor]): per clip (P, J, 2) ground-truth
            flow sampled at the true joints of frame t (px).
        joint_motion (sequence[Tensor]): per clip (P, J, 2) true motion of
            the projected joints (px).
        px_per_m (sequence[float]): per clip px per metre at the subject
            (:func:`subject_scale`).
        valid (sequence[Tensor], optional): per clip (P, J) bool.

    Returns:
        float: per-coordinate robust std in metres at the subject.
    """
    _check_clip_counts(flow_at_joints=flow_at_joints,
                       joint_motion=joint_motion, px_per_m=px_per_m)
    parts = []
    for i, (flow, motion) in enumerate(zip(flow_at_joints, joint_motion)):
        flow = torch.as_tensor(flow, dtype=torch.float64)
        motion = torch.as_tensor(motion, dtype=torch.float64)
        if flow.shape != motion.shape or flow.shape[-1:] != (2, ):
            raise ValueError(f'clip {i}: flow_at_joints and joint_motion '
                             f'must both be (P, J, 2), got '
                             f'{tuple(flow.shape)} and {tuple(motion.shape)}')
        scale = float(px_per_m[i])
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f'clip {i}: px_per_m must be positive, got '
                             f'{scale}')
        ok = torch.isfinite(flow - motion).all(-1)
        if valid is not None:
            ok = ok & torch.as_tensor(valid[i]).bool()
        parts.append(((flow - motion)[ok] / scale).flatten())
    values = torch.cat(parts)
    if not values.numel():
        raise ValueError('no valid joint in any clip')
    return float(values.abs().median() * _MAD_TO_STD)


def calibrate_detection_noise(
        keypoints_2d: Sequence[Tensor],
        gt_keypoints_2d: Sequence[Tensor],
        px_per_m: Sequence[float],
        scores: Optional[Sequence[Tensor]] = None) -> Dict[str, float]:
    """Error of a 2D detector and of its motion, from GT clips.

    A real detector's error persists over frames (a mislabelled or
    misplaced joint stays wrong), so neither its size nor its motion error
    follow from the white-noise estimate of :func:`detection_noise`. Use
    VALIDATION clips only.

    Args:
        keypoints_2d (sequence[Tensor]): per clip (T, J, 2) detections
            (px).
        gt_keypoints_2d (sequence[Tensor]): per clip (T, J, 2) true
            projections (px).
        px_per_m (sequence[float]): per clip px per metre at the subject.
        scores (sequence[Tensor], optional): per clip (T, J); joints with
            score 0 are left out.

    Returns:
        dict: per-coordinate robust stds in metres at the subject:
        ``sigma_2d`` (the error) and ``sigma_2d_motion`` (its
        frame-to-frame change).
    """
    _check_clip_counts(keypoints_2d=keypoints_2d,
                       gt_keypoints_2d=gt_keypoints_2d, px_per_m=px_per_m)
    err, motion = [], []
    for i, (kp, gt) in enumerate(zip(keypoints_2d, gt_keypoints_2d)):
        kp = torch.as_tensor(kp, dtype=torch.float64)
        gt = torch.as_tensor(gt, dtype=torch.float64)
        if kp.shape != gt.shape or kp.dim() != 3 or kp.shape[-1] != 2:
            raise ValueError(f'clip {i}: keypoints_2d and gt_keypoints_2d '
                             'must both be (T, J, 2), got '
                             f'{tuple(kp.shape)} and {tuple(gt.shape)}')
        scale = float(px_per_m[i])
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f'clip {i}: px_per_m must be positive, got '
                             f'{scale}')
        e = (kp - gt) / scale
        ok = torch.isfinite(e).all(-1)
        if scores is not None:
            ok = ok & (torch.as_tensor(scores[i]) > 0)
        err.append(e[ok].flatten())
        both = ok[1:] & ok[:-1]
        motion.append((e[1:] - e[:-1])[both].flatten())
    err, motion = torch.cat(err), torch.cat(motion)
    if not err.numel() or not motion.numel():
        raise ValueError('no detected joint in any clip')
    return dict(
        sigma_2d=float(err.abs().median() * _MAD_TO_STD),
        sigma_2d_motion=float(motion.abs().median() * _MAD_TO_STD))
