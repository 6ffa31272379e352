"""QuietThirdParty: native fd-2 writes and noisy warnings are caught,
Python's own stderr still reaches the terminal."""
import os
import subprocess
import sys

SCRIPT = r'''
import os, sys, warnings
from mmflowpose.apis.log_noise import QuietThirdParty
enabled = sys.argv[1] == 'quiet'
with QuietThirdParty(enabled=enabled) as quiet:
    os.write(2, b'W0000 native absl line\n')  # as C++ libraries write
    warnings.warn('pkg_resources is deprecated as an API')
    warnings.warn('a warning of ours')
    print('python stderr line', file=sys.stderr)
print('captured:', repr(quiet.captured))
os.write(2, b'after the context\n')
'''


def run(mode):
    return subprocess.run([sys.executable, '-c', SCRIPT, mode],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONWARNINGS='default'))


def test_quiet_hides_native_lines_and_known_warnings():
    result = run('quiet')
    assert result.returncode == 0, result.stderr
    assert 'W0000 native absl line' not in result.stderr
    assert 'pkg_resources' not in result.stderr
    # ours still show, and the descriptor is restored afterwards
    assert 'a warning of ours' in result.stderr
    assert 'python stderr line' in result.stderr
    assert 'after the context' in result.stderr
    assert "captured: 'W0000 native absl line\\n'" in result.stdout


def test_verbose_shows_everything():
    result = run('verbose')
    assert result.returncode == 0, result.stderr
    for line in ('W0000 native absl line', 'pkg_resources is deprecated',
                 'a warning of ours', 'python stderr line'):
        assert line in result.stderr
