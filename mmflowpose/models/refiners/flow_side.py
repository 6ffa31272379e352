"""The flow side of a cycle: the networks' flow, their unguarded fine-tune
towards the sketch, and the guarded flow step, on working-size frames.

Every function takes the refiner's :class:`FlowFinetuner` list and returns
tensors on the networks' device: flows (P, 2, h, w) px, channel 0 = x.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ..flow_tuning import guarded_flow_step
from .clip_flow import clip_flow
from .working_frames import crop_frames, whole_frames
from .working_resolution import person_box


def predict_flow(finetuners: Sequence, frames: Tensor) -> List[Tensor]:
    """Each network's flow (P, 2, h, w) px for (T, 3, h, w) frames.

    Raises:
        FloatingPointError: a network predicted NaN/inf flow (e.g. NaN
            weights, or diverged fine-tuning); the clip's refinement stops
            instead of propagating NaN into the pose.
    """
    flows = []
    for tuner in finetuners:
        tuner.net.eval()
        # RAFT: each frame encoded once, not once per pair it is in
        flows.append(clip_flow(tuner.net, frames,
                               tuner.forward_chunk(*frames.shape[-2:])))
    for index, flow in enumerate(flows):
        bad = ~torch.isfinite(flow)
        if bad.any():
            pairs = bad.flatten(1).any(1).nonzero().flatten().tolist()
            raise FloatingPointError(
                f'flow network {index} predicted {int(bad.sum())} '
                f'non-finite values (frame pairs {pairs}); refinement of '
                'this clip stopped (check the network weights)')
    return flows


def backward_flow(finetuners: Sequence, frames: Tensor) -> Tensor:
    """Averaged backward flow (P, 2, h, w) px (pair p: frame p+1 -> p)."""
    # the reversed clip's pairs are the backward pairs in reverse order
    # (each frame still encoded once)
    flows = predict_flow(finetuners, whole_frames(frames).flip(0))
    return torch.stack([f.flip(0) for f in flows]).mean(0)


def sketch_pairs(sketch_head, joints: Tensor, scores: Tensor, size,
                 base_flow: Tensor, chunk: int = 4) -> Tuple[Tensor, Tensor]:
    """The sketch (P, 2, h, w) px and its mask (P, 1, h, w) of a clip's
    pairs, drawn ``chunk`` pairs at a time.

    The head treats each pair on its own, so the result is the one of a
    single call; but painting keeps several (P, h * w) temporaries, which
    would make the stage's memory grow with the window's length.

    Args:
        sketch_head (PoseSketchFlowHead): the painter.
        joints (Tensor): (T, J, 2) working-size joints, px.
        scores (Tensor): (T, J) confidences.
        size (tuple[int, int]): (h, w) working size.
        base_flow (Tensor): (P, 2, h, w) network flow, px.
        chunk (int): pairs per call. Defaults to 4.
    """
    num = base_flow.shape[0]
    sketch = base_flow.new_empty(base_flow.shape)
    mask = torch.empty_like(base_flow[:, :1], dtype=torch.bool)
    for i in range(0, num, chunk):
        j = min(i + chunk, num)
        sketch[i:j], mask[i:j] = sketch_head(
            joints[i:j], joints[i + 1:j + 1], size,
            scores=(scores[i:j], scores[i + 1:j + 1]),
            base_flow=base_flow[i:j])
    return sketch, mask


def finetune_targets(sketch_head, flows: List[Tensor], sketch: Tensor,
                     mask: Tensor, size, crop: Optional[dict]):
    """Each network's target: its flow with the sketch drawn over it, on
    the person ``crop`` box only (:func:`person_box` arguments) or on the
    whole working ``size`` (h, w).

    Composing is per pixel, so the box's targets are the box of the whole
    frames' ones; once they exist the caller can drop the sketch.

    Returns:
        tuple | None: ``(box, targets)``, box (y0, y1, x0, x1) and one
        (P, 2, y1 - y0, x1 - x0) px target per network; None when no joint
        is confident (the sketch is empty: nothing to fine-tune towards).
    """
    box = (0, size[0], 0, size[1])
    if crop is not None:
        box = person_box(mask, **crop)
        if box is None:
            return None
    inside = (Ellipsis, slice(box[0], box[1]), slice(box[2], box[3]))
    return box, [
        sketch_head.compose(own[inside], sketch[inside],
                            mask[inside]).contiguous() for own in flows
    ]


def finetune(finetuners: Sequence, frames: Tensor, box,
             targets: List[Tensor]) -> None:
    """Fine-tune each network on the ``box`` of (T, 3, h, w) working
    ``frames`` (a tensor or :class:`WorkingFrames`) towards its target of
    :func:`finetune_targets`."""
    part = crop_frames(frames, box)
    for tuner, target in zip(finetuners, targets):
        with torch.enable_grad():
            tuner.finetune(part[:-1], part[1:], target)


def guarded_step(finetuners: Sequence, sketch_head, frames: Tensor,
                 joints: Tensor, scores: Tensor, pair_flows: List,
                 step_kwargs: dict, guard, crop: Optional[dict]) -> Dict:
    """:func:`guarded_flow_step` for each network, on the person ``crop``
    when set (outside it the flow is unchanged).

    Args:
        frames (Tensor): (T, 3, h, w) working frames, 0-255.
        joints (Tensor): (T, J, 2) working-size joints, px.
        scores (Tensor): (T, J) confidences.
        pair_flows (list): per network, (forward, backward) working flows
            (P, 2, h, w), or None (predicted here).
        step_kwargs (dict): :func:`guarded_flow_step` keyword arguments.
        guard (FlowGuard, optional): the gate of the sketch.
        crop (dict, optional): :func:`person_box` arguments.

    Returns:
        dict: ``pair_flows`` after the step, ``mask`` (P, 1, h, w) the
        first network's gated sketch, ``accepted`` and ``reasons`` per
        network.
    """
    frames = whole_frames(frames)
    box = (0, frames.shape[-2], 0, frames.shape[-1])
    if crop is not None:
        body = sketch_head.paint(joints[:-1], joints[1:],
                                 tuple(frames.shape[-2:]),
                                 (scores[:-1], scores[1:]))[1]
        box = person_box(body, **crop) or box
    y0, y1, x0, x1 = box
    part = frames[..., y0:y1, x0:x1]
    shift = joints.new_tensor([x0, y0])
    out = dict(pair_flows=[], accepted=[], reasons=[], mask=None)
    for tuner, flows in zip(finetuners, pair_flows):
        if flows is None:
            flows = (tuner.predict(frames[:-1], frames[1:]),
                     tuner.predict(frames[1:], frames[:-1]))
        step = guarded_flow_step(
            tuner, sketch_head, part, joints - shift, scores, guard=guard,
            flows=tuple(f[..., y0:y1, x0:x1] for f in flows), **step_kwargs)
        out['pair_flows'].append(
            _paste(flows, (step['flow'], step['backward_flow']), box))
        out['accepted'].append(bool(step['accepted']))
        out['reasons'].append(step['reason'])
        if out['mask'] is None:
            mask = torch.zeros_like(flows[0][:, :1], dtype=torch.bool)
            mask[..., y0:y1, x0:x1] = step['sketch_mask']
            out['mask'] = mask
    return out


def _paste(full: Tuple[Tensor, ...], parts: Tuple[Tensor, ...],
           box) -> Tuple[Tensor, ...]:
    """Copies of the ``full`` flows with ``parts`` written into ``box``."""
    y0, y1, x0, x1 = box
    pasted = []
    for whole, part in zip(full, parts):
        whole = whole.clone()
        whole[..., y0:y1, x0:x1] = part.to(whole)
        pasted.append(whole)
    return tuple(pasted)
