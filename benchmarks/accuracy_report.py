"""The accuracy benchmark's results as text and pictures: the summary of a
setup's sums, ``results.md``, the two plots, the issue's goals and plain
notes derived from the numbers (``benchmarks/accuracy.py`` writes them)."""
import os.path as osp

import numpy as np

from mmflowpose.evaluation.benchmark import AWARE_BATCH, pose_row
from mmflowpose.utils.io import write_atomic

# noise-aware terms dropped one at a time (one cycle, network flow)
ABLATION = ('vel', 'acc', 'bones', '2d')

ROWS = [
    ('initial', 'initial'),
    ('static-error floor', 'static_floor'),
    ('gaussian', 'baseline/gaussian'),
    ('savgol', 'baseline/savgol'),
    ('one_euro', 'baseline/one_euro'),
    ('per_frame_loop', 'baseline/per_frame_loop'),
    ('paper, network flow', 'paper/network'),
    ('paper, zero flow', 'paper/zero'),
    ('paper, GT flow', 'paper/gt'),
    ('label step only (network flow), lifted', 'labels/network'),
    ('label step only (zero flow), lifted', 'labels/zero'),
    ('label step only (GT flow), lifted', 'labels/gt'),
    ('label step only (DIS flow), lifted', 'labels/dis'),
    ('gaussian after the label step (network flow)',
     'baseline_labels/gaussian'),
    ('savgol after the label step (network flow)', 'baseline_labels/savgol'),
    ('one_euro after the label step (network flow)',
     'baseline_labels/one_euro'),
    ('noise-aware, network flow', 'aware/network/cycle{n}'),
    ('label step + noise-aware, network flow', 'aware/labels/cycle{n}'),
    ('label step + noise-aware, zero flow', 'aware/labels_zero/cycle{n}'),
    ('label step + noise-aware, DIS flow', 'aware/labels_dis/cycle{n}'),
    ('noise-aware, zero flow', 'aware/zero/cycle{n}'),
    ('noise-aware, GT flow', 'aware/gt/cycle{n}'),
    ('noise-aware, GT flow without its occlusion mask',
     'aware/gt_no_visibility/cycle{n}'),
    ('noise-aware, DIS flow', 'aware/dis/cycle{n}'),
    ('noise-aware, no L_opt', 'aware/no_opt/cycle{n}'),
    ('noise-aware, no forward-backward confidence',
     'aware/no_fb_confidence/cycle{n}'),
    ('noise-aware, network flow, default flow floor',
     'aware_no_floor/network'),
    ('noise-aware, GT flow, default flow floor', 'aware_no_floor/gt'),
]


