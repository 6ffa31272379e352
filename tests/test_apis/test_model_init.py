"""Every listed network builds from its packaged config and runs on CPU."""
import pytest
import torch

from mmflowpose.apis import ConfigError, init_model, resolve_config_path
from mmflowpose.utils.checkpoint import CheckpointError, save_checkpoint_atomic

LIFT = 'mmpose::body_3d_keypoint/'
POSE_CONFIGS = {
    'videopose3d-27':
    (LIFT + 'video_pose_lift/h36m/'
     'video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py', 27),
    'videopose3d-243':
    (LIFT + 'video_pose_lift/h36m/'
     'video-pose-lift_tcn-243frm-supv_8xb128-160e_h36m.py', 243),
    'simplebaseline3d': (LIFT + 'image_pose_lift/h36m/'
                         'image-pose-lift_tcn_8xb64-200e_h36m.py', 1),
    'motionbert': (LIFT + 'motionbert/h36m/'
                   'motionbert_dstformer-243frm_8xb32-240e_h36m.py', 16),
}
FLOW_CONFIGS = {
    'raft': ('mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py', (64, 96)),
    'gma': ('mmflow::gma/gma_8xb2_120k_flyingchairs-368x496.py', (64, 96)),
    'pwcnet':
    ('mmflow::pwcnet/pwcnet_8xb1_slong_flyingchairs-384x448.py', (64, 128)),
    'flownets':
    ('mmflow::flownet/flownets_8xb1_slong_flyingchairs-384x448.py', (64, 128)),
    'flownetc':
    ('mmflow::flownet/flownetc_8xb1_slong_flyingchairs-384x448.py', (64, 128)),
    'irrpwc':
    ('mmflow::irr/irrpwc_8xb1_sshort_flyingchairsocc-384x448.py', (64, 128)),
    'flownet2': ('mmflow::flownet2/'
                 'flownet2_8xb1_sfine_flyingthings3d-subset-384x768.py',
                 (64, 128)),
    'liteflownet2': ('mmflow::liteflownet2/'
                     'liteflownet2_8xb1_500k_flyingthing3d-subset-384x768.py',
                     (64, 128)),
    'liteflownet': ('mmflow::liteflownet/'
                    'liteflownet_8xb1_500k_flyingthings3d-subset-384x768.py',
                    (64, 128)),
}


def _tensors(output):
    if isinstance(output, torch.Tensor):
        yield output
    elif isinstance(output, dict):
        for value in output.values():
            yield from _tensors(value)
    elif isinstance(output, (list, tuple)):
        for value in output:
            yield from _tensors(value)


def final_flow(output):
    """The finest, last 2-channel map of an mmflow 'tensor' mode output.

    Outputs differ by network: RAFT gives a list over iterations, PWC-Net a
    dict over pyramid levels, IRR a list of dicts (flows and occlusions).
    """
    flows = [t for t in _tensors(output) if t.dim() == 4 and t.shape[1] == 2]
    assert flows, 'no flow-shaped tensor in the output'
    largest = max(t.shape[-2] * t.shape[-1] for t in flows)
    return [t for t in flows if t.shape[-2] * t.shape[-1] == largest][-1]


@pytest.mark.parametrize('name', sorted(FLOW_CONFIGS))
def test_flow_network_builds_and_runs(name):
    config, (height, width) = FLOW_CONFIGS[name]
    torch.manual_seed(0)
    model = init_model(config)
    assert not model.training
    pair = torch.rand(1, 6, height, width) * 2 - 1
    with torch.no_grad():
        flow = final_flow(model(pair, mode='tensor'))
    assert flow.shape[:2] == (1, 2)
    assert torch.isfinite(flow).all()


def test_wart_maskflownet_needs_compiled_deform_conv():
    """MaskFlowNet builds, but its forward needs mmcv's compiled DCN."""
    model = init_model(
        'mmflow::maskflownet/maskflownets_8xb1_slong_flyingchairs-384x448.py')
    with pytest.raises(RuntimeError, match='deform_conv_forward.*mmcv-lite'):
        model(torch.rand(1, 6, 64, 128), mode='tensor')


