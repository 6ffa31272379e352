"""The accuracy benchmark's models and what is tuned on validation clips:
the two pose-step presets, the trained networks, and per setup (initial
estimator + detector) the smoothers, noise levels, anchor annealing and
flow noise floor. Nothing here looks at a test clip."""
import glob
import os.path as osp
import time

import numpy as np
import torch

from mmflowpose.datasets.synthetic.benchmark_clips import FPS
from mmflowpose.evaluation.baseline_tuning import tune_baselines
from mmflowpose.evaluation.benchmark import (Sums, add_pose, detector_noise,
                                             run_cycles, sanitize,
                                             visible_at)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
LIFTER_CFG = osp.join(ROOT, 'configs/training/videopose3d-small_mocap.py')
RAFT_CFG = osp.join(ROOT, 'configs/training/raft-small_synthetic.py')
REFINER_BASE = osp.join(ROOT, 'configs/_base_/models/flowpose_refiner.py')
CHECKPOINTS = osp.join(ROOT, 'checkpoints')


def find_trained(folder=CHECKPOINTS):
    """Trained checkpoints under ``folder`` (``*.pth``), or {}."""
    found = {}
    for path in sorted(
            glob.glob(osp.join(folder, '**', '*.pth'), recursive=True)):
        name = osp.basename(path).lower()
        if 'raft' in name or 'flow' in name:
            found.setdefault('flow', path)
        elif 'lift' in name or 'videopose' in name or 'pose' in name:
            found.setdefault('lifter', path)
    return found


def paper_optimizer_cfg(settings):
    """The ``paper`` preset: the refiner base config's fixed weights."""
    from mmengine import Config
    base = Config.fromfile(REFINER_BASE).model.to_dict()
    return dict(base['pose_optimizer'], max_steps=settings['max_steps'])


def noise_aware_cfg(settings, calibration, drop=None, flow_floor=None):
    """The ``noise_aware`` preset with 3D noise levels from validation
    and, when given, the flow noise floor (metres at the subject) from
    :func:`flow_floor`."""
    from mmflowpose.models.pose_optim.noise_aware_objective import TERMS
    noise = dict(
        sigma_3d=calibration['sigma_3d'],
        sigma_vel=calibration['sigma_vel'],
        sigma_acc=calibration['sigma_acc'])
    if flow_floor is not None:
        noise['sigma_flow_min'] = float(flow_floor)
    # a real detector: its error and motion error calibrated on
    # validation clips (the per-clip estimate assumes white noise)
    for key in ('sigma_2d', 'sigma_2d_motion'):
        if key in calibration:
            noise[key] = float(calibration[key])
    if drop:
        noise['terms'] = tuple(t for t in TERMS if t != drop)
    return dict(
        type='PoseOptimizer',
        weighting='noise_aware',
        noise=noise,
        max_steps=settings['max_steps'])


def build(cfg):
    from mmflowpose.registry import MODELS
    return MODELS.build(cfg)


def flow_nets(checkpoint):
    """FlowFinetuner-wrapped RAFT-S (trained weights when available)."""
    from mmflowpose.apis import init_model
    from mmflowpose.models.flow_tuning import FlowFinetuner
    torch.manual_seed(0)  # the same random weights for an untrained RAFT
    net = init_model(RAFT_CFG, checkpoint, scope='mmflow')
    return FlowFinetuner(net)


def lifter(checkpoint):
    return build(
        dict(type='MMPoseLifter', config=LIFTER_CFG, checkpoint=checkpoint))


def initial_pose(estimator, sample, detector='white'):
    """(T, J, 3) root-relative initial 3D pose (numpy, metres)."""
    kp, scores = sanitize(sample, detector)
    if estimator is None:
        pose = np.asarray(sample['pose3d_init'], np.float32)
    else:
        pose = np.asarray(
            estimator(kp, scores, tuple(sample['image_size'])), np.float32)
    return pose - pose[:, :1]


