"""Left/right labels of 2D detections carried along the optical flow.

A single-frame detector can take a back view for a front view and give
every left joint the right one's name (BlazePose does this in 13% of the
frames of our rendered validation clips, 25% of the test clips'). The
joints' positions are still right, their names are mirrored, and a lifter
turns that into a person facing the wrong way. The flow says where each
detected point went: a frame whose detections sit where the previous
frame's joints moved to *under the mirrored names* was mirrored relative
to it. A two-state
Viterbi pass (as detected / mirrored per frame) picks the labelling of
the whole clip that agrees best with the flow, with a prior cost per
mirrored frame so that, without evidence, detections keep their names.
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from .keypoint_box import bbox_diagonal
from .sampling import sample_at_points


def _person_size(keypoints: Tensor, scores: Tensor) -> Tensor:
    """(T,) diagonal of the confident joints' box per frame (px), the
    clip's median where a frame has fewer than two confident joints."""
    seen = scores > 0
    diag = bbox_diagonal(keypoints, seen)
    ok = seen.sum(1) >= 2
    # no boolean indexing or Python test: nothing waits for the device
    fallback = torch.where(ok, diag, torch.nan).nanmedian().nan_to_num(1.0)
    return torch.where(ok, diag, fallback).clamp_min(1.0)


def track_points(points: Tensor, flow: Tensor,
                 steps: int) -> Tuple[Tensor, Tensor]:
    """Carry points of every frame ``steps`` frames on along the flow.

    Args:
        points (Tensor): (T, J, 2) px points, one set per frame.
        flow (Tensor): (T-1, 2, H, W) px forward flow.
        steps (int): frames to carry each set on, >= 1.

    Returns:
        tuple[Tensor, Tensor]: where the points of frames 0..T-1-steps are
        ``steps`` frames later (T-steps, J, 2) px, and (T-steps, J) bool,
        False where a point left the image on the way.
    """
    count = points.shape[0] - steps
    moved = points[:count]
    inside = torch.ones(moved.shape[:2], dtype=torch.bool,
                        device=points.device)
    for k in range(steps):
        motion, seen = sample_at_points(flow[k:k + count], moved)
        moved, inside = moved + motion, inside & seen
    return moved, inside


def mirror_costs(keypoints: Tensor,
                 scores: Tensor,
                 flow: Tensor,
                 flip_indices: Sequence[int],
                 sigma: float = 0.05,
                 horizon: int = 1) -> Tuple[Tensor, Tensor]:
    """How well each frame's detections continue earlier frames' joints
    carried along the flow, with the same names and with left and right
    exchanged.

    The lateral joints (those whose flip index differs from their own) of
    frame t are carried k = 1..``horizon`` frames on along the flow
    (:func:`track_points`) and compared with frame t+k's joint of the same
    name (``same``) or of the mirrored name (``mirror``) with the robust
    cost ``log(1 + (d / (sigma * sqrt(k) * size))^2)``, ``size`` being the
    person's box diagonal in frame t. Each joint counts with its scores in
    both frames; points that leave the image count zero. Looking several
    frames ahead lets the flow tell a turn (left and right cross over)
    from a detector's label jump (they bounce back), which one frame of
    motion, small next to the left-right distance, cannot.

    Args:
        keypoints (Tensor): (T, J, 2) px detections.
        scores (Tensor): (T, J) confidences in [0, 1]; 0 = not detected.
        flow (Tensor): (T-1, 2, H, W) px forward flow between consecutive
            frames, channel 0 = x.
        flip_indices (Sequence[int]): J ids, the joint each joint becomes
            when left and right are exchanged (mmpose's ``flip_indices``).
        sigma (float): the flow's end-point noise over one frame relative
            to the person's size. Defaults to 0.05.
        horizon (int): frames looked ahead, >= 1. Defaults to 1.

    Returns:
        tuple[Tensor, Tensor]: ``same`` and ``mirror`` costs, each
        (horizon, T-1): entry [k-1, t] compares frames t and t+k (0 where
        t+k is past the clip).
    """
    num_frames, num_joints = keypoints.shape[:2]
    if flow.shape[0] != num_frames - 1 or flow.shape[1] != 2:
        raise ValueError(f'flow must be ({num_frames - 1}, 2, H, W) for '
                         f'{num_frames} frames, got {tuple(flow.shape)}')
    flip = torch.as_tensor(list(flip_indices), device=keypoints.device)
    if flip.shape != (num_joints, ):
        raise ValueError(f'flip_indices must have {num_joints} entries, got '
                         f'{len(flip)}')
    if int(horizon) < 1:
        raise ValueError(f'horizon must be >= 1 frame, got {horizon}')
    lateral = flip != torch.arange(num_joints, device=flip.device)
    size = _person_size(keypoints, scores)
    same = keypoints.new_zeros(int(horizon), num_frames - 1)
    mirror = torch.zeros_like(same)
    for k in range(1, min(int(horizon), num_frames - 1) + 1):
        moved, inside = track_points(keypoints, flow, k)
        scale = sigma * k**0.5 * size[:len(moved), None]
        weight = scores[:-k] * inside * lateral

        def cost(target: Tensor, target_scores: Tensor) -> Tensor:
            dist = (moved - target).norm(dim=-1) / scale
            return (weight * target_scores *
                    torch.log1p(dist.square())).sum(1)

        same[k - 1, :len(moved)] = cost(keypoints[k:], scores[k:])
        mirror[k - 1, :len(moved)] = cost(keypoints[k:, flip],
                                          scores[k:, flip])
    return same, mirror


