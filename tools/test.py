"""Refine and evaluate clips with a FlowPoseRefiner config.

    python tools/test.py CONFIG [CHECKPOINT] [--work-dir DIR] \
        [--cfg-options k=v ...] [--show-dir DIR] [--out FILE] [--dump FILE] \
        [--launcher none|pytorch|slurm|mpi] [--verbose] [--debug]

Writes ``<work-dir>/metrics.json`` (all metrics, per cycle) and
``<work-dir>/predictions/<clip_id>.npz`` (refined poses and flows), published
together at the end of the run. Same flags as mmpose's ``tools/test.py``;
the examples of ``--help`` (``EXAMPLES``) are run by the test suite.
"""
import argparse
import difflib
import os
import os.path as osp
import sys
import warnings

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner


OFFLINE_CONFIG = \
    'configs/flowpose/flowpose_videopose3d-small-raft-small_synthetic.py'
H36M_CONFIG = 'configs/flowpose/flowpose_videopose3d-raft_h36m.py'
EXAMPLES = f"""examples:
  # offline: the shipped small networks on clips the project renders
  python tools/test.py {OFFLINE_CONFIG}
  # one cycle, per-clip pictures, metrics also to a file of your choice
  python tools/test.py {OFFLINE_CONFIG} --cfg-options model.num_cycles=1 \
--show-dir vis --out results.json --dump predictions.pkl
  # swap the flow network: its config and its checkpoint together
  python tools/test.py {H36M_CONFIG} --cfg-options \
model.flow_networks.0.config=mmflow::gma/gma_8xb2_120k_mixed-368x768.py \
model.flow_networks.0.checkpoint=\
https://download.openmmlab.com/mmflow/gma/gma_8x2_120k_mixed_368x768.pth
  # two processes (GPUs, or CPU processes with gloo)
  tools/dist_test.sh {OFFLINE_CONFIG} 2
"""

# Top-level keys the Runner reads (besides those already in a config): an
# option outside both is a typo or a missing ``model.`` prefix.
RUNNER_KEYS = ('model', 'work_dir', 'test_dataloader', 'test_cfg',
               'test_evaluator', 'val_dataloader', 'val_cfg', 'val_evaluator',
               'default_hooks', 'custom_hooks', 'load_from', 'resume',
               'launcher', 'env_cfg', 'log_processor', 'log_level',
               'visualizer', 'default_scope', 'randomness', 'experiment_name')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Refine 3D pose and optical flow on a clip dataset',
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='optional FlowPoseRefiner checkpoint; the sub-networks '
        'otherwise load the checkpoints named in the config')
    parser.add_argument('--work-dir', help='folder for metrics and results')
    parser.add_argument(
        '--out', help='also write the metrics to this .json file')
    parser.add_argument(
        '--dump',
        help='dump every prediction to this pickle file (mmengine '
        'DumpResults) for offline evaluation')
    parser.add_argument(
        '--show-dir',
        help='folder (under the work dir) for per-clip visualisations')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.num_cycles=1 '
        'model.flow_networks.0.config=mmflow::gma/...py '
        'model.flow_networks.0.checkpoint=<its weights>')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the full traceback of errors instead of one line')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='show third-party warnings and the Runner\'s setup log')
    args = parser.parse_args(argv)
    if args.dump is not None and not args.dump.endswith(('.pkl', '.pickle')):
        parser.error(f'--dump {args.dump}: the file must end in .pkl')
    if args.out is not None and not args.out.endswith('.json'):
        parser.error(f'--out {args.out}: the file must end in .json')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def check_options(cfg: Config, options: dict) -> None:
    """Refuse ``--cfg-options`` keys that nothing would read.

    ``num_cycles=3`` would add an unused top-level key and be silently
    ignored; the error names the key and the close matches, including the
    ``model.`` key it most likely meant.
    """
    from mmflowpose.apis import ConfigError
    known = set(cfg.keys()) | set(RUNNER_KEYS)
    for key in options:
        top = key.split('.', 1)[0]
        if top in known:
            continue
        hints = [f'model.{top}'] if top in cfg.get('model', {}) else []
        hints += difflib.get_close_matches(top, sorted(known), n=3)
        raise ConfigError(
            f'--cfg-options {key}: the config has no key {top!r} and the '
            'Runner does not read one' +
            (f'; did you mean {" or ".join(hints)}?' if hints else ''))


