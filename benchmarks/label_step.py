"""The label step (``FlowPoseRefiner(label_tracking=...)``): its settings
chosen on validation clips, then scored once on the test clips.

Usage::

    python benchmarks/label_step.py [--quick]

BlazePose can take a back view of the rendered person for a front view and
exchange every left and right joint name. The label step carries the
names along the flow (:func:`track_left_right`) and lifts the relabelled
detections again with the trained lifter. This script renders the accuracy
benchmark's clips (``benchmarks/accuracy.py``: 384x512, 48 frames), runs
mediapipe and the flows (the shipped RAFT-S at 192x256, zero, exact, OpenCV
DIS) on them, and:

1. on **validation** clips of the training motions (the accuracy
   benchmark's 1 per motion, seed 10000, plus 4 per motion, seed 20000)
   scores every setting of the grid (``sigma`` x ``mirror_prior`` x
   ``horizon``) by the MPJPE of the relabelled, lifted detections with the
   network flow, and picks the lowest; it is kept only when it beats the
   detections as detected by >= 1% (else the step is "off");
2. on the **test** clips scores the chosen setting once, for each flow.

Rows: the detections as detected, the DIAGNOSTIC labelling closer to the
ground truth (``mediapipe_lr``), and per flow the share of frames mirrored
and agreeing with that diagnostic. Writes
``benchmarks/results/label_step.json``; the last line is
``chosen=<setting> val_mpjpe=<raw> -> <chosen> test_mpjpe=<raw> -> <chosen>``.
"""
import argparse
import itertools
import json
import os.path as osp
import sys
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import accuracy  # noqa: E402
from accuracy_setup import (find_trained, flow_nets,  # noqa: E402
                            initial_pose, lifter)

from mmflowpose.evaluation.benchmark import (  # noqa: E402
    Sums, add_mediapipe, add_pose, clip_flows, labelled_inputs,
    mirrored_by_truth, pose_row, sanitize)
from mmflowpose.utils.io import to_json_safe, write_atomic  # noqa: E402

OUT = osp.join(accuracy.ROOT, 'benchmarks', 'results', 'label_step.json')
GRID = dict(
    sigma=(0.02, 0.05, 0.1), mirror_prior=(0.5, 2.0, 8.0, 32.0),
    horizon=(1, 2, 3))
FLOWS = ('network', 'zero', 'gt', 'dis')
# (seed, clips per motion) of the validation clips: the accuracy
# benchmark's own, then more cut the same way from the same motions
VAL_SETS = ((10000, 1), (20000, 4))


def settings_grid(grid):
    keys = list(grid)
    return [dict(zip(keys, values))
            for values in itertools.product(*grid.values())]


def name_of(cfg):
    return '/'.join(f'{k}={v}' for k, v in cfg.items())


def score_clip(sums, item, tuner, estimator, grid, flows_used, settings):
    """Add one rendered clip's rows: as detected, the diagnostic, and
    every setting of ``grid`` along every flow of ``flows_used``."""
    add_mediapipe(item)
    flows = clip_flows(tuner, item, settings['flow_max_side'])
    sample = item['data_samples']
    size = tuple(sample['image_size'])
    kp, scores = sanitize(sample, 'mediapipe')
    truth = mirrored_by_truth(kp, np.asarray(sample['gt_keypoints_2d']))
    gt = sample['gt_pose3d']
    add_pose(sums, 'detected', initial_pose(estimator, sample, 'mediapipe'),
             gt)
    add_pose(sums, 'diagnostic',
             initial_pose(estimator, sample, 'mediapipe_lr'), gt)
    sums.add('truth_mirrored', truth.sum(), len(truth))
    for cfg in grid:
        out = labelled_inputs(estimator, kp, scores, size, flows, cfg,
                              flows_used)
        for flow, (pose, _, _, mirrored) in out.items():
            key = f'{flow}/{name_of(cfg)}'
            add_pose(sums, key, pose, gt)
            sums.add(key + '/mirrored', mirrored.sum(), len(mirrored))
            sums.add(key + '/agree', (mirrored == truth).sum(), len(truth))