@pytest.mark.parametrize('name', sorted(POSE_CONFIGS))
def test_pose_lifter_builds_and_runs(name):
    config, frames = POSE_CONFIGS[name]
    model = init_model(config)
    assert model.dataset_meta['num_keypoints'] == 17
    keypoints = torch.randn(2, frames, 17, 2) * 0.3
    with torch.no_grad():
        if name == 'motionbert':
            inputs = torch.cat([keypoints, torch.ones(2, frames, 17, 1)], -1)
            out = model(inputs, None, mode='tensor')
            assert out.shape == (2, frames, 17, 3)
        else:
            # TCN lifters take (B, K*C, T) per mmpose's PoseLifter
            inputs = keypoints.permute(0, 2, 3, 1).reshape(2, 34, frames)
            out = model(inputs, None, mode='tensor')
            # SimpleBaseline3D's codec removes the root joint (16 left)
            joints = 16 if name == 'simplebaseline3d' else 17
            assert out.shape[0] == 2 and out.shape[-2:] == (joints, 3)
    assert torch.isfinite(out).all()


def test_checkpoint_round_trip(tmp_path):
    config = FLOW_CONFIGS['raft'][0]
    torch.manual_seed(3)
    model = init_model(
        config, cfg_options=dict(model=dict(decoder=dict(iters=3))))
    path = str(tmp_path / 'raft.pth')
    save_checkpoint_atomic(
        model, path, meta=dict(step=torch.tensor(1).numpy(), note='t'))
    torch.manual_seed(4)
    loaded = init_model(
        config, path, cfg_options=dict(model=dict(decoder=dict(iters=3))))
    pair = torch.rand(1, 6, 64, 96)
    with torch.no_grad():
        expected = final_flow(model(pair, mode='tensor'))
        actual = final_flow(loaded(pair, mode='tensor'))
    assert torch.equal(expected, actual)


def test_checkpoint_for_pose_lifter_keeps_dataset_meta(tmp_path):
    config = POSE_CONFIGS['simplebaseline3d'][0]
    model = init_model(config)
    path = str(tmp_path / 'lifter.pth')
    meta = dict(dataset_meta=dict(model.dataset_meta, note='mine'))
    save_checkpoint_atomic(model, path, meta=meta)
    loaded = init_model(config, path)
    assert loaded.dataset_meta['note'] == 'mine'
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key])


def test_missing_checkpoint():
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        init_model(FLOW_CONFIGS['raft'][0], '/nonexistent/nope.pth')


def test_checkpoint_of_wrong_architecture(tmp_path):
    lifter = init_model(POSE_CONFIGS['simplebaseline3d'][0])
    path = str(tmp_path / 'lifter.pth')
    save_checkpoint_atomic(lifter, path)
    with pytest.raises(CheckpointError) as info:
        init_model(FLOW_CONFIGS['raft'][0], path)
    message = str(info.value)
    assert 'missing keys' in message and 'unexpected keys' in message
    assert 'does not fit RAFT' in message and 'backbone.' in message


def test_corrupt_checkpoint(tmp_path):
    path = tmp_path / 'broken.pth'
    path.write_bytes(b'not a checkpoint at all')
    with pytest.raises(CheckpointError, match='broken.pth'):
        init_model(FLOW_CONFIGS['raft'][0], str(path))


def test_unknown_model_type_names_registry_and_close_matches():
    with pytest.raises(ConfigError) as info:
        init_model(dict(type='RAFTT', _scope_='mmflow'))
    assert 'mmflow::model registry' in str(info.value)
    assert 'RAFT' in str(info.value)


def test_config_that_does_not_parse(tmp_path):
    path = tmp_path / 'bad.py'
    path.write_text('model = dict(type="RAFT"\n')
    with pytest.raises(ConfigError, match='bad.py'):
        init_model(str(path))


def test_missing_config_and_package_config():
    with pytest.raises(FileNotFoundError, match='nowhere.py'):
        init_model('/nowhere.py')
    with pytest.raises(FileNotFoundError, match='mmflow ships no'):
        resolve_config_path('mmflow::raft/nothing.py')


def test_config_without_scope_is_refused():
    with pytest.raises(ConfigError, match='which package'):
        init_model(dict(type='RAFT'))


def test_caller_config_is_not_modified():
    from mmflowpose.apis import load_config
    cfg = load_config(FLOW_CONFIGS['raft'][0])
    before = cfg.pretty_text
    init_model(cfg, cfg_options=dict(model=dict(decoder=dict(iters=3))))
    assert cfg.pretty_text == before
