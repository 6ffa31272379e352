import pytest
import torch
from mmflow.datasets.transforms import InputPad
from mmflow.structures import FlowDataSample

from mmflowpose.apis import init_model
from mmflowpose.models.flow_tuning import flow_forward, flow_pad_multiple
from mmflowpose.models.flow_tuning.flow_forward import (FlowPadding,
                                                        flow_inputs,
                                                        flow_padding)

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


def test_inputs_follow_data_preprocessor(raft, pwc):
    f1, f2 = frames(64, 64)  # no padding for either network
    # RAFT: mean = std = 127.5, no channel conversion -> the net reads BGR.
    bgr1, bgr2 = f1.float().flip(1), f2.float().flip(1)
    expected = (torch.cat([bgr1, bgr2], 1) - 127.5) / 127.5
    inputs, pad = flow_inputs(raft, f1, f2)
    assert pad == (0, 0, 0, 0)
    torch.testing.assert_close(inputs, expected)
    torch.testing.assert_close(
        flow_inputs(raft, f1.flip(1), f2.flip(1), 'bgr')[0], expected)
    # PWC-Net: mean 0, std 255.
    torch.testing.assert_close(
        flow_inputs(pwc, f1, f2)[0], torch.cat([bgr1, bgr2], 1) / 255.)
    with pytest.raises(ValueError, match='channel_order'):
        flow_inputs(raft, f1, f2, 'hsv')


def test_padding_follows_the_config(raft, pwc):
    # RAFT's test pipeline: InputPad(exponent=3) -> 8, edge, centred
    assert flow_padding(raft) == FlowPadding(8, 'edge', 'center')
    assert flow_pad_multiple(raft) == 8
    # PWC-Net's resizes (InputResize): the fallback, 64
    assert flow_padding(pwc) == FlowPadding(64)
    # 50 x 70 to 16: 14 rows, 10 columns; 'left' keeps the image left
    assert FlowPadding(16).amounts(50, 70) == (5, 5, 7, 7)
    assert FlowPadding(16, position='left').amounts(50, 70) == (0, 10, 7, 7)
    assert FlowPadding(16, position='down').amounts(50, 70) == (5, 5, 14, 0)


def test_padding_reads_input_pad_settings():
    key = 'test_dataloader.dataset.pipeline.2.'
    net = init_model(RAFT, checkpoint=None, cfg_options={
        'model.decoder.iters': 1, key + 'exponent': 4,
        key + 'position': 'right'})
    assert net.cfg.test_dataloader.dataset.pipeline[2].type == 'InputPad'
    assert flow_padding(net) == FlowPadding(16, 'edge', 'right')
    f1, f2 = frames(70, 100)
    inputs, pad = flow_inputs(net, f1, f2)
    # 70 x 100 -> 80 x 112; 'right' puts the 12 columns on the left
    assert inputs.shape == (1, 6, 80, 112) and pad == (12, 0, 5, 5)
    # edge mode: the padding repeats the border pixels
    torch.testing.assert_close(inputs[..., 5:75, :12],
                               inputs[..., 5:75, 12:13].expand(-1, -1, -1,
                                                               12))
    net.cfg.merge_from_dict({key + 'mode': 'symmetric'})
    with pytest.raises(ValueError, match='symmetric'):
        flow_padding(net)


@pytest.mark.parametrize('name', ['raft', 'pwc'])
def test_matches_mmflow_predict(name, request):
    net = request.getfixturevalue(name)
    h, w = (64, 96) if name == 'raft' else (64, 128)
    f1, f2 = frames(h, w)
    with torch.no_grad():
        ours = flow_forward(net, f1, f2)
        inputs, _ = flow_inputs(net, f1, f2)
        sample = FlowDataSample(metainfo=dict(img_shape=(h, w),
                                              ori_shape=(h, w)))
        theirs = net(inputs, [sample], mode='predict')[0].pred_flow_fw.data
    assert ours.shape == (1, 2, h, w)
    torch.testing.assert_close(ours[0], theirs)


def test_matches_mmflow_test_pipeline(raft):
    """mmflow's own test path on a size RAFT needs padded: InputPad on BGR
    numpy images, the preprocessor, predict, the crop by the pad meta."""
    f1, f2 = frames(60, 90)
    results = dict(img1=f1[0].flip(0).permute(1, 2, 0).numpy(),
                   img2=f2[0].flip(0).permute(1, 2, 0).numpy())
    results = InputPad(exponent=3).transform(results)
    pair = torch.stack([torch.from_numpy(results[k]).permute(2, 0, 1)
                        for k in ('img1', 'img2')])
    sample = FlowDataSample(metainfo=dict(
        img_shape=results['img_shape'][:2], ori_shape=(60, 90),
        pad=results['pad']))
    with torch.no_grad():
        data = raft.data_preprocessor(dict(inputs=[pair]))
        theirs = raft(data['inputs'], [sample],
                      mode='predict')[0].pred_flow_fw.data
        ours = flow_forward(raft, f1, f2)
    assert theirs.shape == (2, 60, 90)
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


def test_test_pipelines_of_a_dataloader_list():
    """mmflow's mixed/Sintel configs give a list of test dataloaders (clean
    and final pass); each one's pipeline is read, and a non-dict entry is
    skipped instead of failing."""
    from mmengine.config import Config

    from mmflowpose.models.flow_tuning.flow_forward import _test_pipelines
    pad = dict(type='InputPad', exponent=4)
    cfg = Config(
        dict(test_dataloader=[
            dict(dataset=dict(pipeline=[pad])),
            dict(dataset=dict(
                type='ConcatDataset',
                datasets=[dict(pipeline=[dict(type='InputResize')])])),
            'not a loader',
        ]))
    types = [[t['type'] for t in p] for p in _test_pipelines(cfg)]
    assert types == [['InputPad'], ['InputResize']]
    assert _test_pipelines(Config(dict(test_dataloader=None))) == []
