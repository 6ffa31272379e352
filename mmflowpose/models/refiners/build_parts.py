"""Argument checks and sub-module building of :class:`FlowPoseRefiner`."""
import copy
from typing import List, Optional, Sequence, Tuple, Union

from torch import nn

from mmflowpose.registry import MODELS
from ..flow_tuning import FlowFinetuner, FlowGuard

ConfigList = Optional[Union[dict, Sequence[dict]]]


def as_list(cfg: ConfigList) -> List[dict]:
    """Deep copies of one config or a sequence of them ([] for None)."""
    if cfg is None:
        return []
    if isinstance(cfg, dict):
        return [copy.deepcopy(cfg)]
    return [copy.deepcopy(c) for c in cfg]


def _choice(name: str, value, choices: Tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


def check_refiner_args(num_cycles, pose_flow, sketch_source, flow_max_side,
                       anchor_anneal, finetune_crop,
                       flow_output_size) -> None:
    """Raise ``ValueError`` naming the first bad refiner argument."""
    if int(num_cycles) < 0:
        raise ValueError(f'num_cycles must be >= 0, got {num_cycles}')
    _choice('pose_flow', pose_flow, ('network', 'ground_truth'))
    _choice('sketch_source', sketch_source, ('refined', 'ground_truth'))
    _choice('flow_output_size', flow_output_size, ('original', 'working'))
    if flow_max_side is not None and int(flow_max_side) < 16:
        raise ValueError('flow_max_side must be None or >= 16 px, got '
                         f'{flow_max_side!r}')
    if not 0 <= float(anchor_anneal) <= 1:
        raise ValueError('anchor_anneal must be in [0, 1], got '
                         f'{anchor_anneal!r}')
    unknown = set(finetune_crop or {}) - {'margin', 'min_side'}
    if unknown:
        raise ValueError(f'finetune_crop keys are margin and min_side, '
                         f'got {sorted(unknown)}')


def build_finetuners(flow_networks: ConfigList,
                     flow_finetuner: Optional[dict]
                     ) -> Tuple[nn.ModuleList, int]:
    """One :class:`FlowFinetuner` per mmflow network, and the configured
    fine-tuning passes (0 keeps the pretrained flow: a cost cap)."""
    cfgs = as_list(flow_networks)
    if not cfgs:
        raise ValueError('flow_networks must name at least one mmflow '
                         'network (config, checkpoint)')
    # no lr here: FlowFinetuner's default optimiser is Adam 1e-5, and an
    # lr would override the one of a configured optim_wrapper
    tuner_cfg = dict(passes=3)
    tuner_cfg.update(flow_finetuner or {})
    tuner_cfg['carry_over'] = True  # across the cycles of one clip
    passes = int(tuner_cfg['passes'])
    if passes < 0:
        raise ValueError(f'flow_finetuner.passes must be >= 0, got {passes}')
    tuner_cfg['passes'] = max(passes, 1)
    from ..builder import init_model
    tuners = nn.ModuleList()
    for cfg in cfgs:
        cfg.setdefault('scope', 'mmflow')
        tuners.append(FlowFinetuner(init_model(**cfg), **tuner_cfg))
    return tuners, passes


def build_estimators(pose_estimators: ConfigList,
                     skeleton) -> Tuple[nn.ModuleList, list]:
    """2D-to-3D lifters (modules, e.g. ``MMPoseLifter``) and estimators
    that read frames (with ``estimate(frames)``, e.g. mediapipe)."""
    lifters, frame_estimators = nn.ModuleList(), []
    for cfg in as_list(pose_estimators):
        estimator = MODELS.build(cfg)
        if isinstance(estimator, nn.Module):
            num = getattr(estimator, 'num_keypoints', skeleton.num_joints)
            skeleton.check_joints(num, type(estimator).__name__)
            lifters.append(estimator)
        elif hasattr(estimator, 'estimate'):
            frame_estimators.append(estimator)
        else:
            raise TypeError(f'{type(estimator).__name__} is neither a '
                            '2D-to-3D lifter module nor a frame estimator '
                            'with estimate(frames)')
    return lifters, frame_estimators


def split_flow_step(flow_step: Optional[dict]
                    ) -> Tuple[Optional[dict], Optional[FlowGuard]]:
    """``guarded_flow_step`` keyword arguments and the :class:`FlowGuard`
    (None for no guard) of a ``flow_step`` config (None: unguarded)."""
    if flow_step is None:
        return None, None
    kwargs = dict(flow_step)
    guard_cfg = kwargs.pop('guard', {})
    return kwargs, None if guard_cfg is None else FlowGuard(**guard_cfg)
