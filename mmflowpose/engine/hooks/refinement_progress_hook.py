"""Progress inside each clip's refinement, and its cost at the end.

A clip's refinement is one Runner iteration that can take minutes on a CPU;
mmengine's own log line appears only when it ends. This hook listens to the
refiner's stage timer and logs where the clip is (initial flow, cycle c:
pose step, sketch fine-tuning, new flow), then after the run the seconds per
frame of every stage and the peak memory.
"""
import resource
from collections import defaultdict
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmflowpose.registry import HOOKS

# what a user reads for each stage start (others are logged only in the cost)
_LABELS = dict(
    detect='frame estimator',
    lift='3D estimate',
    pose='pose from flow',
    finetune='flow from pose (fine-tuning)')


def peak_memory_mb(device: Optional[torch.device] = None) -> Dict[str, float]:
    """Peak resident memory of this process (MB), and of a CUDA device."""
    # ru_maxrss is in kilobytes on Linux
    peak = dict(rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if device is not None and torch.device(device).type == 'cuda':
        peak['cuda'] = torch.cuda.max_memory_allocated(device) / 2**20
    return peak


@HOOKS.register_module()
class RefinementProgressHook(Hook):
    """Log refinement stages as they start, and the cost per frame.

    Args:
        log_stages (bool): log a line when each stage of a clip starts
            (clip i/n, cycle c/N). Defaults to True.
    """
    priority = 'LOW'

    def __init__(self, log_stages: bool = True) -> None:
        self.log_stages = log_stages
        self._seconds: Dict[str, float] = defaultdict(float)
        self._frames = 0
        self._clip = ''
        self._cycle = 0
        self._flows = 0

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_test(self, runner) -> None:
        model = self._model(runner)
        timer = getattr(model, 'timer', None)
        self._seconds.clear()
        self._frames = 0
        if timer is None:
            return
        timer.pop()  # nothing from before this run
        num_cycles = getattr(model, 'num_cycles', 0)

        def on_stage(name: str, event: str) -> None:
            if event != 'start' or not self.log_stages:
                return
            if name == 'pose':
                self._cycle += 1
            if name == 'flow':
                self._flows += 1
                label = 'initial flow' if self._flows == 1 else \
                    'flow of the fine-tuned network'
            elif name in _LABELS:
                label = _LABELS[name]
            else:
                return
            cycle = f', cycle {self._cycle}/{num_cycles}' \
                if self._cycle else ''
            runner.logger.info(f'{self._clip}{cycle}: {label}')

        timer.callback = on_stage

    def before_test_iter(self, runner, batch_idx: int,
                         data_batch=None) -> None:
        total = len(runner.test_dataloader)
        self._clip = f'clip {batch_idx + 1}/{total}'
        self._cycle = 0
        self._flows = 0

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs=None) -> None:
        timer = getattr(self._model(runner), 'timer', None)
        if timer is None:
            return
        seconds = timer.pop()
        for name, value in seconds.items():
            self._seconds[name] += value
        for output in outputs or []:
            pose = output.get('pred_pose3d')  # (C+1, T, J, 3)
            if pose is not None:
                self._frames += pose.shape[-3]
        spent = ', '.join(f'{k} {v:.1f} s' for k, v in seconds.items())
        runner.logger.info(f'{self._clip} refined ({spent})')

    def after_test(self, runner) -> None:
        model = self._model(runner)
        if getattr(model, 'timer', None) is not None:
            model.timer.callback = None
        if not self._frames:
            return
        per_frame = {k: v / self._frames for k, v in self._seconds.items()}
        total = sum(per_frame.values())
        stages = ', '.join(f'{k} {v:.2f}' for k, v in per_frame.items())
        peak = peak_memory_mb(getattr(model, 'device', None))
        memory = ', '.join(f'{k} {v:.0f} MB' for k, v in peak.items())
        runner.logger.info(
            f'cost: {total:.2f} s/frame over {self._frames} frames '
            f'({stages} s/frame); peak memory {memory}')
