"""Where should L_opt read the flow? (issue 13, flow sampling location)

Usage::

    python benchmarks/flow_sampling.py --split val [--clips N]
    python benchmarks/flow_sampling.py --split test [--clips N]

Each run adds its split to ``benchmarks/results/flow_sampling.json``.
Clips, lifter, RAFT-S and the noise-aware pose step are those of
``benchmarks/accuracy.py`` (white-noise detections + trained lifter, one
cycle): validation clips are cut from the training motions, test clips
from the held-out ones, by the same rule.

Per clip it measures (1) the distance (px) of the initial estimate's
projection and of the detections from the true joints, (2) the error (px)
of the joint motion read from a flow (ground truth, the network's) at the
projected initial estimate, at the detections and at the true joints
(oracle), overall and per joint group, and (3) the pose step's MPJPE with
the flow sampled at the estimate (the paper) or at the detections, for
network, zero and ground-truth flow.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import accuracy as acc  # noqa: E402

from mmflowpose.utils.io import to_json_safe, write_atomic  # noqa: E402

OUT = osp.join(acc.ROOT, 'benchmarks', 'results', 'flow_sampling.json')
# the floor the accuracy run chose on validation clips (objective default)
FLOW_FLOOR = 0.002
POINTS = ('estimate', 'detections')
# (row, flow, confidence kind) as accuracy.AWARE_BATCH; zero flow is the
# same wherever it is sampled, so it runs with the estimate only
ROWS = dict(
    estimate=[('network', 'network', 'fb'), ('zero', 'zero', 'fb'),
              ('gt', 'gt', 'visible')],
    detections=[('network', 'network', 'fb'), ('gt', 'gt', 'visible')])


def joint_groups():
    """Group name -> H36M-17 joint ids (every joint in one group)."""
    names = acc.load_skeleton('h36m').joint_names
    groups = dict(arms=[], legs=[], torso_head=[])
    for i, name in enumerate(names):
        low = name.lower()
        if any(k in low for k in ('wrist', 'elbow')):
            groups['arms'].append(i)
        elif any(k in low for k in ('knee', 'ankle', 'foot')):
            groups['legs'].append(i)
        else:
            groups['torso_head'].append(i)
    return groups


def locations(sample, init):
    """(T, J, 2) px points: the projected initial estimate (weak camera
    fitted to the detections, as the pose step starts), the detections
    and the true joints."""
    from mmflowpose.models.utils.projection import (
        fit_weak_perspective, project_weak_perspective)
    kp, scores = acc.sanitize(sample)
    kp = torch.from_numpy(kp)
    pose = torch.from_numpy(init)[None]
    cam = fit_weak_perspective(
        pose, kp[None],
        torch.from_numpy((scores > 0).astype(np.float32))[None])
    return dict(
        estimate=project_weak_perspective(pose, cam)[0].float(),
        detections=kp.float(),
        truth=torch.as_tensor(sample['gt_keypoints_2d']).float())


def add_grouped(sums, key, err, valid, groups):
    """Add (T', J) errors under ``key`` and ``key/<group>``."""
    sums.add(key, err[valid].sum(), valid.sum())
    for name, ids in groups.items():
        v = valid[:, ids]
        sums.add(f'{key}/{name}', err[:, ids][v].sum(), v.sum())


# a robust neighbourhood read: per-coordinate median of the flow on a
# 5 x 5 grid of offsets 4 px apart (a 16 px square, about a limb's width
# at 384x512) around the point
OFFSETS = torch.stack(
    torch.meshgrid(torch.arange(-8., 9., 4.), torch.arange(-8., 9., 4.),
                   indexing='xy'), -1).view(-1, 2)


# bins (px) of the flow's local spread, for a confidence from it
SPREAD_BINS = (0.25, 1.0, 3.0)


def median_read(field, points, spread=False):
    """(P, J, 2) median of ``field`` (P, 2, H, W) around (P, J, 2);
    with ``spread`` also the (P, J) median distance of the reads from it
    (how much the flow varies around the point)."""
    from mmflowpose.models.utils.sampling import sample_at_points
    reads = torch.stack([
        sample_at_points(field, points + o)[0] for o in OFFSETS
    ])
    med = reads.nanmedian(dim=0).values
    if not spread:
        return med
    dev = torch.linalg.vector_norm(reads - med, dim=-1)
    return med, dev.nanmedian(dim=0).values


def add_by_spread(sums, key, err, ok, spread):
    """Errors of a point read binned by the flow's local spread."""
    edges = (0.0, ) + SPREAD_BINS + (float('inf'), )
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = ok & (spread >= lo) & (spread < hi)
        sums.add(f'{key}/spread_{lo:g}-{hi:g}', err[sel].sum(), sel.sum())
        sums.add(f'{key}/spread_{lo:g}-{hi:g}/share', sel.sum(), ok.sum())


def measure_motion(sums, sample, flows, init, groups):
    """Distances to the true joints and flow-read joint motion errors."""
    from mmflowpose.models.utils.sampling import sample_at_points
    locs = locations(sample, init)
    truth = torch.as_tensor(sample['gt_joint_flow']).float()
    valid = torch.as_tensor(sample['gt_joint_flow_valid']).bool()
    all_valid = torch.ones(locs['truth'].shape[:2], dtype=torch.bool)
    for name in POINTS:
        dist = torch.linalg.vector_norm(locs[name] - locs['truth'], dim=-1)
        add_grouped(sums, f'distance/{name}', dist, all_valid, groups)
    add_grouped(sums, 'motion/zero',
                torch.linalg.vector_norm(truth, dim=-1), valid, groups)
    for flow in ('gt', 'network'):
        field = flows[flow][0].float()
        for name in POINTS + ('truth', ):
            read = sample_at_points(field, locs[name][:-1])[0]
            err = torch.linalg.vector_norm(read - truth, dim=-1)
            ok = valid & torch.isfinite(err)
            add_grouped(sums, f'motion/{flow}@{name}', err, ok, groups)
            if name == 'truth':
                continue
            _, spread = median_read(field, locs[name][:-1], spread=True)
            add_by_spread(sums, f'motion/{flow}@{name}', err, ok, spread)
            read = median_read(field, locs[name][:-1])
            err = torch.linalg.vector_norm(read - truth, dim=-1)
            ok = valid & torch.isfinite(err)
            add_grouped(sums, f'motion/{flow}@{name}_median', err, ok,
                        groups)


def pose_steps(sums, opts, sample, flows, init_np):
    """MPJPE of one noise-aware cycle per (sampling, flow) row."""
    size = tuple(sample['image_size'])
    kp, scores = acc.sanitize(sample)
    init = torch.from_numpy(init_np)[None]
    kpt, sc = torch.from_numpy(kp)[None], torch.from_numpy(scores)[None]
    gt = sample['gt_pose3d']
    acc.add_pose(sums, 'pose/initial', init_np, gt)
    for points, opt in opts.items():
        batch, _ = acc.aware_batch(opt, init, kpt, sc, flows, size,
                                   ROWS[points])
        b_init, b_kp, b_sc, b_flow, b_w = batch
        out = acc.run_cycles(opt, b_init, b_kp, b_sc, b_flow, size, 1, 1.0,
                             weights=b_w)[-1]
        for i, (row, _, _) in enumerate(ROWS[points]):
            acc.add_pose(sums, f'pose/{row}@{points}', out['pose'][i], gt)


def summary(sums):
    return {k: sums.mean(k) for k in sorted(sums.data)}


def tables(split, result):
    """Markdown tables of one split of ``flow_sampling.json``."""
    v = result['values']
    groups = ('', '/arms', '/legs', '/torso_head')

    def cells(key):
        return ' | '.join(
            f'{v[key + g]:.2f}' if v.get(key + g) is not None else '-'
            for g in groups)

    head = '| | all | arms | legs | torso, head |\n|---|---|---|---|---|'
    lines = [f'{split}: {len(result["clips"])} clips x '
             f'{result["num_frames"]} frames', '',
             'Distance from the true joints (px)', '', head]
    for name in POINTS:
        lines.append(f'| {name} | {cells("distance/" + name)} |')
    lines += ['', 'Joint-motion error of the flow read there (px)', '', head,
              f'| zero flow | {cells("motion/zero")} |']
    for flow in ('gt', 'network'):
        for name in ('estimate', 'estimate_median', 'detections',
                     'detections_median', 'truth'):
            key = f'motion/{flow}@{name}'
            lines.append(f'| {flow} flow @ {name} | {cells(key)} |')
    lines += ['', 'Pose step (1 cycle): MPJPE / P-MPJPE / accel', '',
              '| flow | @ estimate | @ detections |', '|---|---|---|']

    def pose(key):
        if v.get(key + '/mpjpe') is None:
            return '-'
        return ' / '.join(f'{v[f"{key}/{m}"]:.2f}'
                          for m in ('mpjpe', 'p_mpjpe', 'accel'))

    lines.append(f'| initial | {pose("pose/initial")} | |')
    for flow in ('network', 'zero', 'gt'):
        lines.append(f'| {flow} | {pose(f"pose/{flow}@estimate")} | '
                     f'{pose(f"pose/{flow}@detections")} |')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--split', choices=('val', 'test'), required=True)
    parser.add_argument('--clips', type=int, default=None,
                        help='at most this many clips (default: all)')
    parser.add_argument('--per-motion', type=int, default=None,
                        help='clips per motion (default: accuracy.py\'s)')
    parser.add_argument('--max-steps', type=int, default=None)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--quick', action='store_true',
                        help='accuracy.py --quick sizes (a smoke run)')
    parser.add_argument('--motion-only', action='store_true',
                        help='skip the pose steps')
    parser.add_argument('--tag', default='',
                        help='suffix of the split\'s key in the json')
    parser.add_argument('--table', action='store_true',
                        help='print the stored split as markdown, no run')
    args = parser.parse_args(argv)
    if args.table:
        with open(OUT) as f:
            print(tables(args.split, json.load(f)[args.split]))
        return
    torch.set_num_threads(args.threads)
    start = time.time()
    settings = dict(acc.QUICK if args.quick else acc.FULL)
    if args.max_steps:
        settings['max_steps'] = args.max_steps
    test_motions, train_motions, _ = acc.split_motions()
    trained = acc.find_trained()
    if not trained.get('lifter') or not trained.get('flow'):
        raise FileNotFoundError('flow_sampling needs the trained lifter and '
                                f'RAFT-S in {acc.CHECKPOINTS}, found '
                                f'{sorted(trained)}')
    estimator = acc.lifter(trained['lifter'])
    tuner = acc.flow_nets(trained['flow'])
    # 3D noise levels from the (unrendered: same pose fields) validation
    # clips, as accuracy.Setup does; nothing is tuned on test clips
    from mmflowpose.models.pose_optim import calibrate_pose_noise
    val = acc.make_pose_clips(train_motions,
                              settings['val_clips_per_motion'], settings,
                              10000)
    calibration = calibrate_pose_noise(
        [torch.from_numpy(acc.initial_pose(estimator, c['data_samples']))
         for c in val],
        [torch.from_numpy(np.asarray(c['data_samples']['gt_pose3d'],
                                     np.float32)) for c in val])
    opts = {}
    for points in POINTS:
        cfg = acc.noise_aware_cfg(settings, calibration,
                                  flow_floor=FLOW_FLOOR)
        cfg['noise']['flow_sample_points'] = points
        opts[points] = acc.build(cfg)
    if args.split == 'val':
        motions, per_motion, seed = train_motions, settings[
            'val_clips_per_motion'], 10000
    else:
        motions, per_motion, seed = test_motions, settings[
            'test_clips_per_motion'], 0
    if args.per_motion:
        per_motion = args.per_motion
    groups = joint_groups()
    sums, names = acc.Sums(), []
    for item in acc.iter_clips(motions, per_motion, settings, seed):
        if args.clips is not None and len(names) >= args.clips:
            break
        t0 = time.time()
        flows = acc.clip_flows(tuner, item, settings['flow_max_side'])
        sample = item['data_samples']
        init_np = acc.initial_pose(estimator, sample)
        measure_motion(sums, sample, flows, init_np, groups)
        if not args.motion_only:
            pose_steps(sums, opts, sample, flows, init_np)
        names.append(item['name'])
        print(f'{item["name"]}: {time.time() - t0:.0f}s', flush=True)
    result = dict(
        clips=names,
        per_motion=per_motion,
        num_frames=settings['num_frames'],
        image_size=list(settings['image_size']),
        cycles=1,
        max_steps=settings['max_steps'],
        flow_floor_m=FLOW_FLOOR,
        calibration={k: float(v) for k, v in calibration.items()},
        groups={k: [acc.load_skeleton('h36m').joint_names[i] for i in v]
                for k, v in groups.items()},
        seconds=time.time() - start,
        values=summary(sums))
    old = {}
    if osp.exists(OUT):
        with open(OUT) as f:
            old = json.load(f)
    key = args.split + ('_quick' if args.quick else '') + args.tag
    old[key] = to_json_safe(result)
    os.makedirs(osp.dirname(OUT), exist_ok=True)
    write_atomic(OUT, lambda p: json.dump(old, open(p, 'w'), indent=1))
    for key, value in result['values'].items():
        print(f'{key}: {value:.3f}')


if __name__ == '__main__':
    main()