def track_left_right(keypoints: Tensor,
                     scores: Tensor,
                     flow: Tensor,
                     flip_indices: Sequence[int],
                     sigma: float = 0.05,
                     mirror_prior: float = 2.0,
                     horizon: int = 1) -> Tensor:
    """The per-frame left/right labelling most consistent with the flow.

    Minimises ``sum_t mirror_prior * m_t + sum_{t, k} c_{t,k}(m_t xor
    m_{t+k})`` over ``m`` in {0, 1}^T, k = 1..``horizon``, where ``c`` are
    :func:`mirror_costs` (frame t+k's names continue frame t's under the
    same names when both frames are mirrored alike, under exchanged names
    otherwise), exactly, by dynamic programming over the last ``horizon``
    frames' labels (2^horizon states).

    Args:
        keypoints, scores, flow, flip_indices, sigma, horizon: see
            :func:`mirror_costs`.
        mirror_prior (float): cost of declaring one frame mirrored (the
            negative log prior odds of a mirrored frame), in the units of
            one joint's robust cost. Defaults to 2.0.

    Returns:
        Tensor: (T,) bool, True where the frame's names should be mirrored.
    """
    same, mirror = mirror_costs(keypoints, scores, flow, flip_indices, sigma,
                                horizon)
    num_frames, horizon = keypoints.shape[0], same.shape[0]
    device, prior = keypoints.device, float(mirror_prior)
    # a state holds the labels of the last `horizon` frames: bit 0 the
    # current frame, bit k the frame k back; bits before frame 0 carry no
    # cost. Each state has two predecessors, differing in the bit dropped.
    states = torch.arange(2**horizon, device=device)
    label = states & 1
    preds = (states[:, None] >> 1) | (
        torch.arange(2, device=device) << (horizon - 1))
    back = torch.arange(1, horizon + 1, device=device)
    pred_bits = (preds[..., None] >> (back - 1)) & 1  # m_{t-k}: (S, 2, K)
    differs = pred_bits != label[:, None, None]
    total = label.to(keypoints.dtype) * prior
    came_from = []
    for t in range(1, num_frames):
        frame = t - back
        valid = (frame >= 0).to(keypoints.dtype)
        cols = frame.clamp_min(0)
        pair = torch.where(differs, mirror[back - 1, cols],
                           same[back - 1, cols])
        cand = total[preds] + (pair * valid).sum(-1) + \
            label[:, None].to(total.dtype) * prior
        total, arg = cand.min(1)
        came_from.append(preds.gather(1, arg[:, None])[:, 0])
    # walk back from the best last state without leaving the device
    state = total.argmin()
    labels = [state & 1]
    for pred in reversed(came_from):
        state = pred[state]
        labels.append(state & 1)
    return torch.stack(labels[::-1]).bool()


def apply_mirror(values: Tensor, mirrored: Tensor,
                 flip_indices: Sequence[int]) -> Tensor:
    """Exchange left and right names of ``values`` (T, J, ...) in the
    frames where ``mirrored`` (T,) is True."""
    flip = torch.as_tensor(list(flip_indices), device=values.device)
    shape = (-1, ) + (1, ) * (values.ndim - 1)
    return torch.where(mirrored.view(shape), values[:, flip], values)
