"""The refiner's pose step run on fixed flows for benchmark rows: warm
started cycles, and several flow variants of one clip solved as one
batch."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .error_sums import Sums

# the noise-aware rows solved together as one batch (one clip each):
# (row, flow, L_opt weights: 'fb' forward-backward x scores, 'scores'
# scores only, 'visible' scores x the exact flow's validity (not occluded
# at t+1) at the detection: the ground truth's counterpart of the
# forward-backward check, 'none' no L_opt)
AWARE_BATCH = [
    ('network', 'network', 'fb'),
    ('zero', 'zero', 'fb'),
    ('gt', 'gt', 'visible'),
    ('dis', 'dis', 'fb'),
    ('no_opt', 'network', 'none'),
    ('no_fb_confidence', 'network', 'scores'),
    ('gt_no_visibility', 'gt', 'scores'),
    ('labels', 'network', 'fb'),
    ('labels_zero', 'zero', 'fb'),
    ('labels_dis', 'dis', 'fb'),
]
# rows that start from the detections relabelled along a flow and lifted
# again (the label step, ``label_rows.py``): row -> the flow it relabels
# along (its own); the other rows start from the detections as detected
LABEL_ROWS = dict(labels='network', labels_zero='zero', labels_dis='dis')
# rows run again with the objective's default flow floor (headline only)
NO_FLOOR_BATCH = [
    ('network', 'network', 'fb'),
    ('gt', 'gt', 'visible'),
]


def visible_at(valid: Tensor, points: Tensor) -> Tensor:
    """(P, J) float: the (P, H, W) validity mask at the nearest pixel of
    (P, J, 2) px points (x, y); 0 outside the image."""
    P, H, W = valid.shape
    xy = torch.round(points).long()
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < W) & (xy[..., 1] >= 0) & \
        (xy[..., 1] < H)
    x, y = xy[..., 0].clamp(0, W - 1), xy[..., 1].clamp(0, H - 1)
    pair = torch.arange(P)[:, None].expand_as(x)
    return (valid[pair, y, x] & inside).float()


def run_cycles(opt,
               init: Tensor,
               kp: Tensor,
               scores: Tensor,
               flow: Optional[Tensor],
               image_size: Tuple[int, int],
               cycles: int,
               anneal: float,
               backward: Optional[Tensor] = None,
               weights: Optional[Tensor] = None) -> List[dict]:
    """The refiner's pose-step schedule with a fixed flow: each cycle
    starts from the previous result (pose and camera), its anchors scaled
    by ``anneal ** cycle``.

    Args:
        opt: a built ``PoseOptimizer``.
        init (Tensor): (B, T, J, 3) m initial poses.
        kp (Tensor): (B, T, J, 2) px detections; scores (B, T, J).
        flow (Tensor, optional): (B, P, 2, H, W) px forward flow.
        image_size (tuple[int, int]): (H, W).
        cycles (int): pose steps to run.
        anneal (float): per-cycle factor of the anchor weights.
        backward (Tensor, optional): (B, P, 2, H, W) px backward flow.
        weights (Tensor, optional): (B, P, J) L_opt weights.

    Returns:
        list[dict]: the optimiser's output of every cycle.
    """
    outs, prev = [], None
    for c in range(cycles):
        with torch.enable_grad():
            out = opt.optimize(
                init,
                kp,
                scores,
                flow=flow,
                image_size=image_size,
                backward_flow=backward,
                flow_weights=weights,
                camera=None if prev is None else prev['camera'],
                start_pose=None if prev is None else prev['pose'],
                anchor_scale=anneal**c)
        outs.append(out)
        prev = out
    return outs


def aware_batch(opt,
                init: Tensor,
                kp: Tensor,
                scores: Tensor,
                flows: dict,
                size: Tuple[int, int],
                rows: Optional[Sequence[tuple]] = None):
    """Batched inputs of noise-aware rows (default :data:`AWARE_BATCH`).

    One clip (``init`` (1, T, J, 3), ``kp`` (1, T, J, 2), ``scores``
    (1, T, J)) is repeated once per row (or given per row, leading axis
    the number of rows); each row follows its flow of
    ``flows`` (name -> (forward, backward or None) (P, 2, H, W) px, plus
    ``gt_valid`` (P, H, W)) with its kind of L_opt weights, starting from
    the objective's forward-backward confidences.

    Returns:
        tuple: ``(init, kp, scores, forward flow, weights)`` batched by
        row, and, for :data:`AWARE_BATCH` only, the noise levels the
        objective estimated on the clip (px; else an empty dict).
    """
    rows = AWARE_BATCH if rows is None else rows
    fwd = torch.stack([flows[r[1]][0] for r in rows])
    bwd = torch.stack([
        flows[r[1]][1] if flows[r[1]][1] is not None else torch.zeros_like(
            flows[r[1]][0]) for r in rows
    ])
    V = len(rows)
    init, kp, scores = (x.expand(V, *x.shape[1:]) for x in (init, kp,
                                                            scores))
    data, *_ = opt._check_inputs(init, kp, scores, fwd, None, None, size,
                                 bwd, None, None)
    data = opt.noise_objective.prepare(opt._init_camera(data))
    weights = data['flow_weights'].clone()
    pair_scores = (scores[:, 1:] * scores[:, :-1]).clamp(0, 1)
    for i, kind in enumerate(r[2] for r in rows):
        if kind == 'scores':
            weights[i] = pair_scores[i]
        elif kind == 'visible':
            weights[i] = pair_scores[i] * visible_at(flows['gt_valid'],
                                                     kp[i, :-1])
        elif kind == 'none':
            weights[i] = 0
    names = [r[0] for r in rows]
    if names != [r[0] for r in AWARE_BATCH]:
        return (init, kp, scores, fwd, weights), {}
    levels = dict(
        sigma_2d_px=float(data['sigma_2d'][0]),
        sigma_flow_px=float(data['sigma_flow'][0]),
        sigma_flow_dis_px=float(data['sigma_flow'][3]),
        sigma_flow_zero_px=float(data['sigma_flow'][1]),
        sigma_flow_gt_px=float(data['sigma_flow'][2]),
        px_per_m=float(data['px_per_m'][0]),
        flow_confidence=float(data['flow_weights'][0].mean()))
    return (init, kp, scores, fwd, weights), levels


def record_terms(terms: Dict[str, Sums], row: str, out: dict) -> None:
    """Add a pose step's last loss terms and its Adam steps under
    ``terms[row]``."""
    if not out['history']:
        return
    rec = terms.setdefault(row, Sums())
    for key, value in out['history'][-1].items():
        if key.startswith('loss_'):
            rec.add(key[5:], value, 1)
    rec.add('steps', sum(out['steps']), 1)
