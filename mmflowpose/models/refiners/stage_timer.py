"""Seconds spent per refinement stage, with an optional progress callback."""
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, Optional

import torch

# what a stage name means (the cost report prints them in this order)
STAGES = ('detect', 'lift', 'flow', 'labels', 'pose', 'sketch', 'finetune',
          'resize')


class StageTimer:
    """Accumulate wall time per named stage.

    On a CUDA device the clock is read after ``torch.cuda.synchronize`` so
    queued kernels count towards the stage that launched them.

    Args:
        callback (callable, optional): called as ``callback(name, event)``
            with ``event`` in ``('start', 'end')`` around every stage (the
            inferencer's progress log). Defaults to None.
    """

    def __init__(self,
                 callback: Optional[Callable[[str, str], None]] = None):
        self.callback = callback
        self.seconds: Dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str,
                 device: Optional[torch.device] = None) -> Iterator[None]:
        if self.callback is not None:
            self.callback(name, 'start')
        tic = time.perf_counter()
        try:
            yield
        finally:
            if device is not None and torch.device(device).type == 'cuda':
                torch.cuda.synchronize(device)
            self.seconds[name] += time.perf_counter() - tic
        if self.callback is not None:
            self.callback(name, 'end')

    def pop(self) -> Dict[str, float]:
        """Seconds per stage since the last call; the counters restart."""
        seconds, self.seconds = dict(self.seconds), defaultdict(float)
        return seconds
