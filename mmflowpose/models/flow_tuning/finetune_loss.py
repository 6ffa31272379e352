"""The pixel losses of flow fine-tuning: the paper's smooth-L1 over
weighted pixels (sketch and kept background apart), or any mmflow loss from
config (e.g. mmflow's ``SequenceLoss``)."""
import copy
import difflib
from typing import Optional, Union

import torch.nn.functional as F
from torch import Tensor, nn


def weighted_smooth_l1(pred: Tensor,
                       target: Tensor,
                       weight: Optional[Tensor] = None,
                       beta: float = 1.0,
                       total: Optional[Union[Tensor, float]] = None) -> Tensor:
    """Mean smooth-L1 flow error over weighted pixels.

    .. math::
        L = \\frac{\\sum_p w_p \\sum_c \\mathrm{sl1}(f_{pc} - g_{pc})}
                  {\\max(\\sum_p w_p, \\epsilon)}

    Args:
        pred (Tensor): (N, 2, H, W) flow in px.
        target (Tensor): (N, 2, H, W) target flow in px.
        weight (Tensor, optional): (N, 1, H, W) or (N, H, W) pixel weights
            (bool or float). Defaults to None (all ones).
        beta (float): smooth-L1 transition in px. Defaults to 1.0.
        total (Tensor | float, optional): the denominator, when ``pred``
            is one part of a larger batch (the batch's weight sum, or its
            pixel count without ``weight``): the parts' losses then add up
            to the batch's. Defaults to None (this batch's own).

    Returns:
        Tensor: scalar loss.
    """
    per_pixel = F.smooth_l1_loss(
        pred, target, reduction='none', beta=beta).sum(1)  # (N, H, W)
    if weight is None:
        return per_pixel.mean() if total is None else per_pixel.sum() / total
    weight = weight.to(per_pixel.dtype).reshape(per_pixel.shape)
    if total is None:
        total = weight.sum()
    elif not isinstance(total, Tensor):
        total = per_pixel.new_tensor(float(total))
    return (per_pixel * weight).sum() / total.clamp(min=1e-6)


def sketch_loss(flow: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                mask: Optional[Tensor] = None,
                beta: float = 1.0,
                distill_weight: float = 1.0,
                distill_beta: float = 0.01,
                totals: Optional[tuple] = None) -> Tensor:
    """The paper's fine-tuning loss of one prediction.

    Without ``mask`` one :func:`weighted_smooth_l1` over all (weighted)
    pixels. With a sketch ``mask`` two terms, each averaged over its own
    pixels: the sketch is a few percent of the image and would drown in one
    global mean. The smooth-L1 (``beta``) on the sketch pixels, plus
    ``distill_weight`` times a nearly L1 one (``distill_beta``) on the
    others, where the target is the network's own initial flow.

    Args:
        flow (Tensor): (N, 2, H, W) flow in px.
        target (Tensor): (N, 2, H, W) target flow in px.
        weight (Tensor, optional): (N, 1, H, W) pixel weights.
        mask (Tensor, optional): (N, 1, H, W) bool sketch pixels.
        beta (float): smooth-L1 transition on the sketch, px.
        distill_weight (float): weight of the term off the sketch.
        distill_beta (float): its smooth-L1 transition, px.
        totals (tuple, optional): the two terms' denominators when the
            batch is one pass of a larger step (see ``loss_totals``).

    Returns:
        Tensor: scalar loss.
    """
    totals = totals or (None, None)
    if mask is None:
        return weighted_smooth_l1(flow, target, weight, beta, totals[0])
    mask = mask.to(flow.dtype)
    if weight is not None:
        weight = weight.to(flow.dtype).reshape(mask.shape)
    inner = mask if weight is None else mask * weight
    outer = 1 - mask if weight is None else (1 - mask) * weight
    loss = weighted_smooth_l1(flow, target, inner, beta, totals[0])
    if distill_weight > 0:
        loss = loss + distill_weight * weighted_smooth_l1(
            flow, target, outer, distill_beta, totals[1])
    return loss


def build_flow_loss(cfg: dict) -> nn.Module:
    """A flow loss from mmflow's MODELS registry, e.g.
    ``dict(type='SequenceLoss', gamma=0.8)``.

    It is called as mmflow's RAFT decoder calls its loss: ``loss(flows,
    target, valid)`` with every prediction (one per RAFT iteration), the
    (N, 2, H, W) target in px and an (N, H, W) validity mask or None.

    Raises:
        ValueError: ``cfg`` is not a dict with a ``type`` that mmflow
            registers; the message names the closest names.
    """
    from mmengine.registry import DefaultScope
    from mmflow.registry import MODELS as FLOW_MODELS
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError('loss must be a dict with a `type` from mmflow\'s '
                         f'MODELS registry, got {cfg!r}')
    cfg = copy.deepcopy(dict(cfg))
    with DefaultScope.overwrite_default_scope('mmflow'):
        if isinstance(cfg['type'], str) and \
                FLOW_MODELS.get(cfg['type']) is None:
            close = difflib.get_close_matches(
                cfg['type'], list(FLOW_MODELS.module_dict), n=3)
            raise ValueError(
                f'loss type {cfg["type"]!r} is not in mmflow\'s MODELS '
                f'registry' + (f'; did you mean {", ".join(close)}?'
                               if close else ''))
        return FLOW_MODELS.build(cfg)
