import argparse

import pytest

from mmflowpose.utils.train_cli import add_train_args, load_train_config

CONFIG = """
train_cfg = dict(max_iters=100, val_interval=50)
default_hooks = dict(checkpoint=dict(interval=50))
optim = dict(lr=1e-3)
"""


def parse(argv):
    parser = argparse.ArgumentParser()
    add_train_args(parser)
    return parser.parse_args(argv)


def test_overrides_applied(tmp_path):
    path = tmp_path / 'tiny_cfg.py'
    path.write_text(CONFIG)
    cfg = load_train_config(
        parse([
            str(path), '--max-iters', '7', '--val-interval', '3', '--seed',
            '5', '--cfg-options', 'optim.lr=0.5'
        ]))
    assert cfg.train_cfg.max_iters == 7
    assert cfg.train_cfg.val_interval == 3
    assert cfg.default_hooks.checkpoint.interval == 3
    assert cfg.randomness == dict(seed=5)
    assert cfg.optim.lr == 0.5
    assert cfg.work_dir.endswith('work_dirs/tiny_cfg')


def test_defaults_keep_the_config(tmp_path):
    path = tmp_path / 'tiny_cfg.py'
    path.write_text(CONFIG)
    cfg = load_train_config(parse([str(path), '--work-dir', 'w']))
    assert cfg.train_cfg.max_iters == 100
    assert cfg.default_hooks.checkpoint.interval == 50
    assert cfg.work_dir == 'w'
    assert cfg.randomness == dict(seed=0)


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.py'):
        load_train_config(parse([str(tmp_path / 'missing.py')]))
    path = tmp_path / 'tiny_cfg.py'
    path.write_text(CONFIG)
    with pytest.raises(ValueError, match='--max-iters must be >= 1'):
        load_train_config(parse([str(path), '--max-iters', '0']))
