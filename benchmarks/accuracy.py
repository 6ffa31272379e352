"""Accuracy of FlowPoseRefiner on rendered clips with exact ground truth.

Usage: ``python benchmarks/accuracy.py [--quick] [--out-dir DIR]``.
Writes ``results.json``, ``results.md``, ``cycles.png`` and
``baselines.png`` to ``--out-dir`` (default ``docs/en/results``); the last
printed line is ``refined_vs_initial_mpjpe=<ratio>``.

Data: :class:`SyntheticClipDataset` clips (96x128 px, 30 fps) of the mocap
motions that no training config uses (held out from the small lifter and
RAFT of ``configs/training/``; read from those configs), with the noise
model of ``mmflowpose/datasets/estimate_noise.py`` as the initial 3D
estimate and 2D detections. Smoothing baselines are tuned on separate
validation clips of the training motions, never on the test clips.

What is reported (pose: 14 H36M evaluation joints, root aligned, mm;
flow: px, EPE over non-occluded pixels):

- initial vs refined MPJPE / P-MPJPE / acceleration error and EPE overall,
  on the person and off it, plus EPE at the joints;
- the paper's ablation (L_3D; +L_2D; +L_temp w/o bone; +bone; +L_opt), pose
  only: one pose step on the initial network flow, no flow fine-tuning;
- MPJPE and EPE after 0..N cycles for the method, with ground-truth flow
  in the pose step and with the oracle sketch (ground-truth joints);
- per cycle, the EPE of the sketch's displacements against the EPE of the
  base flow on the same pixels (the sketch can only help where it wins);
- Gaussian, Savitzky-Golay and One-Euro smoothing of the initial poses;
- the seed's per-frame loop (``per_frame_loop``: frame t optimised alone
  with frame t-1 fixed, the same objective and inputs as the refiner's
  pose step, bone lengths tied to the previous frame), and its wall time
  against the refiner's batched pose step on the same clips.

Loss weights come from ``configs/_base_/models/flowpose_refiner.py`` (the
paper's); the sketch squares are scaled to the image (31 px at ~1000 px ->
3 px at 128 px). Nothing is tuned on the test clips.
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import re
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mmflowpose.evaluation.baselines import (  # noqa: E402
    gaussian_smooth, one_euro_smooth, savgol_smooth)
from mmflowpose.evaluation.functional import (  # noqa: E402
    acceleration_errors, epe_sum_count, mpjpe_errors, p_mpjpe_errors,
    sparse_epe)
from mmflowpose.models.utils.skeleton import (  # noqa: E402
    H36M_EVAL_JOINT_NAMES, load_skeleton)

MOCAP_ROOT = osp.join(
    os.environ.get('MMFLOWPOSE_FIXTURES',
                   osp.join(osp.dirname(ROOT), 'shared', 'fixtures')), 'mocap')
LIFTER_CFG = osp.join(ROOT, 'configs/training/videopose3d-small_mocap.py')
RAFT_CFG = osp.join(ROOT, 'configs/training/raft-small_synthetic.py')
REFINER_BASE = osp.join(ROOT, 'configs/_base_/models/flowpose_refiner.py')
CHECKPOINTS = osp.join(ROOT, 'checkpoints')
FPS = 30.0

FULL = dict(
    num_frames=20,
    image_size=(96, 128),
    test_clips_per_motion=3,
    val_clips=6,
    num_cycles=3,
    max_steps=1500,
    passes=3,
    square_size=3,
    grids=dict(
        gaussian=[dict(sigma=s) for s in (0.5, 1, 1.5, 2, 3, 4, 6)],
        savgol=[
            dict(window=w, order=o) for w in (5, 7, 9, 11, 15, 21)
            for o in (1, 2, 3) if o < w
        ],
        one_euro=[
            dict(mincutoff=m, beta=b) for m in (0.1, 0.3, 0.5, 1, 2, 4)
            for b in (0, 0.05, 0.5, 5)
        ]))
QUICK = dict(
    num_frames=8,
    image_size=(64, 96),
    test_clips_per_motion=1,
    test_motions=1,
    val_clips=1,
    num_cycles=1,
    max_steps=60,
    passes=1,
    square_size=3,
    grids=dict(
        gaussian=[dict(sigma=s) for s in (1, 2)],
        savgol=[dict(window=5, order=2)],
        one_euro=[dict(mincutoff=1, beta=0)]))

ABLATION = ['L_3D', '+L_2D', '+L_temp w/o bone', '+bone', '+L_opt']
VARIANTS = dict(
    network=dict(pose_flow='network', sketch_source='refined'),
    gt_flow=dict(pose_flow='ground_truth', sketch_source='refined'),
    oracle_sketch=dict(pose_flow='network', sketch_source='ground_truth'))


# ---------------------------------------------------------------- helpers
def atomic_write(path, write):
    """Write through a temp file in the same folder, then rename."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp')
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def mocap_files():
    """Relative paths of the mocap clips under MOCAP_ROOT (sorted)."""
    files = glob.glob(osp.join(MOCAP_ROOT, '**', '*.amc'), recursive=True)
    files += glob.glob(osp.join(MOCAP_ROOT, '**', '*.bvh'), recursive=True)
    return sorted(osp.relpath(f, MOCAP_ROOT) for f in files)


