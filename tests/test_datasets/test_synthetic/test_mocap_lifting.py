import numpy as np
import pytest

from mmflowpose.datasets.synthetic.mocap_lifting import (
    DEFAULT_CAMERA_RANGES, MocapLiftingDataset, resample_motion,
    sample_camera)
from mmflowpose.registry import DATASETS

H36M_KEYS = ('keypoints', 'keypoints_visible', 'keypoints_3d',
             'keypoints_3d_visible', 'lifting_target',
             'lifting_target_visible', 'camera_param', 'factor',
             'img_paths', 'img_ids', 'target_img_path', 'id', 'category_id',
             'num_keypoints', 'flip_indices', 'flip_pairs')
CODEC = dict(type='VideoPoseLifting', num_keypoints=17, zero_center=True,
             root_index=0, remove_root=False)


def _dataset(**kwargs):
    args = dict(clips=['procedural:walk:1'], procedural_frames=40,
                seq_len=9, noise_std=0.0, test_mode=True)
    args.update(kwargs)
    return MocapLiftingDataset(**args)


def test_resample_motion_hand_values():
    joints = np.arange(3 * 2 * 3, dtype=np.float64).reshape(3, 2, 3)
    # 120 -> 60 Hz keeps frames 0 and 2.
    out = resample_motion(joints, 120.0, 60.0)
    np.testing.assert_allclose(out, joints[[0, 2]])
    # 120 -> 80 Hz: frame 1 is at source index 1.5.
    out = resample_motion(joints, 120.0, 80.0)
    assert out.shape == (2, 2, 3)
    np.testing.assert_allclose(out[1], 0.5 * (joints[1] + joints[2]))
    with pytest.raises(ValueError, match='frame rates'):
        resample_motion(joints, 0.0, 50.0)


def test_sample_camera_looks_at_target():
    rng = np.random.default_rng(0)
    ranges = dict(DEFAULT_CAMERA_RANGES, target_jitter=0.0, roll_deg=(0, 0),
                  center_std=0.0)
    target = np.array([1.0, 0.9, -2.0])
    for _ in range(5):
        cam = sample_camera(rng, target, ranges)
        in_cam = cam['R'] @ target + cam['t']
        np.testing.assert_allclose(in_cam[:2], 0.0, atol=1e-9)
        assert ranges['distance'][0] <= in_cam[2] <= ranges['distance'][1]
        np.testing.assert_allclose(cam['R'] @ cam['R'].T, np.eye(3),
                                   atol=1e-12)


def test_sample_matches_h36m_layout():
    ds = _dataset()
    info = ds.get_data_info(5)
    for key in H36M_KEYS:
        assert key in info, key
    assert info['keypoints'].shape == (9, 17, 2)
    assert info['keypoints_visible'].shape == (9, 17)
    assert info['keypoints_3d'].shape == (9, 17, 3)
    assert info['lifting_target'].shape == (1, 17, 3)
    assert info['lifting_target_visible'].shape == (1, 17)
    assert info['factor'].shape == (9, )
    # non-causal: the target is the middle frame
    np.testing.assert_array_equal(info['lifting_target'][0],
                                  info['keypoints_3d'][4])
    cam = info['camera_param']
    assert set(cam) >= {'R', 'T', 'f', 'c', 'k', 'p', 'w', 'h'}
    assert (cam['w'], cam['h']) == (1000, 1000)
    assert info['flip_indices'][1] == 4  # right_hip <-> left_hip
    # H36M-style name that mmpose's parser splits into subject/action/cam
    name = info['target_img_path'][0]
    subject, rest = name.split('_', 1)
    assert subject.startswith('S') and '.cam0_' in rest


def test_projection_and_world_consistency():
    ds = _dataset()
    info = ds.get_data_info(3)
    cam = info['camera_param']
    pts = info['keypoints_3d'].astype(np.float64)
    f, c = cam['f'][:, 0], cam['c'][:, 0]
    expected = f * pts[..., :2] / pts[..., 2:3] + c
    np.testing.assert_allclose(info['keypoints'], expected, atol=1e-3)
    assert pts[..., 2].min() > 0.5
    # T is the camera centre: x_cam = R (x_world - T)
    seg = ds.segments[0]
    world = seg[np.clip(np.arange(-4, 5) + 3, 0, len(seg) - 1)]
    np.testing.assert_allclose(
        np.einsum('ij,tkj->tki', cam['R'], world - cam['T'][:, 0]), pts,
        atol=1e-4)


