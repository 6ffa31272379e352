"""Train the small mmflow RAFT on one GPU for a fixed wall-clock budget.

Self-contained job for a bare GPU machine with torch, numpy and opencv but
no OpenMMLab packages and no internet (see ``tools/gpu/README.md``). It

1. installs the carried wheels (mmengine, mmcv-lite, mmflow and their
   pure-Python needs) into ``/tmp/mmsite`` (``--install``);
2. stands in for mmcv's compiled ``mmcv._ext`` (RAFT uses no mmcv op) and
   builds ``RAFT`` from ``<job>/model_cfg.json``, the ``model`` of
   ``configs/training/raft-small_synthetic.py`` (so the weights load with
   ``init_model`` on that config);
3. renders training clips with this repo's ``make_clip`` in worker
   processes for ``--render-s`` seconds: the lifter's training mocap
   motions (``<job>/mocap_joints.npz``) and procedural walks / jumping
   jacks, at 96x128 and 192x256, static and orbiting cameras, people large
   in frame; plus the 16 held-out validation clips of
   ``checkpoints/README.md`` (07_05 walk, backflip; same seeds and cameras
   as ``render_flow_cache``);
4. trains with mmflow's ``SequenceLoss`` (gamma 0.8), AdamW and a one-cycle
   learning rate laid over the *time* budget, batch ``--batch``, random
   crops and horizontal flips (flow x negated), brightness/contrast jitter;
5. validates (EPE all / person / background vs zero flow) every
   ``--eval-every`` seconds and at the end, saves
   ``<out>/raft-small_synthetic_gpu.pth`` (``state_dict`` + plain ``meta``)
   every ``--save-every`` seconds and at the end, and ``<out>/train_log.json``.

Example (device)::

    python3 tools/gpu/train_raft_gpu.py --install --out $OUT --budget 540

Dry run on CPU (here)::

    .venv/bin/python tools/gpu/train_raft_gpu.py --device cpu --budget 60 \\
        --render-s 8 --workers 1 --batch 2 --out work_dirs/gpu_dry
"""
import argparse
import glob
import importlib
import importlib.machinery
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
import types

T0 = time.time()
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TRAIN_MOTIONS = [
    'assimp/01_01.bvh', 'bvh11/131_01.bvh',
    'animated_drawings/jumping_jacks.bvh', 'gsimchoni_mocap/lambada.amc',
    'gsimchoni_mocap/pirouette.amc', 'usc_cs520_starter/09_06-run.amc',
    'usc_cs520_starter/131_04-dance.amc',
    'usc_cs520_starter/135_06-martialArts.amc', 'procedural:walk',
    'procedural:jumping_jacks'
]
VAL_MOTIONS = ['usc_cs520_starter/07_05-walk.amc',
               'gsimchoni_mocap/backflip.amc']
# render_flow_cache's RENDER_CAMERA_RANGES with the training config's
# overrides (orbit_prob 0.8, 1-4 deg/frame): the README validation set.
VAL_RANGES = dict(azimuth_deg=(-180.0, 180.0), elevation_deg=(0.0, 30.0),
                  distance=(3.0, 6.0), fill=(0.45, 0.9),
                  orbit_deg_per_frame=(1.0, 4.0), orbit_prob=0.8)
# training: people larger in frame, a third static cameras
TRAIN_RANGES = dict(azimuth_deg=(-180.0, 180.0), elevation_deg=(-5.0, 30.0),
                    distance=(3.0, 6.0), fill=(0.6, 0.98),
                    orbit_deg_per_frame=(0.5, 4.5), orbit_prob=0.67)
STRIDES = (2, 3, 4, 6)


def log(*args):
    print(f'[{time.time() - T0:6.1f}s]', *args, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--job', default=osp.join(REPO, '.gpu_job'),
                   help='folder with wheels/, model_cfg.json, '
                   'mocap_joints.npz')
    p.add_argument('--out', default=os.environ.get('OUT', 'work_dirs/gpu'))
    p.add_argument('--install', action='store_true',
                   help='pip-install <job>/wheels into /tmp/mmsite first')
    p.add_argument('--device', default='cuda')
    p.add_argument('--budget', type=float, default=540.0,
                   help='total wall seconds from start (all phases)')
    p.add_argument('--render-s', type=float, default=45.0)
    p.add_argument('--workers', type=int, default=15)
    p.add_argument('--frames', type=int, default=5, help='frames a clip')
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--crop', type=int, nargs=2, default=(160, 224),
                   help='crop of the 192x256 clips')
    p.add_argument('--small-frac', type=float, default=0.5,
                   help='fraction of steps on 96x128 clips')
    p.add_argument('--lr', type=float, default=4e-4)
    p.add_argument('--wd', type=float, default=1e-4)
    p.add_argument('--save-every', type=float, default=60.0)
    p.add_argument('--eval-every', type=float, default=90.0)
    p.add_argument('--final-reserve', type=float, default=30.0,
                   help='seconds kept for the last eval and save')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