def split_motions():
    """(held-out test motions, training motions, source of the split).

    Held out = mocap files in no training split of the lifter or RAFT
    training configs; if those cannot be read, every motion is a test
    motion and validation uses procedural motions.
    """
    files = mocap_files()
    try:
        from mmengine import Config
        train = set()
        for path in (LIFTER_CFG, RAFT_CFG):
            text = open(path).read()
            train.update(re.findall(r"'([\w./-]+\.(?:amc|bvh))'", text))
            cfg = Config.fromfile(path)
            train.update(c for c in cfg.get('train_clips', []))
            cache = cfg.get('flow_cache', {})
            train.update(cache.get('splits', {}).get('train', []))
            held = set(cfg.get('val_clips', [])) | set(
                cache.get('splits', {}).get('val', []))
            train -= held
    except Exception as err:  # noqa: BLE001 - fall back, reported in meta
        return files + ['procedural:walk', 'procedural:jumping_jacks'], \
            ['procedural:walk', 'procedural:jumping_jacks'], \
            f'all motions (training configs unreadable: {err})'
    test = [f for f in files if f not in train]
    val = [f for f in files if f in train]
    return test, val, 'held out by configs/training/*.py'


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


def motion_step(motion):
    if motion.startswith('procedural'):
        return 1
    from mmflowpose.datasets.mocap import load_mocap
    return max(1, int(round(load_mocap(motion)['fps'] / FPS)))


def make_clips(motions, per_motion, settings, seed, max_motions=None):
    """Clips from each motion at evenly spaced start frames."""
    from mmflowpose.datasets import SyntheticClipDataset
    from mmflowpose.datasets.mocap import load_mocap
    clips = []
    for m_id, motion in enumerate(motions[:max_motions]):
        path = motion if motion.startswith('procedural') else osp.join(
            MOCAP_ROOT, motion)
        step = motion_step(path)
        need = settings['num_frames'] * step
        total = need if motion.startswith('procedural') else len(
            load_mocap(path)['joints'])
        if total < need:
            continue
        starts = np.linspace(0, total - need, per_motion).astype(int)
        for c_id, start in enumerate(starts):
            dataset = SyntheticClipDataset(
                motions=[path],
                num_clips=1,
                num_frames=settings['num_frames'],
                image_size=settings['image_size'],
                frame_step=step,
                start_frame=int(start),
                seed=seed + 100 * m_id + c_id)
            item = dataset[0]
            item['name'] = f'{motion}@{int(start)}'
            clips.append(item)
    return clips


def sanitize(sample):
    """Detections as the refiner sees them: NaN -> 0 with score 0."""
    kp = np.asarray(sample['keypoints_2d'], np.float32)
    scores = np.asarray(sample['keypoint_scores'], np.float32)
    missing = ~np.isfinite(kp).all(-1)
    return np.nan_to_num(kp), np.where(missing, 0, scores).astype(np.float32)


class Sums:
    """Sums and counts per key (never means of means)."""

    def __init__(self):
        self.data = {}

    def add(self, key, total, count):
        s = self.data.setdefault(key, [0.0, 0])
        s[0] += float(total)
        s[1] += int(count)

    def add_errors(self, key, errors):
        errors = torch.as_tensor(errors)
        self.add(key, errors.sum(), errors.numel())

    def mean(self, key):
        total, count = self.data.get(key, (0.0, 0))
        return total / count if count else float('nan')


EVAL_IDS = load_skeleton('h36m').joint_ids(H36M_EVAL_JOINT_NAMES)


def add_pose(sums, prefix, pred, gt):
    pred = torch.as_tensor(np.asarray(pred), dtype=torch.float64) * 1000
    gt = torch.as_tensor(np.asarray(gt), dtype=torch.float64) * 1000
    sums.add_errors(f'{prefix}/mpjpe', mpjpe_errors(pred, gt, 0, EVAL_IDS))
    sums.add_errors(f'{prefix}/p_mpjpe', p_mpjpe_errors(pred, gt, EVAL_IDS))
    sums.add_errors(f'{prefix}/accel',
                    acceleration_errors(pred, gt, 0, EVAL_IDS))


def pose_row(sums, prefix):
    return {
        k: sums.mean(f'{prefix}/{k}')
        for k in ('mpjpe', 'p_mpjpe', 'accel')
    }


def chw(flow):
    return torch.as_tensor(np.ascontiguousarray(flow)).permute(0, 3, 1, 2)


def add_flow(sums, prefix, flow, sample):
    pred, gt = chw(flow).float(), chw(sample['gt_flow']).float()
    valid = torch.as_tensor(sample['gt_flow_valid']).bool()
    human = torch.as_tensor(sample['human_mask'][:-1]).bool()
    for key, mask in (('epe', valid), ('epe_human', valid & human),
                      ('epe_background', valid & ~human)):
        total, count = epe_sum_count(pred, gt, mask)
        sums.add(f'{prefix}/{key}', total.sum(), count.sum())
    errors, mask = sparse_epe(
        pred,
        torch.as_tensor(sample['gt_keypoints_2d'][:-1]).float(),
        torch.as_tensor(sample['gt_joint_flow']).float(),
        torch.as_tensor(sample['gt_joint_flow_valid']).bool())
    sums.add(f'{prefix}/epe_joints', errors[mask].sum(), mask.sum())


