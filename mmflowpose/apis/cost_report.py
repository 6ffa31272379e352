"""Cost report: seconds per frame by stage and peak memory of a run."""
import resource
import sys
from typing import Dict, Optional

import torch


def peak_memory_mb(device=None) -> Dict[str, float]:
    """Peak memory so far: ``rss`` of this process (host, MB) and, on a
    CUDA ``device``, ``device`` (torch's peak allocation, MB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux, bytes on macOS
    rss_mb = rss / 2**20 if sys.platform == 'darwin' else rss / 1024
    peak = dict(rss=round(rss_mb, 1))
    if device is not None and torch.device(device).type == 'cuda':
        peak['device'] = round(
            torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return peak


def format_cost(per_frame: Dict[str, float],
                peak: Optional[Dict[str, float]] = None) -> str:
    """One line: ``s/frame <total> (stage x, ...); peak RSS <n> MB``.

    ``refine`` is the refiner's total; its ``refine.<stage>`` parts are
    printed inside it, so the total counts each second once.
    """
    parts = {k: v for k, v in per_frame.items() if not k.startswith('refine.')}
    total = sum(parts.values())
    stages = ', '.join(f'{k} {v:.2f}' for k, v in parts.items())
    inner = ', '.join(f'{k[7:]} {v:.2f}' for k, v in per_frame.items()
                      if k.startswith('refine.'))
    if inner:
        stages = stages.replace(f'refine {parts.get("refine", 0):.2f}',
                                f'refine {parts.get("refine", 0):.2f} '
                                f'[{inner}]')
    text = f's/frame {total:.2f} ({stages})'
    if peak:
        text += f'; peak RSS {peak["rss"]:.0f} MB'
        if 'device' in peak:
            text += f', peak device memory {peak["device"]:.0f} MB'
    return text