def summarize(setup, settings, headline_ablation):
    sums, n = setup.sums, settings['num_cycles']

    def row(key):
        return pose_row(sums, key.format(n=n))

    # rows not run for this setup (per-frame loop, floor ablation) are
    # left out
    rows = {
        label: row(key)
        for label, key in ROWS if np.isfinite(row(key)['mpjpe'])
    }
    final = row('aware/network/cycle{n}')
    pose = dict(
        initial_mpjpe=row('initial')['mpjpe'],
        initial_p_mpjpe=row('initial')['p_mpjpe'],
        initial_accel=row('initial')['accel'],
        refined_mpjpe=final['mpjpe'],
        refined_p_mpjpe=final['p_mpjpe'],
        refined_accel=final['accel'],
        refined_paper_mpjpe=row('paper/network')['mpjpe'],
        refined_paper_p_mpjpe=row('paper/network')['p_mpjpe'],
        refined_paper_accel=row('paper/network')['accel'],
        zero_flow_mpjpe=row('aware/zero/cycle{n}')['mpjpe'],
        gt_flow_mpjpe=row('aware/gt/cycle{n}')['mpjpe'],
        dis_flow_mpjpe=row('aware/dis/cycle{n}')['mpjpe'],
        no_opt_mpjpe=row('aware/no_opt/cycle{n}')['mpjpe'],
        paper_zero_flow_mpjpe=row('paper/zero')['mpjpe'],
        paper_gt_flow_mpjpe=row('paper/gt')['mpjpe'],
        static_floor_mpjpe=row('static_floor')['mpjpe'],
        static_floor_p_mpjpe=row('static_floor')['p_mpjpe'],
        default_floor_mpjpe=row('aware_no_floor/network')['mpjpe'],
        gt_flow_default_floor_mpjpe=row('aware_no_floor/gt')['mpjpe'],
        label_step_mpjpe=row('labels/network')['mpjpe'],
        label_step_refined_mpjpe=row('aware/labels/cycle{n}')['mpjpe'],
        label_step_zero_flow_mpjpe=row('aware/labels_zero/cycle{n}')['mpjpe'],
        label_step_dis_flow_mpjpe=row('aware/labels_dis/cycle{n}')['mpjpe'])
    baselines = {
        b: dict(row(f'baseline/{b}'), **setup.chosen[b])
        for b in setup.smoothers
    }
    loop_s, frames = sums.data.get('timing/loop_seconds', (0.0, 0))
    if frames:
        baselines['per_frame_loop'] = dict(
            row('baseline/per_frame_loop'),
            params=dict(
                max_steps=settings['max_steps'], bones='previous frame'),
            val_mpjpe=None,
            clips=frames // settings['num_frames'],
            paper_same_clips=row('loop_clips/paper'),
            refined_same_clips=row('loop_clips/refined'),
            seconds=loop_s,
            frames_per_s=frames / loop_s,
            steps_per_frame=sums.mean('timing/loop_steps'),
            early_stop_fraction=sums.mean('timing/loop_early_stops'))
    cycles = {
        v: [dict(cycle=c, **row(f'aware/{v}/cycle{c}'))
            for c in range(n + 1)]
        for v, *_ in AWARE_BATCH
    }
    labels = None
    if setup.labels is not None:
        labels = dict(
            settings=setup.labels,
            truth_mirrored=sums.mean('labels/truth_mirrored'),
            flows={
                f: dict(row(f'labels/{f}'),
                        mirrored=sums.mean(f'labels/{f}/mirrored'),
                        agree=sums.mean(f'labels/{f}/agree'))
                for f in ('network', 'zero', 'gt', 'dis')
            },
            baselines={b: row(f'baseline_labels/{b}')
                       for b in setup.smoothers})
    motion = {
        k: sums.mean(f'motion/{k}')
        for k in ('network', 'dis', 'zero', 'detections',
                  'initial_projection')
    }
    terms = {
        k: {t: rec.mean(t)
            for t in rec.data}
        for k, rec in setup.terms.items()
    }
    result = dict(
        description=setup.description,
        pose=pose,
        rows=rows,
        label_step=labels,
        baselines=baselines,
        cycles=cycles,
        joint_motion_px=motion,
        detector=dict(
            name=setup.detector,
            error_px=sums.mean('detector/error_px'),
            found=sums.mean('detector/found')),
        calibration=dict(
            setup.calibration,
            flow_floor_m=setup.flow_floor,
            anchor_anneal=setup.anneal,
            anchor_anneal_val_mpjpe=setup.anneal_val),
        clip_noise={k: setup.noise.mean(k)
                    for k in setup.noise.data},
        terms=terms,
        timing=dict(
            paper_step_s=sums.mean('timing/paper_step'),
            noise_aware_cycles_s=sums.mean('timing/aware_cycles')),
        seconds=setup.seconds)
    if headline_ablation:
        result['ablation'] = [
            dict(name='all terms (1 cycle)', **row('aware/network/cycle1'))
        ] + [
            dict(name='no forward-backward confidence (1 cycle)',
                 **row('aware/no_fb_confidence/cycle1'))
        ] + [dict(name=f'no_{k}', **row(f'ablation/no_{k}'))
             for k in ABLATION]
    return result


def fmt(value, digits=2):
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return 'n/a'
    return f'{value:.{digits}f}'