def flow_row(sums, prefix):
    return {
        k: sums.mean(f'{prefix}/{k}')
        for k in ('epe', 'epe_human', 'epe_background', 'epe_joints')
    }


# ------------------------------------------------------------- the models
def refiner_config(settings, flow_checkpoint=None, lifter_checkpoint=None):
    from mmengine import Config
    base = Config.fromfile(REFINER_BASE).model.to_dict()
    flow = dict(config=RAFT_CFG)
    if flow_checkpoint:
        flow['checkpoint'] = flow_checkpoint
    pose_optimizer = dict(base['pose_optimizer'])
    pose_optimizer['max_steps'] = settings['max_steps']
    sketch = dict(base['sketch_head'], square_size=settings['square_size'])
    tuner = dict(base['flow_finetuner'], passes=settings['passes'])
    estimators = []
    if lifter_checkpoint:
        estimators = [
            dict(
                type='MMPoseLifter',
                config=LIFTER_CFG,
                checkpoint=lifter_checkpoint)
        ]
    return dict(
        type='FlowPoseRefiner',
        num_cycles=settings['num_cycles'],
        flow_networks=[flow],
        pose_estimators=estimators,
        pose_optimizer=pose_optimizer,
        sketch_head=sketch,
        flow_finetuner=tuner)


def build_refiner(cfg):
    from mmflowpose.registry import MODELS
    torch.manual_seed(0)  # the same random weights for an untrained RAFT
    refiner = MODELS.build(cfg)
    refiner.eval()
    return refiner


def ablation_optimizers(cfg):
    """PoseOptimizers of the ablation rows, each adding one term."""
    from mmflowpose.registry import MODELS
    full = dict(cfg['pose_optimizer'])
    no_bone = dict(full['temporal_loss'], bone_weight=0.0)
    rows = {
        'L_3D':
        dict(flow_loss=None, reprojection_loss=None, temporal_loss=None),
        '+L_2D': dict(flow_loss=None, temporal_loss=None),
        '+L_temp w/o bone': dict(flow_loss=None, temporal_loss=no_bone),
        '+bone': dict(flow_loss=None),
        '+L_opt': dict(),
    }
    return {
        name: MODELS.build(dict(full, **over))
        for name, over in rows.items()
    }


def initial_pose(refiner, item):
    sample = item['data_samples']
    kp, scores = sanitize(sample)
    return refiner.estimate_pose(kp, scores, sample['image_size'],
                                 sample.get('pose3d_init'))


# ------------------------------------------------------------ experiments
def run_ablation(optimizers, item, pose_init, flow_init, sums, terms):
    sample = item['data_samples']
    kp, scores = sanitize(sample)
    args = (torch.from_numpy(pose_init)[None], torch.from_numpy(kp)[None],
            torch.from_numpy(scores)[None])
    flows = {
        '': chw(flow_init)[None].float(),
        ' (GT flow)': chw(sample['gt_flow'])[None].float()
    }
    for name, opt in optimizers.items():
        for suffix, flow in flows.items():
            if suffix and name != '+L_opt':
                continue
            with torch.enable_grad():
                out = opt.optimize(
                    *args, flow=flow, image_size=tuple(sample['image_size']))
            add_pose(sums, f'ablation/{name}{suffix}', out['pose'][0],
                     sample['gt_pose3d'])
            if out['history']:
                first, last = out['history'][0], out['history'][-1]
                rec = terms.setdefault(name + suffix, Sums())
                for key in first:
                    if key.startswith('loss_'):
                        rec.add(f'first/{key}', first[key], 1)
                        rec.add(f'last/{key}', last[key], 1)
                rec.add('steps', sum(out['steps']), 1)


