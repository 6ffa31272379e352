"""Estimate 3D pose, refine it with optical flow, draw both.

Offline (no download; mediapipe BlazePose from its wheel, a rendered clip)::

    python demo/flowpose_demo.py --offline --out-dir outputs/demo

Your video with model-zoo weights (internet, or local files)::

    python demo/flowpose_demo.py my.mp4 --pose3d human3d \
        --flow mmflow::raft/raft_8xb2_100k_mixed-368x768.py \
        --flow-weights https://download.openmmlab.com/mmflow/raft/\
raft_8x2_100k_mixed_368x768.pth --out-dir outputs/my

See docs/en/demo.md for every flag.
"""
import argparse
import os
import os.path as osp
import sys
import time
import warnings

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_REFINE_CFG = osp.join(REPO, 'configs', '_base_', 'models',
                              'flowpose_refiner.py')
# --offline: a light schedule and the small RAFT trained on rendered clips,
# whose weights ship in checkpoints/ (see checkpoints/README.md)
OFFLINE_REFINE_CFG = osp.join(REPO, 'configs', 'demo',
                              'flowpose_offline-demo.py')
OFFLINE_FLOW_CFG = osp.join(REPO, 'configs', 'training',
                            'raft-small_synthetic.py')
OFFLINE_FLOW_WEIGHTS = osp.join(REPO, 'checkpoints',
                                'raft-small_synthetic.pth')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='FlowPose demo: 3D pose and optical flow refined '
        'against each other')
    parser.add_argument(
        'input', nargs='?', default=None,
        help='video file or folder of frames; with --offline and no input '
        'a synthetic clip is rendered')
    parser.add_argument(
        '--pose3d', default='mediapipe',
        help="initial 2D+3D estimator: 'mediapipe' (offline) or an mmpose "
        "3D alias / config (e.g. 'human3d')")
    parser.add_argument('--pose3d-weights', default=None,
                        help='checkpoint path or URL of the mmpose lifter')
    parser.add_argument(
        '--flow', default=None,
        help='mmflow config (path or mmflow::name); default: the refine '
        'config\'s networks, or with --offline the small synthetic RAFT')
    parser.add_argument('--flow-weights', default=None,
                        help='checkpoint path or URL of the flow network')
    parser.add_argument(
        '--refine-cfg', default=None,
        help='FlowPoseRefiner config (its `model` entry); default: '
        'configs/demo/flowpose_offline-demo.py with --offline, else '
        'configs/_base_/models/flowpose_refiner.py')
    parser.add_argument(
        '--no-refine', action='store_true',
        help='only run the estimator (no flow, refined = initial)')
    parser.add_argument('--num-cycles', type=int, default=None,
                        help='override the refiner\'s flow/pose cycles '
                        '(0: flow and the initial estimate only)')
    parser.add_argument(
        '--max-side', type=int, default=512,
        help='working resolution: the flow networks and the sketch run on '
        'frames whose longest side is at most this many px (flows and '
        'joints are mapped back to the original pixels); 0 keeps the full '
        'size. Memory and time of the flow grow with it (docs/en/demo.md)')
    parser.add_argument(
        '--finetune-passes', type=int, default=None,
        help='override the passes of flow fine-tuning per cycle (0: no '
        'fine-tuning, the cycles keep the pretrained flow)')
    parser.add_argument(
        '--flow-iters', type=int, default=None,
        help='override the recurrent iterations of RAFT-family flow '
        'networks (their decoder.iters; fewer is faster, see '
        'docs/en/demo.md)')
    parser.add_argument(
        '--finetune-pixels', type=int, default=None,
        help='pixel budget of one fine-tuning forward/backward pass (pairs '
        'x crop pixels; bigger crops run fewer pairs per pass, a crop over '
        'the budget is resized), so memory does not follow the person\'s '
        'size; default: the refine config\'s (offline: 65536); 0: no '
        'budget')
    parser.add_argument(
        '--finetune-on', choices=('crop', 'frame'), default='crop',
        help='fine-tune the flow on a crop around the person (sketch '
        'extent plus a margin) or on whole frames')
    parser.add_argument('--window', type=int, default=16,
                        help='frames per refinement window')
    parser.add_argument('--overlap', type=int, default=4,
                        help='frames shared by consecutive windows')
    parser.add_argument('--out-dir', default='outputs/demo',
                        help='folder for predictions/, visualizations/ and '
                        'flows/')
    parser.add_argument('--save-flow', action='store_true',
                        help='also write base and refined flows')
    parser.add_argument('--flow-format', choices=('npz', 'flo'),
                        default='npz')
    parser.add_argument('--vis-format', choices=('video', 'images', 'none'),
                        default='video')
    parser.add_argument('--show', action='store_true',
                        help='display each grid while running')
    parser.add_argument('--device', default='cpu', help='torch device')
    parser.add_argument(
        '--offline', action='store_true',
        help='offline setup: mediapipe, a rendered clip when no input is '
        'given, no downloads')
    parser.add_argument('--num-frames', type=int, default=12,
                        help='length of the rendered --offline clip')
    parser.add_argument(
        '--verbose', action='store_true',
        help='show third-party log noise (absl/TFLite, pkg_resources and '
        'torch.meshgrid warnings), hidden by default')
    parser.add_argument(
        '--debug', action='store_true',
        help='show the full traceback of errors instead of one line')
    return parser.parse_args(argv)


