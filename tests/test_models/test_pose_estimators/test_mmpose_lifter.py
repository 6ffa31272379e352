import numpy as np
import pytest
import torch

from mmflowpose.models.pose_estimators import MMPoseLifter

LIFT = 'mmpose::body_3d_keypoint/'
VIDEOPOSE27 = (LIFT + 'video_pose_lift/h36m/'
               'video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py')
SIMPLEBASELINE = (LIFT + 'image_pose_lift/h36m/'
                  'image-pose-lift_tcn_8xb64-200e_h36m.py')
MOTIONBERT = (LIFT + 'motionbert/h36m/'
              'motionbert_dstformer-243frm_8xb32-240e_h36m.py')
# a small MotionBERT (2 layers, 16 frames) keeps the test fast
SMALL_MOTIONBERT = dict(
    model=dict(backbone=dict(depth=2, seq_len=16)),
    test_dataloader=dict(dataset=dict(multiple_target=16, seq_len=16)))


def walking_keypoints(num_frames, fixtures):
    """The real H36M fixture pose, translated a little every frame."""
    data = np.load(fixtures('mmpose', 'h36m', 'test_h36m_body3d.npz'))
    base = data['part'][0, :, :2].astype(np.float32)
    shift = np.arange(num_frames, dtype=np.float32)[:, None, None] * 3
    return base[None] + shift, np.ones((num_frames, 17), np.float32)


@pytest.mark.parametrize('config,options', [(VIDEOPOSE27, None),
                                            (SIMPLEBASELINE, None),
                                            (MOTIONBERT, SMALL_MOTIONBERT)])
def test_lifts_clip_root_relative(config, options, fixtures):
    torch.manual_seed(0)
    lifter = MMPoseLifter(config, cfg_options=options)
    keypoints, scores = walking_keypoints(20, fixtures)
    pose = lifter(keypoints, scores, (1002, 1000))
    assert pose.shape == (20, 17, 3)
    assert np.isfinite(pose).all()
    np.testing.assert_array_equal(pose[:, 0], 0)
    assert np.abs(pose).max() > 0


def test_windows_are_aligned_with_frames(fixtures):
    """Frame t only sees frames t-13..t+13: extending the clip far beyond
    that window must not change its prediction."""
    torch.manual_seed(0)
    lifter = MMPoseLifter(VIDEOPOSE27)
    keypoints, scores = walking_keypoints(60, fixtures)
    full = lifter(keypoints, scores, (1002, 1000))
    part = lifter(keypoints[:40], scores[:40], (1002, 1000))
    np.testing.assert_allclose(full[20], part[20], rtol=1e-5, atol=1e-6)
    # ... while frame 30's window reaches the padded end of the short clip
    assert not np.allclose(full[30], part[30])


def test_short_clip_is_padded(fixtures):
    lifter = MMPoseLifter(VIDEOPOSE27)
    keypoints, scores = walking_keypoints(3, fixtures)
    assert lifter(keypoints, scores, (1002, 1000)).shape == (3, 17, 3)


def test_joint_count_mismatch(fixtures):
    lifter = MMPoseLifter(SIMPLEBASELINE)
    with pytest.raises(ValueError, match='expects 17 joints.*has 14'):
        lifter(np.zeros((4, 14, 2)), np.ones((4, 14)), (100, 100))