def per_frame_loop(optimizer, init_pose, keypoints_2d, scores, flow,
                   image_size):
    """The seed's per-frame loop, made fair (a baseline, pose only).

    Frame t's joints and camera are optimised alone with frame t-1 fixed at
    its already optimised value, through the optimiser's own
    :meth:`PoseOptimizer.objective` on the 2-frame window (t-1, t): the
    same terms, weights, camera model and dense flow input as the batched
    refiner. Terms that are means over frames (L_3D, L_2D, bones) are made
    frame t's alone: frame t-1's detections get score 0 (L_2D is a masked
    mean), and L_3D / bones, whose frame t-1 part is exactly 0 (its target
    is its own optimised pose / bone lengths), are multiplied by the window
    length. Bone lengths are tied to the PREVIOUS optimised frame's (the
    seed's scheme; frame 0 to its own initial lengths). Adam with the
    optimiser's lr, up to ``max_steps`` per frame, early stop on the pose
    exactly as :meth:`PoseOptimizer._solve` does.

    Args:
        optimizer (PoseOptimizer): the refiner's pose optimiser.
        init_pose (Tensor): (B, T, J, 3) initial joints (metres).
        keypoints_2d (Tensor): (B, T, J, 2) detections (px).
        scores (Tensor): (B, T, J) detection scores (0 = missing).
        flow (Tensor): (B, T-1, 2, H, W) forward flow (px).
        image_size (tuple[int, int]): (H, W) of the frames.

    Returns:
        dict: ``pose`` (B, T, J, 3) and ``steps`` (list of T Adam step
        counts).
    """
    from mmflowpose.models.losses import reference_bone_lengths
    opt = optimizer
    data, B, T, J = opt._check_inputs(init_pose, keypoints_2d, scores, flow,
                                      None, None, image_size, None, None,
                                      None)
    data = opt._init_camera(data)
    bones = opt.skeleton.bone_index(init_pose.device)
    pairs = ('flow', 'joint_flow', 'backward_flow', 'backward_joint_flow',
             'flow_weights')
    poses, cams, steps = [], [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(opt.seed)
        for t in range(T):
            lo = max(t - 1, 0)
            window = {}
            for key, value in data.items():
                if key in ('cam_scale', 'flow_scale'):
                    window[key] = value
                elif key in pairs:
                    window[key] = value[:, lo:t]
                else:
                    window[key] = value[:, lo:t + 1]
            if t:
                window['init_pose'] = torch.cat(
                    [poses[-1], data['init_pose'][:, t:t + 1]], 1)
                window['scores'] = torch.cat([
                    torch.zeros_like(data['scores'][:, :1]),
                    data['scores'][:, t:t + 1]
                ], 1)
                window['ref_lengths'] = reference_bone_lengths(
                    poses[-1], bones)
            else:
                window['ref_lengths'] = reference_bone_lengths(
                    data['init_pose'][:, :1], bones)
            size = t + 1 - lo
            pose = data['init_pose'][:, t:t + 1].clone().requires_grad_(True)
            if opt.camera == 'weak':
                cam = torch.zeros_like(data['cam0'][:, t:t + 1])
            else:
                cam = data['translation'][:, t:t + 1].clone()
            cam.requires_grad_(True)
            adam = torch.optim.Adam([pose, cam], lr=opt.lr)
            last = pose.detach().clone()
            step = 0
            while step < opt.max_steps:
                adam.zero_grad(set_to_none=True)
                if t:
                    full_pose = torch.cat([poses[-1], pose], 1)
                    full_cam = torch.cat([cams[-1], cam], 1)
                else:
                    full_pose, full_cam = pose, cam
                terms = opt.objective(full_pose, full_cam, window)
                if not terms:
                    break
                for key in ('loss_3d', 'loss_temp_bones'):
                    if key in terms:
                        terms[key] = terms[key] * size
                sum(terms.values()).backward()
                adam.step()
                step += 1
                if step % opt.check_every == 0:
                    with torch.no_grad():
                        moved = (pose - last).abs().mean().item()
                        moved /= opt.check_every
                        last = pose.detach().clone()
                    if step >= opt.min_steps and moved < opt.stop_tol:
                        break
            poses.append(pose.detach())
            cams.append(cam.detach())
            steps.append(step)
    return dict(pose=torch.cat(poses, 1), steps=steps)


def run_per_frame_loop(refiner, item, pose_init, flow_init, sums):
    """Per-frame loop vs the refiner's (batched) pose step, same inputs.

    Both get the initial network flow, the same detections and camera
    model; each is timed (wall clock, same threads) on the same clip.
    """
    sample = item['data_samples']
    kp, scores = sanitize(sample)
    args = (torch.from_numpy(pose_init)[None], torch.from_numpy(kp)[None],
            torch.from_numpy(scores)[None], chw(flow_init)[None].float(),
            tuple(sample['image_size']))
    opt = refiner.pose_optimizer
    with torch.enable_grad():
        t0 = time.perf_counter()
        out = per_frame_loop(opt, *args)
        loop_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        batched = opt.optimize(*args[:3], flow=args[3], image_size=args[4])
        batched_s = time.perf_counter() - t0
    add_pose(sums, 'baseline/per_frame_loop', out['pose'][0],
             sample['gt_pose3d'])
    add_pose(sums, 'timing/pose_step', batched['pose'][0],
             sample['gt_pose3d'])
    frames = len(kp)
    sums.add('timing/loop_seconds', loop_s, frames)
    sums.add('timing/pose_step_seconds', batched_s, frames)
    sums.add('timing/loop_steps', sum(out['steps']), frames)
    sums.add('timing/loop_early_stops',
             sum(s < opt.max_steps for s in out['steps']), frames)
    sums.add('timing/pose_step_steps', sum(batched['steps']), 1)


def sketch_diagnostics(refiner, item, output, sums, prefix):
    """EPE of the sketch vs the base flow on the sketch's pixels."""
    sample = item['data_samples']
    refinement = output['refinement']
    _, scores = sanitize(sample)
    scores = torch.from_numpy(scores)
    gt = chw(sample['gt_flow']).float()
    valid = torch.as_tensor(sample['gt_flow_valid']).bool()
    base = chw(refinement['flow_init']).float()
    for c, cycle in enumerate(refinement['cycles']):
        if refiner.sketch_source == 'ground_truth':
            drawn = torch.as_tensor(sample['gt_keypoints_2d']).float()
        else:
            drawn = torch.as_tensor(cycle['keypoints_2d_refined']).float()
        sketch, mask = refiner.sketch_head(
            drawn[:-1],
            drawn[1:],
            tuple(sample['image_size']),
            scores=(scores[:-1], scores[1:]),
            base_flow=base)
        mask = mask[:, 0] & valid
        for key, flow in (('sketch', sketch), ('base', base)):
            total, count = epe_sum_count(flow, gt, mask)
            sums.add(f'{prefix}/cycle{c + 1}/{key}', total.sum(), count.sum())
        base = chw(cycle['flow']).float()


def tune_baselines(val_poses, grids):
    """Pick each smoother's parameters by MPJPE on validation clips."""
    smoothers = dict(
        gaussian=lambda p, a: gaussian_smooth(p, **a),
        savgol=lambda p, a: savgol_smooth(p, **a),
        one_euro=lambda p, a: one_euro_smooth(p, FPS, **a))
    chosen = {}
    for name, grid in grids.items():
        scores = []
        for params in grid:
            sums = Sums()
            for pose, gt in val_poses:
                add_pose(sums, 'v', smoothers[name](pose, params), gt)
            scores.append(sums.mean('v/mpjpe'))
        best = int(np.nanargmin(scores))
        chosen[name] = dict(
            params=grid[best],
            val_mpjpe=scores[best],
            grid=[dict(params=p, val_mpjpe=s) for p, s in zip(grid, scores)])
    return chosen, smoothers


def evaluate_setup(name, cfg, clips, val_clips, settings, full, log):
    """All measurements of one (estimator, flow network) setup."""
    start = time.time()
    refiner = build_refiner(cfg)
    val_poses = [(initial_pose(refiner,
                               item), item['data_samples']['gt_pose3d'])
                 for item in val_clips]
    chosen, smoothers = tune_baselines(val_poses, settings['grids'])
    sums, diag, terms = Sums(), Sums(), {}
    optimizers = ablation_optimizers(cfg) if full else {}
    variants = VARIANTS if full else dict(network=VARIANTS['network'])
    for i, item in enumerate(clips):
        sample = item['data_samples']
        t0 = time.time()
        for variant, attrs in variants.items():
            for key, value in attrs.items():
                setattr(refiner, key, value)
            with torch.no_grad():
                out = refiner.predict([item['inputs']], [sample])[0]
            for c, view in enumerate(out['cycles']):
                add_pose(sums, f'{variant}/cycle{c}', view['pred_pose3d'],
                         sample['gt_pose3d'])
                add_flow(sums, f'{variant}/cycle{c}', view['pred_flow'],
                         sample)
            if full and variant != 'gt_flow':
                sketch_diagnostics(refiner, item, out, diag, variant)
            if variant == 'network':
                pose_init = out['refinement']['pose3d_init']
                flow_init = out['refinement']['flow_init']
                kp, _ = sanitize(sample)
                det_motion = kp[1:] - kp[:-1]
                sums.add_errors(
                    'detections/motion_error',
                    np.linalg.norm(
                        det_motion - sample['gt_joint_flow'], axis=-1))
        for key, value in VARIANTS['network'].items():
            setattr(refiner, key, value)
        for b_name, smooth in smoothers.items():
            add_pose(sums, f'baseline/{b_name}',
                     smooth(pose_init, chosen[b_name]['params']),
                     sample['gt_pose3d'])
        run_per_frame_loop(refiner, item, pose_init, flow_init, sums)
        if full:
            run_ablation(optimizers, item, pose_init, flow_init, sums, terms)
        log(f'[{name}] clip {i + 1}/{len(clips)} {item["name"]}: '
            f'{time.time() - t0:.1f}s')
    n = settings['num_cycles']
    loop_s, frames = sums.data['timing/loop_seconds']
    step_s = sums.data['timing/pose_step_seconds'][0]
    speed = dict(
        frames=frames,
        threads=torch.get_num_threads(),
        per_frame_loop_seconds=loop_s,
        per_frame_loop_frames_per_s=frames / loop_s,
        per_frame_loop_steps_per_frame=sums.mean('timing/loop_steps'),
        per_frame_loop_early_stop_fraction=sums.mean(
            'timing/loop_early_stops'),
        pose_step_seconds=step_s,
        pose_step_frames_per_s=frames / step_s,
        pose_step_steps_per_clip=sums.mean('timing/pose_step_steps'),
        pose_step_vs_loop_speedup=loop_s / step_s,
        pose_step=pose_row(sums, 'timing/pose_step'))
    result = dict(
        pose=dict(
            initial_mpjpe=sums.mean('network/cycle0/mpjpe'),
            refined_mpjpe=sums.mean(f'network/cycle{n}/mpjpe'),
            initial_p_mpjpe=sums.mean('network/cycle0/p_mpjpe'),
            refined_p_mpjpe=sums.mean(f'network/cycle{n}/p_mpjpe'),
            initial_accel=sums.mean('network/cycle0/accel'),
            refined_accel=sums.mean(f'network/cycle{n}/accel')),
        flow=dict(
            {
                f'initial_{k}': v
                for k, v in flow_row(sums, 'network/cycle0').items()
            }, **{
                f'refined_{k}': v
                for k, v in flow_row(sums, f'network/cycle{n}').items()
            }),
        detections=dict(motion_error_px=sums.mean('detections/motion_error')),
        baselines=dict({
            b: dict(pose_row(sums, f'baseline/{b}'), **chosen[b])
            for b in smoothers
        },
                       per_frame_loop=dict(
                           pose_row(sums, 'baseline/per_frame_loop'),
                           params=dict(
                               max_steps=settings['max_steps'],
                               bones='previous frame'),
                           val_mpjpe=None,
                           seconds=speed['per_frame_loop_seconds'],
                           frames_per_s=speed[
                               'per_frame_loop_frames_per_s'])),
        speed=speed,
        cycles={
            v: [
                dict(
                    cycle=c,
                    **pose_row(sums, f'{v}/cycle{c}'),
                    **flow_row(sums, f'{v}/cycle{c}')) for c in range(n + 1)
            ]
            for v in variants
        },
        seconds=time.time() - start)
    if full:
        result['ablation'] = [
            dict(
                name=row,
                **pose_row(sums, f'ablation/{row}'),
                steps=terms[row].mean('steps') if row in terms else 0,
                terms_first={
                    k[6:]: terms[row].mean(k)
                    for k in terms.get(row, Sums()).data
                    if k.startswith('first/')
                },
                terms_last={
                    k[5:]: terms[row].mean(k)
                    for k in terms.get(row, Sums()).data
                    if k.startswith('last/')
                }) for row in ABLATION + ['+L_opt (GT flow)']
        ]
        result['sketch'] = {
            v: [
                dict(
                    cycle=c,
                    sketch_epe=diag.mean(f'{v}/cycle{c}/sketch'),
                    base_epe_same_pixels=diag.mean(f'{v}/cycle{c}/base'),
                    pixels=diag.data.get(f'{v}/cycle{c}/sketch', [0, 0])[1])
                for c in range(1, n + 1)
            ]
            for v in ('network', 'oracle_sketch')
        }
    return result


# ---------------------------------------------------------------- outputs
def fmt(value, digits=2):
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return 'n/a'
    return f'{value:.{digits}f}'


def markdown(results):
    lines = ['# Accuracy benchmark (generated by benchmarks/accuracy.py)', '']
    meta = results['meta']
    lines += [
        f"Mode: {'quick' if meta['quick'] else 'full'}; "
        f"{meta['num_test_clips']} test clips of {meta['num_frames']} "
        f"frames at {meta['fps']:.0f} fps, {meta['image_size'][0]}x"
        f"{meta['image_size'][1]} px; test motions ({meta['split']}): "
        f"{', '.join(meta['test_motions'])}; validation motions (smoother "
        f"tuning only): {', '.join(meta['val_motions'])}.",
        'Pose errors in mm on the 14 H36M evaluation joints (root '
        'aligned); acceleration error in mm/frame^2; EPE in px over '
        'non-occluded pixels.', ''
    ]
    for name, res in results['setups'].items():
        lines += [f'## {name}', '', res['description'], '']
        p, f = res['pose'], res['flow']
        lines += [
            '| | MPJPE | P-MPJPE | Accel | EPE | EPE human | EPE background '
            '| EPE joints |', '|---|---|---|---|---|---|---|---|',
            f"| initial | {fmt(p['initial_mpjpe'])} | "
            f"{fmt(p['initial_p_mpjpe'])} | {fmt(p['initial_accel'])} | "
            f"{fmt(f['initial_epe'], 3)} | {fmt(f['initial_epe_human'], 3)}"
            f" | {fmt(f['initial_epe_background'], 3)} | "
            f"{fmt(f['initial_epe_joints'], 3)} |",
            f"| refined | {fmt(p['refined_mpjpe'])} | "
            f"{fmt(p['refined_p_mpjpe'])} | {fmt(p['refined_accel'])} | "
            f"{fmt(f['refined_epe'], 3)} | {fmt(f['refined_epe_human'], 3)}"
            f" | {fmt(f['refined_epe_background'], 3)} | "
            f"{fmt(f['refined_epe_joints'], 3)} |", ''
        ]
        lines += [
            f"2D detections' frame-to-frame motion error at the joints: "
            f"{fmt(res['detections']['motion_error_px'], 3)} px (compare "
            'with the flow\'s EPE at the joints).', ''
        ]
        lines += [
            '### Smoothing baselines (tuned on validation clips)', '',
            '| method | parameters | val MPJPE | MPJPE | P-MPJPE | Accel |',
            '|---|---|---|---|---|---|',
            f"| initial | | | {fmt(p['initial_mpjpe'])} | "
            f"{fmt(p['initial_p_mpjpe'])} | {fmt(p['initial_accel'])} |"
        ]
        for b, row in res['baselines'].items():
            params = ', '.join(f'{k}={v}' for k, v in row['params'].items())
            lines.append(f"| {b} | {params} | {fmt(row['val_mpjpe'])} | "
                         f"{fmt(row['mpjpe'])} | {fmt(row['p_mpjpe'])} | "
                         f"{fmt(row['accel'])} |")
        sp = res['speed']
        lines += [
            f"| refiner pose step only (1 step, initial flow) | | | "
            f"{fmt(sp['pose_step']['mpjpe'])} | "
            f"{fmt(sp['pose_step']['p_mpjpe'])} | "
            f"{fmt(sp['pose_step']['accel'])} |",
            f"| refiner ({len(res['cycles']['network']) - 1} cycles) | | | "
            f"{fmt(p['refined_mpjpe'])} | {fmt(p['refined_p_mpjpe'])} | "
            f"{fmt(p['refined_accel'])} |", '',
            'per_frame_loop: the seed\'s per-frame loop (frame t optimised '
            'alone, frame t-1 fixed; same objective, weights, detections, '
            'weak camera and initial network flow; bone lengths tied to the '
            'previous frame\'s; Adam, early stop on the pose; no flow step).',
            '',
            f"Pose-step speed on the same {sp['frames']} frames "
            f"({sp['threads']} thread(s), wall clock): per-frame loop "
            f"{fmt(sp['per_frame_loop_frames_per_s'], 2)} frames/s "
            f"({fmt(sp['per_frame_loop_seconds'], 1)} s, "
            f"{fmt(sp['per_frame_loop_steps_per_frame'], 0)} Adam steps per "
            f"frame on average, early stop on "
            f"{fmt(100 * sp['per_frame_loop_early_stop_fraction'], 0)}% of "
            f"frames); refiner's batched pose step "
            f"{fmt(sp['pose_step_frames_per_s'], 2)} frames/s "
            f"({fmt(sp['pose_step_seconds'], 1)} s, "
            f"{fmt(sp['pose_step_steps_per_clip'], 0)} Adam steps per clip)"
            f" -> {fmt(sp['pose_step_vs_loop_speedup'], 1)}x.", ''
        ]
        if 'ablation' in res:
            lines += [
                '### Ablation (pose step only, initial network flow)', '',
                '| losses | MPJPE | P-MPJPE | Accel | Adam steps | '
                'final loss terms |', '|---|---|---|---|---|---|'
            ]
            for row in res['ablation']:
                terms = ', '.join(f'{k[5:]}={v:.3g}'
                                  for k, v in row['terms_last'].items())
                lines.append(f"| {row['name']} | {fmt(row['mpjpe'])} | "
                             f"{fmt(row['p_mpjpe'])} | {fmt(row['accel'])} "
                             f"| {row['steps']:.0f} | {terms} |")
            lines.append('')
        lines += [
            '### Cycles', '',
            '| variant | cycle | MPJPE | P-MPJPE | Accel | EPE | EPE human '
            '| EPE background | EPE joints |',
            '|---|---|---|---|---|---|---|---|---|'
        ]
        for variant, rows in res['cycles'].items():
            for row in rows:
                lines.append(
                    f"| {variant} | {row['cycle']} | {fmt(row['mpjpe'])} | "
                    f"{fmt(row['p_mpjpe'])} | {fmt(row['accel'])} | "
                    f"{fmt(row['epe'], 3)} | {fmt(row['epe_human'], 3)} | "
                    f"{fmt(row['epe_background'], 3)} | "
                    f"{fmt(row['epe_joints'], 3)} |")
        lines.append('')
        if 'sketch' in res:
            lines += [
                '### Sketch vs base flow on the sketch pixels', '',
                '| sketch from | cycle | sketch EPE | base-flow EPE | '
                'pixels |', '|---|---|---|---|---|'
            ]
            for variant, rows in res['sketch'].items():
                for row in rows:
                    lines.append(f"| {variant} | {row['cycle']} | "
                                 f"{fmt(row['sketch_epe'], 3)} | "
                                 f"{fmt(row['base_epe_same_pixels'], 3)} | "
                                 f"{row['pixels']} |")
            lines.append('')
    if results.get('notes'):
        lines += ['## Notes', ''] + [f'- {n}' for n in results['notes']]
    return '\n'.join(lines) + '\n'


def plots(results, out_dir):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    name, res = next(iter(results['setups'].items()))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for variant, rows in res['cycles'].items():
        cycles = [r['cycle'] for r in rows]
        axes[0].plot(cycles, [r['mpjpe'] for r in rows], 'o-', label=variant)
        axes[1].plot(
            cycles, [r['epe_human'] for r in rows], 'o-', label=variant)
    axes[0].set(xlabel='cycle', ylabel='MPJPE (mm)', title='pose')
    axes[1].set(xlabel='cycle', ylabel='EPE on the person (px)', title='flow')
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(name, fontsize=9)
    fig.tight_layout()
    atomic_write(
        osp.join(out_dir, 'cycles.png'),
        lambda p: fig.savefig(p, dpi=100, format='png'))
    plt.close(fig)

    labels = ['initial'] + list(res['baselines']) + ['refiner']
    mpjpe = [res['pose']['initial_mpjpe']] + [
        b['mpjpe'] for b in res['baselines'].values()
    ] + [res['pose']['refined_mpjpe']]
    accel = [res['pose']['initial_accel']] + [
        b['accel'] for b in res['baselines'].values()
    ] + [res['pose']['refined_accel']]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].bar(labels, mpjpe, color='tab:blue')
    axes[0].set(ylabel='MPJPE (mm)')
    axes[1].bar(labels, accel, color='tab:orange')
    axes[1].set(ylabel='acceleration error (mm/frame^2)')
    for ax in axes:
        ax.tick_params(axis='x', rotation=30)
    fig.suptitle(name, fontsize=9)
    fig.tight_layout()
    atomic_write(
        osp.join(out_dir, 'baselines.png'),
        lambda p: fig.savefig(p, dpi=100, format='png'))
    plt.close(fig)


