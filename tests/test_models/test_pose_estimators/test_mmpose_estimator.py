"""MMPoseLiftingEstimator: a real packaged 2D top-down model (MobileNetV2)
and lifter (VideoPose3D, 27 frames) at random weights on PoseTrack frames."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmflowpose.models.builder import init_model
from mmflowpose.models.pose_estimators import (MMPoseLiftingEstimator,
                                               build_pose_estimator)
from mmflowpose.models.pose_estimators.mmpose_estimator import (ALIASES,
                                                                resolve_model)
from mmflowpose.models.pose_estimators.topdown_keypoints import keypoint_box
from mmflowpose.registry import MODELS
from mmflowpose.utils.checkpoint import save_checkpoint_atomic

POSE2D = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_mobilenetv2_8xb64-210e_coco-256x192.py')
POSE3D = ('mmpose::body_3d_keypoint/video_pose_lift/h36m/'
          'video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py')
# the packaged configs with a thinner heatmap head and no flip test: the
# same pipeline, codec and decoding, a quarter of the CPU time
SMALL2D = {
    'model.head.deconv_out_channels': (32, 32, 32),
    'model.test_cfg.flip_test': False
}
SMALL3D = {'model.test_cfg.flip_test': False}

SMALL = dict(pose2d_cfg_options=SMALL2D, pose3d_cfg_options=SMALL3D)


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    """Random-weight checkpoints of both configs (seeded)."""
    folder = tmp_path_factory.mktemp('weights')
    paths = {}
    for name, config, options in (('pose2d', POSE2D, SMALL2D),
                                  ('pose3d', POSE3D, SMALL3D)):
        torch.manual_seed(0)
        model = init_model(config, None, cfg_options=options)
        # the config's own init (the heatmap head's small normal weights)
        # spreads the peaks over the crop; PyTorch's default init piles
        # every keypoint into one corner, which would hide frame changes
        model.init_weights()
        paths[name] = str(folder / f'{name}.pth')
        save_checkpoint_atomic(model, paths[name])
    return paths


@pytest.fixture
def frames(fixtures):
    """Four consecutive PoseTrack frames, RGB, halved to 640 x 360."""
    folder = osp.dirname(
        fixtures('mmpose', 'posetrack18', 'videos', '000001_mpiinew_test',
                 '000000.jpg'))
    paths = sorted(glob.glob(osp.join(folder, '*.jpg')))[:4]
    return np.stack([
        np.ascontiguousarray(cv2.resize(cv2.imread(p), (640, 360))[..., ::-1])
        for p in paths
    ])


@pytest.fixture(scope='module')
def estimator(weights):
    return MMPoseLiftingEstimator(
        pose3d=POSE3D,
        pose3d_weights=weights['pose3d'],
        pose2d=POSE2D,
        pose2d_weights=weights['pose2d'],
        device='cpu',
        **SMALL)


def test_estimate_layout(estimator, frames):
    estimator.reset()
    out = estimator.estimate(frames)
    assert out['keypoints_2d'].shape == (4, 17, 2)
    assert out['keypoint_scores'].shape == (4, 17)
    assert out['pose3d'].shape == (4, 17, 3)
    for value in out.values():
        assert value.dtype == np.float32 and np.isfinite(value).all()
    scores = out['keypoint_scores']
    assert (scores >= 0).all() and (scores <= 1).all() and scores.max() > 0
    np.testing.assert_array_equal(out['pose3d'][:, 0], 0)  # root-relative
    assert np.abs(out['pose3d']).max() > 0
    # whole-frame boxes by default
    np.testing.assert_array_equal(estimator.last_boxes,
                                  np.tile([0, 0, 640, 360], (4, 1)))


def test_lifter_sees_the_whole_clip(estimator, frames):
    """Frame 0's 3D pose depends on frame 3 (the 27-frame window spans the
    clip); its 2D keypoints (one frame, one box) do not."""
    estimator.reset()
    before = estimator.estimate(frames)
    changed = frames.copy()
    changed[3] = frames[3, :, ::-1]  # mirror the last frame
    estimator.reset()
    after = estimator.estimate(changed)
    np.testing.assert_allclose(
        after['keypoints_2d'][:3], before['keypoints_2d'][:3], atol=1e-3)
    assert not np.allclose(after['keypoints_2d'][3], before['keypoints_2d'][3])
    assert np.abs(after['pose3d'][0] - before['pose3d'][0]).max() > 1e-4


def test_context_joins_consecutive_calls(estimator, frames):
    """Two halves after one another lift the second half with the first as
    context: the last frame matches the whole clip's last frame, and differs
    from lifting the second half alone after reset()."""
    estimator.reset()
    whole = estimator.estimate(frames)
    estimator.reset()
    estimator.estimate(frames[:2])
    joined = estimator.estimate(frames[2:])
    np.testing.assert_allclose(
        joined['pose3d'], whole['pose3d'][2:], rtol=1e-4, atol=1e-5)
    estimator.reset()
    alone = estimator.estimate(frames[2:])
    assert not np.allclose(alone['pose3d'], whole['pose3d'][2:])


MOTIONBERT = ('mmpose::body_3d_keypoint/motionbert/h36m/'
              'motionbert_dstformer-243frm_8xb32-240e_h36m.py')
# two thin layers, 2-frame windows: a small sequence-to-sequence lifter
SMALL_MOTIONBERT = {
    'model.backbone.depth': 2,
    'model.backbone.feat_size': 64,
    'model.head.in_channels': 64,
    'model.head.embedding_size': 64,
    'model.backbone.seq_len': 2,
    'model.test_cfg.flip_test': False,
    'test_dataloader.dataset.multiple_target': 2,
    'test_dataloader.dataset.seq_len': 2
}


def test_context_of_a_sequence_lifter(weights, frames, tmp_path):
    """A seq2seq lifter tiles the clip with 2-frame windows, (0, 1) and
    (2, 3). Given frames 0-2 and then frame 3, it lifts frame 3 in the
    window (2, 3), as if the clip came at once; alone, frame 3 would share
    its window with a copy of itself, and with all three frames of context
    with frame 1 and 2 in (1, 2) and (3, 3)."""
    torch.manual_seed(0)
    path = str(tmp_path / 'motionbert.pth')
    save_checkpoint_atomic(
        init_model(MOTIONBERT, None, cfg_options=SMALL_MOTIONBERT), path)
    estimator = MMPoseLiftingEstimator(
        pose3d=MOTIONBERT,
        pose3d_weights=path,
        pose2d=POSE2D,
        pose2d_weights=weights['pose2d'],
        device='cpu',
        pose2d_cfg_options=SMALL2D,
        pose3d_cfg_options=SMALL_MOTIONBERT)
    whole = estimator.estimate(frames)['pose3d']
    estimator.reset()
    estimator.estimate(frames[:3])
    joined = estimator.estimate(frames[3:])['pose3d']
    np.testing.assert_allclose(joined, whole[3:], rtol=1e-4, atol=1e-5)
    estimator.reset()
    alone = estimator.estimate(frames[3:])['pose3d']
    assert not np.allclose(alone, whole[3:])


def test_track_boxes_follow_the_previous_keypoints(weights, frames):
    estimator = MMPoseLiftingEstimator(
        pose3d=POSE3D,
        pose3d_weights=weights['pose3d'],
        pose2d=POSE2D,
        pose2d_weights=weights['pose2d'],
        device='cpu',
        track_boxes=True,
        box_margin=0.0,
        box_score_thr=0.0,
        **SMALL)
    estimator.estimate(frames[:3])
    boxes = estimator.last_boxes
    whole = np.array([0, 0, 640, 360], np.float32)
    np.testing.assert_array_equal(boxes[0], whole)
    # box t = the extent of frame t-1's COCO keypoints (from the same real
    # 2D model in box t-1), clipped to the frame
    top_down = estimator._parts[0]
    bgr = [np.ascontiguousarray(f[..., ::-1]) for f in frames]

    def next_box(t, box):
        kpt, score = top_down(bgr[t:t + 1], box[None])
        found = keypoint_box(
            kpt[0],
            np.clip(score[0], 0, 1), (360, 640),
            margin=0.0,
            score_thr=0.0)
        return whole if found is None else found

    for t in (1, 2):
        np.testing.assert_allclose(
            boxes[t], next_box(t - 1, boxes[t - 1]), atol=1e-3)
    assert not np.array_equal(boxes[1], whole)  # a real, smaller crop
    # the tracked box carries over to the next call until reset()
    estimator.estimate(frames[3:])
    np.testing.assert_allclose(
        estimator.last_boxes[0], next_box(2, boxes[2]), atol=1e-3)
    estimator.reset()
    estimator.estimate(frames[3:])
    np.testing.assert_array_equal(estimator.last_boxes[0], whole)


def test_crop_follows_the_box(estimator, frames):
    """Keypoints from a small box stay in the crop mmpose cuts around it
    (box padded x1.25, widened to the 192:256 input)."""
    top_down = estimator._parts[0]
    box = np.array([[300, 100, 360, 220]], np.float32)
    kpt, _ = top_down([frames[0, ..., ::-1].copy()], box)
    half_h = 120 * 1.25 / 2
    half_w = half_h * 192 / 256  # 60 px * 1.25 is narrower than 0.75 h
    assert (np.abs(kpt[0, :, 0] - 330) <= half_w + 2).all()
    assert (np.abs(kpt[0, :, 1] - 160) <= half_h + 2).all()
    with pytest.raises(ValueError, match=r'boxes must be \(1, 4\)'):
        top_down([frames[0]], np.concatenate([box, box]))


def test_missing_weights_named(tmp_path, weights):
    missing = str(tmp_path / 'no_lifter.pth')
    estimator = MMPoseLiftingEstimator(
        pose3d=POSE3D,
        pose3d_weights=missing,
        pose2d=POSE2D,
        pose2d_weights=weights['pose2d'])
    with pytest.raises(FileNotFoundError, match='pose3d.*no_lifter.pth'):
        estimator.estimate(np.zeros((1, 8, 8, 3), np.uint8))
    estimator = build_pose_estimator(
        dict(type='MMPoseLiftingEstimator', pose2d_weights='/nope/2d.pth'))
    with pytest.raises(FileNotFoundError, match='pose2d.*/nope/2d.pth'):
        estimator.estimate(np.zeros((1, 8, 8, 3), np.uint8))


def test_missing_config_named(weights):
    estimator = MMPoseLiftingEstimator(
        pose3d='/nope/lifter.py',
        pose3d_weights=weights['pose3d'],
        pose2d=POSE2D,
        pose2d_weights=weights['pose2d'])
    with pytest.raises(FileNotFoundError, match='/nope/lifter.py'):
        estimator.estimate(np.zeros((1, 8, 8, 3), np.uint8))


def test_unreachable_url_is_one_clear_error(weights):
    # a refused local port fails at once, without network
    estimator = MMPoseLiftingEstimator(
        pose3d=POSE3D,
        pose3d_weights='http://127.0.0.1:9/lifter.pth',
        pose2d=POSE2D,
        pose2d_weights=weights['pose2d'],
        **SMALL)
    with pytest.raises(RuntimeError, match='Offline, pass local weight'):
        estimator.estimate(np.zeros((1, 8, 8, 3), np.uint8))


def test_aliases_and_names():
    config, url = resolve_model('human3d', None, 'pose3d')
    assert config.endswith('motionbert_dstformer-ft-243frm_8xb32-120e_'
                           'h36m.py') and url.startswith('https://')
    assert resolve_model('human3d', '/my.pth', 'pose3d')[1] == '/my.pth'
    assert resolve_model('human', None, 'pose2d') == ALIASES['human']
    assert resolve_model(POSE3D, '/w.pth', 'pose3d') == (POSE3D, '/w.pth')
    with pytest.raises(ValueError, match='pose3d_weights'):
        resolve_model(POSE3D, None, 'pose3d')
    with pytest.raises(ValueError, match="'vitpose'.*neither an alias"):
        resolve_model('vitpose', None, 'pose2d')
    # a metafile name resolves like mmpose's inferencer did: the human3d
    # alias is that name in mmpose's MotionBERT metafile
    assert resolve_model('motionbert_dstformer-ft-243frm_8xb32-120e_h36m',
                         None, 'pose3d') == ALIASES['human3d']
    name = 'td-hm_hrnet-w32_8xb64-210e_coco-256x192'
    assert resolve_model(name, None, 'pose2d') == ALIASES['human']
    from mmflowpose.models.builder import resolve_config_path
    for config, _ in ALIASES.values():
        assert osp.isfile(resolve_config_path(config))


def test_bad_options():
    with pytest.raises(ValueError, match='det_model.*mmdet'):
        MMPoseLiftingEstimator(det_model='rtmdet-m')
    with pytest.raises(ValueError, match='box_score_thr'):
        MMPoseLiftingEstimator(box_score_thr=2.0)
    estimator = MODELS.build(
        dict(type='MMPoseLiftingEstimator', track_boxes=True))
    assert estimator.track_boxes and estimator.pose2d == 'human'
