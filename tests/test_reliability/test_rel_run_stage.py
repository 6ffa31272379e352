"""RunStage: a run's outputs appear together or not at all, reruns leave
nothing stale, and stages of killed runs are removed by the next run."""
import os
import signal
import subprocess
import sys
import time

import pytest

from mmflowpose.utils.run_stage import (RunStage, Terminated, signals_held,
                                        sigterm_as_interrupt)

ENTRIES = ['predictions', 'metrics.json']


def _previous_run(out):
    (out / 'predictions').mkdir(parents=True)
    (out / 'predictions' / 'a.npz').write_text('old a')
    (out / 'predictions' / 'stale.npz').write_text('old stale')
    (out / 'metrics.json').write_text('{"old": 1}')
    (out / 'notes.txt').write_text('not ours')


def _write_new(stage):
    os.makedirs(stage.path('predictions'))
    with open(stage.path('predictions/a.npz'), 'w') as file:
        file.write('new a')
    with open(stage.path('metrics.json'), 'w') as file:
        file.write('{"new": 1}')


def test_publish_replaces_the_set_and_nothing_else(tmp_path):
    _previous_run(tmp_path)
    stage = RunStage(str(tmp_path), ENTRIES, marker='metrics.json')
    _write_new(stage)
    # during the run the previous results are untouched
    assert (tmp_path / 'predictions' / 'stale.npz').exists()
    published = stage.publish()
    assert sorted(published) == sorted(ENTRIES)
    assert sorted(os.listdir(tmp_path)) == [
        'metrics.json', 'notes.txt', 'predictions'
    ]
    assert os.listdir(tmp_path / 'predictions') == ['a.npz']
    assert (tmp_path / 'predictions' / 'a.npz').read_text() == 'new a'
    assert (tmp_path / 'metrics.json').read_text() == '{"new": 1}'


def test_entry_missing_from_the_run_is_removed(tmp_path):
    _previous_run(tmp_path)
    stage = RunStage(str(tmp_path), ENTRIES, marker='metrics.json')
    with open(stage.path('metrics.json'), 'w') as file:
        file.write('{}')
    stage.publish()
    assert not (tmp_path / 'predictions').exists()


def test_abort_leaves_previous_results(tmp_path):
    _previous_run(tmp_path)
    before = {p: p.read_text() for p in tmp_path.rglob('*') if p.is_file()}
    stage = RunStage(str(tmp_path), ENTRIES, marker='metrics.json')
    _write_new(stage)
    stage.abort()
    after = {p: p.read_text() for p in tmp_path.rglob('*') if p.is_file()}
    assert after == before
    assert not any(n.startswith('.flowpose') for n in os.listdir(tmp_path))


def test_stages_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, '-c', 'import os; '
                           'print(os.getpid())'],
                          capture_output=True, text=True).stdout.strip()
    (tmp_path / f'.flowpose-run-{dead}-abc' / 'predictions').mkdir(
        parents=True)
    (tmp_path / '.flowpose-tmp-xyz').mkdir()  # the inferencer's own stage
    alive = tmp_path / f'.flowpose-run-{os.getppid()}-live'
    alive.mkdir()
    stage = RunStage(str(tmp_path), ENTRIES)
    left = sorted(os.listdir(tmp_path))
    assert left == sorted([alive.name, os.path.basename(stage.stage)])
    stage.abort()


@pytest.mark.parametrize('entry', ['/abs', 'a/b', '..', ''])
def test_entries_are_top_level_names(tmp_path, entry):
    with pytest.raises(ValueError, match='run entries are top-level names'):
        RunStage(str(tmp_path), [entry])
    assert os.listdir(tmp_path) == []


def test_marker_must_be_an_entry(tmp_path):
    with pytest.raises(ValueError, match="marker 'x.json' is not among"):
        RunStage(str(tmp_path), ENTRIES, marker='x.json')


def test_out_dir_that_is_a_file(tmp_path):
    (tmp_path / 'work').write_text('a file')
    with pytest.raises((FileExistsError, NotADirectoryError)):
        RunStage(str(tmp_path / 'work'), ENTRIES)


def test_sigterm_becomes_interrupt_and_signals_wait_for_publish():
    with pytest.raises(Terminated):
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler interrupts this
    assert isinstance(Terminated(), KeyboardInterrupt)
    # held: the signal waits until the block ends, then interrupts
    done = []
    with pytest.raises(Terminated):
        with sigterm_as_interrupt():
            with signals_held():
                os.kill(os.getpid(), signal.SIGTERM)
                done.append('publish finished')
    assert done == ['publish finished']
