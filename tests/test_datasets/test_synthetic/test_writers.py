import os
import pickle

import cv2
import mmcv
import numpy as np
import pytest

from mmflowpose.datasets.synthetic import make_clip, write_h36m, write_sintel


@pytest.fixture(scope='module')
def clip():
    return make_clip('procedural:jumping_jacks', camera=0, image_size=(32, 48),
                     seed=3, num_frames=3)


def test_sintel_round_trip(clip, tmp_path):
    dirs = write_sintel(clip, str(tmp_path), 'jacks')
    assert sorted(os.listdir(dirs['clean'])) == [
        'frame_0001.png', 'frame_0002.png', 'frame_0003.png']
    assert sorted(os.listdir(dirs['flow'])) == ['frame_0001.flo',
                                                'frame_0002.flo']
    for i in range(2):
        flow = mmcv.flowread(os.path.join(dirs['flow'],
                                          f'frame_{i + 1:04d}.flo'))
        np.testing.assert_array_equal(flow, clip['flow'][i])
        occ = cv2.imread(os.path.join(dirs['occlusions'],
                                      f'frame_{i + 1:04d}.png'), 0)
        np.testing.assert_array_equal(occ > 127, clip['occlusion'][i])
    img = cv2.imread(os.path.join(dirs['clean'], 'frame_0002.png'))
    np.testing.assert_array_equal(img[..., ::-1], clip['frames'][1])
    mask = cv2.imread(os.path.join(dirs['human_masks'], 'frame_0003.png'), 0)
    np.testing.assert_array_equal(mask > 127, clip['human_mask'][2])
    # No temporary files left behind.
    for kind_dir in dirs.values():
        assert not [f for f in os.listdir(kind_dir) if f.startswith('.tmp')]


def test_h36m_round_trip(clip, tmp_path):
    out = write_h36m(clip, str(tmp_path), 'jumpingjacks', camera_id='c001')
    ann = np.load(out['npz'])
    assert set(ann.files) >= {'imgname', 'S', 'part', 'center', 'scale'}
    assert ann['S'].shape == (3, 17, 4) and ann['part'].shape == (3, 17, 3)
    np.testing.assert_allclose(ann['S'][..., :3], clip['joints_3d_cam'],
                               atol=1e-6)
    np.testing.assert_allclose(ann['part'][..., :2], clip['joints_2d'],
                               atol=1e-5)
    name = str(ann['imgname'][0])
    assert name == 'SYN/SYN_jumpingjacks.c001/SYN_jumpingjacks.c001_000001.png'
    assert os.path.exists(os.path.join(str(tmp_path), 'images', name))
    # mmpose's name parsing and camera lookup.
    from mmpose.datasets.datasets.body3d import Human36mDataset
    subj, action, cam = Human36mDataset._parse_h36m_imgname(name)
    assert (subj, action, cam) == ('SYN', 'jumpingjacks', 'c001')
    with open(out['cameras'], 'rb') as f:
        cameras = pickle.load(f)
    c = cameras[(subj, cam)]
    x = (c['R'] @ (clip['joints_3d_world'][0].T - c['T'])).T
    np.testing.assert_allclose(x, clip['joints_3d_cam'][0], atol=1e-5)
    uv = x[:, :2] / x[:, 2:] * c['f'].T + c['c'].T
    np.testing.assert_allclose(uv, clip['joints_2d'][0], atol=1e-3)
    # A different camera under the same key is refused.
    other = make_clip('procedural:walk', camera=1, image_size=(32, 48),
                      seed=3, num_frames=2)
    with pytest.raises(ValueError, match='camera_id'):
        write_h36m(other, str(tmp_path), 'walk', camera_id='c001')


def test_h36m_name_checks(clip, tmp_path):
    with pytest.raises(ValueError, match='action'):
        write_h36m(clip, str(tmp_path), 'a.b')
    with pytest.raises(ValueError, match='subject'):
        write_h36m(clip, str(tmp_path), 'ab', subject='S_1')
