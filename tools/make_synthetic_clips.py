"""Write synthetic human clips in Sintel and H36M layouts.

Examples::

    # 4 procedural clips (walk / jumping jacks), 256x256, 16 frames each
    python tools/make_synthetic_clips.py out/ --num-clips 4
    # CMU mocap, every 4th frame (120 -> 30 fps), 24 frames per clip
    python tools/make_synthetic_clips.py out/ --motion \\
        ../shared/fixtures/mocap/usc_cs520_starter/07_05-walk.amc \\
        --num-clips 3 --stride 4 --num-frames 24

Clip ``i`` uses viewpoint ``i % 4`` of ``VIEWPOINTS`` and seed
``seed + i``; mocap clips start at consecutive windows of the file(s).
"""
import argparse
import os.path as osp
import re
import sys
import time

from mmflowpose.datasets.synthetic import (KINDS, load_mocap, make_clip,
                                           write_h36m, write_sintel)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='dataset root to write')
    parser.add_argument(
        '--motion', nargs='*', default=[],
        help='.bvh / .amc files; none = procedural motion')
    parser.add_argument('--kinds', nargs='*', default=['walk',
                                                       'jumping_jacks'],
                        choices=KINDS, help='procedural kinds to cycle')
    parser.add_argument('--num-clips', type=int, default=4)
    parser.add_argument('--num-frames', type=int, default=16)
    parser.add_argument('--stride', type=int, default=4,
                        help='mocap frame stride (120 fps / 4 = 30 fps)')
    parser.add_argument('--size', type=int, nargs=2, default=[256, 256],
                        metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--texture-scale', type=float, default=0.1)
    parser.add_argument('--formats', nargs='*', default=['sintel', 'h36m'],
                        choices=['sintel', 'h36m'])
    return parser.parse_args(argv)


def _clip_motions(args):
    """Yield (name, motion or kind) for each clip."""
    if not args.motion:
        for i in range(args.num_clips):
            kind = args.kinds[i % len(args.kinds)]
            yield f'{kind}{i:03d}', f'procedural:{kind}'
        return
    loaded = [load_mocap(p) for p in args.motion]
    for i in range(args.num_clips):
        m = loaded[i % len(loaded)]
        window = args.num_frames * args.stride
        start = (i // len(loaded)) * window
        joints = m['joints'][start:start + window:args.stride]
        if len(joints) < 2:
            raise ValueError(f"{m['source']} has too few frames for clip "
                             f'{i} (start {start}, stride {args.stride})')
        stem = re.sub(r'[^A-Za-z0-9]', '', osp.splitext(
            osp.basename(m['source']))[0])
        yield f'{stem}{i:03d}', dict(joints=joints,
                                     fps=m['fps'] / args.stride,
                                     source=m['source'])


def main(argv=None):
    args = parse_args(argv)
    for i, (name, motion) in enumerate(_clip_motions(args)):
        tic = time.time()
        clip = make_clip(motion, camera=i, image_size=tuple(args.size),
                         seed=args.seed + i, num_frames=args.num_frames,
                         texture_scale=args.texture_scale)
        if 'sintel' in args.formats:
            write_sintel(clip, osp.join(args.out_dir, 'sintel'), name)
        if 'h36m' in args.formats:
            write_h36m(clip, osp.join(args.out_dir, 'h36m'), name,
                       camera_id=f'c{i:03d}')
        print(f'{name}: {len(clip["frames"])} frames '
              f'{time.time() - tic:.1f} s', file=sys.stderr)


if __name__ == '__main__':
    main()
