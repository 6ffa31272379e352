"""FlowPoseVisualizationHook: per-clip video, still and error curves."""
import os
import stat
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from mmflowpose.engine.hooks import FlowPoseVisualizationHook
from mmflowpose.registry import HOOKS
from mmflowpose.structures import ClipDataSample
from mmflowpose.visualization import clip_curves, plot_clip_curves


@pytest.fixture(scope='module')
def clip():
    from mmflowpose.datasets.synthetic import make_clip
    return make_clip('procedural', image_size=(64, 96), seed=0, num_frames=5)


def _output(clip, dense=True):
    """A predict() output: initial poses 50 mm off on every joint but the
    root, refined 10 mm off; base flow 1 px off (x), refined 0.5 px (y)."""
    gt = torch.as_tensor(clip['joints_3d_cam'], dtype=torch.float64)
    offset = torch.zeros_like(gt)
    offset[:, 1:, 0] = 1.0
    flow = torch.as_tensor(clip['flow']).permute(0, 3, 1, 2)
    shift = torch.zeros_like(flow)
    base, tuned = flow.clone(), flow.clone()
    base[:, 0] += 1.0
    tuned[:, 1] += 0.5
    joints = torch.as_tensor(clip['joints_2d'])
    output = ClipDataSample(metainfo=dict(clip_id='walk0'))
    output.keypoints_2d = joints
    output.keypoint_scores = torch.ones(joints.shape[:2])
    output.pred_pose3d = torch.stack([gt + 0.05 * offset, gt + 0.01 * offset])
    output.pred_flow = torch.stack([base, tuned])
    output.pred_sketch_mask = torch.zeros(2, *flow.shape[:1],
                                          *flow.shape[2:], dtype=torch.bool)
    output.pred_keypoints_2d = torch.stack([joints, joints])
    output.gt_pose3d = gt
    if dense:
        output.gt_flow = flow
        output.gt_flow_valid = torch.ones(output.pred_sketch_mask.shape[1:],
                                          dtype=torch.bool)
        output.human_mask = torch.as_tensor(clip['human_mask'])
    else:
        # joints standing still; the flows sampled at them say (2, 2) px,
        # then (1, 1) px: EPE sqrt(8), then sqrt(2)
        output.gt_keypoints_2d = joints
        output.gt_joint_flow = torch.zeros_like(joints[1:])
        output.pred_flow = torch.stack([shift + 2.0, shift + 1.0])
    return output


def test_clip_curves_hand_computed(clip):
    curves = clip_curves(_output(clip), sigma=1.0)
    # 16 of 17 joints 50 mm off after root alignment -> 47.06 mm
    np.testing.assert_allclose(curves['mpjpe']['initial'], 50 * 16 / 17)
    np.testing.assert_allclose(curves['mpjpe']['refined'], 10 * 16 / 17)
    # the smoother baseline, recomputed by hand with scipy and numpy
    from scipy.ndimage import gaussian_filter1d
    init = _output(clip).pred_pose3d[0].numpy()
    smooth = gaussian_filter1d(init, 1.0, axis=0, mode='nearest')
    gt = clip['joints_3d_cam'].astype(np.float64)
    by_hand = np.linalg.norm(
        (smooth - smooth[:, :1]) - (gt - gt[:, :1]), axis=-1).mean(-1) * 1000
    np.testing.assert_allclose(
        curves['mpjpe']['initial, Gaussian \u03c3=1'], by_hand, rtol=1e-6)
    for region in ('person', 'background'):
        np.testing.assert_allclose(
            curves['epe'][f'base {region}'], 1.0, rtol=1e-5)
        np.testing.assert_allclose(
            curves['epe'][f'refined {region}'], 0.5, rtol=1e-5)
    np.testing.assert_allclose(curves['cycles']['MPJPE (mm)'],
                               [50 * 16 / 17, 10 * 16 / 17])
    np.testing.assert_allclose(
        curves['cycles']['EPE person (px)'], [1.0, 0.5], rtol=1e-5)
    sparse = clip_curves(_output(clip, dense=False))
    np.testing.assert_allclose(sparse['epe']['base joints'], np.sqrt(8))
    np.testing.assert_allclose(sparse['cycles']['EPE joints (px)'],
                               [np.sqrt(8), np.sqrt(2)])
    assert clip_curves(ClipDataSample(metainfo=dict(clip_id='x'))) == {}
    with pytest.raises(ValueError, match='no curves'):
        plot_clip_curves({})


def test_curves_picture_has_one_plot_per_kind(clip):
    picture = plot_clip_curves(clip_curves(_output(clip)), 'walk0')
    assert picture.shape == (300, 1200, 3)
    only_pose = plot_clip_curves(
        dict(mpjpe=clip_curves(_output(clip))['mpjpe']))
    assert only_pose.shape == (300, 400, 3)
    # refined curves are red (tab:red), the initial ones grey
    red = (picture[..., 0] > 180) & (picture[..., 1] < 80) & \
        (picture[..., 2] < 80)
    assert red.sum() > 50


def test_hook_writes_video_still_and_curves(clip, tmp_path):
    previous = os.umask(0o027)
    try:
        hook = HOOKS.build(
            dict(
                type='FlowPoseVisualizationHook',
                out_dir='vis',
                interval=2,
                frame=1))
        runner = SimpleNamespace(work_dir=str(tmp_path))
        hook.before_test(runner)
        frames = torch.as_tensor(clip['frames']).permute(0, 3, 1, 2)
        batch = dict(inputs=[frames])
        hook.after_test_iter(runner, 0, batch, [_output(clip)])
        assert os.listdir(tmp_path / 'vis') == []  # interval 2: skipped
        hook.after_test_iter(runner, 1, batch, [_output(clip)])
    finally:
        os.umask(previous)
    folder = tmp_path / 'vis'
    assert sorted(
        os.listdir(folder)) == ['walk0.mp4', 'walk0.png', 'walk0_curves.png']
    for name in os.listdir(folder):
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o640
    video = cv2.VideoCapture(str(folder / 'walk0.mp4'))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    video.release()
    still = cv2.imread(str(folder / 'walk0.png'))[..., ::-1]
    # 64 x 96 input -> 180 x 270 panels (enlarged), 2 rows x 4 columns
    assert still.shape == (360, 1080, 3)
    # frame 1 has a pair: its refined-flow EPE panel (bottom right) is not
    # the blank grey of a frame without flow
    assert not (still[180 + 40:, 810:] == 96).all()


def test_hook_disabled_and_bad_arguments(tmp_path):
    hook = FlowPoseVisualizationHook(enable=False)
    hook.before_test(SimpleNamespace(work_dir=str(tmp_path)))
    hook.after_test_iter(None, 0, dict(inputs=[]), [])
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match='interval'):
        FlowPoseVisualizationHook(interval=0)
    with pytest.raises(ValueError, match='frame'):
        FlowPoseVisualizationHook(frame=-1)
