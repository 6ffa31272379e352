"""Input contracts of the Python APIs and datasets, and non-finite values:
refused with a message naming the input and the fix, or filled/counted and
reported, never silent."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch

from mmflowpose.datasets.input_checks import (check_frames, check_pose_units,
                                              check_scores,
                                              fill_missing_keypoints)


# -- frames ----------------------------------------------------------------
@pytest.mark.parametrize(
    'frames, hint',
    [
        (np.random.default_rng(0).random((2, 4, 4, 3), np.float32),
         r'float32 \(values in \[0, 1\]: use \(frames \* 255\)'),
        (np.full((2, 4, 4, 3), 200.0), r'float64 \(values in \[0, 255\]'),
        (np.ones((2, 4, 4, 3), bool), 'bool .a bool mask is not an image'),
        (np.ones((2, 4, 4, 3), np.int16), 'int16 .16-bit images'),
        (np.ones((2, 4, 4, 3), np.uint16), 'uint16 .16-bit images'),
        (np.ones((2, 4, 4, 3), np.int64), 'int64 .convert to uint8'),
    ],
    ids=['float01', 'float255', 'bool', 'int16', 'uint16', 'int64'])
def test_frames_must_be_uint8(frames, hint):
    with pytest.raises(ValueError,
                       match='clip 7 must be uint8 RGB \\(0-255\\), got dtype '
                       + hint):
        check_frames(frames, 'clip 7')


@pytest.mark.parametrize('shape', [(2, 4, 4), (2, 4, 4, 4), (4, )])
def test_frames_must_be_rgb(shape):
    with pytest.raises(ValueError, match='frames must be .* RGB, got shape'):
        check_frames(np.zeros(shape, np.uint8))


def test_uint8_frames_pass_untouched():
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    assert check_frames(frames) is frames


# -- pose units ------------------------------------------------------------
def _person(scale=1.0):
    """A (2, 17, 3) H36M-17-like standing person, metres * scale."""
    rng = np.random.default_rng(1)
    joints = np.cumsum(rng.normal(0, 0.12, (17, 3)), 0)
    return np.stack([joints, joints + 0.01]) * scale


def test_millimetre_pose_refused_with_hint():
    with pytest.raises(ValueError,
                       match=r'pose3d_init looks like millimetres \(median '
                       r'bone length \d+; .*divide by 1000'):
        check_pose_units(_person(1000.0), 'pose3d_init')
    check_pose_units(_person(), 'pose3d_init')  # metres pass


def test_pose_units_shape():
    with pytest.raises(ValueError, match=r'must be \(..., J, 3\)'):
        check_pose_units(np.zeros((4, 2)))


# -- scores and keypoints --------------------------------------------------
@pytest.mark.parametrize('bad', [1.5, -0.2, 255.0])
def test_scores_outside_unit_interval(bad):
    scores = np.full((3, 17), 0.5)
    scores[1, 4] = bad
    with pytest.raises(ValueError,
                       match='det must be confidences in \\[0, 1\\]'):
        check_scores(scores, 'det')


def test_scores_rounding_slack_and_nan_pass():
    check_scores(np.array([[1.0004, 0.0, np.nan]]))


def test_nan_joint_filled_over_time_with_score_zero():
    keypoints = np.zeros((4, 3, 2), np.float32)
    keypoints[:, :, 0] = np.arange(4)[:, None] * 10.0  # moves 10 px/frame
    keypoints[:, :, 1] = 50.0
    keypoints[2, 1] = np.nan
    scores = np.ones((4, 3), np.float32)
    with pytest.warns(UserWarning,
                      match='clip c: 1 of 12 2D keypoints missing \\(1 '
                      'non-finite, 0 far outside the image, in 1 of 4 '
                      'frames\\); filled over time with score 0'):
        filled, new_scores, count = fill_missing_keypoints(
            keypoints, scores, (100, 100), 'clip c')
    assert count == 1
    np.testing.assert_allclose(filled[2, 1], [20.0, 50.0])  # interpolated
    assert new_scores[2, 1] == 0 and new_scores.sum() == 11
    assert np.isfinite(filled).all()


def test_far_keypoint_is_missing_not_lifted():
    keypoints = np.full((3, 4, 2), 30.0, np.float32)
    keypoints[1, 2] = [1e7, 1e7]
    with pytest.warns(UserWarning, match='1 far outside the image'):
        filled, scores, _ = fill_missing_keypoints(
            keypoints, np.ones((3, 4)), (64, 64))
    np.testing.assert_allclose(filled[1, 2], [30.0, 30.0])
    assert scores[1, 2] == 0


def test_joint_never_seen_takes_body_centre():
    keypoints = np.zeros((2, 3, 2), np.float32)
    keypoints[:, 0] = [10, 20]
    keypoints[:, 1] = [30, 40]
    keypoints[:, 2] = np.nan
    with pytest.warns(UserWarning):
        filled, _, _ = fill_missing_keypoints(keypoints, np.ones((2, 3)))
    np.testing.assert_allclose(filled[:, 2], [[20, 30], [20, 30]])


@pytest.mark.parametrize(
    'fill, message',
    [(np.nan, 'no keypoint is present'),
     (1e7, 'keypoints must be pixel coordinates of these frames')],
    ids=['all-nan', 'all-far'])
def test_hopeless_keypoints_refused(fill, message):
    with pytest.raises(ValueError, match=message):
        fill_missing_keypoints(
            np.full((3, 17, 2), fill), np.ones((3, 17)), (64, 64))


def test_keypoint_shapes_checked():
    with pytest.raises(ValueError, match=r'keypoints \(T, J, 2\) and scores'):
        fill_missing_keypoints(np.zeros((3, 17, 2)), np.ones((3, 16)))


# -- datasets (real H36M fixture rows) -------------------------------------
@pytest.fixture
def h36m(fixtures, tmp_path):
    """Two real fixture rows relabelled as frames 1 and 6 of one video."""
    root = osp.dirname(fixtures('mmpose', 'h36m', 'test_h36m_body3d.npz'))
    data = dict(np.load(osp.join(root, 'test_h36m_body3d.npz')))
    names = []
    for row, number in zip([0, 1], [1, 6]):
        name = (f'S1/S1_Directions_1.54138969/'
                f'S1_Directions_1.54138969_{number:06d}.jpg')
        os.makedirs(tmp_path / osp.dirname(name), exist_ok=True)
        os.symlink(osp.join(root, str(data['imgname'][row])), tmp_path / name)
        names.append(name)
    fields = {k: data[k][[0, 1]] for k in ('S', 'part', 'center', 'scale')}
    np.savez(tmp_path / 'ann.npz', imgname=np.array(names), **fields)
    os.symlink(osp.join(root, 'cameras.pkl'), tmp_path / 'cameras.pkl')
    return tmp_path, fields


def _dataset(root, **kwargs):
    from mmflowpose.datasets.h36m_clips import H36MClipDataset
    return H36MClipDataset(
        str(root / 'ann.npz'), 'cameras.pkl', data_root=str(root),
        clip_len=2, **kwargs)


def test_h36m_nan_detection_filled_before_lifting(h36m):
    root, fields = h36m
    det = fields['part'].copy()
    det[1, 5, :2] = np.nan
    np.save(root / 'det.npy', det)
    dataset = _dataset(root, detection_file='det.npy', load_frames=False)
    with pytest.warns(UserWarning, match='1 of 34 2D keypoints missing'):
        samples = dataset[0]['data_samples']
    # one present frame: the joint holds its frame-0 position, score 0
    np.testing.assert_allclose(samples['keypoints_2d'][1, 5],
                               det[0, 5, :2], rtol=1e-6)
    assert samples['keypoint_scores'][1, 5] == 0
    assert np.isfinite(samples['keypoints_2d']).all()


def test_h36m_millimetre_init_refused(h36m):
    root, fields = h36m
    np.save(root / 'init.npy', fields['S'][..., :3] * 1000)
    with pytest.raises(ValueError,
                       match="pose3d_init_file 'init.npy' looks like "
                       'millimetres'):
        _dataset(root, pose3d_init_file='init.npy', load_frames=False)


def test_h36m_millimetre_annotation_refused(h36m):
    root, fields = h36m
    np.savez(root / 'ann.npz', imgname=np.load(root / 'ann.npz')['imgname'],
             S=fields['S'] * 1000, part=fields['part'])
    with pytest.raises(ValueError, match='S .3D joints. of .*ann.npz.* looks '
                       'like millimetres'):
        _dataset(root, load_frames=False)


def test_h36m_detection_scores_outside_unit_interval(h36m):
    root, fields = h36m
    det = fields['part'].copy()
    det[..., 2] = 100.0
    np.save(root / 'det.npy', det)
    with pytest.raises(ValueError, match="scores of detection_file 'det.npy' "
                       'must be confidences'):
        _dataset(root, detection_file='det.npy', load_frames=False)


def test_h36m_far_detections_refused(h36m):
    root, fields = h36m
    det = fields['part'].copy()
    det[..., :2] = 1e7
    np.save(root / 'det.npy', det)
    dataset = _dataset(root, detection_file='det.npy', load_frames=False)
    with pytest.raises(ValueError, match='clip S1_Directions_1.54138969_'
                       '000000: 34 of 34 keypoints lie more than one image '
                       'size outside the 1000x1002 image'):
        dataset[0]


# -- metrics: non-finite predictions are failures --------------------------
def _pose_sample(pred, gt):
    return dict(pred_pose3d=pred, gt_pose3d=gt)


@pytest.mark.parametrize(
    'name', ['MPJPEMetric', 'PMPJPEMetric', 'NMPJPEMetric'])
def test_nonfinite_pose_predictions_counted(name):
    from mmflowpose.registry import METRICS
    metric = METRICS.build(dict(type=name))
    key = metric.key
    gt = _person()[:1].repeat(4, 0)  # (4, 17, 3)
    pred = gt + 0.01
    pred[1:, 3] = np.nan  # 3 of 4 frames
    metric.process(None, [_pose_sample(pred, gt)])
    with pytest.warns(UserWarning, match=f'{key}: \\d+ of 68 scored joint'):
        result = metric.compute_metrics(metric.results)
    assert np.isnan(result[key])
    assert result[f'{key}_nonfinite'] >= 3
    assert np.isfinite(result[f'{key}_finite_only'])


def test_mpjpe_counts_exactly_and_missing_gt_is_not_failure():
    from mmflowpose.evaluation.metrics.pose_metrics import MPJPEMetric
    metric = MPJPEMetric()
    gt = np.zeros((2, 3, 3))
    gt[:, 1, 0] = 1.0
    gt[:, 2, 1] = 1.0
    pred = gt.copy()
    pred[:, 1, 0] += 0.003  # joint 1: 3 mm off
    pred[0, 2] = np.inf  # one failure
    gt[1, 2] = np.nan  # one missing label: not scored
    metric.process(None, [_pose_sample(pred, gt)])
    with pytest.warns(UserWarning):
        result = metric.compute_metrics(metric.results)
    assert result['MPJPE_nonfinite'] == 1
    # scored finite joints: 2 roots (0) + 2 x 3 mm = 6 mm over 4
    assert result['MPJPE_finite_only'] == pytest.approx(1.5)
    clean = MPJPEMetric()
    clean.process(None, [_pose_sample(gt, gt)])
    assert clean.compute_metrics(clean.results) == dict(
        MPJPE=0.0, MPJPE_nonfinite=0)


@pytest.mark.parametrize('mode', ['dense', 'sparse'])
def test_nonfinite_flow_counted(mode):
    from mmflowpose.evaluation.metrics.flow_metrics import EndPointError
    metric = EndPointError(mode=mode)
    pred = np.ones((2, 4, 5), np.float32)
    pred[:, 1, 1] = np.nan
    sample = dict(pred_flow=pred)
    if mode == 'dense':
        sample['gt_flow'] = np.zeros((2, 4, 5), np.float32)
    else:
        sample.update(gt_keypoints_2d=np.array([[1.0, 1.0], [3.0, 2.0]]),
                      gt_joint_flow=np.zeros((2, 2)))
    metric.process(None, [sample])
    with pytest.warns(UserWarning, match='EPE: 1 of'):
        result = metric.compute_metrics(metric.results)
    assert np.isnan(result['EPE']) and result['EPE_nonfinite'] == 1
    assert result['EPE_finite_only'] == pytest.approx(np.sqrt(2))


# -- JSON never holds NaN --------------------------------------------------
def test_json_writes_null_for_nonfinite(tmp_path):
    from mmflowpose.utils.io import dump_json_atomic
    path = tmp_path / 'metrics.json'
    dump_json_atomic(
        dict(a=float('nan'), b=np.array([1.0, np.inf]),
             c=torch.tensor([-np.inf]), d=np.float32('nan'), e=3), str(path))
    text = path.read_text()
    assert 'NaN' not in text and 'Infinity' not in text
    data = json.loads(text, parse_constant=lambda c: pytest.fail(c))
    assert data == dict(a=None, b=[1.0, None], c=[None], d=None, e=3)
    assert os.listdir(tmp_path) == ['metrics.json']


def test_json_unserialisable_leaves_nothing(tmp_path):
    from mmflowpose.utils.io import dump_json_atomic
    with pytest.raises(TypeError):
        dump_json_atomic(dict(x=object()), str(tmp_path / 'm.json'))
    assert os.listdir(tmp_path) == []


# -- the refiner stops a clip whose flow is not finite ---------------------
def test_nan_flow_network_stops_the_clip():
    from helpers import tiny_refiner_cfg

    from mmflowpose.registry import MODELS
    torch.manual_seed(0)
    refiner = MODELS.build(tiny_refiner_cfg(max_steps=2, passes=1))
    with torch.no_grad():
        for param in refiner.parameters():
            param.fill_(float('nan'))
    for tuner in refiner.finetuners:
        tuner.snapshot()  # each clip restarts from these (NaN) weights
    from mmflowpose.structures import ClipDataSample
    frames = torch.randint(0, 255, (3, 3, 64, 96), dtype=torch.uint8)
    sample = ClipDataSample()
    sample.keypoints_2d = torch.full((3, 17, 2), 20.0)
    sample.keypoint_scores = torch.ones(3, 17)
    sample.pose3d_init = torch.as_tensor(np.stack([_person()[0]] * 3))
    with pytest.raises(FloatingPointError,
                       match=r'flow network 0 predicted \d+ non-finite values '
                       r'\(frame pairs \[0, 1\]\); refinement of this clip '
                       'stopped'):
        refiner.refine_clip(frames, sample)