class Setup:
    """One initial estimator with its validation-tuned parameters."""

    def __init__(self, name, estimator, description, val_clips, settings,
                 detector='white', flow_floor=None):
        from mmflowpose.models.pose_optim import calibrate_pose_noise
        self.name, self.estimator = name, estimator
        self.description, self.detector = description, detector
        self.flow_floor = flow_floor
        # the label step needs a lifter to lift the relabelled detections
        labels = settings.get('label_tracking')
        self.labels = None if estimator is None or labels is None else \
            dict(labels)
        val = [(initial_pose(estimator, it['data_samples'], detector),
                np.asarray(it['data_samples']['gt_pose3d'], np.float32))
               for it in val_clips]
        self.chosen, self.smoothers = tune_baselines(
            val, settings['grids'], FPS)
        self.calibration = calibrate_pose_noise(
            [torch.from_numpy(p) for p, _ in val],
            [torch.from_numpy(g) for _, g in val])
        if detector != 'white':
            self.calibration.update(detector_noise(val_clips, detector))
        self.anneal, self.anneal_val = choose_anneal(
            estimator, val_clips, settings, self.calibration, detector)
        self.aware = build(
            noise_aware_cfg(settings, self.calibration,
                            flow_floor=flow_floor))
        # the same step with the objective's default flow floor, to show
        # what the calibrated floor changes
        self.aware_no_floor = build(
            noise_aware_cfg(settings, self.calibration))
        self.sums, self.noise, self.terms = Sums(), Sums(), {}
        self.seconds = 0.0


def choose_anneal(estimator, val_clips, settings, calibration,
                  detector='white'):
    """Anchor annealing picked on validation clips (no network flow on
    them, so the pose step runs without L_opt), all clips solved as one
    batch."""
    opt = build(noise_aware_cfg(settings, calibration, 'opt'))
    samples = [it['data_samples'] for it in val_clips]
    init = torch.stack([
        torch.from_numpy(initial_pose(estimator, s, detector))
        for s in samples
    ])
    kp, sc = zip(*(sanitize(s, detector) for s in samples))
    kp = torch.from_numpy(np.stack(kp))
    sc = torch.from_numpy(np.stack(sc))
    scores = {}
    for anneal in settings['anneal_grid']:
        outs = run_cycles(opt, init, kp, sc, None,
                          tuple(samples[0]['image_size']),
                          settings['num_cycles'], anneal)
        sums = Sums()
        for pose, s in zip(outs[-1]['pose'], samples):
            add_pose(sums, 'v', pose, s['gt_pose3d'])
        scores[anneal] = sums.mean('v/mpjpe')
    best = min(scores, key=scores.get)
    return best, scores


def choose_floor(setup, val_clips, floor, settings, log):
    """Pick the flow noise floor on validation clips: the candidate
    (the objective's default 2 mm, the exact flow's robust model error,
    its RMS) with the lowest MPJPE of the headline's noise-aware step
    (one cycle) following the EXACT flow (occluded joints masked), on the
    first validation clips. Writes ``chosen_m`` and ``val_mpjpe`` into
    ``floor`` and rebuilds nothing (the caller does)."""
    flows = floor.pop('flows', [])
    if not flows:
        return None
    t0 = time.time()
    samples = [c['data_samples'] for c in val_clips[:len(flows)]]
    init = torch.stack([
        torch.from_numpy(initial_pose(setup.estimator, s, setup.detector))
        for s in samples
    ])
    kp, sc = zip(*(sanitize(s, setup.detector) for s in samples))
    kp, sc = torch.from_numpy(np.stack(kp)), torch.from_numpy(np.stack(sc))
    fwd = torch.stack([f for f, _ in flows])
    pair = (sc[:, 1:] * sc[:, :-1]).clamp(0, 1)
    weights = torch.stack([
        pair[i] * visible_at(v, kp[i, :-1]) for i, (_, v) in enumerate(flows)
    ])
    candidates = dict(default=0.002, robust=floor['floor_m'],
                      rms=floor['rms_m'])
    scores = {}
    for name, value in candidates.items():
        opt = build(noise_aware_cfg(settings, setup.calibration,
                                    flow_floor=value))
        out = run_cycles(opt, init, kp, sc, fwd,
                         tuple(samples[0]['image_size']), 1, 1.0,
                         weights=weights)[0]
        sums = Sums()
        for pose, s in zip(out['pose'], samples):
            add_pose(sums, 'v', pose, s['gt_pose3d'])
        scores[name] = sums.mean('v/mpjpe')
    best = min(scores, key=scores.get)
    floor.update(chosen=best, chosen_m=candidates[best],
                 candidates_m=candidates, val_mpjpe=scores,
                 val_clips=len(flows))
    log(f'flow floor chosen on {len(flows)} validation clips: {best} '
        f'({candidates[best] * 1000:.2f} mm), MPJPE with exact flow '
        + ', '.join(f'{k} {v:.2f}' for k, v in scores.items()) +
        f' ({time.time() - t0:.0f}s)')
    return candidates[best]
