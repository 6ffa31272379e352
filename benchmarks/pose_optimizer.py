"""Speed and memory of the batched PoseOptimizer vs a per-frame loop.

Usage: ``python benchmarks/pose_optimizer.py [--quick]``. Writes
``benchmarks/results/pose_optimizer.json``; the last printed line is
``batched_vs_loop_speedup=<ratio>`` (frames/s at equal Adam steps).

The per-frame loop is the seed's scheme made fair: frame t is optimised
alone (its joints and root translation), with frame t-1 fixed at its
optimised value, through the SAME ``PoseOptimizer.objective`` (same losses
and weights) and the same number of Adam steps, early stop off in both.
Memory: each clip length runs in a fresh subprocess; the peak RSS growth
during ``optimize`` (``resource.ru_maxrss``) is reported.
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmflowpose.models.pose_optim import PoseOptimizer  # noqa: E402
from mmflowpose.models.utils.projection import project_perspective  # noqa

FOCAL = torch.tensor([1145., 1144.])
CENTER = torch.tensor([512., 515.])


def make_clip(T, seed=0):
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(T, dtype=torch.float32)
    base = torch.randn(17, 3, generator=gen) * 0.3
    wave = torch.sin(2 * 3.14159 * t / 40)[:, None, None]
    gt = base + 0.1 * wave * torch.randn(17, 3, generator=gen)
    gt = gt + torch.stack([0.001 * t, 0 * t, 5 + 0 * t], -1)[:, None]
    gt = gt[None]
    kp = project_perspective(gt, FOCAL, CENTER)
    init = gt - gt[..., :1, :] + 0.03 * torch.randn(
        gt.shape, generator=gen)
    return init, kp + torch.randn(kp.shape, generator=gen), kp.diff(dim=1)


def batched(init, kp, jflow, steps, window=243, windows_per_batch=64):
    opt = PoseOptimizer(camera='perspective', max_steps=steps, stop_tol=0,
                        window_size=window,
                        windows_per_batch=windows_per_batch)
    return opt.optimize(init, kp, joint_flow=jflow,
                        camera=dict(focal=FOCAL, center=CENTER))


def per_frame_loop(init, kp, jflow, steps):
    """Frame by frame with the same objective, previous frame fixed."""
    opt = PoseOptimizer(camera='perspective', max_steps=steps, stop_tol=0,
                        window_size=None)
    data, B, T, J = opt._check_inputs(init, kp, None, None, jflow,
                                      dict(focal=FOCAL, center=CENTER),
                                      None, None, None, None)
    data = opt._init_camera(data)
    from mmflowpose.models.losses import reference_bone_lengths
    data['ref_lengths'] = reference_bone_lengths(
        data['init_pose'], opt.skeleton.bone_index())
    poses, trans = [], []
    for t in range(T):
        lo = max(t - 1, 0)
        window = {}
        for k, v in data.items():
            per_frame = torch.is_tensor(v) and v.dim() >= 2 and \
                v.shape[1] in (T, T - 1) and k != 'ref_lengths'
            if not per_frame:  # per-clip values (bone lengths, scales)
                window[k] = v
            elif k == 'joint_flow':
                window[k] = v[:, lo:t]
            else:
                window[k] = v[:, lo:t + 1]
        pose = data['init_pose'][:, t:t + 1].clone().requires_grad_(True)
        cam = data['translation'][:, t:t + 1].clone().requires_grad_(True)
        adam = torch.optim.Adam([pose, cam], lr=opt.lr)
        for _ in range(steps):
            adam.zero_grad()
            if t:
                full_pose = torch.cat([poses[-1], pose], 1)
                full_cam = torch.cat([trans[-1], cam], 1)
            else:
                full_pose, full_cam = pose, cam
            terms = opt.objective(full_pose, full_cam, window)
            sum(terms.values()).backward()
            adam.step()
        poses.append(pose.detach())
        trans.append(cam.detach())
    return torch.cat(poses, 1)


# Windows solved together in the memory runs: 4 x 243 frames per batched
# problem, so the working set stops growing once a clip is ~1k frames long.
MEMORY_WINDOWS_PER_BATCH = 4


def measure_memory(T, steps):
    init, kp, jflow = make_clip(T)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    batched(init, kp, jflow, steps,
            windows_per_batch=MEMORY_WINDOWS_PER_BATCH)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # One (T, 17, 3) float32 clip tensor, for scale: inputs and outputs
    # of the whole clip are O(T); the per-window working set is not.
    clip_mb = T * 17 * 3 * 4 / 2**20
    print(json.dumps(dict(frames=T, peak_rss_growth_mb=(after - before) /
                          1024, clip_tensor_mb=clip_mb, seconds=seconds)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--measure', type=int, default=None)
    parser.add_argument('--steps', type=int, default=None)
    parser.add_argument(
        '--out',
        default=osp.join(
            osp.dirname(osp.abspath(__file__)), 'results',
            'pose_optimizer.json'),
        help='results file (JSON, written atomically)')
    parser.add_argument(
        '--sizes', type=int, nargs='+', default=None,
        help='clip lengths of the memory runs')
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get('BENCH_THREADS', 2)))
    steps = args.steps or (20 if args.quick else 100)
    if args.measure:
        measure_memory(args.measure, steps)
        return
    T = 243 if args.quick else 1000
    loop_frames = 10 if args.quick else 30
    init, kp, jflow = make_clip(T)
    batched(init[:, :8], kp[:, :8], jflow[:, :7], 2)  # warm-up (skeleton)
    start = time.perf_counter()
    batched(init, kp, jflow, steps, window=None)
    batched_fps = T / (time.perf_counter() - start)
    start = time.perf_counter()
    per_frame_loop(init[:, :loop_frames], kp[:, :loop_frames],
                   jflow[:, :loop_frames - 1], steps)
    loop_fps = loop_frames / (time.perf_counter() - start)
    sizes = args.sizes or ([1000, 10000, 30000]
                           if args.quick else [1000, 10000, 100000])
    mem_steps = 5 if args.quick else 20
    memory = []
    for size in sizes:
        out = subprocess.run([
            sys.executable, __file__, '--measure',
            str(size), '--steps',
            str(mem_steps)
        ],
                             capture_output=True,
                             text=True,
                             check=True)
        memory.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print('memory', memory[-1])
    speedup = batched_fps / loop_fps
    result = dict(
        steps=steps,
        clip_frames=T,
        batched_frames_per_s=batched_fps,
        loop_frames_per_s=loop_fps,
        loop_frames_timed=loop_frames,
        speedup=speedup,
        memory=memory,
        memory_steps=mem_steps,
        memory_windows_per_batch=MEMORY_WINDOWS_PER_BATCH,
        memory_growth_largest_vs_smallest=(
            memory[-1]['peak_rss_growth_mb'] /
            max(memory[0]['peak_rss_growth_mb'], 1e-6)),
        window_size=243,
        threads=torch.get_num_threads())
    from mmflowpose.utils.io import dump_json_atomic
    dump_json_atomic(result, args.out)
    print(f'batched {batched_fps:.1f} frames/s, loop {loop_fps:.2f} '
          f'frames/s at {steps} steps')
    print(f'batched_vs_loop_speedup={speedup:.1f}')


if __name__ == '__main__':
    main()
