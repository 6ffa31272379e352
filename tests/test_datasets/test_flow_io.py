import os

import cv2
import numpy as np
import pytest

from mmflowpose.datasets import read_flow, read_pfm, write_flow


def numpy_flo(path):
    raw = np.fromfile(path, dtype='<f4')
    width, height = np.frombuffer(raw[1:3].tobytes(), '<i4')
    return raw[3:].reshape(height, width, 2)


@pytest.mark.parametrize('name', ['00001_flow.flo', '0000000-flow_01.flo'])
def test_read_flo_matches_numpy(fixtures, name):
    path = fixtures('mmflow', 'tests_data', name)
    flow, valid = read_flow(path)
    assert flow.shape == (50, 50, 2) and flow.dtype == np.float32
    np.testing.assert_array_equal(flow, numpy_flo(path))
    assert valid.dtype == bool and valid.all()


def test_read_kitti_png_matches_manifest(fixtures):
    path = fixtures('mmflow', 'tests_data', 'sparse_flow.png')
    flow, valid = read_flow(path)
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)[..., ::-1].astype(np.float64)
    np.testing.assert_allclose(flow, (raw[..., :2] - 2**15) / 64)
    np.testing.assert_array_equal(valid, raw[..., 2] > 0)
    assert valid.sum() == 39
    assert np.nonzero(valid)[0].min() == 43
    assert flow[valid, 0].min() == pytest.approx(-21.97, abs=0.01)


def test_read_pfm_single_channel(fixtures):
    path = fixtures('mmflow', 'tests_data', '0000000-occ_weights_01.pfm')
    data = read_pfm(path)
    assert data.shape == (50, 50) and data.dtype == np.float32
    raw = np.fromfile(path, dtype='<f4')[-2500:].reshape(50, 50)
    np.testing.assert_array_equal(data, raw[::-1])  # stored bottom-up
    assert 0 <= data.min() and data.max() <= 1
    with pytest.raises(ValueError, match='single-channel'):
        read_flow(path)


def test_read_pfm_three_channels_as_flow(tmp_path):
    values = np.arange(2 * 3 * 3, dtype='<f4').reshape(2, 3, 3)
    path = str(tmp_path / 'flow.pfm')
    with open(path, 'wb') as f:
        f.write(b'PF\n3 2\n-1.0\n')
        f.write(values[::-1].tobytes())  # bottom row first
    flow, valid = read_flow(path)
    np.testing.assert_array_equal(flow, values[..., :2])
    assert valid.all()


def test_round_trip_flo_and_npz(tmp_path):
    rng = np.random.default_rng(0)
    flow = rng.normal(size=(7, 5, 2)).astype(np.float32)
    flow[0, 0] = 1e10  # Middlebury "unknown flow"
    write_flow(str(tmp_path / 'a.flo'), flow)
    back, valid = read_flow(str(tmp_path / 'a.flo'))
    np.testing.assert_array_equal(back, flow)
    assert not valid[0, 0] and valid.sum() == 34
    mask = rng.random((7, 5)) > 0.5
    write_flow(str(tmp_path / 'sub' / 'b.npz'), flow, mask)
    back, valid = read_flow(str(tmp_path / 'sub' / 'b.npz'))
    np.testing.assert_array_equal(back, flow)
    np.testing.assert_array_equal(valid, mask)
    # Atomic: no temporary file is left behind.
    assert sorted(os.listdir(tmp_path)) == ['a.flo', 'sub']
    assert os.listdir(tmp_path / 'sub') == ['b.npz']


def test_corrupt_flo_errors_name_the_file(tmp_path, fixtures):
    good = open(fixtures('mmflow', 'tests_data', '00001_flow.flo'),
                'rb').read()
    truncated = tmp_path / 'truncated.flo'
    truncated.write_bytes(good[:-100])
    with pytest.raises(ValueError, match='truncated.flo.*19912'):
        read_flow(str(truncated))
    bad_magic = tmp_path / 'magic.flo'
    bad_magic.write_bytes(b'XXXX' + good[4:])
    with pytest.raises(ValueError, match='magic.flo: not a .flo'):
        read_flow(str(bad_magic))
    tiny = tmp_path / 'tiny.flo'
    tiny.write_bytes(good[:6])
    with pytest.raises(ValueError, match='tiny.flo: truncated'):
        read_flow(str(tiny))
    with pytest.raises(FileNotFoundError, match='missing.flo'):
        read_flow(str(tmp_path / 'missing.flo'))


def test_write_errors(tmp_path):
    with pytest.raises(ValueError, match=r'\(H, W, 2\)'):
        write_flow(str(tmp_path / 'a.flo'), np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match='valid mask'):
        write_flow(str(tmp_path / 'a.flo'), np.zeros((4, 4, 2)),
                   np.ones((4, 4), bool))
    with pytest.raises(ValueError, match='.png'):
        write_flow(str(tmp_path / 'a.png'), np.zeros((4, 4, 2)))