def offline_clip(num_frames: int):
    """A short clip rendered by mmflowpose.datasets.synthetic (RGB)."""
    from mmflowpose.datasets.synthetic import make_clip
    clip = make_clip('procedural:walk', camera=0, image_size=(256, 320),
                     num_frames=num_frames, seed=0)
    return list(clip['frames']), float(clip.get('fps', 25.0))


def refine_config(args):
    """The refiner dict, or None for estimate-only (with the reason)."""
    if args.no_refine:
        return None, 'refinement disabled (--no-refine)'
    from mmflowpose.apis import load_config
    if args.refine_cfg is None:
        args.refine_cfg = OFFLINE_REFINE_CFG if args.offline else \
            DEFAULT_REFINE_CFG
    cfg = load_config(args.refine_cfg)
    model = cfg.get('refiner', cfg.get('model', None))
    if model is None:
        raise SystemExit(f'--refine-cfg {args.refine_cfg}: no `model` entry')
    model = model.to_dict() if hasattr(model, 'to_dict') else dict(model)
    if args.flow is not None or args.flow_weights is not None:
        flow = args.flow or (OFFLINE_FLOW_CFG if args.offline else None)
        weights = args.flow_weights
        if weights is None and flow == OFFLINE_FLOW_CFG:
            weights = OFFLINE_FLOW_WEIGHTS
        model['flow_networks'] = [dict(config=flow, checkpoint=weights)]
    for net in model.get('flow_networks') or []:
        # repo-relative paths in the shipped configs
        for key in ('config', 'checkpoint'):
            value = net.get(key)
            if isinstance(value, str) and '::' not in value and \
                    '://' not in value and not osp.isabs(value) and \
                    not osp.exists(value):
                net[key] = osp.join(REPO, value)
    networks = model.get('flow_networks') or []
    if not networks:
        raise SystemExit('no flow network: pass --flow (and --flow-weights)'
                         ' or a --refine-cfg with flow_networks')
    if isinstance(networks, dict):
        networks = [networks]
    for net in networks:
        weights = net.get('checkpoint')
        if weights is None or (args.offline and '://' in str(weights)):
            return None, (
                f'flow network {net.get("config")} has no usable weights '
                f'offline ({weights!r}); pass --flow-weights <local .pth> '
                'to refine. Running the estimator only.')
        if '://' not in str(weights) and not osp.isfile(weights):
            raise SystemExit(f'--flow-weights {weights}: file not found')
    if args.num_cycles is not None:
        model['num_cycles'] = args.num_cycles
    apply_cost_caps(model, args)
    return model, None