def markdown(results):
    meta = results['meta']
    lines = [
        '# Accuracy benchmark (generated by benchmarks/accuracy.py)', '',
        f"Mode: {'quick' if meta['quick'] else 'full'}, "
        f"{fmt(meta['seconds'] / 60, 1)} min on {meta['threads']} "
        f"thread(s). {meta['num_test_clips']} test clips of "
        f"{meta['num_frames']} frames at {meta['fps']:.0f} fps, "
        f"{meta['image_size'][0]}x{meta['image_size'][1]} px (person "
        f"{fmt(meta['person_height_px'], 0)} px tall on average), flow "
        f"network at {meta['flow_size'][0]}x{meta['flow_size'][1]}; "
        f"2D detectors: {', '.join(meta.get('detectors', ['white']))} "
        f"(white noise {fmt(meta['det_std_px'], 2)} px). Test "
        f"motions ({meta['split']}): {', '.join(meta['test_motions'])}. "
        f"{meta['num_val_clips']} validation clips (training motions, "
        'same sampling, ' + ('rendered, the detectors run on them' if
                             meta.get('render_val') else
                             'poses only: not rendered') + '): '
        f"{', '.join(meta['val_motions'])}.",
        '',
        'Pose errors in mm on the 14 H36M evaluation joints (root '
        'aligned); acceleration error in mm/frame^2. Noise-aware rows: '
        f"{meta['num_cycles']} warm-started cycles, anchors x a per "
        'cycle with a picked on validation clips from '
        f"{meta['anneal_grid']}; every cycle sees the same flow (the "
        'flow step runs once, after the pose step, for the flow numbers '
        'only).', '',
        'What these numbers say, and where they disagree with the paper: '
        '[analysis.md](analysis.md) (written for the committed full run).',
        ''
    ]
    floor = results.get('flow_floor', {})
    if floor.get('floor_m') is not None:
        lines += [
            'Flow noise floor of the noise-aware objective (its '
            '`sigma_flow_min`), calibrated on the validation clips: exact '
            'flow at the true joints minus the joints\' own motion, robust '
            f"std {fmt(floor['floor_m'] * 1000, 2)} mm at the subject "
            f"({fmt(floor['floor_px'], 2)} px at "
            f"{fmt(floor['px_per_m'], 0)} px/m; RMS "
            f"{fmt(floor['rms_m'] * 1000, 2)} mm: heavy-tailed). Used: "
            f"{floor.get('chosen')} ({fmt(floor.get('chosen_m', 0) * 1000, 2)}"
            f" mm), the candidate with the lowest MPJPE when the "
            f"noise-aware step follows the exact flow on "
            f"{floor.get('val_clips')} validation clips (" + ', '.join(
                f'{k}: {fmt(v)}'
                for k, v in floor.get('val_mpjpe', {}).items()) +
            '). Rows "default flow floor" use the objective\'s default '
            '(2 mm).', ''
        ]
    lines += flow_step_lines(results['flow'])
    flow = results['flow_all']
    lines += [
        '## Flow at the test clips', '',
        '| flow | EPE | EPE person | EPE background | EPE joints |',
        '|---|---|---|---|---|'
    ]
    for name, row in flow.items():
        lines.append(f"| {name} | {fmt(row['epe'], 3)} | "
                     f"{fmt(row['epe_person'], 3)} | "
                     f"{fmt(row['epe_background'], 3)} | "
                     f"{fmt(row['epe_joints'], 3)} |")
    lines.append('')
    for name, res in results['setups'].items():
        lines += [f'## {name}', '', res['description'], '',
                  '| method | MPJPE | P-MPJPE | Accel |', '|---|---|---|---|']
        for label, row in res['rows'].items():
            lines.append(f"| {label} | {fmt(row['mpjpe'])} | "
                         f"{fmt(row['p_mpjpe'])} | {fmt(row['accel'])} |")
        lines.append('')
        lines += label_step_lines(res.get('label_step'))
        loop = res['baselines'].get('per_frame_loop')
        if loop:
            same = loop['paper_same_clips']
            aware = loop['refined_same_clips']
            lines += [
                f"per_frame_loop (the seed's loop, paper weights, frame t "
                f"alone with t-1 fixed) ran on {loop['clips']} clip(s): "
                f"MPJPE {fmt(loop['mpjpe'])} / P-MPJPE "
                f"{fmt(loop['p_mpjpe'])} there against "
                f"{fmt(same['mpjpe'])} / {fmt(same['p_mpjpe'])} for the "
                f"batched paper step and {fmt(aware['mpjpe'])} / "
                f"{fmt(aware['p_mpjpe'])} for the noise-aware step on the "
                f"same clips; {fmt(loop['frames_per_s'], 2)} frames/s, "
                f"{fmt(loop['steps_per_frame'], 0)} Adam steps per frame.",
                ''
            ]
        lines += [
            'Smoother parameters (validation MPJPE): ' + '; '.join(
                f"{b} " + ', '.join(f'{k}={v}'
                                    for k, v in row['params'].items()) +
                f" ({fmt(row['val_mpjpe'])})"
                for b, row in res['baselines'].items()
                if b != 'per_frame_loop') + '.', ''
        ]
        cal, noise = res['calibration'], res['clip_noise']
        lines += [
            'Noise levels. From validation clips (m, per coordinate): '
            f"lifter error {fmt(cal['sigma_3d'], 4)} (static part "
            f"{fmt(cal['sigma_static'], 4)}), its frame-to-frame change "
            f"{fmt(cal['sigma_vel'], 4)}, joint acceleration "
            f"{fmt(cal['sigma_acc'], 4)}; anchor annealing "
            f"{cal['anchor_anneal']} (validation MPJPE without L_opt per "
            'value: ' + ', '.join(
                f'{k}: {fmt(v)}'
                for k, v in cal['anchor_anneal_val_mpjpe'].items()) +
            '). Per test clip, from its own '
            f"detections and flow (mean): detector "
            f"{fmt(noise.get('sigma_2d_px'), 2)} px, network flow at the "
            f"joints {fmt(noise.get('sigma_flow_px'), 2)} px, "
            f"{fmt(noise.get('px_per_m'), 0)} px/m, mean forward-backward "
            f"confidence {fmt(noise.get('flow_confidence'), 2)}.", ''
        ]
        lines += [
            '### Cycles (noise-aware)', '',
            '| flow | ' + ' | '.join(
                f'cycle {r["cycle"]}'
                for r in next(iter(res['cycles'].values()))) + ' |',
            '|---|' + '---|' * len(next(iter(res['cycles'].values())))
        ]
        for variant, rows in res['cycles'].items():
            lines.append(f'| {variant} | ' + ' | '.join(
                f"{fmt(r['mpjpe'])} / {fmt(r['accel'])}"
                for r in rows) + ' |')
        lines += ['', 'Cells: MPJPE / accel.', '']
        if 'ablation' in res:
            lines += [
                '### Ablation (noise-aware, network flow, one cycle)', '',
                '| terms | MPJPE | P-MPJPE | Accel |', '|---|---|---|---|'
            ]
            for row in res['ablation']:
                lines.append(f"| {row['name']} | {fmt(row['mpjpe'])} | "
                             f"{fmt(row['p_mpjpe'])} | "
                             f"{fmt(row['accel'])} |")
            lines.append('')
        m = res['joint_motion_px']
        lines += [
            '### Joint-motion error at the true joints (px)', '',
            '| network flow | DIS flow | zero flow | detections | '
            'initial pose projected |', '|---|---|---|---|---|',
            f"| {fmt(m['network'], 3)} | {fmt(m['dis'], 3)} | "
            f"{fmt(m['zero'], 3)} | {fmt(m['detections'], 3)} | "
            f"{fmt(m['initial_projection'], 3)} |", ''
        ]
        det = res.get('detector', {})
        lines += [
            f"Detector ({det.get('name')}): mean 2D error "
            f"{fmt(det.get('error_px'), 2)} px on the joints it returns; a "
            f"person found in {fmt(100 * (det.get('found') or 0), 0)}% of "
            'the frames.', ''
        ]
        t = res['timing']
        lines += [
            f"Pose-step time per clip: paper {fmt(t['paper_step_s'], 1)} s,"
            f" noise-aware {meta['num_cycles']} cycles "
            f"{fmt(t['noise_aware_cycles_s'], 1)} s.", ''
        ]
    if results.get('goals'):
        lines += ['## Goals of issue 13 (headline setting)', '']
        lines += [f'- {g}' for g in results['goals']]
        lines.append('')
    if results.get('notes'):
        lines += ['## Notes (derived from the numbers)', '']
        lines += [f'- {n}' for n in results['notes']]
    return '\n'.join(lines) + '\n'


