"""Give the allocator's free heap pages back to the system.

glibc's ``free`` returns memory to the system only from the top of the
heap (and whole ``mmap`` chunks); pages freed in the middle of a heap stay
resident until they are reused. A refinement window leaves many such holes
(RAFT's correlation volumes, fine-tuning's graph) and the next window does
not fit its own transients into them, so the process's RSS grows with the
second window although the live data does not (``docs/en/demo.md``, Cost).
``malloc_trim(0)`` releases every free page of every heap (glibc >= 2.8
``madvise``s the middle of the heap too), which a long-running stream calls
between windows.
"""
import ctypes
import ctypes.util
import sys
from typing import Callable, Optional

_TRIM: Optional[Callable[[int], int]] = None
_LOOKED_UP = False


def _malloc_trim() -> Optional[Callable[[int], int]]:
    """glibc's ``malloc_trim``, or None where there is none (macOS,
    Windows, musl)."""
    global _TRIM, _LOOKED_UP
    if _LOOKED_UP:
        return _TRIM
    _LOOKED_UP = True
    if not sys.platform.startswith('linux'):
        return None
    try:
        # the C library this process already uses (not a second copy)
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    _TRIM = trim
    return _TRIM


def release_free_heap() -> bool:
    """Return the heap's free pages to the system (glibc ``malloc_trim``).

    Costs a walk over the heap's free chunks (milliseconds for a heap of a
    few hundred MB) and changes no live data; memory freed this way is
    mapped in again, zeroed, when the allocator reuses it.

    Returns:
        bool: True if memory was given back; False if there was nothing to
        give back or the C library has no ``malloc_trim`` (never raises).
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    try:
        return bool(trim(0))
    except Exception:  # a foreign libc with another signature: no-op
        return False
