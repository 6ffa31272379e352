"""FlowPoseVisualizer panels, shared flow colouring and atomic videos."""
import os

import cv2
import mmcv
import numpy as np
import pytest

from mmflowpose.registry import VISUALIZERS
from mmflowpose.visualization import (FlowPoseVisualizer, VideoSink,
                                      write_video)

_count = [0]


def _visualizer(**kwargs):
    _count[0] += 1
    return FlowPoseVisualizer(name=f'test_vis_{_count[0]}', **kwargs)


def test_registry_builds():
    vis = VISUALIZERS.build(
        dict(type='FlowPoseVisualizer', name='test_vis_registry',
             panel_size=(64, 96)))
    assert isinstance(vis, FlowPoseVisualizer)
    assert vis.panel_size == (64, 96)


def test_bad_arguments():
    with pytest.raises(ValueError, match='panel_size'):
        _visualizer(panel_size=(10, 96))
    with pytest.raises(ValueError, match='radius_3d'):
        _visualizer(radius_3d=0)
    with pytest.raises(ValueError, match='flows'):
        FlowPoseVisualizer.flows_to_rgb(np.zeros((4, 4, 2)),
                                        np.zeros((4, 5, 2)))


def test_flows_share_one_normalisation():
    small = np.zeros((4, 5, 2), np.float32)
    small[..., 0] = 1.0
    large = 2 * small
    rgb_small, rgb_large = FlowPoseVisualizer.flows_to_rgb(small, large)
    # the larger flow is the maximum: same colour as mmcv alone gives it
    expected_large = np.clip(mmcv.flow2rgb(large) * 255 + 0.5, 0, 255)
    np.testing.assert_array_equal(rgb_large, expected_large.astype(np.uint8))
    # the smaller one, at half the radius, is halfway to white:
    # colour = 1 - r (1 - wheel) with r = 0.5
    wheel = mmcv.flow2rgb(large)[0, 0]
    expected_small = (1 - 0.5 * (1 - wheel)) * 255
    np.testing.assert_allclose(rgb_small[0, 0], expected_small, atol=1)
    # separate calls would have painted both the same
    np.testing.assert_array_equal(mmcv.flow2rgb(small), mmcv.flow2rgb(large))
    assert not np.array_equal(rgb_small, rgb_large)


def test_overlay_mask_hand_computed():
    image = np.full((2, 2, 3), 100, np.uint8)
    mask = np.array([[True, False], [False, False]])
    out = FlowPoseVisualizer.overlay_mask(image, mask, (200, 0, 0), 0.5)
    np.testing.assert_array_equal(out[0, 0], [150, 50, 50])
    np.testing.assert_array_equal(out[1, 1], [100, 100, 100])
    assert image[0, 0, 0] == 100  # input untouched


def _pose():
    from mmflowpose.models.utils.skeleton import load_skeleton
    names = load_skeleton('h36m').joint_names
    pose = np.zeros((17, 3))
    for j, name in enumerate(names):
        side = 0.15 if name.startswith('left') else \
            -0.15 if name.startswith('right') else 0.0
        height = {'foot': 0.9, 'knee': 0.45, 'hip': 0.0, 'wrist': -0.1,
                  'elbow': -0.25, 'shoulder': -0.5}
        y = next((v for k, v in height.items() if k in name), None)
        y = {'root': 0.0, 'spine': -0.25, 'thorax': -0.5,
             'neck_base': -0.6, 'head': -0.7}.get(name, y)
        pose[j] = (side, y, 0.0)
    return pose


def test_pose_2d_drawn_only_for_confident_joints():
    vis = _visualizer()
    image = np.zeros((100, 100, 3), np.uint8)
    keypoints = np.full((17, 2), 50.0)
    keypoints[:, 0] = np.linspace(10, 90, 17)
    drawn = vis.draw_pose_2d(image, keypoints, np.ones(17))
    assert drawn.shape == (100, 100, 3) and drawn.any()
    assert drawn[50, 10:91].any()  # on the joints' row
    hidden = vis.draw_pose_2d(image, keypoints, np.zeros(17))
    assert not hidden.any()
    assert not image.any()  # input untouched