def apply_cost_caps(model: dict, args) -> None:
    """Write the cost flags into the refiner dict (see docs/en/demo.md)."""
    if args.max_side is not None:
        if args.max_side < 0 or 0 < args.max_side < 16:
            raise SystemExit(f'--max-side {args.max_side}: give 0 (full '
                             'size) or a longest side of at least 16 px')
        model['flow_max_side'] = args.max_side or None
    if args.finetune_passes is not None:
        if args.finetune_passes < 0:
            raise SystemExit(f'--finetune-passes {args.finetune_passes}: '
                             'must be >= 0')
        model['flow_finetuner'] = dict(
            model.get('flow_finetuner') or {}, passes=args.finetune_passes)
    if args.finetune_pixels is not None:
        if 0 < args.finetune_pixels < 4096:
            raise SystemExit(f'--finetune-pixels {args.finetune_pixels}: '
                             'give 0 (no budget) or at least 4096 (64 x 64)')
        model['flow_finetuner'] = dict(
            model.get('flow_finetuner') or {},
            max_pixels=args.finetune_pixels or None)
    if args.flow_iters is not None:
        if args.flow_iters < 1:
            raise SystemExit(f'--flow-iters {args.flow_iters}: must be >= 1')
        networks = model.get('flow_networks') or []
        for net in [networks] if isinstance(networks, dict) else networks:
            options = dict(net.get('cfg_options') or {})
            options['model.decoder.iters'] = args.flow_iters
            net['cfg_options'] = options
    # flows stay at the working size inside a window; each pair is mapped
    # to the frame size when it is drawn or written
    model.setdefault('flow_output_size', 'working')
    if args.finetune_on == 'crop':
        model.setdefault('finetune_crop', dict(margin=0.25, min_side=64))
    else:
        model['finetune_crop'] = None


def main(argv=None):
    args = parse_args(argv)
    with warnings.catch_warnings():
        if not args.verbose:  # raised while mmengine/mmcv are imported
            warnings.filterwarnings('ignore', message='pkg_resources is')
        import mmflowpose
        from mmflowpose.apis.log_noise import QuietThirdParty
    with QuietThirdParty(enabled=not args.verbose):
        return run(args, mmflowpose)


def run(args, mmflowpose) -> int:
    mmflowpose.utils.register_all_modules()
    from mmflowpose.apis import FlowPoseInferencer
    from mmflowpose.apis.cost_report import format_cost
    if args.offline and args.pose3d != 'mediapipe':
        raise SystemExit('--offline uses --pose3d mediapipe (mmpose '
                         'lifters need model-zoo weights)')
    fps = None
    inputs = args.input
    if inputs is None:
        if not args.offline:
            raise SystemExit('give an input video/folder, or --offline to '
                             'render a synthetic clip')
        inputs, fps = offline_clip(args.num_frames)
    refine_cfg, reason = refine_config(args)
    if reason:
        warnings.warn(reason)
    inferencer = FlowPoseInferencer(
        pose_estimator=args.pose3d,
        pose3d_weights=args.pose3d_weights,
        refine_cfg=refine_cfg,
        window=args.window,
        overlap=args.overlap,
        device=args.device)
    tic = time.perf_counter()
    result = inferencer(
        inputs,
        out_dir=args.out_dir,
        save_flow=args.save_flow,
        flow_format=args.flow_format,
        vis_format=args.vis_format,
        show=args.show,
        channel_order='rgb',
        fps=fps)
    seconds = time.perf_counter() - tic
    frames = result['num_frames']
    print(f'{frames} frames in {seconds:.1f} s '
          f'({seconds / max(frames, 1):.2f} s/frame)')
    print('cost: ' + format_cost(result['timings'],
                                 result['peak_memory_mb']))
    for path in result['files'].values():
        print(os.path.relpath(published_path(path)))
    return 0


# -- errors and output atomicity (the wrapper around main) -------------------
# top-level names the demo owns in --out-dir: replaced together by each run
DEMO_ENTRIES = ('predictions', 'visualizations', 'flows')
# staged folder -> --out-dir, while cli() stages a run (for printed paths)
_PUBLISH = {}


def published_path(path: str) -> str:
    """Where a file written to the run's stage will be once published."""
    for staged, final in _PUBLISH.items():
        if path.startswith(staged + os.sep):
            return final + path[len(staged):]
    return path


def _strict_json(folder: str) -> None:
    """Rewrite any staged JSON holding NaN/Infinity tokens with null."""
    import json

    from mmflowpose.utils.io import dump_json_atomic
    for root, _, files in os.walk(folder):
        for name in files:
            if not name.endswith('.json'):
                continue
            path = osp.join(root, name)
            found = []
            with open(path) as file:
                data = json.load(
                    file, parse_constant=lambda c: found.append(c))
            if found:
                warnings.warn(f'{published_path(path)}: {len(found)} '
                              'non-finite values written as null')
                dump_json_atomic(data, path)


