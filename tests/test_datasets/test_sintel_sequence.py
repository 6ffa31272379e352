import numpy as np
import pytest

from mmflowpose.datasets import SintelSequenceDataset, write_flow
from mmflowpose.registry import DATASETS


def make_sintel(root, seqs=(('alley_2', 5), ('cave_4', 3)), occ=True,
                invalid=True):
    import mmcv
    rng = np.random.default_rng(0)
    for seq, frames in seqs:
        for i in range(1, frames + 1):
            img = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
            mmcv.imwrite(img, str(root / 'final' / seq / f'frame_{i:04d}.png'))
            if i == frames:
                continue
            flow = np.full((6, 8, 2), i, np.float32)
            write_flow(str(root / 'flow' / seq / f'frame_{i:04d}.flo'), flow)
            mask = np.zeros((6, 8), np.uint8)
            mask[0, 0] = 255
            if occ:
                mmcv.imwrite(mask, str(root / 'occlusions' / seq /
                                       f'frame_{i:04d}.png'))
            if invalid:
                mask2 = np.zeros((6, 8), np.uint8)
                mask2[5, 7] = 255
                mmcv.imwrite(mask2, str(root / 'invalid' / seq /
                                        f'frame_{i:04d}.png'))


def test_whole_sequences(tmp_path):
    make_sintel(tmp_path)
    ds = SintelSequenceDataset(data_root=str(tmp_path))
    assert len(ds) == 2
    clip = ds[0]
    assert clip['seq_name'] == 'alley_2' and clip['frame_ids'] == [1, 2, 3,
                                                                   4, 5]
    assert clip['imgs'].shape == (5, 6, 8, 3)
    assert clip['imgs'].dtype == np.uint8
    assert clip['flows'].shape == (4, 6, 8, 2)
    assert clip['flows'][2, 0, 0].tolist() == [3.0, 3.0]
    assert clip['flow_valid'].shape == (4, 6, 8)
    assert not clip['flow_valid'][:, 5, 7].any()
    assert clip['flow_valid'].sum() == 4 * 47
    assert clip['occlusions'][:, 0, 0].all() and clip['occlusions'].sum() == 4


def test_rgb_order(tmp_path):
    import mmcv
    make_sintel(tmp_path, seqs=(('a', 2), ))
    clip = SintelSequenceDataset(data_root=str(tmp_path))[0]
    bgr = mmcv.imread(clip['img_paths'][0])
    np.testing.assert_array_equal(clip['imgs'][0], bgr[..., ::-1])


def test_clips_and_selection(tmp_path):
    make_sintel(tmp_path, occ=False, invalid=False)
    ds = DATASETS.build(
        dict(type='SintelSequenceDataset', data_root=str(tmp_path),
             sequences=['alley_2'], clip_length=3))
    # Default stride = clip_length - 1: frames 1-3 and 3-5.
    assert [ds.get_data_info(i)['frame_ids'] for i in range(len(ds))] == \
        [[1, 2, 3], [3, 4, 5]]
    clip = ds[1]
    assert 'occlusions' not in clip
    assert clip['flow_valid'].all()
    ds = SintelSequenceDataset(data_root=str(tmp_path), clip_length=2,
                               clip_stride=1, load=False)
    assert len(ds) == 4 + 2
    assert 'imgs' not in ds[0]


def test_missing_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match='pass folder'):
        SintelSequenceDataset(data_root=str(tmp_path))
    make_sintel(tmp_path, seqs=(('a', 2), ))
    with pytest.raises(FileNotFoundError, match='bamboo_2'):
        SintelSequenceDataset(data_root=str(tmp_path), sequences=['bamboo_2'])
    with pytest.raises(ValueError, match='clip_length'):
        SintelSequenceDataset(data_root=str(tmp_path), clip_length=1)