def check_dataset(cfg: Config) -> None:
    """Build the test dataset once, before any network or download.

    A missing data folder or annotation file then fails in a second with
    the dataset's own message, not after the weights were fetched.
    """
    from mmengine.registry import DefaultScope

    from mmflowpose.registry import DATASETS
    dataset_cfg = cfg.get('test_dataloader', {}).get('dataset')
    if dataset_cfg is None:
        return
    scope = cfg.get('default_scope', 'mmflowpose')
    with DefaultScope.overwrite_default_scope(scope):
        DATASETS.build(dataset_cfg.to_dict() if hasattr(
            dataset_cfg, 'to_dict') else dict(dataset_cfg))


def quiet_third_party(cfg: Config) -> None:
    """Hide warnings and setup logs a user cannot act on (``--verbose``
    shows them): pkg_resources and torch deprecations, mmengine's hook
    table and metric-prefix notes. Per-iteration and per-cycle metric
    lines stay."""
    for message in ('pkg_resources is deprecated',
                    'torch.meshgrid: in an upcoming release',
                    'The prefix is not set in metric class'):
        warnings.filterwarnings('ignore', message=message)
    from mmengine.logging import MMLogger

    class _SetupFilter:

        def filter(self, record) -> bool:
            text = record.getMessage()
            return not (text.startswith(
                ('Hooks will be executed', 'Config:',
                 'The prefix is not set')) or 'System environment' in text)

    # the Runner logs them from its own logger, created in Runner.__init__
    # with a per-run name: every MMLogger made from now on gets the filter
    make_logger = MMLogger.__init__

    def filtered_init(logger, *args, **kwargs):
        make_logger(logger, *args, **kwargs)
        logger.addFilter(_SetupFilter())

    MMLogger.__init__ = filtered_init


def build_config(args) -> Config:
    from mmflowpose.apis import load_config
    cfg = load_config(args.config)
    if args.cfg_options:
        check_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    if args.dump is not None:
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        cfg.test_evaluator = list(evaluators) + [
            dict(type='DumpResults', out_file_path=args.dump)
        ]
    if not args.verbose:
        quiet_third_party(cfg)
    check_dataset(cfg)
    # Each process refines its own clips; the Runner must not wrap the
    # refiner in DistributedDataParallel (per-clip fine-tuning gradients are
    # never averaged across processes), so the process group is set up here
    # and the Runner runs with launcher 'none' inside it: its sampler shards
    # the clips and its evaluator gathers every rank's results.
    cfg.launcher = 'none'
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    # Runner's own loader would use torch.load(weights_only=True) without
    # our allow-list; the checkpoint is loaded after the build instead.
    cfg.load_from = None
    hooks = cfg.setdefault('custom_hooks', [])
    hooks.append(dict(type='ClipResultsDumpHook', out_dir='predictions'))
    if args.show_dir:
        hooks.append(
            dict(type='FlowPoseVisualizationHook', out_dir=args.show_dir))
    return cfg


def init_distributed(launcher: str, cfg: Config) -> None:
    """Join the process group for ``--launcher pytorch|slurm|mpi``.

    gloo on CPU (mmengine's launcher always calls ``torch.cuda.set_device``,
    which a CPU-only torch lacks), the config's backend (nccl) on GPUs.
    """
    if launcher == 'none' or torch.distributed.is_initialized():
        return
    from mmengine.dist import init_dist
    if torch.cuda.is_available():
        backend = cfg.get('env_cfg', {}).get('dist_cfg',
                                             {}).get('backend', 'nccl')
        init_dist(launcher, backend=backend)
        return
    if launcher != 'pytorch':
        raise ValueError(f'--launcher {launcher} needs GPUs here; use '
                         'pytorch (torchrun) for CPU processes')
    torch.distributed.init_process_group(backend='gloo')


def _stage_run(args, cfg):
    """Send this run's outputs to a :class:`RunStage` in the work dir.

    ``predictions/``, ``metrics.json`` and a relative ``--show-dir`` are
    written to a hidden stage and published together at the end, so an
    interrupted run leaves the previous results untouched and a rerun
    leaves nothing stale. Every rank writes into rank 0's stage.
    """
    from mmflowpose.utils.run_stage import RunStage
    entries = {'ClipResultsDumpHook': 'predictions'}
    if args.show_dir and not osp.isabs(args.show_dir):
        entries['FlowPoseVisualizationHook'] = args.show_dir
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') in entries:
            entries[hook['type']] = hook.get('out_dir',
                                             entries[hook['type']])
    names = [osp.normpath(v) for v in entries.values()] + ['metrics.json']
    stage_path = None
    rank = 0
    if torch.distributed.is_initialized():
        rank = torch.distributed.get_rank()
    if rank == 0:
        stage = RunStage(cfg.work_dir, names, marker='metrics.json')
        stage_path = stage.stage
    if torch.distributed.is_initialized():
        shared = [stage_path]
        torch.distributed.broadcast_object_list(shared, src=0)
        stage_path = shared[0]
    if rank != 0:
        stage = RunStage(
            cfg.work_dir, names, marker='metrics.json', stage=stage_path)
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') in entries:
            hook['out_dir'] = stage.path(osp.normpath(entries[hook['type']]))
    return stage, rank


