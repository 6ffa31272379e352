import os
import os.path as osp

import numpy as np
import pytest

from mmflowpose.datasets.h36m_clips import (H36MClipDataset,
                                            parse_h36m_imgname)


def test_parse_imgname():
    assert parse_h36m_imgname(
        'S9/S9_Walking_1.60457274/S9_Walking_1.60457274_000101.jpg') == (
            'S9', 'Walking_1', '60457274', 101)
    with pytest.raises(ValueError, match='not in H36M form'):
        parse_h36m_imgname('frame_0001.png')


def test_real_fixture_has_no_multi_frame_video(fixtures):
    root = osp.dirname(fixtures('mmpose', 'h36m', 'test_h36m_body3d.npz'))
    with pytest.raises(ValueError, match='no clip of >= 2 frames'):
        H36MClipDataset(
            osp.join(root, 'test_h36m_body3d.npz'),
            'cameras.pkl',
            data_root=root,
            clip_len=2)


def _relabelled_fixture(fixtures, tmp_path, rows, frame_numbers):
    """The fixture's real rows, renamed as frames of one S1 video."""
    root = osp.dirname(fixtures('mmpose', 'h36m', 'test_h36m_body3d.npz'))
    data = dict(np.load(osp.join(root, 'test_h36m_body3d.npz')))
    names = []
    for row, number in zip(rows, frame_numbers):
        name = (f'S1/S1_Directions_1.54138969/'
                f'S1_Directions_1.54138969_{number:06d}.jpg')
        os.makedirs(tmp_path / osp.dirname(name), exist_ok=True)
        os.symlink(osp.join(root, str(data['imgname'][row])), tmp_path / name)
        names.append(name)
    np.savez(
        tmp_path / 'ann.npz',
        imgname=np.array(names),
        S=data['S'][rows],
        part=data['part'][rows],
        center=data['center'][rows],
        scale=data['scale'][rows])
    os.symlink(osp.join(root, 'cameras.pkl'), tmp_path / 'cameras.pkl')
    return data


def test_clip_from_real_rows(fixtures, tmp_path):
    # rows 0 (S1) and 1 (S5) are both 1000x1002 images; listed out of order
    data = _relabelled_fixture(fixtures, tmp_path, [1, 0], [6, 1])
    dataset = H36MClipDataset(
        str(tmp_path / 'ann.npz'), 'cameras.pkl', data_root=str(tmp_path),
        clip_len=2)
    assert len(dataset) == 1
    item = dataset[0]
    frames = item['inputs']['frames']
    samples = item['data_samples']
    assert frames.shape == (2, 1002, 1000, 3) and frames.dtype == np.uint8
    assert samples['image_size'] == (1002, 1000)
    # sorted by frame number: row 0 (frame 1) comes first
    np.testing.assert_allclose(samples['gt_pose3d'], data['S'][[0, 1], :, :3],
                               rtol=1e-6)
    np.testing.assert_allclose(
        samples['gt_joint_flow'][0],
        data['part'][1, :, :2] - data['part'][0, :, :2],
        rtol=1e-5)
    assert samples['gt_joint_flow_valid'].all()
    # no detection file: GT 2D joints with score 1 serve as detections
    np.testing.assert_array_equal(samples['keypoint_scores'], 1)
    assert samples['camera']['f'].shape == (2, )
    assert samples['clip_id'] == 'S1_Directions_1.54138969_000000'


def test_frames_of_different_size_are_refused(fixtures, tmp_path):
    # row 3 is S8: a 1000x1000 image beside S1's 1000x1002
    _relabelled_fixture(fixtures, tmp_path, [0, 3], [1, 6])
    dataset = H36MClipDataset(
        str(tmp_path / 'ann.npz'), 'cameras.pkl', data_root=str(tmp_path),
        clip_len=2)
    with pytest.raises(ValueError, match='must share a size'):
        dataset[0]


def test_filters_and_bad_files(fixtures, tmp_path):
    _relabelled_fixture(fixtures, tmp_path, [0, 1, 0, 1], [1, 6, 11, 16])
    ann = str(tmp_path / 'ann.npz')
    kwargs = dict(data_root=str(tmp_path), load_frames=False)
    assert len(H36MClipDataset(ann, 'cameras.pkl', clip_len=2,
                               **kwargs)) == 2
    strided = H36MClipDataset(
        ann, 'cameras.pkl', clip_len=2, frame_stride=2, **kwargs)
    assert len(strided) == 1
    with pytest.raises(ValueError, match="subjects=\\('S9',\\)"):
        H36MClipDataset(ann, 'cameras.pkl', subjects=['S9'], **kwargs)
    with pytest.raises(FileNotFoundError, match='nothing.pkl'):
        H36MClipDataset(ann, 'nothing.pkl', **kwargs)
    np.save(tmp_path / 'det.npy', np.zeros((3, 17, 3)))
    with pytest.raises(ValueError, match='det.npy.*expected \\(4, 17, 3\\)'):
        H36MClipDataset(
            ann, 'cameras.pkl', detection_file='det.npy', **kwargs)
    np.savez(tmp_path / 'broken.npz', imgname=np.array(['x']))
    with pytest.raises(KeyError, match='lacks fields'):
        H36MClipDataset(str(tmp_path / 'broken.npz'), 'cameras.pkl',
                        **kwargs)
