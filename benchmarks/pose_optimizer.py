"""Batched PoseOptimizer vs the registered per-frame reference.

Usage: ``python benchmarks/pose_optimizer.py [--quick]``. Writes
``benchmarks/results/pose_optimizer.json``; the last printed line is
``batched_vs_loop_speedup=<ratio>`` (frames per CPU second at equal
optimiser steps; wall-clock rates are recorded too).

Both optimisers are the package's, built from the refiner base config's
pose step (the paper preset, weak camera) by swapping only ``type``
(:class:`PoseOptimizer` vs :class:`PerFrameReferenceOptimizer`): same
terms, weights, camera model, solver and optimiser. The clip is the
package's procedural walk (on a treadmill) seen by a synthetic camera,
with its simulated estimator errors (``simulate_estimates``) and the
exact joint motion plus 1 px noise as the flow at the joints.

- Speed: equal optimiser steps per frame, early stop off in both; the
  batched optimiser runs a long clip in its configured windows, the
  reference the clip's first frames (its cost is linear in the frames);
  the best of ``--repeats`` alternating runs of each. The ratio uses this
  process's CPU time (one thread by default): on a shared machine wall
  time favours whichever run happens to land in a quiet moment.
- Agreement: both on the same short clip with the preset's early stop:
  wall time, steps, MPJPE / P-MPJPE against the ground truth and the mean
  distance between the two results (root-relative, mm).
- Memory: each clip length runs the batched optimiser in a fresh
  subprocess; the peak RSS growth during ``optimize`` is reported.
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import time

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
REFINER_BASE = osp.join(REPO, 'configs', '_base_', 'models',
                        'flowpose_refiner.py')
IMAGE_SIZE = (480, 640)
#: windows solved together in the memory runs: 4 x 243 frames per batched
#: problem, so the working set stops growing once a clip is ~1k frames
MEMORY_WINDOWS_PER_BATCH = 4


def preset(reference=False, **overrides):
    """The refiner base config's pose step, optionally as the reference."""
    from mmengine import Config

    from mmflowpose.registry import MODELS
    from mmflowpose.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(REFINER_BASE).model.to_dict()['pose_optimizer']
    cfg.update(overrides)
    if reference:
        cfg['type'] = 'PerFrameReferenceOptimizer'
    return MODELS.build(cfg), cfg


def make_clip(num_frames, seed=0):
    """Ground truth (camera frame, m), initial 3D, detections (px) and
    flow at the joints (px) of a procedural walk, each (1, T, ...)."""
    from mmflowpose.datasets.synthetic.camera import make_camera, project
    from mmflowpose.datasets.synthetic.estimate_noise import \
        simulate_estimates
    from mmflowpose.datasets.synthetic.motion import procedural_motion
    joints = procedural_motion('walk', num_frames, seed=seed)['joints']
    # on a treadmill (horizontal root motion removed, Y is up), so a clip
    # of any length stays in front of one static camera
    drift = joints[:, :1] - joints[:1, :1]
    joints = joints - drift * np.array([1, 0, 1], joints.dtype)
    cam = make_camera(joints, IMAGE_SIZE)
    px, gt = project(joints, cam['K'], cam['R'][:, None], cam['t'][:, None])
    est = simulate_estimates(gt, px, seed=seed)
    rng = np.random.default_rng(seed + 1)
    flow = np.diff(px, axis=0) + rng.standard_normal(px[1:].shape)

    def tensor(x):
        return torch.as_tensor(np.asarray(x), dtype=torch.float32)[None]

    return (tensor(gt), tensor(est['pose3d']), tensor(est['keypoints_2d']),
            tensor(flow))


def timed(optimizer, init, kp, jflow):
    """The result, wall seconds and CPU seconds of this process (the CPU
    time is what a shared machine does not inflate)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = optimizer.optimize(init, kp, joint_flow=jflow)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def errors_mm(pred, gt):
    from mmflowpose.evaluation.functional.pose_errors import (mpjpe_errors,
                                                              p_mpjpe_errors)
    return dict(
        mpjpe=1000 * mpjpe_errors(pred, gt).mean().item(),
        p_mpjpe=1000 * p_mpjpe_errors(pred, gt).mean().item())


def speed(num_frames, loop_frames, steps, repeats):
    """Frames per CPU second and per wall second of both at ``steps``
    optimiser steps per frame, the best of ``repeats`` alternating runs."""
    gt, init, kp, jflow = make_clip(num_frames)
    batched, _ = preset(max_steps=steps, stop_tol=0)
    reference, _ = preset(True, max_steps=steps, stop_tol=0)
    timed(batched, init[:, :8], kp[:, :8], jflow[:, :7])  # warm-up
    runs = dict(batched=[], loop=[])
    for _ in range(repeats):
        runs['batched'].append(timed(batched, init, kp, jflow)[1:])
        runs['loop'].append(
            timed(reference, init[:, :loop_frames], kp[:, :loop_frames],
                  jflow[:, :loop_frames - 1])[1:])
    frames = dict(batched=num_frames, loop=loop_frames)
    return {
        name: dict(
            frames_per_wall_s=frames[name] / min(w for w, _ in times),
            frames_per_cpu_s=frames[name] / min(c for _, c in times))
        for name, times in runs.items()
    }


def agreement(num_frames, max_steps):
    """Both optimisers with the preset's early stop on one short clip."""
    gt, init, kp, jflow = make_clip(num_frames, seed=1)
    rows = dict(initial=errors_mm(init, gt))
    outs = {}
    for name, reference in (('batched', False), ('reference', True)):
        optimizer, _ = preset(reference, max_steps=max_steps)
        out, seconds, cpu_seconds = timed(optimizer, init, kp, jflow)
        outs[name] = out['pose']
        rows[name] = dict(
            errors_mm(out['pose'], gt),
            seconds=seconds,
            cpu_seconds=cpu_seconds,
            mean_steps_per_group=float(np.mean(out['steps'])),
            early_stopped=sum(s < max_steps for s in out['steps']),
            groups=len(out['steps']))
    a, b = (p - p[..., :1, :] for p in outs.values())
    rows['distance_mm'] = 1000 * (a - b).norm(dim=-1).mean().item()
    rows['cpu_time_ratio'] = rows['reference']['cpu_seconds'] / rows[
        'batched']['cpu_seconds']
    rows.update(frames=num_frames, max_steps=max_steps,
                stop_tol=optimizer.stop_tol)
    return rows


