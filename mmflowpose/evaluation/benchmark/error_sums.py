"""Running sums of pose and flow errors for benchmark tables.

A benchmark adds the per-item errors of many clips under one key per table
cell and reads the mean at the end: sums and counts, never means of
means, so every joint (or pixel) weighs the same whatever the clip's
length. The errors themselves come from
:mod:`mmflowpose.evaluation.functional`.
"""
from typing import Dict

import numpy as np
import torch
from torch import Tensor

from mmflowpose.models.utils.skeleton import (H36M_EVAL_JOINT_NAMES,
                                              load_skeleton)
from ..functional import (acceleration_errors, epe_sum_count, mpjpe_errors,
                          p_mpjpe_errors, sparse_epe)

#: H36M-17 indices of the 14 joints pose errors are reported on
EVAL_IDS = load_skeleton('h36m').joint_ids(H36M_EVAL_JOINT_NAMES)
POSE_KEYS = ('mpjpe', 'p_mpjpe', 'accel')
FLOW_KEYS = ('epe', 'epe_person', 'epe_background', 'epe_joints')


class Sums:
    """Sum and count per key; :meth:`mean` is NaN for a key never added."""

    def __init__(self):
        self.data = {}

    def add(self, key: str, total, count) -> None:
        s = self.data.setdefault(key, [0.0, 0])
        s[0] += float(total)
        s[1] += int(count)

    def add_errors(self, key: str, errors) -> None:
        """Add every element of ``errors`` (any shape)."""
        errors = torch.as_tensor(errors)
        self.add(key, errors.sum(), errors.numel())

    def mean(self, key: str) -> float:
        total, count = self.data.get(key, (0.0, 0))
        return total / count if count else float('nan')


def flow_chw(flow) -> Tensor:
    """(P, H, W, 2) flow as stored in clips -> (P, 2, H, W) tensor."""
    return torch.as_tensor(np.ascontiguousarray(flow)).permute(0, 3, 1, 2)


def add_pose(sums: Sums, prefix: str, pred, gt) -> None:
    """Add MPJPE, P-MPJPE (root aligned) and acceleration error of one
    (T, J, 3) m prediction, in mm on :data:`EVAL_IDS`, under
    ``<prefix>/<metric>``."""
    pred = torch.as_tensor(np.asarray(pred), dtype=torch.float64) * 1000
    gt = torch.as_tensor(np.asarray(gt), dtype=torch.float64) * 1000
    sums.add_errors(f'{prefix}/mpjpe', mpjpe_errors(pred, gt, 0, EVAL_IDS))
    sums.add_errors(f'{prefix}/p_mpjpe', p_mpjpe_errors(pred, gt, EVAL_IDS))
    sums.add_errors(f'{prefix}/accel',
                    acceleration_errors(pred, gt, 0, EVAL_IDS))


def pose_row(sums: Sums, prefix: str) -> Dict[str, float]:
    """Means of :func:`add_pose`'s metrics under ``prefix``."""
    return {k: sums.mean(f'{prefix}/{k}') for k in POSE_KEYS}


def add_flow(sums: Sums, prefix: str, flow: Tensor, sample: dict) -> None:
    """Add the EPE (px) of a (P, 2, H, W) flow against a rendered clip's
    exact flow: over valid pixels, on the person, on the background, and
    at the true joints (``gt_joint_flow``)."""
    pred, gt = flow.float(), flow_chw(sample['gt_flow']).float()
    valid = torch.as_tensor(sample['gt_flow_valid']).bool()
    person = torch.as_tensor(sample['human_mask'][:-1]).bool()
    for key, mask in (('epe', valid), ('epe_person', valid & person),
                      ('epe_background', valid & ~person)):
        total, count = epe_sum_count(pred, gt, mask)
        sums.add(f'{prefix}/{key}', total.sum(), count.sum())
    errors, mask = sparse_epe(
        pred,
        torch.as_tensor(sample['gt_keypoints_2d'][:-1]).float(),
        torch.as_tensor(sample['gt_joint_flow']).float(),
        torch.as_tensor(sample['gt_joint_flow_valid']).bool())
    sums.add(f'{prefix}/epe_joints', errors[mask].sum(), mask.sum())


def flow_row(sums: Sums, prefix: str) -> Dict[str, float]:
    """Means of :func:`add_flow`'s metrics under ``prefix``."""
    return {k: sums.mean(f'{prefix}/{k}') for k in FLOW_KEYS}
