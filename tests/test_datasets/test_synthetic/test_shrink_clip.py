"""shrink_clip: block means of flow, masks and frames; rescaled joints."""
import numpy as np
import pytest

from mmflowpose.datasets.synthetic.shrink_clip import shrink_clip


def test_shrink_clip_averages_blocks_and_rescales_joints():
    H, W, k = 128, 160, 4
    flow = np.zeros((2, H, W, 2), np.float32)
    flow[..., 0] = 8.0  # 8 px right at full size = 2 px at 1/4
    flow[0, :4, :4, 1] = 4.0  # one block moving down 4 px -> 1 px
    valid = np.ones((2, H, W), bool)
    valid[1, 5, 9] = False  # one invalid pixel invalidates its block
    human = np.zeros((3, H, W), bool)
    human[0, :4, :3] = True  # 12 of 16 pixels: a person block
    human[0, 4:8, :1] = True  # 4 of 16: background
    kp = np.full((3, 17, 2), 7.5, np.float32)  # centre of block (1, 1)
    frames = np.zeros((3, H, W, 3), np.uint8)
    frames[:, :4, :4] = 160  # one bright block -> its mean in pixel (0, 0)
    item = dict(
        name='c', inputs=dict(frames=frames),
        data_samples=dict(image_size=(H, W), gt_flow=flow,
                          gt_flow_valid=valid, human_mask=human,
                          gt_keypoints_2d=kp))
    small, refined = shrink_clip(item, kp + 4, 3, k)
    d = small['data_samples']
    assert small['name'] == 'c'
    assert d['image_size'] == (32, 40)
    assert small['inputs']['frames'].shape == (3, 32, 40, 3)
    assert small['inputs']['frames'][0, 0, 0, 0] == 160
    assert small['inputs']['frames'][0, 0, 1, 0] == 0
    np.testing.assert_allclose(d['gt_flow'][..., 0], 2.0)
    assert d['gt_flow'][0, 0, 0, 1] == 1.0 and d['gt_flow'][0, 1, 0, 1] == 0
    assert not d['gt_flow_valid'][1, 1, 2] and d['gt_flow_valid'].sum() == \
        2 * 32 * 40 - 1
    assert d['human_mask'][0, 0, 0] and not d['human_mask'][0, 1, 0]
    np.testing.assert_allclose(d['gt_keypoints_2d'], 1.5)
    np.testing.assert_allclose(refined, 2.5)


def test_shrink_clip_keeps_the_first_frames():
    H, W = 64, 64
    item = dict(
        name='c', inputs=dict(frames=np.zeros((5, H, W, 3), np.uint8)),
        data_samples=dict(
            image_size=(H, W), gt_flow=np.zeros((4, H, W, 2), np.float32),
            gt_flow_valid=np.ones((4, H, W), bool),
            human_mask=np.zeros((5, H, W), bool),
            gt_keypoints_2d=np.arange(5, dtype=np.float32)[:, None, None]
            * np.ones((5, 17, 2), np.float32)))
    small, refined = shrink_clip(item, item['data_samples'][
        'gt_keypoints_2d'], 3, 2)
    d = small['data_samples']
    assert d['gt_flow'].shape == (2, 32, 32, 2)
    assert d['human_mask'].shape == (3, 32, 32)
    # frame t's points (t, t) px -> (t + 0.5) / 2 - 0.5
    np.testing.assert_allclose(refined[:, 0, 0], [-0.25, 0.25, 0.75])


@pytest.mark.parametrize('factor,size', [(5, (128, 160)), (4, (120, 160)),
                                         (4, (64, 160))])
def test_shrink_clip_rejects_bad_factors(factor, size):
    H, W = size
    item = dict(name='c', inputs=dict(frames=np.zeros((2, H, W, 3),
                                                      np.uint8)),
                data_samples=dict(image_size=(H, W)))
    with pytest.raises(ValueError, match='factor'):
        shrink_clip(item, np.zeros((2, 17, 2)), 2, factor)
