"""Real video at real resolution: peak memory and seconds per frame.

Usage::

    python benchmarks/real_video.py [--inputs posetrack demo demo_x4]
        [--variants legacy default] [--threads 1] [--quick]

Every (input, variant) runs the offline demo's pipeline (the code of
``demo/flowpose_demo.py``: mediapipe, ``configs/demo/flowpose_offline-demo.py``
with the shipped small RAFT, windows of 16 frames) in a fresh subprocess,
so the peak RSS it reports (``ru_maxrss``) is that run's own. Inputs, read
in place from ``$MMFLOWPOSE_FIXTURES`` (default ``../shared/fixtures``):

- ``posetrack``: PoseTrack18 ``000001_mpiinew_test``, 5 frames, 1280x720;
- ``demo``: mmpose's ``demo.mp4``, 5 frames, 960x540;
- ``demo_x4``: the same frames repeated 4 times (20 frames, a folder);
- ``demo_x8``: repeated 8 times (40 frames: three windows of 16), to show
  the peak stays flat beyond one window (not run by default);
- ``posetrack_x4``: the PoseTrack frames repeated 4 times (20 frames,
  1280x720, a folder; not run by default).

Variants are demo flags: ``legacy`` is the setup before the working
resolution (``--max-side 0 --finetune-on frame --finetune-pixels 0``: flow
and fine-tuning on whole full-size frames, no pixel budget; run on
``demo`` only: above 960x540 it needs more than 12 GB, and the 20-frame
input takes 8 minutes), ``default`` the demo's defaults; ``max384``,
``passes0``, ``cycles0`` and ``iters4`` are the cost caps of
docs/en/demo.md; ``window5`` (windows of 5 frames, overlap 1) compares
inputs of different lengths at one window size; ``keep_heap`` is the
default without returning the heap's free pages to the system between
stages and windows (``FlowPoseInferencer(release_heap=False)``, the setup
before ``malloc_trim``).

Printed per run: seconds per frame by stage (wall), CPU seconds per frame
(user + system of the whole process: less sensitive than wall time to
other jobs on a shared machine), peak RSS, and the mean change of the
refined 3D joints from the initial estimate (mm); the JSON also has a
SHA-1 of the refined joints' bytes (``pose3d_sha1``: equal across
variants that must not change results). Results go to
``benchmarks/results/real_video.json``. The last line is
``peak_rss_mb=<n> s_per_frame=<x>``: the largest peak of the ``default``
variant over the inputs and its wall seconds per frame on ``demo``.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
VARIANTS = dict(
    legacy=['--max-side', '0', '--finetune-on', 'frame',
            '--finetune-pixels', '0'],
    default=[],
    max384=['--max-side', '384'],
    passes0=['--finetune-passes', '0'],
    cycles0=['--num-cycles', '0'],
    iters4=['--flow-iters', '4'],
    window5=['--window', '5', '--overlap', '1'],
    keep_heap=[],
)
# variants that differ in an inferencer argument, not a demo flag
INFERENCER_KWARGS = dict(keep_heap=dict(release_heap=False))
LEGACY_MAX_PIXELS = 960 * 540
# the legacy path runs on the 5-frame demo only: 12 s/frame and 10 GB
# there, twice that on the 20-frame input, which adds nothing to the
# comparison of the two paths at 960x540
LEGACY_INPUTS = ('demo', )


def fixtures_root() -> str:
    return os.environ.get('MMFLOWPOSE_FIXTURES',
                          osp.join(ROOT, '..', 'shared', 'fixtures'))


def input_path(name: str, tmp: str, quick: bool) -> str:
    """Path of an input; ``demo_x4``, ``demo_x8`` and ``--quick`` inputs
    are written to ``tmp`` as frame folders."""
    root = fixtures_root()
    video = osp.join(root, 'mmpose', 'demo', 'demo.mp4')
    if name in ('posetrack', 'posetrack_x4'):
        path = osp.join(root, 'mmpose', 'posetrack18', 'videos',
                        '000001_mpiinew_test')
    elif name in ('demo', 'demo_x4', 'demo_x8'):
        path = video
    else:
        raise SystemExit(f'unknown input {name!r}; choose posetrack, '
                         'posetrack_x4, demo, demo_x4 or demo_x8')
    if not osp.exists(path):
        raise SystemExit(f'input {name}: {path} is missing (set '
                         'MMFLOWPOSE_FIXTURES to the shared fixtures)')
    if name in ('demo', 'posetrack') and not quick:
        return path
    import cv2
    folder = osp.join(tmp, name)
    os.makedirs(folder, exist_ok=True)
    if name.startswith('posetrack'):
        frames = [cv2.imread(osp.join(path, f))
                  for f in sorted(os.listdir(path))]
    else:
        capture = cv2.VideoCapture(path)
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    if quick:  # 3 frames at a quarter of the pixels
        frames = [cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2),
                             interpolation=cv2.INTER_AREA)
                  for f in frames[:3]]
    repeats = dict(demo_x4=4, demo_x8=8, posetrack_x4=4).get(name, 1)
    for i in range(repeats * len(frames)):
        cv2.imwrite(osp.join(folder, f'{i:06d}.png'), frames[i % len(frames)])
    return folder


def frame_pixels(path: str) -> int:
    """Pixels of the first frame of a video or a folder of frames."""
    import cv2
    if osp.isdir(path):
        frame = cv2.imread(osp.join(path, sorted(os.listdir(path))[0]))
    else:
        frame = cv2.VideoCapture(path).read()[1]
    return frame.shape[0] * frame.shape[1]


def load_demo():
    spec = importlib.util.spec_from_file_location(
        'flowpose_demo', osp.join(ROOT, 'demo', 'flowpose_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(path: str, variant: str, threads: int, out_json: str) -> None:
    """One run in this process; writes its numbers to ``out_json``."""
    import hashlib

    import numpy as np
    import torch
    torch.set_num_threads(threads)
    demo = load_demo()
    with tempfile.TemporaryDirectory() as out_dir:
        args = demo.parse_args([path, '--offline', '--out-dir', out_dir] +
                               VARIANTS[variant])
        import mmflowpose
        from mmflowpose.apis.log_noise import QuietThirdParty
        with QuietThirdParty():
            mmflowpose.utils.register_all_modules()
            from mmflowpose.apis import FlowPoseInferencer
            refine_cfg, reason = demo.refine_config(args)
            if reason:
                raise SystemExit(reason)
            inferencer = FlowPoseInferencer(
                refine_cfg=refine_cfg, window=args.window,
                overlap=args.overlap, device=args.device,
                **INFERENCER_KWARGS.get(variant, {}))
            cpu, tic = cpu_seconds(), time.perf_counter()
            result = inferencer(path, out_dir=out_dir, channel_order='rgb')
            wall, cpu = time.perf_counter() - tic, cpu_seconds() - cpu
    frames = result['num_frames']
    changes = [
        np.linalg.norm(
            np.subtract(r[0]['keypoints'], u[0]['keypoints']), axis=-1).mean()
        for r, u in zip(result['predictions'],
                        result['predictions_unrefined']) if r and u
    ]
    refined = np.asarray([r[0]['keypoints'] if r else np.full((17, 3), np.nan)
                          for r in result['predictions']], np.float64)
    with open(out_json, 'w') as file:
        json.dump(
            dict(
                num_frames=frames,
                s_per_frame=wall / frames,
                cpu_s_per_frame=cpu / frames,
                stages={k: round(v, 3)
                        for k, v in result['timings'].items()},
                peak_rss_mb=result['peak_memory_mb']['rss'],
                refine_change_mm=1000 * float(np.mean(changes))
                if changes else None,
                pose3d_sha1=hashlib.sha1(refined.tobytes()).hexdigest()),
            file)


def run(name: str, path: str, variant: str, threads: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix='.json') as out:
        command = [
            sys.executable, osp.abspath(__file__), '--worker', path,
            '--variant', variant, '--threads', str(threads), '--json',
            out.name
        ]
        proc = subprocess.run(command, cwd=ROOT, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise SystemExit(f'{name}/{variant} failed:\n'
                             f'{proc.stdout[-2000:]}{proc.stderr[-3000:]}')
        with open(out.name) as file:
            return json.load(file)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--inputs', nargs='+',
                        default=['posetrack', 'demo', 'demo_x4'])
    parser.add_argument('--variants', nargs='+',
                        default=['legacy', 'default'],
                        choices=sorted(VARIANTS))
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads per run (1 keeps wall times '
                        'comparable on a shared machine)')
    parser.add_argument('--quick', action='store_true',
                        help='3 frames at half size (a smoke run)')
    parser.add_argument('--out', default=osp.join(ROOT, 'benchmarks',
                                                  'results',
                                                  'real_video.json'))
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--variant', help=argparse.SUPPRESS)
    parser.add_argument('--json', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.variant, args.threads, args.json)
        return {}
    results = dict(threads=args.threads, quick=args.quick, runs={},
                   skipped={})
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.inputs:
            path = input_path(name, tmp, args.quick)
            for variant in args.variants:
                if variant == 'legacy' and name not in LEGACY_INPUTS:
                    results['skipped'][f'{name}/{variant}'] = 'time'
                    print(f'{name:10s} {variant:8s} skipped: measured on '
                          f'{", ".join(LEGACY_INPUTS)}')
                    continue
                if variant == 'legacy' and frame_pixels(path) > \
                        LEGACY_MAX_PIXELS:
                    # full-size RAFT fine-tuning at 1280x720 needs more
                    # than 12 GB (issue 14: killed at 20 GB)
                    results['skipped'][f'{name}/{variant}'] = 'memory'
                    print(f'{name:10s} {variant:8s} skipped: frames over '
                          '960x540 need > 12 GB at full size')
                    continue
                res = run(name, path, variant, args.threads)
                results['runs'][f'{name}/{variant}'] = res
                stages = ', '.join(f'{k} {v:.2f}'
                                   for k, v in res['stages'].items())
                change = res['refine_change_mm']
                print(f'{name:10s} {variant:8s} {res["num_frames"]:3d} '
                      f'frames  s/frame {res["s_per_frame"]:6.2f}  cpu '
                      f's/frame {res["cpu_s_per_frame"]:6.2f}  peak RSS '
                      f'{res["peak_rss_mb"]:6.0f} MB  refined-initial '
                      f'{"-" if change is None else f"{change:.1f}"} mm  '
                      f'[{stages}]', flush=True)
    runs = results['runs']
    for name in args.inputs:
        if f'{name}/legacy' in runs and f'{name}/default' in runs:
            old, new = runs[f'{name}/legacy'], runs[f'{name}/default']
            results[f'{name}_speedup'] = dict(
                wall=old['s_per_frame'] / new['s_per_frame'],
                cpu=old['cpu_s_per_frame'] / new['cpu_s_per_frame'],
                memory=old['peak_rss_mb'] / new['peak_rss_mb'])
            print(f'{name}: legacy/default wall '
                  f'{results[f"{name}_speedup"]["wall"]:.1f}x, cpu '
                  f'{results[f"{name}_speedup"]["cpu"]:.1f}x, peak RSS '
                  f'{results[f"{name}_speedup"]["memory"]:.1f}x')
    main_variant = 'default' if 'default' in args.variants else \
        args.variants[0]
    mine = [v for k, v in runs.items() if k.endswith('/' + main_variant)]
    peak = max(v['peak_rss_mb'] for v in mine)
    # the inputs' peaks around their mean: the +-10% of issue 14
    mean = sum(v['peak_rss_mb'] for v in mine) / len(mine)
    results['peak_rss_spread'] = {
        k: v['peak_rss_mb'] / mean - 1
        for k, v in runs.items() if k.endswith('/' + main_variant)
    }
    print('peak RSS vs the mean of the inputs: ' + ', '.join(
        f'{k} {100 * v:+.1f}%' for k, v in results['peak_rss_spread'].items()))
    # the largest peak over the smallest: the inputs' worst pair
    results['peak_rss_max_over_min'] = peak / min(v['peak_rss_mb']
                                                  for v in mine)
    print(f'peak RSS largest / smallest input: '
          f'{results["peak_rss_max_over_min"]:.3f}')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp_out = args.out + '.tmp'
    with open(tmp_out, 'w') as file:
        json.dump(results, file, indent=1)
    os.replace(tmp_out, args.out)
    speed = runs.get(f'demo/{main_variant}', mine[0])['s_per_frame']
    print(f'peak_rss_mb={peak:.0f} s_per_frame={speed:.2f}')
    return results


if __name__ == '__main__':
    main()