# --------------------------------------------------------------- environment
def install_wheels(job):
    target = '/tmp/mmsite'
    wheels = sorted(glob.glob(osp.join(job, 'wheels', '*.whl')))
    if not wheels:
        raise FileNotFoundError(f'no wheels in {job}/wheels')
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q',
                    '--no-index', '--no-deps', '--no-compile',
                    '--no-cache-dir', '--upgrade', '--target', target] +
                   wheels, check=True)
    sys.path.insert(0, target)
    os.environ['PYTHONPATH'] = target + os.pathsep + os.environ.get(
        'PYTHONPATH', '')


class _MissingExt(types.ModuleType):
    """Stand-in for mmcv._ext (mmcv-lite): ops fail only when called."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)

        def _missing(*args, **kwargs):
            raise RuntimeError(f'mmcv op {name} needs compiled mmcv')

        return _missing


def shim_mmcv_ext():
    if 'mmcv._ext' not in sys.modules:
        mod = _MissingExt('mmcv._ext')
        mod.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
        sys.modules['mmcv._ext'] = mod


def load_make_clip():
    """make_clip from this repo without importing mmflowpose's __init__."""
    base = osp.join(REPO, 'mmflowpose')
    for name, sub in (('mmflowpose', ''), ('mmflowpose.datasets', 'datasets'),
                      ('mmflowpose.datasets.synthetic',
                       'datasets/synthetic')):
        if name not in sys.modules:
            mod = types.ModuleType(name)
            mod.__path__ = [osp.join(base, sub)]
            sys.modules[name] = mod
    return importlib.import_module(
        'mmflowpose.datasets.synthetic.clip').make_clip


def build_model(job):
    shim_mmcv_ext()
    import mmflow.models  # noqa: F401  (registers RAFT & co.)
    from mmflow.registry import MODELS
    with open(osp.join(job, 'model_cfg.json')) as f:
        cfg = json.load(f)
    cfg.pop('_scope_', None)
    cfg.pop('data_preprocessor', None)  # normalisation is done here
    import logging

    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.WARNING)  # init logs
    model = MODELS.build(cfg)
    model.init_weights()
    return model, cfg


# ----------------------------------------------------------------- rendering
def draw_camera(rng, r):
    """render_flow_cache's _draw_camera (same draws, same order)."""
    orbit = rng.uniform(*r['orbit_deg_per_frame']) * rng.choice([-1, 1]) \
        if rng.uniform() < r['orbit_prob'] else 0.0
    return dict(
        azimuth_deg=float(rng.uniform(*r['azimuth_deg'])),
        elevation_deg=float(rng.uniform(*r['elevation_deg'])),
        distance=float(rng.uniform(*r['distance'])),
        fill=float(rng.uniform(*r['fill'])),
        orbit_deg_per_frame=float(orbit))


def make_tasks(split, motions, count, ranges, sizes, frames, lengths,
               split_no, seed):
    """Clip recipes, drawn exactly as render_flow_cache draws them."""
    import numpy as np
    tasks = []
    for i in range(count):
        motion = motions[i % len(motions)]
        clip_seed = seed * 100003 + split_no * 10007 + i
        rng = np.random.default_rng(clip_seed)
        camera = draw_camera(rng, ranges)
        task = dict(split=split, motion=motion, camera=camera,
                    seed=clip_seed, frames=frames,
                    size=sizes[i % len(sizes)], start=0, stride=1)
        if not motion.startswith('procedural:'):
            stride = int(rng.choice(STRIDES))
            span = (frames - 1) * stride + 1
            n = lengths[f'{split}|{motion}']
            if span > n:  # the 30 Hz jumping jacks: fall back to stride 1
                stride, span = 1, frames
            task.update(start=int(rng.integers(0, n - span + 1)),
                        stride=stride)
        tasks.append(task)
    return tasks


