"""Silence third-party log noise around a run (``--verbose`` turns it off).

Three kinds bury a demo's own output:

- Python warnings from dependencies: ``pkg_resources is deprecated``
  (mmengine, mmcv), ``torch.meshgrid ... indexing`` (mmflow's RAFT);
- native log lines that absl/glog and TensorFlow Lite (mediapipe) write
  straight to file descriptor 2 (``INFO: Created TensorFlow Lite XNNPACK
  delegate``, ``W0000 ... inference_feedback_manager.cc``), out of reach of
  Python's ``logging`` and ``warnings``.

The native lines are caught by pointing descriptor 2 at a temporary file;
Python's ``sys.stderr`` keeps writing to the terminal through a duplicate of
the original descriptor, so tracebacks and our own messages still show. The
captured text is kept in :attr:`QuietThirdParty.captured` (and printed if
the run fails, since a native crash message may be in it).
"""
import os
import sys
import tempfile
import warnings
from typing import Optional

# Python warnings of dependencies we cannot fix (message regexes)
NOISY_WARNINGS = (
    r'pkg_resources is deprecated',
    r'torch\.meshgrid: in an upcoming release',
    r'The metainfo config file .* does not exist',
)
# glog/absl (mediapipe) and TensorFlow read these before they log
NATIVE_LOG_ENV = dict(GLOG_minloglevel='2', TF_CPP_MIN_LOG_LEVEL='3')


class QuietThirdParty:
    """Context manager: hide third-party warnings and native log lines.

    Args:
        enabled (bool): False makes it a no-op (``--verbose``).
            Defaults to True.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.captured = ''
        self._saved_fd: Optional[int] = None
        self._log = None
        self._stderr = None
        self._filters = None

    def __enter__(self) -> 'QuietThirdParty':
        if not self.enabled:
            return self
        for key, value in NATIVE_LOG_ENV.items():
            os.environ.setdefault(key, value)
        self._filters = warnings.catch_warnings()
        self._filters.__enter__()
        for message in NOISY_WARNINGS:
            warnings.filterwarnings('ignore', message=message)
        try:
            sys.stderr.flush()
            fd = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):
            return self  # stderr is not a real file (e.g. captured)
        self._log = tempfile.TemporaryFile(mode='w+b')
        self._saved_fd = os.dup(fd)
        self._stderr = sys.stderr
        # Python keeps the terminal; the native libraries get the file
        sys.stderr = os.fdopen(
            os.dup(self._saved_fd), 'w', buffering=1,
            encoding=getattr(self._stderr, 'encoding', None) or 'utf-8',
            errors='backslashreplace')
        os.dup2(self._log.fileno(), fd)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if not self.enabled:
            return False
        if self._saved_fd is not None:
            sys.stderr.flush()
            fd = self._stderr.fileno()
            os.dup2(self._saved_fd, fd)
            os.close(self._saved_fd)
            sys.stderr.close()
            sys.stderr = self._stderr
            self._log.seek(0)
            self.captured = self._log.read().decode('utf-8', 'replace')
            self._log.close()
            # a crash may have its cause in the native log; a clean exit
            # (SystemExit with a message, Ctrl-C) does not need it
            failed = exc_type is not None and not issubclass(
                exc_type, (SystemExit, KeyboardInterrupt))
            if failed and self.captured.strip():
                sys.stderr.write('native log of the failed run:\n' +
                                 self.captured[-4000:])
        if self._filters is not None:
            self._filters.__exit__(None, None, None)
        return False
