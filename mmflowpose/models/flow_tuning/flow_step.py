"""The flow half of a cycle: sketch -> fine-tune -> guard (or roll back).

:func:`guarded_flow_step` draws the pose sketch over a network's own flow
(gated where the network is trustworthy), fine-tunes the network towards
it with the background distilled to its initial flow, and keeps the new
weights only when a :class:`FlowGuard` sees the self-supervised checks
improve. It reports how far the network got towards the sketch.
"""
import math
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from mmflowpose.models.utils.checks import check_shape
from .flow_checks import fb_inconsistent, fuse_flows
from .flow_guard import FlowGuard


def _epe_on(flow: Tensor, target: Tensor, mask: Tensor) -> float:
    count = float(mask.sum())
    if not count:
        return float('nan')
    err = (flow - target.to(flow)).norm(dim=1, keepdim=True)
    return float((err * mask.to(err.dtype)).sum()) / count


def _halo(body: Tensor, margin: float) -> Tensor:
    """``body`` grown by ``margin`` x its bounding-box diagonal (px): the
    pixels the guard leaves out of the background (limb outlines the thin
    capsules do not cover)."""
    rows = body.any(-1)[:, 0]
    cols = body.any(-2)[:, 0]
    if not bool(rows.any()) or margin <= 0:
        return body
    height = (rows.float().cumsum(-1) > 0).sum(-1) - \
        (rows.flip(-1).float().cumsum(-1) == 0).sum(-1)
    width = (cols.float().cumsum(-1) > 0).sum(-1) - \
        (cols.flip(-1).float().cumsum(-1) == 0).sum(-1)
    diag = float(torch.sqrt(height.float()**2 + width.float()**2).max())
    grow = int(math.ceil(margin * diag))
    return F.max_pool2d(body.float(), 2 * grow + 1, 1, grow) > 0


def _sketch(head, frame1, frame2, joints_a, joints_b, scores, fwd, bwd):
    """Target, gated mask and ungated body mask for one direction."""
    size = tuple(frame1.shape[-2:])
    sketch, body = head.paint(joints_a, joints_b, size, scores, fwd)
    mask = head.gate(sketch, body, fwd, (frame1, frame2), bwd)
    return head.compose(fwd, sketch, mask), mask, body