def plots(results, out_dir):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    name = results['meta']['primary_setup']
    res = results['setups'][name]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for variant, rows in res['cycles'].items():
        cycles = [r['cycle'] for r in rows]
        axes[0].plot(cycles, [r['mpjpe'] for r in rows], 'o-', label=variant)
        axes[1].plot(cycles, [r['accel'] for r in rows], 'o-', label=variant)
    axes[0].set(xlabel='cycle', ylabel='MPJPE (mm)', title='pose')
    axes[1].set(xlabel='cycle', ylabel='accel error (mm/frame^2)')
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(f'{name}: noise-aware cycles by flow', fontsize=9)
    fig.tight_layout()
    write_atomic(
        osp.join(out_dir, 'cycles.png'),
        lambda p: fig.savefig(p, dpi=100, format='png'))
    plt.close(fig)

    labels = list(res['rows'])
    mpjpe = [r['mpjpe'] for r in res['rows'].values()]
    accel = [r['accel'] for r in res['rows'].values()]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    axes[0].barh(labels, mpjpe, color='tab:blue')
    axes[0].set(xlabel='MPJPE (mm)')
    axes[1].barh(labels, accel, color='tab:orange')
    axes[1].set(xlabel='acceleration error (mm/frame^2)')
    axes[1].set_yticklabels([])
    for ax in axes:
        ax.invert_yaxis()
    fig.suptitle(name, fontsize=9)
    fig.tight_layout()
    write_atomic(
        osp.join(out_dir, 'baselines.png'),
        lambda p: fig.savefig(p, dpi=100, format='png'))
    plt.close(fig)