_WORKER = {}


def _worker_init(job):
    import numpy as np
    import torch
    torch.set_num_threads(1)
    _WORKER['make_clip'] = load_make_clip()
    with np.load(osp.join(job, 'mocap_joints.npz')) as data:
        _WORKER['mocap'] = {k: data[k] for k in data.files}


def render_task(task):
    import numpy as np
    make_clip = _WORKER['make_clip']
    motion = task['motion']
    if motion.startswith('procedural:'):
        source, kwargs = motion, dict(num_frames=task['frames'])
    else:
        joints = _WORKER['mocap'][f"{task['split']}|{motion}"]
        s, st = task['start'], task['stride']
        source = joints[s:s + (task['frames'] - 1) * st + 1:st]
        kwargs = dict(fps=120.0 / st)
    clip = make_clip(source, camera=dict(task['camera']),
                     image_size=tuple(task['size']), seed=task['seed'],
                     **kwargs)
    return dict(task=task, frames=clip['frames'],
                flow=clip['flow'].astype(np.float16),
                mask=clip['human_mask'][:-1])


def render_all(tasks, job, workers, deadline):
    """Render tasks in worker processes until done or the deadline."""
    import multiprocessing as mp
    out = []
    if workers <= 1:
        _worker_init(job)
        for task in tasks:
            if time.time() > deadline:
                break
            out.append(render_task(task))
        return out
    ctx = mp.get_context('spawn')
    pool = ctx.Pool(workers, initializer=_worker_init, initargs=(job, ))
    try:
        for res in pool.imap_unordered(render_task, tasks, chunksize=2):
            out.append(res)
            if time.time() > deadline:
                break
    finally:
        pool.terminate()
        pool.join()
    return out


def stack_pool(clips, torch, device):
    """Clips of one size -> uint8 frames, fp16 flow, bool masks on device."""
    import numpy as np
    frames = torch.from_numpy(np.stack([c['frames'] for c in clips]))
    flow = torch.from_numpy(np.stack([c['flow'] for c in clips]))
    mask = torch.from_numpy(np.stack([c['mask'] for c in clips]))
    return dict(frames=frames.to(device), flow=flow.to(device),
                mask=mask.to(device), n=len(clips),
                pairs=frames.shape[1] - 1)


# ------------------------------------------------------------------ training
def normalise(img):
    """(B, H, W, 3) uint8/float -> (B, 3, H, W) in [-1, 1] (mean=std=127.5)."""
    return (img.permute(0, 3, 1, 2).float() - 127.5) / 127.5


def sample_batch(pool, batch, crop, gen, torch):
    dev = pool['frames'].device
    n, pairs = pool['n'], pool['pairs']
    ci = torch.randint(0, n, (batch, ), generator=gen).to(dev)
    ti = torch.randint(0, pairs, (batch, ), generator=gen).to(dev)
    img1 = pool['frames'][ci, ti].float()
    img2 = pool['frames'][ci, ti + 1].float()
    flow = pool['flow'][ci, ti].float()  # (B, H, W, 2)
    H, W = img1.shape[1:3]
    if crop is not None and (crop[0] < H or crop[1] < W):
        ch, cw = crop
        ys = torch.randint(0, H - ch + 1, (batch, ), generator=gen).tolist()
        xs = torch.randint(0, W - cw + 1, (batch, ), generator=gen).tolist()
        img1 = torch.stack([img1[b, y:y + ch, x:x + cw]
                            for b, (y, x) in enumerate(zip(ys, xs))])
        img2 = torch.stack([img2[b, y:y + ch, x:x + cw]
                            for b, (y, x) in enumerate(zip(ys, xs))])
        flow = torch.stack([flow[b, y:y + ch, x:x + cw]
                            for b, (y, x) in enumerate(zip(ys, xs))])
    flip = (torch.rand(batch, generator=gen) < 0.5).to(dev)
    f = flip[:, None, None, None]
    img1 = torch.where(f, img1.flip(2), img1)
    img2 = torch.where(f, img2.flip(2), img2)
    flow_f = flow.flip(2) * torch.tensor([-1.0, 1.0], device=dev)
    flow = torch.where(f, flow_f, flow)
    # same brightness / contrast for both frames
    gain = (0.75 + 0.5 * torch.rand(batch, generator=gen)).to(dev)
    bias = (20.0 * (torch.rand(batch, generator=gen) - 0.5)).to(dev)
    g, b_ = gain[:, None, None, None], bias[:, None, None, None]
    img1 = ((img1 - 127.5) * g + 127.5 + b_).clamp(0, 255)
    img2 = ((img2 - 127.5) * g + 127.5 + b_).clamp(0, 255)
    inputs = torch.cat([normalise(img1), normalise(img2)], dim=1)
    return inputs.contiguous(), flow.permute(0, 3, 1, 2).contiguous()