def test_pose_3d_panels():
    vis = _visualizer(panel_size=(120, 160))
    pose = _pose()
    same = vis.draw_pose_3d_pair(pose, pose)
    assert same.shape == (120, 320, 3) and same.dtype == np.uint8
    moved = pose.copy()
    moved[13] += (0.0, -0.6, 0.0)  # raise the left wrist
    differ = vis.draw_pose_3d_pair(pose, moved)
    np.testing.assert_array_equal(differ[:, :160], same[:, :160])
    assert not np.array_equal(differ[:, 160:], same[:, 160:])
    nobody = vis.draw_pose_3d_pair(pose, pose, scores=np.zeros(17))
    nan = vis.draw_pose_3d_pair(pose * np.nan, pose * np.nan)
    np.testing.assert_array_equal(nobody, nan)
    assert not np.array_equal(nobody, same)


def test_draw_frame_grid(fixtures):
    path = fixtures('mmpose', 'posetrack18', 'videos', '000001_mpiinew_test',
                    '000000.jpg')
    image = cv2.imread(path)[..., ::-1]
    vis = _visualizer(panel_size=(90, 160))
    keypoints = np.tile([[640.0, 360.0]], (17, 1))
    flow = np.random.default_rng(0).normal(size=image.shape[:2] + (2, ))
    mask = np.zeros(image.shape[:2], bool)
    mask[300:400, 600:700] = True
    grid = vis.draw_frame(image, keypoints, np.ones(17), _pose(), _pose(),
                          flow, flow * 2, mask, title='frame 0')
    assert grid.shape == (180, 480, 3) and grid.dtype == np.uint8
    blank = vis.draw_frame(image, keypoints, np.ones(17), _pose(), _pose())
    # without flow the lower right panels are uniform grey (bar the label)
    assert (blank[90 + 30:, 160:] == 96).all()
    assert not (grid[90 + 30:, 160:] == 96).all()


def test_draw_clip_on_real_flow(fixtures):
    capture = cv2.VideoCapture(fixtures('mmpose', 'demo', 'demo.mp4'))
    frames = []
    for _ in range(3):
        ok, frame = capture.read()
        frames.append(cv2.resize(frame, (320, 180))[..., ::-1])
    capture.release()
    frames = np.stack(frames)
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    flow = np.stack([dis.calc(a, b, None) for a, b in zip(gray, gray[1:])])
    poses = np.stack([_pose()] * 3)
    estimate = dict(keypoints_2d=np.full((3, 17, 2), 100.0),
                    keypoint_scores=np.ones((3, 17)), pose3d=poses)
    result = dict(pose3d_init=poses, pose3d=poses, flow_init=flow,
                  flow=flow, sketch_mask=np.linalg.norm(flow, axis=-1) > 1)
    vis = _visualizer(panel_size=(90, 160))
    grids = list(vis.draw_clip(frames, estimate, result))
    assert len(grids) == 3
    assert len({g.shape for g in grids}) == 1
    assert (grids[-1][90 + 30:, 160:] == 96).all()  # last frame: no pair
    assert not (grids[0][90 + 30:, 160:] == 96).all()


def test_video_written_atomically(tmp_path):
    frames = [np.full((48, 64, 3), 60 * t, np.uint8) for t in range(3)]
    path = str(tmp_path / 'clip.mp4')
    assert write_video(frames, path, fps=5) == path
    assert os.listdir(tmp_path) == ['clip.mp4']
    capture = cv2.VideoCapture(path)
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 3
    ok, first = capture.read()
    assert ok and first.shape == (48, 64, 3)
    capture.release()


def test_video_errors_leave_nothing(tmp_path):
    frames = [np.zeros((48, 64, 3), np.uint8), np.zeros((40, 64, 3),
                                                        np.uint8)]
    with pytest.raises(ValueError, match='video frame 1 is 64x40'):
        write_video(frames, str(tmp_path / 'bad.mp4'))
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match='must end with'):
        VideoSink(str(tmp_path / 'bad.gif'), 5)
    with pytest.raises(ValueError, match='no frame'):
        VideoSink(str(tmp_path / 'none.avi'), 5).close()
    assert os.listdir(tmp_path) == []
