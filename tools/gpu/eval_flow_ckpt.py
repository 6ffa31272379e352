"""EPE of RAFT checkpoints on the held-out clips of checkpoints/README.md.

Renders (once) the 16 validation clips (07_05 walk, backflip; 64 pairs,
96x128) exactly as ``tools/train_flow.py`` does from the config's
``flow_cache`` and prints, per checkpoint, EPE over all pixels, on the
person and on the background, next to zero flow's::

    python tools/gpu/eval_flow_ckpt.py checkpoints/raft-small_synthetic.pth \\
        work_dirs/gpu/raft-small_synthetic_gpu.pth
"""
import argparse
import json

import numpy as np
import torch


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('checkpoints', nargs='+')
    p.add_argument('--config',
                   default='configs/training/raft-small_synthetic.py')
    p.add_argument('--cache', default='work_dirs/flow_val_readme')
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from mmengine.config import Config

    from mmflowpose.apis import init_model
    from mmflowpose.datasets.synthetic import (SyntheticFlowDataset,
                                               render_flow_cache)
    from mmflowpose.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(args.config)
    fc = cfg.flow_cache
    render_flow_cache(args.cache, splits=dict(fc.splits),
                      clips_per_split=dict(
                          train=0, val=fc.clips_per_split.val),
                      mocap_root=fc.mocap_root,
                      frames_per_clip=fc.frames_per_clip,
                      image_size=tuple(fc.image_size),
                      camera_ranges=fc.get('camera_ranges'), seed=fc.seed)
    data = SyntheticFlowDataset(args.cache, split='val', test_mode=True)
    infos = [data.get_data_info(i) for i in range(len(data))]
    img1 = np.stack([d['img1'] for d in infos])
    img2 = np.stack([d['img2'] for d in infos])
    gt = torch.from_numpy(np.stack([d['gt_flow_fw'] for d in infos]))
    human = torch.from_numpy(np.stack([d['human_mask'] for d in infos]))

    def norm(x):
        x = torch.from_numpy(x).permute(0, 3, 1, 2).float()
        return (x - 127.5) / 127.5

    inputs = torch.cat([norm(img1), norm(img2)], 1)
    results = {}
    for name, pred in [('zero flow', torch.zeros_like(gt))] + [
            (c, None) for c in args.checkpoints]:
        if pred is None:
            model = init_model(args.config, name, device='cpu').eval()
            with torch.no_grad():
                pred = torch.cat([model._forward(inputs[i:i + 8])[-1]
                                  for i in range(0, len(inputs), 8)])
            pred = pred.permute(0, 2, 3, 1)
        epe = (pred - gt).norm(dim=-1)
        res = {k: round(float(epe[m].mean()), 4) for k, m in (
            ('all', torch.ones_like(human)), ('person', human),
            ('background', ~human))}
        res['pairs'] = len(gt)
        results[name] = res
        print(f'{name}: {res}', flush=True)
    return results


if __name__ == '__main__':
    print(json.dumps(main(), indent=1))
