import pytest
import torch
from mmflow.structures import FlowDataSample

from mmflowpose.apis import init_model
from mmflowpose.models.flow_tuning import flow_forward, flow_pad_multiple
from mmflowpose.models.flow_tuning.flow_forward import normalize_frames

RAFT = 'mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py'
PWC = 'mmflow::pwcnet/pwcnet_8xb1_slong_flyingchairs-384x448.py'


@pytest.fixture(scope='module')
def raft():
    torch.manual_seed(0)
    return init_model(RAFT, cfg_options={'model.decoder.iters': 2})


@pytest.fixture(scope='module')
def pwc():
    torch.manual_seed(0)
    return init_model(PWC)


def frames(h, w, n=1, seed=0):
    gen = torch.Generator().manual_seed(seed)
    f1 = torch.randint(0, 256, (n, 3, h, w), generator=gen,
                       dtype=torch.uint8)
    return f1, torch.roll(f1, shifts=(1, 2), dims=(2, 3))


def test_normalize_follows_data_preprocessor(raft, pwc):
    f1, _ = frames(8, 8)
    # RAFT: mean = std = 127.5, no channel conversion -> the net reads BGR.
    expected = (f1.float().flip(1) - 127.5) / 127.5
    torch.testing.assert_close(normalize_frames(raft, f1), expected)
    torch.testing.assert_close(normalize_frames(raft, f1.flip(1), 'bgr'),
                               expected)
    # PWC-Net: mean 0, std 255.
    torch.testing.assert_close(normalize_frames(pwc, f1),
                               f1.float().flip(1) / 255.)
    with pytest.raises(ValueError, match='channel_order'):
        normalize_frames(raft, f1, 'hsv')


def test_pad_multiple(raft, pwc):
    assert flow_pad_multiple(raft) == 8
    assert flow_pad_multiple(pwc) == 64


@pytest.mark.parametrize('name', ['raft', 'pwc'])
def test_matches_mmflow_predict(name, request):
    net = request.getfixturevalue(name)
    h, w = (64, 96) if name == 'raft' else (64, 128)
    f1, f2 = frames(h, w)
    with torch.no_grad():
        ours = flow_forward(net, f1, f2)
        inputs = torch.cat([normalize_frames(net, f1),
                            normalize_frames(net, f2)], 1)
        sample = FlowDataSample(metainfo=dict(img_shape=(h, w),
                                              ori_shape=(h, w)))
        theirs = net(inputs, [sample], mode='predict')[0].pred_flow_fw.data
    assert ours.shape == (1, 2, h, w)
    torch.testing.assert_close(ours[0], theirs)


@pytest.mark.parametrize('name,size', [('raft', (60, 90)),
                                       ('pwc', (50, 70))])
def test_pads_and_unpads(name, size, request):
    net = request.getfixturevalue(name)
    f1, f2 = frames(*size, n=2)
    with torch.no_grad():
        flow = flow_forward(net, f1, f2)
        flows = flow_forward(net, f1, f2, return_all=True)
    assert flow.shape == (2, 2, *size)
    assert len(flows) == (2 if name == 'raft' else 1)
    assert torch.equal(flows[-1], flow)


def test_size_mismatch(raft):
    f1, _ = frames(64, 96)
    with pytest.raises(ValueError, match='frame2'):
        flow_forward(raft, f1, torch.zeros(1, 3, 64, 88))
    with pytest.raises(ValueError, match='frame1'):
        flow_forward(raft, f1[:, :1], f1[:, :1])