def label_step_lines(step):
    """Markdown of a setup's label step (``results[...]['label_step']``)."""
    if not step:
        return []
    cfg = ', '.join(f'{k}={v}' for k, v in step['settings'].items())
    lines = [
        f'Label step ({cfg}): the detections\' left/right names carried '
        'along each flow, then lifted again. The ground truth mirrors '
        f"{fmt(100 * step['truth_mirrored'], 1)}% of the frames "
        '(DIAGNOSTIC: the labelling closer to the true projections).', '',
        '| flow | frames mirrored | agree with the truth | MPJPE | '
        'P-MPJPE | Accel |', '|---|---|---|---|---|---|'
    ]
    for name, row in step['flows'].items():
        lines.append(f"| {name} | {fmt(100 * row['mirrored'], 1)}% | "
                     f"{fmt(100 * row['agree'], 1)}% | {fmt(row['mpjpe'])} "
                     f"| {fmt(row['p_mpjpe'])} | {fmt(row['accel'])} |")
    return lines + ['']


def flow_step_lines(flow):
    """Markdown of the flow step's EPE before/after (results['flow'])."""
    step = flow.get('step')
    if not step:
        return ['## Flow step', '', 'Not run.', '']
    ref, ora = step['refined'], step['oracle']
    h, w = step['image_size']
    lines = [
        '## Flow step (guarded, from the headline\'s refined joints)', '',
        f"First {step['frames']} frames of {len(step['clips'])} test clips "
        f'at {h}x{w} px (the size the step\'s settings were chosen at, on '
        'validation motions, in `benchmarks/flow_sketch.py`), the shipped '
        f"RAFT-S at that size; {fmt(step['seconds'] / 60, 1)} min. EPE in "
        'px over valid pixels.', '',
        '| flow | EPE all | EPE person | EPE background |',
        '|---|---|---|---|'
    ]
    for label, run, when in (('network (before)', ref, 'before'),
                             ('after the step, refined sketch', ref,
                              'after'),
                             ('after the step, oracle sketch', ora,
                              'after'),
                             ('fine-tuned network alone, refined', ref,
                              'tuned')):
        lines.append(f'| {label} | ' + ' | '.join(
            fmt(run[f'{when}_{k}'], 4)
            for k in ('all', 'person', 'background')) + ' |')
    lines += ['', 'Guard decisions (refined sketch): ' + '; '.join(
        f'{c}: {r}' for c, r in zip(step['clips'], ref['reasons'])) + '.',
        '', 'Oracle sketch: ' + '; '.join(
            f'{c}: {r}' for c, r in zip(step['clips'], ora['reasons'])) +
        '.', '']
    return lines