def lr_at(frac, lr_max, pct_start=0.05, div=25.0, final_div=1e4):
    """One-cycle (linear) learning rate at a fraction of the time budget."""
    frac = min(max(frac, 0.0), 1.0)
    lo, end = lr_max / div, lr_max / div / final_div
    if frac < pct_start:
        return lo + (lr_max - lo) * frac / pct_start
    return lr_max + (end - lr_max) * (frac - pct_start) / (1 - pct_start)


def evaluate(model, pool, torch, batch=32):
    """EPE (px) of the model and of zero flow: all / person / background."""
    if pool is None:
        return None
    was_training = model.training
    model.eval()
    sums = {k: 0.0 for k in ('all', 'person', 'background', 'zero_all',
                             'zero_person', 'zero_background')}
    counts = dict(all=0, person=0, background=0)
    frames, flow, mask = pool['frames'], pool['flow'], pool['mask']
    pairs = [(c, t) for c in range(pool['n']) for t in range(pool['pairs'])]
    with torch.no_grad():
        for i in range(0, len(pairs), batch):
            ci = torch.tensor([p[0] for p in pairs[i:i + batch]])
            ti = torch.tensor([p[1] for p in pairs[i:i + batch]])
            inputs = torch.cat([normalise(frames[ci, ti]),
                                normalise(frames[ci, ti + 1])], 1)
            pred = model._forward(inputs)[-1].float()
            gt = flow[ci, ti].float().permute(0, 3, 1, 2)
            epe = (pred - gt).norm(dim=1)
            zero = gt.norm(dim=1)
            m = mask[ci, ti]
            for key, sel in (('all', torch.ones_like(m)), ('person', m),
                             ('background', ~m)):
                sums[key] += float(epe[sel].sum())
                sums['zero_' + key] += float(zero[sel].sum())
                counts[key] += int(sel.sum())
    model.train(was_training)
    res = {k: round(v / max(counts[k.replace('zero_', '')], 1), 4)
           for k, v in sums.items()}
    res['pairs'] = len(pairs)
    return res


