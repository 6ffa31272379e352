"""The pose step's solver: gradient steps on a batch of windows with an
early stop on the pose displacement.

The loss is a callable of the current pose and camera parameter, so the
solver knows nothing about cameras or loss terms. The optimiser comes from
the OPTIMIZERS registry through mmengine's :class:`OptimWrapper`, built from
an ``optim_wrapper`` config as in a training config (any registered
optimiser, gradient clipping, ...).
"""
import copy
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper, build_optim_wrapper
from torch import Tensor

#: the paper's optimiser (Adam, lr 1e-3)
DEFAULT_OPTIM_WRAPPER = dict(optimizer=dict(type='Adam', lr=1e-3))


class Unknowns(nn.Module):
    """The optimised tensors as parameters, for the optimiser builder.

    Args:
        pose (Tensor): (N, T, J, 3) start pose (copied).
        cam (Tensor): (N, T, C) start camera parameter (copied).
    """

    def __init__(self, pose: Tensor, cam: Tensor):
        super().__init__()
        self.pose = nn.Parameter(pose.detach().clone())
        self.cam = nn.Parameter(cam.detach().clone())


def check_optim_wrapper(cfg: Dict) -> Dict:
    """A deep copy of ``cfg`` after checking it names an optimiser."""
    if not isinstance(cfg, dict) or not isinstance(
            cfg.get('optimizer'), dict) or 'type' not in cfg['optimizer']:
        raise ValueError('optim_wrapper must be a dict with optimizer=dict('
                         f"type=..., lr=...), got {cfg!r}")
    return copy.deepcopy(dict(cfg))


def build_solver_optim(unknowns: nn.Module, cfg: Dict) -> OptimWrapper:
    """Build the :class:`OptimWrapper` of ``unknowns`` from ``cfg``."""
    return build_optim_wrapper(unknowns, copy.deepcopy(cfg))


def solve(loss_fn: Callable[[Tensor, Tensor], Dict[str, Tensor]],
          pose: Tensor,
          cam: Tensor,
          optim_wrapper: Dict,
          max_steps: int,
          min_steps: int = 0,
          check_every: int = 10,
          stop_tol: float = 0.0,
          group: int = 0,
          history: List[Dict] = None) -> Tuple[Tensor, Tensor, int]:
    """Minimise ``sum(loss_fn(pose, cam).values())`` over pose and cam.

    Early stop: every ``check_every`` steps, after ``min_steps``, stop when
    the mean absolute pose displacement per step of EVERY window is below
    ``stop_tol`` (the pose, not the loss: camera creep keeps the loss
    moving).

    Args:
        loss_fn (callable): ``(pose, cam) -> dict`` of scalar terms; an
            empty dict stops at once.
        pose (Tensor): (N, T, J, 3) start pose (copied).
        cam (Tensor): (N, T, C) start camera parameter (copied).
        optim_wrapper (dict): mmengine optimiser-wrapper config, e.g.
            :data:`DEFAULT_OPTIM_WRAPPER`.
        max_steps (int): most steps.
        min_steps (int): no early stop before this step. Defaults to 0.
        check_every (int): steps between checks and history entries.
            Defaults to 10.
        stop_tol (float): displacement per step below which to stop; 0
            never stops early. Defaults to 0.0.
        group (int): window group id written into the history. Defaults
            to 0.
        history (list, optional): receives one dict (group, step, loss,
            pose_step and the terms) per check.

    Returns:
        tuple: optimised pose, camera parameter (detached) and steps run.
    """
    unknowns = Unknowns(pose, cam)
    optim = build_solver_optim(unknowns, optim_wrapper)
    pose, cam = unknowns.pose, unknowns.cam
    last = pose.detach().clone()
    step = 0
    while step < max_steps:
        terms = loss_fn(pose, cam)
        if not terms:
            break
        loss = sum(terms.values())
        # backward, step and zero_grad (no accumulation: loss unscaled)
        optim.update_params(loss)
        step += 1
        if step % check_every == 0 or step == max_steps:
            with torch.no_grad():
                moved = (pose - last).abs().mean(dim=(1, 2, 3))
                moved = moved.max().item() / check_every
                last = pose.detach().clone()
            if history is not None:
                entry = dict(group=group, step=step, loss=loss.item(),
                             pose_step=moved)
                entry.update({k: v.item() for k, v in terms.items()})
                history.append(entry)
            if step >= min_steps and moved < stop_tol:
                break
    return pose.detach(), cam.detach(), step
