"""What the flow can tell the pose step, measured at the true joints: the
error of several estimates of joint motion, the exact flow's own error
there, and the static-error floor of an initial pose."""
from typing import Tuple

import numpy as np
import torch
from torch import Tensor

from .detections import sanitize
from .error_sums import Sums, flow_chw

MOTION_KEYS = ('network', 'dis', 'zero', 'detections', 'initial_projection')


def joint_motion_errors(sums: Sums,
                        prefix: str,
                        sample: dict,
                        flows: dict,
                        init: np.ndarray,
                        detector: str = 'white') -> None:
    """Add the error (px) of joint motion t -> t+1 at the true joints of
    frame t under ``<prefix>/<source>`` for each of :data:`MOTION_KEYS`.

    Sources: the network's and DIS flow sampled at the true joints
    (``flows[name][0]`` (P, 2, H, W) px), zero motion, the detections'
    own motion, and the motion of the initial pose ``init`` (T, J, 3)
    projected by a weak-perspective camera fitted to the detections.
    Only joints the exact flow marks valid (not occluded) count.
    """
    from mmflowpose.models.utils.projection import (
        fit_weak_perspective, project_weak_perspective)
    from mmflowpose.models.utils.sampling import sample_at_points
    gt_kp = torch.as_tensor(sample['gt_keypoints_2d']).float()
    truth = torch.as_tensor(sample['gt_joint_flow']).float()
    valid = torch.as_tensor(sample['gt_joint_flow_valid']).bool()
    kp, scores = sanitize(sample, detector)
    kp = torch.from_numpy(kp)
    cam = fit_weak_perspective(
        torch.from_numpy(init)[None], kp[None],
        torch.from_numpy((scores > 0).astype(np.float32))[None])
    proj = project_weak_perspective(torch.from_numpy(init)[None], cam)[0]
    motions = dict(
        network=sample_at_points(flows['network'][0], gt_kp[:-1])[0],
        dis=sample_at_points(flows['dis'][0].float(), gt_kp[:-1])[0],
        zero=torch.zeros_like(truth),
        detections=kp[1:] - kp[:-1],
        initial_projection=proj[1:] - proj[:-1])
    for name, motion in motions.items():
        err = torch.linalg.vector_norm(motion - truth, dim=-1)
        sums.add(f'{prefix}/{name}', err[valid].sum(), valid.sum())


def static_floor(init: np.ndarray, gt) -> np.ndarray:
    """The initial pose with every time-varying error removed: the
    root-relative truth plus the initial pose's mean error over the clip.
    Both (T, J, 3); returns (T, J, 3)."""
    init = init - init[:, :1]
    gt = np.asarray(gt) - np.asarray(gt)[:, :1]
    return gt + (init - gt).mean(0, keepdims=True)


def flow_floor_data(sample: dict) -> Tuple[Tensor, Tensor, float, Tensor]:
    """A rendered clip's exact flow at the true joints against their true
    motion: ``(flow (P, J, 2) px, motion (P, J, 2) px, px per metre at the
    subject, valid (P, J))`` - the input of
    :func:`~mmflowpose.models.pose_optim.noise_levels.calibrate_flow_floor`.
    """
    from mmflowpose.models.pose_optim.noise_levels import subject_scale
    from mmflowpose.models.utils.sampling import sample_at_points
    gt_kp = torch.as_tensor(sample['gt_keypoints_2d']).float()
    flow = sample_at_points(flow_chw(sample['gt_flow']).float(),
                            gt_kp[:-1])[0]
    scale = subject_scale(
        gt_kp[None],
        torch.as_tensor(np.asarray(sample['gt_pose3d'], np.float32))[None])
    return (flow, torch.as_tensor(sample['gt_joint_flow']).float(),
            float(scale), torch.as_tensor(sample['gt_joint_flow_valid']))