# ------------------------------------------------------------------- main
def main(argv=None, settings_override=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        '--quick', action='store_true', help='a small run for CI (< 3 min)')
    parser.add_argument(
        '--out-dir', default=osp.join(ROOT, 'docs', 'en', 'results'))
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--no-trained',
        action='store_true',
        help='ignore checkpoints/ (untrained RAFT only)')
    parser.add_argument(
        '--checkpoints',
        default=CHECKPOINTS,
        help='folder of the trained RAFT-S / lifter .pth')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from mmflowpose.utils.setup_env import register_all_modules
    register_all_modules()

    settings = dict(QUICK if args.quick else FULL)
    settings.update(settings_override or {})
    log = print
    start = time.time()
    test_motions, val_motions, split = split_motions()
    if args.quick:
        test_motions = test_motions[:settings.get('test_motions', 1)]
    clips = make_clips(
        test_motions, settings['test_clips_per_motion'], settings, seed=0)
    per_val = max(1, -(-settings['val_clips'] // len(val_motions)))
    val_clips = make_clips(
        val_motions, per_val, settings, seed=10000)[:settings['val_clips']]
    if not clips or not val_clips:
        raise RuntimeError(f'no clips could be made from {MOCAP_ROOT}')
    trained = {} if args.no_trained else find_trained(args.checkpoints)
    setups = []
    untrained = ('noisy-GT estimator + RAFT-S, untrained (random '
                 'weights)', refiner_config(settings))
    if trained.get('flow'):
        setups.append(
            ('noisy-GT estimator + trained RAFT-S',
             refiner_config(settings, trained['flow']), True,
             'Initial 3D poses and 2D detections from the noise model; '
             f"RAFT-S trained on synthetic renders ({trained['flow']})."))
        setups.append(untrained + (
            False, 'Same, RAFT-S with random weights: what refinement does '
            'with a flow that carries no information.'))
        if trained.get('lifter'):
            setups.append(('trained lifter + trained RAFT-S',
                           refiner_config(settings, trained['flow'],
                                          trained['lifter']), False,
                           'VideoPose3D-small lifting the noisy 2D detections '
                           f"({trained['lifter']}); RAFT-S as above."))
    else:
        setups.append(untrained + (
            True, 'Initial 3D poses and 2D detections from the noise model; '
            'RAFT-S from configs/training/raft-small_synthetic.py with '
            'random weights (no trained checkpoint under checkpoints/ '
            'yet): its flow carries no information.'))
    results = dict(setups={})
    for name, cfg, full, description in setups:
        res = evaluate_setup(name, cfg, clips, val_clips, settings, full, log)
        res['description'] = description
        res['config'] = cfg
        results['setups'][name] = res
    primary = next(iter(results['setups'].values()))
    results.update(
        pose=primary['pose'],
        flow=primary['flow'],
        baselines=primary['baselines'],
        speed=primary['speed'],
        cycles=primary['cycles'])
    if 'ablation' in primary:
        results['ablation'] = primary['ablation']
    results['meta'] = dict(
        quick=bool(args.quick),
        primary_setup=next(iter(results['setups'])),
        num_test_clips=len(clips),
        test_clips=[c['name'] for c in clips],
        val_clips=[c['name'] for c in val_clips],
        test_motions=test_motions,
        val_motions=val_motions,
        split=split,
        num_frames=settings['num_frames'],
        image_size=list(settings['image_size']),
        fps=FPS,
        num_cycles=settings['num_cycles'],
        max_steps=settings['max_steps'],
        passes=settings['passes'],
        square_size=settings['square_size'],
        trained_checkpoints=trained,
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        python=platform.python_version(),
        seconds=time.time() - start)
    results['notes'] = notes(results)
    out_dir = args.out_dir
    # paths inside the repository are recorded relative to it
    prefix = ROOT.rstrip(os.sep) + os.sep
    text = json.dumps(results, indent=1, default=_json).replace(prefix, '')
    atomic_write(
        osp.join(out_dir, 'results.json'),
        lambda p: open(p, 'w').write(text + '\n'))
    atomic_write(
        osp.join(out_dir, 'results.md'),
        lambda p: open(p, 'w').write(markdown(results).replace(prefix, '')))
    plots(results, out_dir)
    ratio = results['pose']['refined_mpjpe'] / results['pose']['initial_mpjpe']
    log(f'wrote {out_dir} in {time.time() - start:.0f}s')
    log(f'refined_vs_initial_mpjpe={ratio:.4f}')
    return results


def _json(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def notes(results):
    """Plain statements derived from the numbers (no interpretation)."""
    out = []
    for name, res in results['setups'].items():
        p = res['pose']
        for b, row in res['baselines'].items():
            beat = p['refined_mpjpe'] < row['mpjpe']
            out.append(
                f"{name}: refiner MPJPE {fmt(p['refined_mpjpe'])} vs {b} "
                f"{fmt(row['mpjpe'])} -> {'beats' if beat else 'loses to'}"
                f" {b}; accel {fmt(p['refined_accel'])} vs "
                f"{fmt(row['accel'])}.")
    return out


if __name__ == '__main__':
    main()
