"""The pose step's solver: gradient steps on a batch of windows with an
early stop on the pose displacement.

The loss is a callable of the current pose and camera parameter, so the
solver knows nothing about cameras or loss terms.
"""
from typing import Callable, Dict, List, Tuple

import torch
from torch import Tensor


def solve(loss_fn: Callable[[Tensor, Tensor], Dict[str, Tensor]],
          pose: Tensor,
          cam: Tensor,
          lr: float,
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
        lr (float): Adam learning rate.
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
    pose = pose.clone().requires_grad_(True)
    cam = cam.clone().requires_grad_(True)
    optim = torch.optim.Adam([pose, cam], lr=lr)
    last = pose.detach().clone()
    step = 0
    while step < max_steps:
        optim.zero_grad(set_to_none=True)
        terms = loss_fn(pose, cam)
        if not terms:
            break
        loss = sum(terms.values())
        loss.backward()
        optim.step()
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
