"""Benchmark clips from the mocap fixtures: split, starts, sampling."""
import os.path as osp

import numpy as np
import pytest

from mmflowpose.datasets.synthetic.benchmark_clips import (
    clip_starts, make_clips, make_pose_clips, mocap_files, person_height,
    split_motions)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
CONFIGS = (osp.join(ROOT, 'configs/training/videopose3d-small_mocap.py'),
           osp.join(ROOT, 'configs/training/raft-small_synthetic.py'))


@pytest.fixture
def mocap_root(fixtures):
    return osp.dirname(fixtures('mocap', 'MANIFEST.md'))


def test_clip_starts_are_even_and_span_the_motion():
    # 100 frames, clips of 10: starts 0 and 90 bracket the motion
    np.testing.assert_array_equal(clip_starts(100, 10, 4), [0, 30, 60, 90])
    np.testing.assert_array_equal(clip_starts(100, 10, 1), [0])


def test_mocap_files_are_relative_and_sorted(mocap_root):
    files = mocap_files(mocap_root)
    assert files == sorted(files) and files
    assert all(not osp.isabs(f) and f.endswith(('.amc', '.bvh'))
               for f in files)


def test_held_out_motions_are_not_training_motions(mocap_root):
    test, val, source = split_motions(mocap_root, CONFIGS)
    assert test and val
    assert not set(test) & set(val)
    assert set(test) | set(val) == set(mocap_files(mocap_root))
    assert 'held out' in source


def test_unreadable_configs_fall_back_to_procedural_validation(
        mocap_root, tmp_path):
    test, val, source = split_motions(mocap_root,
                                      [str(tmp_path / 'missing.py')])
    assert val == ['procedural:walk', 'procedural:jumping_jacks']
    assert test[:-2] == mocap_files(mocap_root)
    assert 'unreadable' in source and 'missing.py' in source


def test_validation_clips_are_sampled_like_test_clips(mocap_root):
    _, val, _ = split_motions(mocap_root, CONFIGS)
    settings = dict(num_frames=6, det_std_rel=0.01, image_size=(32, 48))
    clips = make_pose_clips(mocap_root, val[:1], 3, settings, 0)
    starts = [int(c['name'].split('@')[1]) for c in clips]
    # evenly spaced over the motion, not all at frame 0
    assert len(starts) == 3 and starts[0] == 0 and starts[-1] > starts[1] > 0
    # the unrendered clip has exactly the rendered clip's poses and noise
    rendered = make_clips(mocap_root, val[:1], 3, settings, 0)[1]
    assert rendered['name'] == clips[1]['name']
    unrendered = clips[1]['data_samples']
    assert unrendered['gt_pose3d'].shape == (6, 17, 3)
    for key in ('gt_pose3d', 'pose3d_init', 'keypoints_2d',
                'keypoint_scores'):
        np.testing.assert_allclose(unrendered[key],
                                   rendered['data_samples'][key],
                                   atol=1e-4, err_msg=key)


def test_person_height_counts_rows_of_frames_with_the_person():
    mask = np.zeros((3, 10, 6), bool)
    mask[0, 2:5, 1] = True  # rows 2-4: 3 px
    mask[1, 1, 0] = mask[1, 8, 5] = True  # rows 1-8 (gaps count): 8 px
    # frame 2 is empty and left out
    assert person_height(mask) == 5.5
    assert np.isnan(person_height(np.zeros((2, 4, 4), bool)))
    with pytest.raises(ValueError, match='human_mask'):
        person_height(np.zeros((4, 4), bool))
