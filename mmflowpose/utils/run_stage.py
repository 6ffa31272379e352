"""Whole runs published at once: stage every output, then swap it in.

Each file written through :mod:`mmflowpose.utils.io` is atomic, but a run
writes many (``metrics.json`` plus one prediction per clip). A
:class:`RunStage` collects a run's outputs in a hidden folder inside the
output folder (``.flowpose-run-<pid>-<random>``, same filesystem, so
publishing is renames only) and :meth:`RunStage.publish` replaces the named
entries of the previous run together, with SIGINT/SIGTERM held off until
it is done:

1. the commit marker (e.g. ``metrics.json``) of the previous run is moved
   aside first, so a set without a marker is never mistaken for a result;
2. every other entry is swapped (old one aside, new one in), and an entry
   the previous run had but this one lacks is removed (nothing stale);
3. the marker goes in last; what was moved aside is deleted.

An interrupted run removes its stage (:meth:`RunStage.abort`), leaving the
previous results untouched; a stage left by a killed process (its pid no
longer alive) is removed by the next run in that folder.
"""
import os
import os.path as osp
import shutil
import signal
import tempfile
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence

STAGE_PREFIX = '.flowpose-run-'
# the inferencer's per-file staging folders (mmflowpose.apis.inferencer)
LEGACY_PREFIXES = ('.flowpose-tmp-', )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _stage_pid(name: str) -> Optional[int]:
    parts = name[len(STAGE_PREFIX):].split('-', 1)
    try:
        return int(parts[0])
    except ValueError:
        return None


def remove_stale_stages(folder: str) -> List[str]:
    """Delete staging folders in ``folder`` left by processes that died.

    Returns:
        list[str]: the removed paths.
    """
    removed = []
    if not osp.isdir(folder):
        return removed
    for name in os.listdir(folder):
        path = osp.join(folder, name)
        if not osp.isdir(path) or osp.islink(path):
            continue
        if name.startswith(STAGE_PREFIX):
            pid = _stage_pid(name)
            if pid is not None and pid != os.getpid() and _pid_alive(pid):
                continue  # another run in progress here
        elif not name.startswith(LEGACY_PREFIXES):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


@contextmanager
def signals_held() -> Iterator[None]:
    """Defer SIGINT/SIGTERM until the block ends (main thread only).

    A signal arriving inside the block is recorded and handed to the
    previous handler at the end (a thread mask would not do: the C handler
    may run on any of torch's threads and flag the main thread anyway).
    """
    pending = []

    def record(signum, frame):
        pending.append(signum)

    try:
        previous = {
            signum: signal.signal(signum, record)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
    except ValueError:  # not the main thread: nothing to defer
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in pending[:1]:
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so that the same cleanup runs."""


def interrupt_in(error: BaseException) -> Optional[KeyboardInterrupt]:
    """The Ctrl-C/SIGTERM behind ``error``, if any.

    Some libraries turn whatever they were interrupted by into their own
    error (mmengine's ``Config.pretty_text`` raises ``SyntaxError`` from a
    bare ``except``); the interrupt survives in the exception chain.
    """
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Raise :class:`Terminated` on SIGTERM inside the block."""

    def handler(signum, frame):
        raise Terminated(f'terminated by signal {signum}')

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class RunStage:
    """Stage a run's outputs in ``out_dir`` and publish them together.

    Args:
        out_dir (str): the output folder (created if missing).
        entries (sequence[str]): top-level names in ``out_dir`` this run
            owns (files or folders, e.g. ``['predictions', 'metrics.json']``);
            :meth:`publish` replaces exactly these.
        marker (str, optional): the entry published last and retracted
            first (e.g. ``'metrics.json'``). Defaults to None.
        stage (str, optional): an existing stage folder to adopt (the path
            rank 0 created, for other ranks). Defaults to None (create one).
    """

    def __init__(self,
                 out_dir: str,
                 entries: Sequence[str],
                 marker: Optional[str] = None,
                 stage: Optional[str] = None) -> None:
        for entry in entries:
            if not entry or osp.isabs(entry) or os.sep in entry.strip(
                    os.sep) or entry in ('.', '..'):
                raise ValueError(f'run entries are top-level names in the '
                                 f'output folder, got {entry!r}')
        if marker is not None and marker not in entries:
            raise ValueError(f'marker {marker!r} is not among {entries}')
        self.out_dir = osp.abspath(out_dir)
        self.entries = [entry.strip(os.sep) for entry in entries]
        self.marker = marker
        # a failed first run leaves no empty output folder behind
        self.created = not osp.isdir(self.out_dir)
        if stage is None:
            os.makedirs(self.out_dir, exist_ok=True)
            remove_stale_stages(self.out_dir)
            stage = tempfile.mkdtemp(
                prefix=f'{STAGE_PREFIX}{os.getpid()}-', dir=self.out_dir)
        self.stage = stage

    def path(self, entry: str) -> str:
        """Where to write ``entry`` (or a path under it) during the run."""
        return osp.join(self.stage, entry)

    def publish(self) -> Dict[str, str]:
        """Swap the staged entries in; return entry -> published path."""
        trash = tempfile.mkdtemp(
            prefix=f'{STAGE_PREFIX}{os.getpid()}-old-', dir=self.out_dir)
        ordered = [e for e in self.entries if e != self.marker]
        if self.marker is not None:
            ordered.append(self.marker)
        published = {}
        with signals_held():
            if self.marker is not None:
                self._move_aside(self.marker, trash)
            for entry in ordered:
                self._move_aside(entry, trash)
                source = osp.join(self.stage, entry)
                if osp.lexists(source):
                    target = osp.join(self.out_dir, entry)
                    os.replace(source, target)
                    published[entry] = target
            shutil.rmtree(self.stage, ignore_errors=True)
        shutil.rmtree(trash, ignore_errors=True)
        return published

    def _move_aside(self, entry: str, trash: str) -> None:
        target = osp.join(self.out_dir, entry)
        if osp.lexists(target):
            os.replace(target, osp.join(trash, entry))

    def abort(self) -> None:
        """Drop everything staged; the previous results stay as they were."""
        shutil.rmtree(self.stage, ignore_errors=True)
        if self.created:
            try:
                os.rmdir(self.out_dir)  # only if still empty
            except OSError:
                pass