def summary(sums, grid, flows_used):
    rows = dict(
        detected=pose_row(sums, 'detected'),
        diagnostic=pose_row(sums, 'diagnostic'),
        truth_mirrored=sums.mean('truth_mirrored'))
    for cfg, flow in itertools.product(grid, flows_used):
        key = f'{flow}/{name_of(cfg)}'
        rows[key] = dict(
            pose_row(sums, key),
            mirrored=sums.mean(key + '/mirrored'),
            agree=sums.mean(key + '/agree'))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='tiny clips and grid (a smoke run, < 2 min)')
    parser.add_argument('--out', default=OUT)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from mmflowpose.utils.setup_env import register_all_modules
    register_all_modules()
    start = time.time()
    settings = dict(accuracy.QUICK if args.quick else accuracy.FULL)
    grid = settings_grid(
        dict(sigma=(0.05, ), mirror_prior=(0.5, 2.0), horizon=(2, ))
        if args.quick else GRID)
    trained = find_trained(accuracy.CHECKPOINTS)
    if 'lifter' not in trained:
        raise SystemExit('benchmarks/label_step.py needs the trained lifter '
                         f'under {accuracy.CHECKPOINTS}')
    estimator, tuner = lifter(trained['lifter']), flow_nets(
        trained.get('flow'))
    test_motions, val_motions, _ = accuracy.split_motions()
    if args.quick:
        test_motions, val_motions = test_motions[:1], val_motions[:1]
    val_sets = ((10000, 1), ) if args.quick else VAL_SETS
    val, names = Sums(), []
    for seed, per_motion in val_sets:
        for item in accuracy.iter_clips(val_motions, per_motion, settings,
                                        seed):
            names.append(item['name'])
            score_clip(val, item, tuner, estimator, grid, ('network', ),
                       settings)
            print(f'val {len(names)} {item["name"]}', flush=True)
    val_rows = summary(val, grid, ('network', ))
    best = min(grid, key=lambda c: val_rows[f'network/{name_of(c)}']['mpjpe'])
    best_mpjpe = val_rows[f'network/{name_of(best)}']['mpjpe']
    keep = best_mpjpe <= 0.99 * val_rows['detected']['mpjpe']
    test, test_names = Sums(), []
    for item in accuracy.iter_clips(test_motions,
                                    settings['test_clips_per_motion'],
                                    settings, 0):
        test_names.append(item['name'])
        score_clip(test, item, tuner, estimator, [best], FLOWS, settings)
        print(f'test {len(test_names)} {item["name"]}', flush=True)
    test_rows = summary(test, [best], FLOWS)
    result = dict(
        chosen=best, kept=bool(keep), grid=GRID if not args.quick else None,
        validation=dict(clips=names, rows=val_rows),
        test=dict(clips=test_names, rows=test_rows),
        meta=dict(quick=args.quick, seconds=time.time() - start,
                  image_size=list(settings['image_size']),
                  num_frames=settings['num_frames'],
                  flow_max_side=settings['flow_max_side'],
                  threads=args.threads))
    write_atomic(args.out, lambda p: json.dump(
        to_json_safe(result), open(p, 'w'), indent=1))
    chosen = name_of(best)
    print(f"validation ({len(names)} clips): detected "
          f"{val_rows['detected']['mpjpe']:.2f}, diagnostic "
          f"{val_rows['diagnostic']['mpjpe']:.2f}, chosen {chosen} "
          f'{best_mpjpe:.2f} ({"kept" if keep else "off: < 1% gain"})')
    for flow in FLOWS:
        row = test_rows[f'{flow}/{chosen}']
        print(f"test {flow}: MPJPE {row['mpjpe']:.2f} P-MPJPE "
              f"{row['p_mpjpe']:.2f} mirrored {100 * row['mirrored']:.1f}% "
              f"agree {100 * row['agree']:.1f}%")
    print(f"chosen={chosen} val_mpjpe={val_rows['detected']['mpjpe']:.2f}"
          f' -> {best_mpjpe:.2f} test_mpjpe='
          f"{test_rows['detected']['mpjpe']:.2f} -> "
          f"{test_rows[f'network/{chosen}']['mpjpe']:.2f}")


if __name__ == '__main__':
    main()
