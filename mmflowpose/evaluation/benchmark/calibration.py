"""Noise levels of the noise-aware pose step calibrated on rendered
validation clips (never on the clips being evaluated): a real detector's
2D error and the flow's noise floor at the joints."""
from typing import Optional, Sequence

import numpy as np
import torch

from .detections import sanitize


def detector_noise(val_clips: Sequence[dict], detector: str) -> dict:
    """A real detector's 2D error and motion error (metres at the
    subject) on rendered validation clips, by
    :func:`~mmflowpose.models.pose_optim.noise_levels.calibrate_detection_noise`.

    Args:
        val_clips (Sequence[dict]): ``dict(name, data_samples)`` with the
            detector's fields, ``gt_keypoints_2d`` (T, J, 2) px and
            ``gt_pose3d`` (T, J, 3) m.
        detector (str): a name of
            :data:`~mmflowpose.evaluation.benchmark.DETECTORS`.

    Returns:
        dict: ``sigma_2d`` and ``sigma_2d_motion`` (m).
    """
    from mmflowpose.models.pose_optim.noise_levels import (
        calibrate_detection_noise, subject_scale)
    kps, gts, scales, scores = [], [], [], []
    for clip in val_clips:
        sample = clip['data_samples']
        if 'gt_keypoints_2d' not in sample:
            raise ValueError(f'validation clip {clip["name"]} has no '
                             'gt_keypoints_2d: a real detector needs '
                             'rendered validation clips (render_val=True)')
        kp, sc = sanitize(sample, detector)
        gt = torch.as_tensor(np.asarray(sample['gt_keypoints_2d']))
        scales.append(
            float(
                subject_scale(
                    gt[None].float(),
                    torch.as_tensor(np.asarray(sample['gt_pose3d'],
                                               np.float32))[None])))
        kps.append(torch.from_numpy(kp))
        gts.append(gt)
        scores.append(torch.from_numpy(sc))
    return calibrate_detection_noise(kps, gts, scales, scores)


def flow_floor_stats(parts: Sequence[tuple],
                     found: Optional[Sequence[float]] = None) -> dict:
    """The flow noise floor from per-clip :func:`flow_floor_data` tuples
    ``(flow, motion, px per metre, valid)``.

    Returns:
        dict: ``floor_m`` (robust std per coordinate, metres at the
        subject, :func:`calibrate_flow_floor`), ``floor_px`` (at the mean
        scale), ``rms_m``, ``px_per_m``, ``source`` and
        ``mediapipe_found`` (mean of ``found``, the share of frames a
        detector found the person in, or None).
    """
    from mmflowpose.models.pose_optim.noise_levels import \
        calibrate_flow_floor
    flow, motion, scale, valid = zip(*parts)
    floor = calibrate_flow_floor(flow, motion, scale, valid)
    err = torch.cat([((f - m)[v] / s).flatten()
                     for f, m, s, v in zip(flow, motion, scale, valid)])
    px = float(np.mean(scale))
    return dict(
        floor_m=floor,
        floor_px=floor * px,
        rms_m=float(err.pow(2).mean().sqrt()),
        px_per_m=px,
        source='exact flow at the true joints minus their true motion on '
        'the rendered validation clips (robust std per coordinate)',
        mediapipe_found=float(np.mean(found)) if found else None)