def coverage_warnings(video, folder: str) -> list:
    """What the run silently lacked: frames nobody was found in, and
    frames of a video that never decoded (a truncated or corrupt file).

    Args:
        video (str, optional): the input; only a video file is checked for
            frames it declares but does not decode.
        folder (str): the run's output folder (``predictions/*.json`` with
            one entry per processed frame, ``instances`` [] without a
            person).
    """
    import json
    lines = []
    folder = osp.join(folder, 'predictions')
    names = sorted(n for n in os.listdir(folder) if n.endswith('.json') and
                   not n.endswith(('_unrefined.json', '_meta.json'))) \
        if osp.isdir(folder) else []
    for name in names:
        with open(osp.join(folder, name)) as file:
            frames = json.load(file)
        if not isinstance(frames, list):
            continue
        empty = sum(1 for f in frames if not f.get('instances'))
        if empty == len(frames):
            lines.append(f'no person found in any of the {len(frames)} '
                         f'frames of {name[:-5]!r}: its predictions are '
                         'empty')
        elif empty:
            lines.append(f'no person found in {empty} of {len(frames)} '
                         f'frames of {name[:-5]!r} (their predictions are '
                         'empty)')
        if video and osp.isfile(str(video)):
            import cv2
            capture = cv2.VideoCapture(str(video))
            declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            capture.release()
            if declared > len(frames):
                lines.append(f'{video}: decoded {len(frames)} of the '
                             f'{declared} frames the container declares '
                             '(truncated or corrupt video); the rest were '
                             'not processed')
    return lines


def _one_line(error: BaseException) -> str:
    return ' '.join(str(error).split()) or type(error).__name__


def cli(argv=None) -> int:
    """Run the demo; user errors print one line and return 2.

    ``demo/flowpose_demo.py: error: <what>`` replaces the traceback
    (``--debug`` shows it). The outputs are staged in a hidden folder
    inside ``--out-dir`` and published together at the end (the previous
    ``predictions/``, ``visualizations/`` and ``flows/`` are replaced, so
    nothing stale is left); Ctrl-C or SIGTERM removes the stage and leaves
    the previous results untouched (exit 130 / 143).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)  # argparse reports its own errors (exit 2)
    import cv2

    from mmflowpose.utils.run_stage import (RunStage, Terminated,
                                            interrupt_in,
                                            sigterm_as_interrupt)
    tool = 'demo/flowpose_demo.py'
    stage = None
    try:
        with sigterm_as_interrupt():
            stage = RunStage(args.out_dir, DEMO_ENTRIES)
            _PUBLISH[stage.stage] = stage.out_dir
            # argparse keeps the last --out-dir: the run writes to the stage
            code = main(argv + ['--out-dir', stage.stage])
            _strict_json(stage.stage)
            for line in coverage_warnings(args.input, stage.stage):
                print(f'{tool}: warning: {line}', file=sys.stderr)
            stage.publish()
            return code or 0
    except BaseException as error:  # sorted out below
        if stage is not None:
            stage.abort()
        # an interrupt may come wrapped in a library's own error
        interrupt = interrupt_in(error)
        if isinstance(error, SystemExit) and interrupt is None:
            if isinstance(error.code, str) and not args.debug:
                print(f'{tool}: error: {_one_line(error.code)}',
                      file=sys.stderr)
                return 2
            raise
        user_errors = (OSError, ValueError, KeyError, IndexError, TypeError,
                       RuntimeError, FloatingPointError, SyntaxError,
                       cv2.error)
        if args.debug or (interrupt is None
                          and not isinstance(error, user_errors)):
            raise
        if interrupt is not None:
            stopped = isinstance(interrupt, Terminated)
            print(f"{tool}: {'SIGTERM' if stopped else 'interrupted'}: "
                  'nothing published (previous results untouched)',
                  file=sys.stderr)
            return 143 if stopped else 130
        print(f'{tool}: error: {type(error).__name__}: {_one_line(error)}',
              file=sys.stderr)
        return 2
    finally:
        if stage is not None:
            _PUBLISH.pop(stage.stage, None)


if __name__ == '__main__':
    sys.exit(cli())
