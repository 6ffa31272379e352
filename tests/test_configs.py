"""Every shipped config parses and builds with random weights.

Checkpoints are set to None (no downloads); the datasets are not built
(they need the real H36M / 3DPW files), but their evaluators are.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmflowpose.registry import METRICS, MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(path, REPO)
    for path in glob.glob(osp.join(REPO, 'configs', 'flowpose', '*.py')))


def test_there_are_configs():
    names = [osp.basename(c) for c in CONFIGS]
    for expected in (
            'flowpose_videopose3d-raft_h36m.py',
            'flowpose_motionbert-gma_3dpw.py',
            'flowpose_simplebaseline3d-pwcnet_h36m.py',
            'flowpose_avg-videopose3d-motionbert-avg-raft-gma_h36m.py'):
        assert expected in names


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    assert cfg.default_scope == 'mmflowpose'
    model_cfg = cfg.model.to_dict()
    assert model_cfg['type'] == 'FlowPoseRefiner'
    for net in model_cfg['flow_networks'] + model_cfg.get(
            'pose_estimators', []):
        if net.get('type') == 'MediaPipePoseEstimator':
            continue  # weights inside the mediapipe wheel
        # each names real weights: the model zoo's (a user with internet
        # downloads them) or the small ones shipped in checkpoints/
        checkpoint = net['checkpoint']
        assert checkpoint.startswith('https://download.openmmlab.com') or \
            osp.isfile(checkpoint), checkpoint
        if not osp.isfile(checkpoint):
            net['checkpoint'] = None
    with DefaultScope.overwrite_default_scope('mmflowpose'):
        model = MODELS.build(model_cfg)
        for metric in cfg.test_evaluator:
            METRICS.build(metric)
    assert len(model.finetuners) == len(model_cfg['flow_networks'])
    assert len(model.pose_estimators) + len(model.frame_estimators) == len(
        model_cfg['pose_estimators'])
    dataset = cfg.test_dataloader.dataset
    assert dataset.type in ('H36MClipDataset', 'PW3DClipDataset',
                            'SintelClipDataset', 'SyntheticClipDataset')


TRAINING_CONFIGS = sorted(
    osp.relpath(path, REPO)
    for path in glob.glob(osp.join(REPO, 'configs', 'training', '*.py')))


@pytest.mark.parametrize('config', TRAINING_CONFIGS)
def test_training_config_builds(config):
    """The configs that trained the shipped offline networks."""
    from mmflowpose.apis import init_model
    model = init_model(osp.join(REPO, config))
    assert sum(p.numel() for p in model.parameters()) > 0
    cfg = Config.fromfile(osp.join(REPO, config))
    assert 'train_dataloader' in cfg and 'optim_wrapper' in cfg
