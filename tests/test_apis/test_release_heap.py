"""release_free_heap: the free pages of a fragmented heap leave the RSS.

Issue 14: between the windows of a long video the heap keeps the pages
the last window's transients freed in its middle; ``malloc_trim`` gives
them back. The second test builds that situation with glibc's own
``malloc``: many blocks freed below one that stays, so ``free`` alone
cannot shrink the heap.
"""
import ctypes
import os
import sys

import pytest

from mmflowpose.utils import memory
from mmflowpose.utils.memory import release_free_heap

BLOCK = 64 * 1024  # under glibc's mmap threshold: served from the heap
BLOCKS = 512  # 32 MiB


def _rss_bytes() -> int:
    with open('/proc/self/statm') as file:
        return int(file.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def test_returns_a_bool_and_never_raises(monkeypatch):
    assert isinstance(release_free_heap(), bool)
    # a C library without malloc_trim (macOS, musl): a no-op
    monkeypatch.setattr(memory, '_LOOKED_UP', True)
    monkeypatch.setattr(memory, '_TRIM', None)
    assert release_free_heap() is False

    def broken(pad):
        raise OSError('not this libc')

    monkeypatch.setattr(memory, '_TRIM', broken)
    assert release_free_heap() is False


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='glibc malloc_trim and /proc are Linux only')
def test_free_pages_in_the_middle_of_the_heap_are_returned():
    if memory._malloc_trim() is None:
        pytest.skip('this C library has no malloc_trim (not glibc)')
    libc = ctypes.CDLL('libc.so.6')
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(BLOCK) for _ in range(BLOCKS)]
    assert all(blocks)
    for block in blocks:
        ctypes.memset(block, 1, BLOCK)  # touched: resident
    try:
        release_free_heap()  # start from a trimmed heap
        # all but the last block are freed: the last one pins the heap's
        # top, so the 32 MiB of free pages below it stay resident
        for block in blocks[:-1]:
            libc.free(block)
        before = _rss_bytes()
        assert release_free_heap() is True
        after = _rss_bytes()
    finally:
        libc.free(blocks[-1])
    assert before - after > BLOCK * BLOCKS // 2, (before, after)
