"""``mmflowpose::`` config names, with the editable install of ``make
install`` and with a plain ``pip install .``."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmflowpose.apis import load_config
from mmflowpose.compat.package_path import installed_path

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OFFLINE = 'flowpose/flowpose_videopose3d-small-raft-small_synthetic.py'

# a config a user writes in their own folder, inheriting one of ours
DERIVED = """_base_ = ['mmflowpose::{name}']
model = dict(num_cycles=3)
"""

CHECK = """
import os.path as osp
import sys
import mmflowpose
from mmengine.config import Config
from mmflowpose.apis import load_config
named = load_config('mmflowpose::{name}')
derived = Config.fromfile(sys.argv[1])
assert derived.model.num_cycles == 3, derived.model.num_cycles
for net in named.model.flow_networks + named.model.pose_estimators:
    assert osp.isfile(net['checkpoint']), net['checkpoint']
    assert osp.isfile(net['config']), net['config']
print(osp.dirname(mmflowpose.__file__))
"""


def test_installed_path_finds_the_editable_checkout():
    # the venv of `make install` holds an editable (PEP 660) install; mmengine
    # alone answers site-packages/mmflowpose, which does not exist
    path = installed_path('mmflowpose')
    assert osp.isfile(osp.join(path, '__init__.py'))
    assert osp.isfile(osp.join(path, '.mim', 'model-index.yml'))


def test_names_resolve_in_base_and_load_config(tmp_path):
    derived = tmp_path / 'mine.py'
    derived.write_text(DERIVED.format(name=OFFLINE))
    cfg = Config.fromfile(str(derived))
    assert cfg.model.num_cycles == 3
    assert cfg.model.type == 'FlowPoseRefiner'
    named = load_config('mmflowpose::' + OFFLINE)
    for net in named.model.flow_networks + named.model.pose_estimators:
        assert osp.isfile(net['checkpoint']), net['checkpoint']


def test_unknown_name_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match='ships no'):
        load_config('mmflowpose::flowpose/nope.py')


def test_plain_pip_install_resolves_names(tmp_path):
    """``pip install .`` copies configs/ and checkpoints/ into the package."""
    listed = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'],
                            cwd=REPO,
                            capture_output=True,
                            text=True,
                            check=True).stdout.split()
    source = tmp_path / 'src'
    for relative in listed:
        if relative.startswith(('tests/', 'docs/', 'benchmarks/')) or \
                not osp.isfile(osp.join(REPO, relative)):
            continue
        os.makedirs(source / osp.dirname(relative), exist_ok=True)
        shutil.copyfile(osp.join(REPO, relative), source / relative)
    target = tmp_path / 'site'
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
        '--no-build-isolation', '--target',
        str(target),
        str(source)
    ],
                   check=True,
                   capture_output=True,
                   timeout=600)
    assert osp.isfile(target / 'mmflowpose' / '.mim' / 'model-index.yml')
    derived = tmp_path / 'mine.py'
    derived.write_text(DERIVED.format(name=OFFLINE))
    script = tmp_path / 'check.py'
    script.write_text(CHECK.format(name=OFFLINE))
    result = subprocess.run([sys.executable, str(script),
                             str(derived)],
                            cwd=str(tmp_path),
                            capture_output=True,
                            text=True,
                            timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(target)))
    assert result.returncode == 0, result.stderr[-3000:]
    # the installed copy answered, not the editable checkout
    assert result.stdout.strip().splitlines()[-1] == str(
        target / 'mmflowpose')