def guarded_flow_step(tuner,
                      head,
                      frames: Tensor,
                      joints: Tensor,
                      scores: Optional[Tensor] = None,
                      guard: Optional[FlowGuard] = None,
                      bidirectional: bool = True,
                      flows: Optional[tuple] = None,
                      guard_margin: float = 0.1,
                      fuse: bool = True,
                      fuse_window: int = 1,
                      fuse_margin: float = 0.5,
                      fuse_fb: tuple = (0.01, 0.5)) -> Dict:
    """Fine-tune ``tuner``'s network towards the pose sketch, guarded.

    Args:
        tuner (FlowFinetuner): the network and its fine-tuning settings;
            with ``carry_over=False`` the step starts from the pretrained
            weights.
        head (PoseSketchFlowHead): draws and gates the sketch.
        frames (Tensor): (T, 3, H, W) RGB frames, 0-255.
        joints (Tensor): (T, J, 2) px joints the sketch is drawn from.
        scores (Tensor, optional): (T, J) joint confidences. Defaults to
            None (all confident).
        guard (FlowGuard, optional): the acceptance test; None accepts
            every step. Defaults to None.
        bidirectional (bool): also fine-tune on the reversed pairs with the
            reversed sketch, so the backward flow the guard checks against
            learns the same motion. Defaults to True.
        flows (tuple[Tensor, Tensor], optional): the network's current
            forward and backward flows (P, 2, H, W) px, if already known.
        guard_margin (float): the guard's background excludes pixels
            within this fraction of the body's bounding-box diagonal of the
            painted body (limb outlines are wider than the capsules).
            Defaults to 0.1; it also sets the region the fused output
            may change.
        fuse (bool): the step's output flow is the fine-tuned network's
            only inside the body's halo, where the fine-tuned forward and
            backward flows pass the forward-backward check (a flow that
            leaked from a limb onto the background does not: the backward
            flow there still follows the background) and where it warps
            frame t+1 onto frame t better than the initial flow
            (:func:`fuse_flows`); elsewhere it is the initial flow. False
            outputs the network's flow as is. Defaults to True.
        fuse_window (int): window of that warping test, px: 1, since a
            wider window lets a limb's error decide for the background
            pixels next to it. Defaults to 1.
        fuse_margin (float): the fall of the warping error (0-255 colour
            units) a pixel needs to take the fine-tuned flow. Defaults to
            0.5.
        fuse_fb (tuple[float, float]): ``alpha`` and ``beta`` of the
            fusion's forward-backward check. Defaults to (0.01, 0.5).

    Returns:
        dict: ``flow`` / ``backward_flow`` (P, 2, H, W) px after the step
        (fused, see ``fuse``; the initial ones if rolled back),
        ``flow_before``, ``fused_mask`` (P, 1, H, W) pixels that took the
        fine-tuned flow, ``accepted``
        (bool), ``reason`` (str), ``sketch_mask`` and ``body_mask``
        (P, 1, H, W) bool, ``target`` (P, 2, H, W), ``target_epe_before``
        / ``target_epe_after`` (mean px distance of the network's flow to
        the sketch on its pixels, measured before rolling back),
        ``flow_tuned`` (the fine-tuned flow, kept or not; absent when
        nothing was painted),
        ``background_drift`` (mean px change off the body), ``guard`` (the
        guard's scores) and the fine-tune's ``steps`` and ``losses``.
    """
    check_shape(frames, ['T', 3, 'H', 'W'], 'frames')
    check_shape(joints, [frames.shape[0], 'J', 2], 'joints')
    frames = frames.float()
    frame1, frame2 = frames[:-1], frames[1:]
    pair_scores = None
    if scores is not None:
        check_shape(scores, list(joints.shape[:2]), 'scores')
        pair_scores = (scores[:-1], scores[1:])
    if not tuner.carry_over:
        tuner.restore()
    if flows is None:
        flows = (tuner.predict(frame1, frame2), tuner.predict(frame2, frame1))
    fwd0, bwd0 = (f.float() for f in flows)
    joints = joints.to(fwd0)
    target, mask, body = _sketch(head, frame1, frame2, joints[:-1],
                                 joints[1:], pair_scores, fwd0, bwd0)
    back_scores = None if pair_scores is None else pair_scores[::-1]
    target_b, mask_b, body_b = _sketch(head, frame2, frame1, joints[1:],
                                       joints[:-1], back_scores, bwd0, fwd0)
    unchanged = torch.zeros_like(mask)
    out = dict(flow_before=fwd0, sketch_mask=mask, body_mask=body,
               fused_mask=unchanged,
               target=target, target_epe_before=_epe_on(fwd0, target, mask),
               steps=0, losses=[], guard=None)
    if not bool(mask.any()):
        return dict(out, flow=fwd0, backward_flow=bwd0, accepted=False,
                    reason='no sketch pixels passed the gate; unchanged',
                    target_epe_after=out['target_epe_before'],
                    background_drift=0.)
    tune1, tune2, tune_target, tune_mask = frame1, frame2, target, mask
    if bidirectional:
        tune1 = torch.cat([frame1, frame2])
        tune2 = torch.cat([frame2, frame1])
        tune_target = torch.cat([target, target_b])
        tune_mask = torch.cat([mask, mask_b])
    state = tuner.state()
    with torch.enable_grad():
        log = tuner.finetune(tune1, tune2, tune_target, mask=tune_mask)
    fwd1, bwd1 = tuner.predict(frame1, frame2), tuner.predict(frame2, frame1)
    out.update(steps=log['steps'], losses=log['losses'], flow_tuned=fwd1,
               target_epe_after=_epe_on(fwd1, target, mask),
               background_drift=_epe_on(fwd1, fwd0, ~body))
    halo = _halo(body, guard_margin)
    flow, backward, taken = fwd1, bwd1, ~unchanged
    if fuse:
        halo_b = _halo(body_b, guard_margin)
        flow, taken = fuse_flows(
            frame1, frame2, fwd0, fwd1,
            halo & ~fb_inconsistent(fwd1, bwd1, *fuse_fb), fuse_window,
            fuse_margin)
        backward, _ = fuse_flows(
            frame2, frame1, bwd0, bwd1,
            halo_b & ~fb_inconsistent(bwd1, fwd1, *fuse_fb), fuse_window,
            fuse_margin)
    accepted, reason = True, 'accepted: no guard'
    if guard is not None:
        # The person is judged on the raw fine-tuned network (unbiased by
        # the fusion's choice), the background on the flow handed on.
        check = guard(frame1, frame2, (fwd0, bwd0), (fwd1, bwd1), body,
                      ignore=halo & ~body, after_background=(flow, backward))
        out['guard'] = check
        accepted, reason = check['accepted'], check['reason']
    out.update(accepted=accepted, reason=reason)
    if not accepted:
        tuner.rollback(state)
        return dict(out, flow=fwd0, backward_flow=bwd0)
    return dict(out, flow=flow, backward_flow=backward, fused_mask=taken)