def save(model, path, meta, torch):
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    tmp = path + '.tmp'
    torch.save(dict(state_dict=state, meta=meta), tmp)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    deadline = T0 + args.budget
    os.makedirs(args.out, exist_ok=True)
    if args.install:
        install_wheels(args.job)
        log('wheels installed')
    import numpy as np
    import torch
    torch.set_num_threads(min(8, os.cpu_count() or 1))
    model, model_cfg = build_model(args.job)
    n_params = sum(p.numel() for p in model.parameters())
    log(f'RAFT built: {n_params} params, torch {torch.__version__}')

    # ---- clip recipes
    with np.load(osp.join(args.job, 'mocap_joints.npz')) as data:
        lengths = {k: len(data[k]) for k in data.files}
    val_tasks = make_tasks('val', VAL_MOTIONS, 16, VAL_RANGES, [(96, 128)],
                           5, lengths, split_no=1, seed=0)
    val_big = [dict(t, size=(192, 256)) for t in val_tasks]
    train_tasks = make_tasks('train', TRAIN_MOTIONS, 20000, TRAIN_RANGES,
                             [(96, 128), (192, 256)], args.frames, lengths,
                             split_no=0, seed=1000 + args.seed)
    # ---- render
    start = time.time()
    rendered = render_all(val_tasks + val_big + train_tasks, args.job,
                          args.workers, start + args.render_s)
    render_wall = time.time() - start
    by_kind = {}
    for r in rendered:
        key = (r['task']['split'], tuple(r['task']['size']))
        by_kind.setdefault(key, []).append(r)
    for key in by_kind:  # deterministic order (imap_unordered)
        by_kind[key].sort(key=lambda r: r['task']['seed'])
    log('rendered', {f'{k[0]}{k[1]}': len(v) for k, v in by_kind.items()},
        f'in {render_wall:.1f}s')
    device = torch.device(args.device)
    pools = {k: stack_pool(v, torch, device) for k, v in by_kind.items()}
    val_pool = pools.get(('val', (96, 128)))
    val_big_pool = pools.get(('val', (192, 256)))
    train_small = pools.get(('train', (96, 128)))
    train_big = pools.get(('train', (192, 256)))
    if train_small is None and train_big is None:
        raise RuntimeError('no training clips rendered')
    del rendered, by_kind

    # ---- train
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
        dev_name = torch.cuda.get_device_name(0)
    else:
        dev_name = 'cpu'
    model.to(device).train()
    loss_fn = model.decoder.flow_loss
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr / 25,
                            weight_decay=args.wd)
    gen = torch.Generator().manual_seed(args.seed)
    train_start = time.time()
    train_end = deadline - args.final_reserve
    budget = max(train_end - train_start, 1.0)
    history, step, last_save, last_eval = [], 0, train_start, train_start
    loss_avg, steps_small, steps_big = None, 0, 0
    ckpt = osp.join(args.out, 'raft-small_synthetic_gpu.pth')

    def meta(final):
        return dict(
            made_by='tools/gpu/train_raft_gpu.py',
            config='configs/training/raft-small_synthetic.py',
            device=dev_name, torch=str(torch.__version__), steps=step,
            steps_96x128=steps_small, steps_192x256=steps_big,
            batch_size=args.batch, lr_max=args.lr, weight_decay=args.wd,
            schedule='AdamW + linear one-cycle over the wall-clock budget '
            '(5% warm-up), grad clip 1.0, mmflow SequenceLoss gamma 0.8',
            crop_192x256=list(args.crop), render_wall_s=round(render_wall, 1),
            train_wall_s=round(time.time() - train_start, 1),
            train_clips={f'{k}': (None if p is None else p['n']) for k, p in
                         (('96x128', train_small), ('192x256', train_big))},
            frames_per_clip=args.frames, train_motions=TRAIN_MOTIONS,
            val_motions=VAL_MOTIONS, train_camera_ranges=TRAIN_RANGES,
            params=n_params, final=final, history=history)

    while time.time() < train_end:
        use_small = train_big is None or (
            train_small is not None and
            float(torch.rand(1, generator=gen)) < args.small_frac)
        pool = train_small if use_small else train_big
        inputs, gt = sample_batch(pool, args.batch,
                                  None if use_small else args.crop, gen,
                                  torch)
        lr = lr_at((time.time() - train_start) / budget, args.lr)
        for group in opt.param_groups:
            group['lr'] = lr
        preds = model._forward(inputs)
        loss = loss_fn(preds, gt, None)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        steps_small += int(use_small)
        steps_big += int(not use_small)
        if step % 25 == 0 or step <= 3:
            val = float(loss)
            if not math.isfinite(val):
                raise RuntimeError(f'loss is {val} at step {step}')
            loss_avg = val if loss_avg is None else 0.9 * loss_avg + 0.1 * val
            if step % 100 == 0 or step <= 3:
                log(f'step {step} loss {val:.3f} (avg {loss_avg:.3f}) '
                    f'lr {lr:.2e}')
        now = time.time()
        if now - last_eval >= args.eval_every:
            res = evaluate(model, val_pool, torch)
            history.append(dict(step=step, t=round(now - train_start, 1),
                                loss_avg=loss_avg, val_96x128=res))
            log('val', res)
            last_eval = time.time()
        if now - last_save >= args.save_every:
            save(model, ckpt, meta(False), torch)
            last_save = time.time()
    # ---- final eval + save
    final = dict(step=step, t=round(time.time() - train_start, 1),
                 loss_avg=loss_avg,
                 val_96x128=evaluate(model, val_pool, torch),
                 val_192x256=evaluate(model, val_big_pool, torch))
    history.append(final)
    log('final', final)
    save(model, ckpt, meta(True), torch)
    with open(osp.join(args.out, 'train_log.json'), 'w') as f:
        json.dump(meta(True), f, indent=1)
    log(f'saved {ckpt}; total {time.time() - T0:.1f}s')


if __name__ == '__main__':
    main()
