"""Pose-sketch cost vs one RAFT forward, and fine-tune step time per net.

Usage: ``python benchmarks/flow_sketch.py [--quick] [--device cpu]``.
Writes ``benchmarks/results/flow_sketch.json``; the last printed line is
``sketch_vs_raft_forward=<ratio>`` (median sketch-head time / median RAFT
forward time at the same resolution; the goal is <= 0.05).

The sketch head draws an H36M-17 person (16 bones, 22 points per bone, 7 px
squares, plus a run with squares scaled to 10% of the person's bounding
box) for a batch of frame pairs; RAFT (random weights; speed does not
depend on them) runs on the same batch through
:func:`mmflowpose.models.flow_tuning.flow_forward` with its test-time
iteration count. A fine-tune step is one forward, backward and Adam update
of :class:`FlowFinetuner` on one pair (RAFT/GMA with the sequence loss).
"""
import argparse
import json
import os
import os.path as osp
import platform
import statistics
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mmflowpose  # noqa: E402
from mmflowpose.apis import init_model  # noqa: E402
from mmflowpose.models.flow_tuning import (FlowFinetuner,  # noqa: E402
                                           flow_forward)
from mmflowpose.models.heads import PoseSketchFlowHead  # noqa: E402

NETS = {
    'RAFT': 'mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py',
    'GMA': 'mmflow::gma/gma_8xb2_120k_flyingchairs-368x496.py',
    'PWC-Net': 'mmflow::pwcnet/pwcnet_8xb1_slong_flyingchairs-384x448.py',
}


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timed(fn, repeats, device, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def person(n, height, width, device, seed=0):
    """(N, 17, 2) joints at t and t+1 spread over the middle of the frame."""
    gen = torch.Generator().manual_seed(seed)
    centre = torch.tensor([width / 2, height / 2])
    spread = torch.tensor([width * 0.15, height * 0.35])
    joints = centre + spread * (torch.rand(n, 17, 2, generator=gen) * 2 - 1)
    moved = joints + torch.randn(n, 17, 2, generator=gen) * 3
    return joints.to(device), moved.to(device), torch.ones(n, 17,
                                                           device=device)


def frames(n, height, width, device, seed=0):
    gen = torch.Generator().manual_seed(seed)
    f1 = torch.randint(0, 256, (n, 3, height, width), generator=gen,
                       dtype=torch.uint8)
    return f1.to(device), torch.roll(f1, 2, dims=3).to(device)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s)')
    parser.add_argument('--out', default=osp.join(
        osp.dirname(osp.abspath(__file__)), 'results', 'flow_sketch.json'))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    mmflowpose.utils.register_all_modules()
    device = args.device
    if args.quick:
        size, pairs, iters, repeats = (128, 256), 2, 12, 3
        tune_size, tune_iters, tune_repeats = (64, 128), 4, 2
    else:
        size, pairs, iters, repeats = (436, 1024), 2, 12, 3
        tune_size, tune_iters, tune_repeats = (256, 448), 12, 3
    height, width = size
    results = dict(device=device, threads=torch.get_num_threads(),
                   machine=platform.processor() or platform.machine(),
                   torch=torch.__version__, quick=args.quick,
                   resolution=list(size), pairs=pairs, raft_iters=iters)

    # --- sketch head vs RAFT forward -----------------------------------
    joints_t, joints_t1, scores = person(pairs, height, width, device)
    base = torch.randn(pairs, 2, height, width, device=device)
    heads = {
        'sketch_7px': PoseSketchFlowHead('h36m', square_size=7),
        'sketch_bbox10pct': PoseSketchFlowHead(
            'h36m', square_size=3, square_scale=0.1, gate_thr=3.0),
    }
    for name, head in heads.items():
        head.to(device)

        def run_head(head=head):
            with torch.no_grad():
                head.predict(base, joints_t, joints_t1, scores)

        med, times = timed(run_head, max(repeats, 5), device)
        results[name + '_s'] = med
        print(f'{name}: {med * 1e3:.2f} ms for {pairs} pairs at '
              f'{height}x{width}')
    torch.manual_seed(0)
    raft = init_model(NETS['RAFT'], device=device,
                      cfg_options={'model.decoder.iters': iters})
    f1, f2 = frames(pairs, height, width, device)

    def run_raft():
        with torch.no_grad():
            flow_forward(raft, f1, f2)

    med, times = timed(run_raft, repeats, device)
    results['raft_forward_s'] = med
    print(f'RAFT forward ({iters} iters): {med:.3f} s for {pairs} pairs at '
          f'{height}x{width}')

    # --- fine-tune steps ------------------------------------------------
    results['finetune'] = {}
    f1, f2 = frames(1, *tune_size, device)
    target = torch.zeros(1, 2, *tune_size, device=device)
    for name, config in NETS.items():
        options = None if name == 'PWC-Net' else {
            'model.decoder.iters': tune_iters
        }
        torch.manual_seed(0)
        net = init_model(config, device=device, cfg_options=options)
        tuner = FlowFinetuner(net, passes=1, batch_size=1,
                              sequence_gamma=None if name == 'PWC-Net'
                              else 0.8, carry_over=True)
        med, _ = timed(lambda tuner=tuner: tuner.finetune(f1, f2, target),
                       tune_repeats, device)
        results['finetune'][name] = dict(
            step_s=med, resolution=list(tune_size),
            iters=None if name == 'PWC-Net' else tune_iters)
        print(f'fine-tune step {name}: {med:.3f} s (1 pair, '
              f'{tune_size[0]}x{tune_size[1]})')
        del tuner, net

    ratio = results['sketch_7px_s'] / results['raft_forward_s']
    ratio_scaled = results['sketch_bbox10pct_s'] / results['raft_forward_s']
    results['sketch_vs_raft_forward'] = ratio
    results['sketch_bbox10pct_vs_raft_forward'] = ratio_scaled
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(results, f, indent=2)
    print(f'sketch (bbox-scaled squares + gate) vs RAFT forward: '
          f'{ratio_scaled:.4f}')
    print(f'wrote {args.out}')
    print(f'sketch_vs_raft_forward={ratio:.4f}')


if __name__ == '__main__':
    main()
