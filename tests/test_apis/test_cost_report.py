"""Cost report: seconds per frame by stage and peak memory."""
import resource

import numpy as np
import torch

from mmflowpose.apis.cost_report import format_cost, peak_memory_mb
from mmflowpose.models.refiners.stage_timer import StageTimer


def test_peak_memory_is_this_process_peak():
    before = peak_memory_mb()['rss']
    block = np.ones(64 * 2**20 // 8)  # 64 MB touched
    after = peak_memory_mb()['rss']
    assert after >= before
    assert after >= block.nbytes / 2**20
    # ru_maxrss is KiB on Linux
    assert abs(after - resource.getrusage(resource.RUSAGE_SELF).ru_maxrss /
               1024) < 1
    assert 'device' not in peak_memory_mb('cpu')


def test_format_cost_nests_refiner_stages():
    text = format_cost(
        dict(read=0.1, refine=2.0, **{'refine.flow': 1.5,
                                      'refine.pose': 0.5}, write=0.4),
        dict(rss=1234.4))
    # the total counts the refiner's seconds once
    assert text == ('s/frame 2.50 (read 0.10, refine 2.00 [flow 1.50, '
                    'pose 0.50], write 0.40); peak RSS 1234 MB')


def test_stage_timer_callback_and_pop():
    events = []
    timer = StageTimer(callback=lambda n, e: events.append((n, e)))
    with timer('flow', torch.device('cpu')):
        pass
    with timer('flow'):
        pass
    assert events == [('flow', 'start'), ('flow', 'end')] * 2
    seconds = timer.pop()
    assert set(seconds) == {'flow'} and seconds['flow'] >= 0
    assert timer.pop() == {}