def goals(results):
    """The issue's Done-when checks on the headline setting."""
    out = []
    name = results['meta']['primary_setup']
    res = results['setups'][name]
    p = res['pose']
    base = {b: r for b, r in res['baselines'].items()}
    ratio = p['refined_mpjpe'] / p['initial_mpjpe']

    def ok(flag):
        return 'met' if flag else 'NOT met'

    out.append(f"refined MPJPE <= 0.85 x initial: x{fmt(ratio, 3)} "
               f"({fmt(p['refined_mpjpe'])} / {fmt(p['initial_mpjpe'])}): "
               f'{ok(ratio <= 0.85)}')

    def beaten(method, row):
        # the per-frame loop may run on fewer clips: compare on its clips
        mine = dict(mpjpe=p['refined_mpjpe'], p_mpjpe=p['refined_p_mpjpe'])
        if method == 'per_frame_loop':
            mine = row.get('refined_same_clips', mine)
        return mine['mpjpe'] < row['mpjpe'] and \
            mine['p_mpjpe'] < row['p_mpjpe']

    worst = [b for b, r in base.items() if not beaten(b, r)]
    out.append('MPJPE and P-MPJPE below every smoother and the per-frame '
               f"loop: {ok(not worst)}" +
               (f" (not below: {', '.join(worst)})" if worst else ''))
    smooth = [r['accel'] for b, r in base.items() if b != 'per_frame_loop']
    out.append(f"accel {fmt(p['refined_accel'])} <= best smoother's "
               f'{fmt(min(smooth))}: {ok(p["refined_accel"] <= min(smooth))}')
    zero, gtf, net = (p['zero_flow_mpjpe'], p['gt_flow_mpjpe'],
                      p['refined_mpjpe'])
    gain = 100 * (zero - net) / zero
    out.append(f'network flow >= 3% below zero flow: {fmt(gain, 1)}% '
               f'({fmt(net)} vs {fmt(zero)}): {ok(gain >= 3)}')
    if gtf < zero:
        share = (zero - net) / (zero - gtf)
        out.append(f'network recovers >= half of the GT-flow gain: '
                   f'{fmt(100 * share, 0)}% (GT flow {fmt(gtf)}): '
                   f'{ok(share >= 0.5)}')
    else:
        out.append(f'network recovers >= half of the GT-flow gain: '
                   f'undefined, GT flow {fmt(gtf)} is not below zero flow '
                   f'{fmt(zero)}: NOT met')
    f = results['flow']
    if f.get('refined_epe') is not None:
        for key in ('epe', 'epe_person', 'epe_background'):
            out.append(f'flow {key} not worse after the step: '
                       f"{fmt(f[f'initial_{key}'], 4)} -> "
                       f"{fmt(f[f'refined_{key}'], 4)}: "
                       f"{ok(f[f'refined_{key}'] <= f[f'initial_{key}'])}")
        got = f['initial_epe_person'] - f['refined_epe_person']
        best = f['initial_epe_person'] - f['oracle_epe_person']
        out.append(f'person EPE gain >= half the oracle sketch\'s: '
                   f'{fmt(got, 4)} vs {fmt(best, 4)} px: '
                   f'{ok(best <= 0 or got >= 0.5 * best)}')
    else:
        out.append('flow step: not run')
    return out


def notes(results):
    """Plain statements derived from the numbers (no interpretation)."""
    out = []
    for name, res in results['setups'].items():
        p = res['pose']
        best = min((row['mpjpe'], b) for b, row in res['baselines'].items()
                   if b != 'per_frame_loop')
        best_acc = min(row['accel'] for b, row in res['baselines'].items()
                       if b != 'per_frame_loop')
        ratio = p['refined_mpjpe'] / p['initial_mpjpe']
        out.append(
            f"{name}: noise-aware {fmt(p['refined_mpjpe'])} mm vs initial "
            f"{fmt(p['initial_mpjpe'])} (x{fmt(ratio, 3)}), "
            f"paper preset {fmt(p['refined_paper_mpjpe'])}, best smoother "
            f"{best[1]} {fmt(best[0])}; accel {fmt(p['refined_accel'])} vs "
            f"best smoother {fmt(best_acc)}.")
        zero, gtf = p['zero_flow_mpjpe'], p['gt_flow_mpjpe']
        net = p['refined_mpjpe']
        if gtf < zero:
            share = (f'the network recovers '
                     f'{fmt(100 * (zero - net) / (zero - gtf), 0)}% of the '
                     'GT-flow gain over zero flow.')
        else:
            # a share of a loss is not a recovered gain
            share = ('GT flow is not better than zero flow here, so no '
                     'share of a gain is defined.')
        out.append(
            f"{name}: flow share (noise-aware): zero flow {fmt(zero)}, "
            f"network {fmt(net)} ({fmt(100 * (zero - net) / zero, 1)}% "
            f"below zero flow), GT flow {fmt(gtf)}, DIS "
            f"{fmt(p['dis_flow_mpjpe'])}, no L_opt {fmt(p['no_opt_mpjpe'])}"
            f'; {share}')
        step = res.get('label_step')
        if step:
            rows = step['flows']
            out.append(
                f"{name}: label step alone (lifted, no pose step): network "
                f"flow {fmt(rows['network']['mpjpe'])}, zero flow "
                f"{fmt(rows['zero']['mpjpe'])}, GT flow "
                f"{fmt(rows['gt']['mpjpe'])}, DIS {fmt(rows['dis']['mpjpe'])}"
                f"; with the noise-aware step after it: network flow "
                f"{fmt(p['label_step_refined_mpjpe'])}, zero flow "
                f"{fmt(p['label_step_zero_flow_mpjpe'])}, DIS "
                f"{fmt(p['label_step_dis_flow_mpjpe'])}.")
    return out