def test_edge_padding_and_causal():
    ds = _dataset(causal=True)
    info = ds.get_data_info(0)
    # every frame of the window is the first frame (padded on the left)
    assert info['img_ids'] == [0] * 9
    np.testing.assert_array_equal(info['lifting_target'][0],
                                  info['keypoints_3d'][-1])
    info = ds.get_data_info(20)
    assert info['img_ids'] == list(range(12, 21))


def test_test_mode_is_deterministic_train_mode_is_not():
    ds = _dataset(noise_std=2.0)
    a, b = ds.get_data_info(7), ds.get_data_info(7)
    np.testing.assert_array_equal(a['keypoints'], b['keypoints'])
    train = _dataset(noise_std=2.0, test_mode=False)
    a, b = train.get_data_info(7), train.get_data_info(7)
    assert not np.allclose(a['keypoints'], b['keypoints'])


def test_lengths_segments_and_cameras():
    ds = _dataset(segment_frames=15, cameras_per_sample=2, sample_stride=2)
    # 40 frames -> segments of 15, 15, 10 (10 >= seq_len // 2 kept)
    assert [len(s) for s in ds.segments] == [15, 15, 10]
    assert len(ds) == 2 * (8 + 8 + 5)


def test_mmpose_pipeline_packs_lifting_inputs():
    pipeline = [
        dict(type='RandomFlipAroundRoot',
             keypoints_flip_cfg=dict(center_mode='static', center_x=499.5),
             target_flip_cfg=dict(center_mode='static', center_x=0.0),
             flip_prob=1.0),
        dict(type='GenerateTarget', encoder=CODEC),
        dict(type='PackPoseInputs',
             meta_keys=('id', 'target_img_path', 'flip_indices',
                        'target_root'))
    ]
    ds = DATASETS.build(
        dict(type='MocapLiftingDataset', clips=['procedural:jumping_jacks'],
             procedural_frames=30, seq_len=27, pipeline=pipeline,
             test_mode=True))
    out = ds[4]
    assert tuple(out['inputs'].shape) == (34, 27)
    labels = out['data_samples'].gt_instance_labels
    assert tuple(labels.lifting_target_label.shape) == (1, 17, 3)
    np.testing.assert_allclose(labels.lifting_target_label[0, 0], 0.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match='clips'):
        MocapLiftingDataset(clips=[])
    with pytest.raises(ValueError, match='clips'):
        MocapLiftingDataset(clips='procedural:walk')
    with pytest.raises(ValueError, match='seq_len'):
        _dataset(seq_len=0)
    with pytest.raises(ValueError, match='kind'):
        _dataset(clips=['procedural:swim'])
    with pytest.raises(ValueError, match='camera_ranges'):
        _dataset(camera_ranges=dict(zoom=(1, 2)))
    with pytest.raises(FileNotFoundError, match='nope.amc'):
        _dataset(clips=['nope.amc'], data_root='/nonexistent')


def test_real_mocap_clip(fixtures):
    path = fixtures('mocap', 'usc_cs520_starter', '07_05-walk.amc')
    ds = MocapLiftingDataset(clips=[path], seq_len=27, test_mode=True)
    # 517 frames at 120 Hz -> floor(516 * 50 / 120) + 1 = 216 at 50 Hz
    assert sum(len(s) for s in ds.segments) == 216
    assert len(ds) == 216
    info = ds.get_data_info(100)
    target = info['lifting_target'][0] - info['lifting_target'][0, :1]
    # a standing adult: head about 0.6-0.8 m above the pelvis (y down)
    assert 0.5 < -target[10, 1] < 0.9
    assert 'usc' not in info['target_img_path'][0]
    assert '07-05-walk' in info['target_img_path'][0]