def main(argv=None) -> dict:
    if '--verbose' not in (sys.argv[1:] if argv is None else argv):
        # raised while the packages import, before the options are parsed
        warnings.filterwarnings('ignore', message='pkg_resources is deprec')
    import mmflowpose
    from mmflowpose.utils.checkpoint import (load_model_weights,
                                             read_checkpoint)
    from mmflowpose.utils.io import dump_json_atomic
    from mmflowpose.utils.run_stage import sigterm_as_interrupt
    mmflowpose.utils.register_all_modules(init_default_scope=False)
    args = parse_args(argv)
    cfg = build_config(args)
    init_distributed(args.launcher, cfg)
    # read the checkpoint before the (slow) build: a bad file fails at once
    checkpoint = read_checkpoint(args.checkpoint) if args.checkpoint \
        else None
    with sigterm_as_interrupt():
        stage, rank = _stage_run(args, cfg)
        try:
            runner = Runner.from_cfg(cfg)
            if args.checkpoint:
                load_model_weights(
                    runner.model, args.checkpoint, checkpoint=checkpoint)
            metrics = runner.test()
            if torch.distributed.is_initialized():
                torch.distributed.barrier()  # every rank's predictions in
            if rank == 0:
                os.makedirs(stage.path('predictions'), exist_ok=True)
                dump_json_atomic(
                    dict(config=args.config, metrics=metrics),
                    stage.path('metrics.json'))
                stage.publish()
                if args.out:
                    dump_json_atomic(metrics, args.out)
        except BaseException:
            if rank == 0:
                stage.abort()  # the previous results stay as they were
            raise
    if torch.distributed.is_initialized():
        # leave together and close gloo's threads before the interpreter
        # exits (otherwise a rank can abort with "terminate called without
        # an active exception" while the others still finish)
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return metrics


def _where(error: BaseException) -> str:
    """The innermost frame of the traceback, as ``file:line``."""
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    if trace is None:
        return ''
    return (f' (at {osp.relpath(trace.tb_frame.f_code.co_filename)}:'
            f'{trace.tb_lineno})')


def cli(argv=None) -> int:
    """Run :func:`main`; user errors become one line and exit code 2.

    Errors that come from the inputs (config, checkpoint, data files,
    ``--cfg-options``) print ``tools/test.py: error: <class>: <what>`` and
    return 2; ``--debug`` re-raises them with the full traceback. Ctrl-C and
    SIGTERM return 130 / 143 after removing the run's stage.
    """
    import cv2

    from mmflowpose.apis import ConfigError
    from mmflowpose.utils.checkpoint import CheckpointError
    from mmflowpose.utils.run_stage import Terminated, interrupt_in
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = '--debug' in argv
    raw = (IndexError, TypeError, AttributeError, cv2.error)
    user_errors = (ConfigError, CheckpointError, OSError, KeyError,
                   ValueError, FloatingPointError, SyntaxError) + raw
    try:
        main(argv)
    except BaseException as error:  # sorted out below
        interrupt = interrupt_in(error)
        if debug or (interrupt is None
                     and not isinstance(error, user_errors)):
            raise
        if interrupt is not None:
            stopped = isinstance(interrupt, Terminated)
            print(f"tools/test.py: {'SIGTERM' if stopped else 'interrupted'}"
                  ': run stopped, nothing published (previous results '
                  'untouched)', file=sys.stderr)
            return 143 if stopped else 130
        # one line: class, message (newlines folded) and, for errors raised
        # by libraries without naming the input, where they were raised
        message = ' '.join(str(error).split()) or repr(error)
        where = _where(error) if isinstance(error, raw) else ''
        print(f'tools/test.py: error: {type(error).__name__}: {message}'
              f'{where}',
              file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(cli())