def measure_memory(num_frames, steps):
    gt, init, kp, jflow = make_clip(num_frames)
    optimizer, _ = preset(
        max_steps=steps, stop_tol=0,
        windows_per_batch=MEMORY_WINDOWS_PER_BATCH)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _, seconds, _ = timed(optimizer, init, kp, jflow)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # one (T, 17, 3) float32 clip tensor, for scale: inputs and outputs of
    # the whole clip are O(T); the per-window working set is not
    clip_mb = num_frames * 17 * 3 * 4 / 2**20
    print(json.dumps(dict(frames=num_frames, peak_rss_growth_mb=(
        after - before) / 1024, clip_tensor_mb=clip_mb, seconds=seconds)))


def memory_runs(sizes, steps):
    memory = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, __file__, '--measure', str(size), '--steps',
             str(steps)], capture_output=True, text=True, check=True)
        memory.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print('memory', memory[-1])
    return memory


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--measure', type=int, default=None,
                        help=argparse.SUPPRESS)
    parser.add_argument('--steps', type=int, default=None,
                        help='optimiser steps per frame of the speed runs')
    parser.add_argument('--agree-steps', type=int, default=None,
                        help='max_steps of the agreement runs')
    parser.add_argument(
        '--out', default=osp.join(REPO, 'benchmarks', 'results',
                                  'pose_optimizer.json'),
        help='results file (JSON, written atomically)')
    parser.add_argument('--sizes', type=int, nargs='+', default=None,
                        help='clip lengths of the memory runs')
    parser.add_argument('--repeats', type=int, default=None,
                        help='speed runs per optimiser (best one kept)')
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get('BENCH_THREADS', 1)))
    steps = args.steps or (20 if args.quick else 100)
    if args.measure:
        measure_memory(args.measure, steps)
        return
    num_frames = 243 if args.quick else 1000
    loop_frames = 10 if args.quick else 30
    agree_steps = args.agree_steps or (steps if args.quick else 300)
    repeats = args.repeats or (1 if args.quick else 3)
    rates = speed(num_frames, loop_frames, steps, repeats)
    batched_fps = rates['batched']['frames_per_cpu_s']
    loop_fps = rates['loop']['frames_per_cpu_s']
    agree = agreement(loop_frames, agree_steps)
    print('agreement', json.dumps(agree))
    sizes = args.sizes or ([1000, 10000, 30000]
                           if args.quick else [1000, 10000, 100000])
    mem_steps = 5 if args.quick else 20
    memory = memory_runs(sizes, mem_steps)
    speedup = batched_fps / loop_fps
    result = dict(
        optimizers='PoseOptimizer vs PerFrameReferenceOptimizer, '
        'refiner base config (paper preset)',
        steps=steps,
        clip_frames=num_frames,
        batched_frames_per_cpu_s=batched_fps,
        loop_frames_per_cpu_s=loop_fps,
        wall=dict(
            batched_frames_per_s=rates['batched']['frames_per_wall_s'],
            loop_frames_per_s=rates['loop']['frames_per_wall_s'],
            speedup=rates['batched']['frames_per_wall_s'] /
            rates['loop']['frames_per_wall_s']),
        loop_frames_timed=loop_frames,
        speed_repeats=repeats,
        speedup=speedup,
        agreement=agree,
        memory=memory,
        memory_steps=mem_steps,
        memory_windows_per_batch=MEMORY_WINDOWS_PER_BATCH,
        memory_growth_mb_largest_minus_smallest=(
            memory[-1]['peak_rss_growth_mb'] -
            memory[0]['peak_rss_growth_mb']),
        threads=torch.get_num_threads())
    from mmflowpose.utils.io import dump_json_atomic
    dump_json_atomic(result, args.out)
    print(f'batched {batched_fps:.1f} frames/CPU s, loop {loop_fps:.2f} '
          f'frames/CPU s at {steps} steps; agreement: '
          f"{agree['distance_mm']:.1f} mm apart, MPJPE "
          f"{agree['initial']['mpjpe']:.1f} -> batched "
          f"{agree['batched']['mpjpe']:.1f}, loop "
          f"{agree['reference']['mpjpe']:.1f} mm")
    print(f'batched_vs_loop_speedup={speedup:.1f}')


if __name__ == '__main__':
    main()
