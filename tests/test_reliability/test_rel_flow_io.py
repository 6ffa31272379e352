"""Flow files that decode "fine" but are not what they claim are refused,
each with the file named; nothing half-written is left by the writer."""
import os

import cv2
import numpy as np
import pytest

from mmflowpose.datasets.flow_io import read_flow, read_pfm, write_flow


def _png(path, image):
    assert cv2.imwrite(str(path), image)
    return str(path)


@pytest.mark.parametrize(
    'image, found',
    [
        (np.full((4, 5, 3), 128, np.uint8), '8-bit 3-channel'),
        (np.full((4, 5), 128, np.uint8), '8-bit 1-channel'),
        (np.full((4, 5), 32768, np.uint16), '16-bit 1-channel'),
        (np.full((4, 5, 4), 32768, np.uint16), '16-bit 4-channel'),
    ],
    ids=['rgb8', 'gray8', 'gray16', 'rgba16'])
def test_kitti_png_must_be_16bit_3channel(tmp_path, image, found):
    path = _png(tmp_path / 'flow.png', image)
    with pytest.raises(ValueError,
                       match=f'flow.png: not a KITTI flow png \\({found} '
                       'image; KITTI flow is 16-bit with 3 channels'):
        read_flow(path)


def test_kitti_png_16bit_3channel_decodes(tmp_path):
    # KITTI: u = (R - 2^15) / 64, v = (G - 2^15) / 64, B = valid
    bgr = np.zeros((4, 5, 3), np.uint16)
    bgr[..., 2] = 2**15 + 64 * 3  # R: u = 3 px
    bgr[..., 1] = 2**15 - 32  # G: v = -0.5 px
    bgr[..., 0] = 1
    bgr[0, 0, 0] = 0  # one invalid pixel
    flow, valid = read_flow(_png(tmp_path / 'k.png', bgr))
    np.testing.assert_allclose(flow[1, 1], [3.0, -0.5])
    assert valid.sum() == 19 and not valid[0, 0]


def test_not_a_png_is_named(tmp_path):
    path = tmp_path / 'junk.png'
    path.write_bytes(b'definitely not a png')
    with pytest.raises(ValueError, match='junk.png: not a readable PNG'):
        read_flow(str(path))


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def test_npz_valid_shape_must_match(tmp_path):
    path = _npz(tmp_path / 'f.npz', flow=np.zeros((4, 5, 2), np.float32),
                valid=np.ones((5, 4), bool))
    with pytest.raises(ValueError,
                       match=r'f.npz: valid has shape \(5, 4\), the flow '
                       r'\(4, 5, 2\) needs \(4, 5\)'):
        read_flow(path)


def test_npz_valid_never_validates_nan(tmp_path):
    flow = np.zeros((3, 3, 2), np.float32)
    flow[1, 2, 0] = np.nan
    flow[2, 2, 1] = np.inf
    path = _npz(tmp_path / 'f.npz', flow=flow, valid=np.ones((3, 3), bool))
    _, valid = read_flow(path)
    assert valid.sum() == 7 and not valid[1, 2] and not valid[2, 2]


@pytest.mark.parametrize(
    'content, message',
    [(b'hello', 'not an .npz archive'),
     (None, 'not a readable .npz file'),
     (b'PK\x03\x04broken', 'not a readable .npz file')],
    ids=['text', 'truncated', 'bad-zip'])
def test_npz_corrupt_is_named(tmp_path, content, message):
    path = tmp_path / 'f.npz'
    if content is None:
        _npz(path, flow=np.zeros((40, 50, 2), np.float32))
        content = path.read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f'f.npz: {message}'):
        read_flow(str(path))


@pytest.mark.parametrize(
    'flow', [np.zeros((4, 5, 3)), np.zeros((4, 5))], ids=['3ch', '2d'])
def test_npz_flow_shape(tmp_path, flow):
    with pytest.raises(ValueError, match=r'f.npz: flow must be \(H, W, 2\)'):
        read_flow(_npz(tmp_path / 'f.npz', flow=flow))


def _pfm(path, scale: bytes, kind=b'PF', width=2, height=2):
    channels = 3 if kind == b'PF' else 1
    data = np.ones(width * height * channels, '<f4').tobytes()
    path.write_bytes(kind + b'\n' + f'{width} {height}\n'.encode() + scale +
                     b'\n' + data)
    return str(path)


@pytest.mark.parametrize('scale', [b'nan', b'inf', b'-inf', b'0'])
def test_pfm_scale_must_be_finite(tmp_path, scale):
    path = _pfm(tmp_path / 'f.pfm', scale)
    with pytest.raises(ValueError,
                       match='f.pfm: PFM scale must be a finite non-zero'):
        read_pfm(path)


def test_pfm_good_scale_reads(tmp_path):
    flow, valid = read_flow(_pfm(tmp_path / 'f.pfm', b'-1.0'))
    np.testing.assert_array_equal(flow, np.ones((2, 2, 2)))
    assert valid.all()


@pytest.mark.parametrize('scale', [b'abc', b''])
def test_pfm_malformed_scale(tmp_path, scale):
    with pytest.raises(ValueError, match='f.pfm: malformed PFM header'):
        read_pfm(_pfm(tmp_path / 'f.pfm', scale))


def test_write_flow_refusals_leave_nothing(tmp_path):
    with pytest.raises(ValueError, match='valid must be'):
        write_flow(str(tmp_path / 'a.npz'), np.zeros((4, 5, 2)),
                   np.ones((5, 4)))
    with pytest.raises(ValueError, match='can write .flo or .npz'):
        write_flow(str(tmp_path / 'a.png'), np.zeros((4, 5, 2)))
    assert os.listdir(tmp_path) == []
