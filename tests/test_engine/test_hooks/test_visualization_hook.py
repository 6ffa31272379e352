"""FlowPoseVisualizationHook: per-clip video, still and error curves."""
import os
import stat
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from mmflowpose.engine.hooks import FlowPoseVisualizationHook
from mmflowpose.registry import HOOKS
from mmflowpose.visualization import clip_curves, plot_clip_curves


@pytest.fixture(scope='module')
def clip():
    from mmflowpose.datasets.synthetic import make_clip
    return make_clip('procedural', image_size=(64, 96), seed=0, num_frames=5)


def _output(clip, dense=True):
    """A predict() output: initial poses 50 mm off on every joint but the
    root, refined 10 mm off; base flow 1 px off, refined 0.5 px."""
    gt = clip['joints_3d_cam'].astype(np.float64)
    offset = np.zeros_like(gt)
    offset[:, 1:, 0] = 1.0
    init, refined = gt + 0.05 * offset, gt + 0.01 * offset
    flow = clip['flow']
    base, tuned = flow + (1.0, 0.0), flow + (0.0, 0.5)
    scores = np.ones(gt.shape[:2], np.float32)
    result = dict(
        keypoints_2d=clip['joints_2d'],
        keypoint_scores=scores,
        pose3d_init=init,
        pose3d=refined,
        flow_init=base,
        flow=tuned,
        sketch_mask=np.zeros(flow.shape[:3], bool),
        keypoints_2d_refined=clip['joints_2d'],
        cycles=[dict(pose3d=refined, flow=tuned)])
    output = dict(
        clip_id='walk0',
        gt_pose3d=gt,
        cycles=[dict(pred_pose3d=init),
                dict(pred_pose3d=refined)],
        refinement=result)
    if dense:
        output.update(
            gt_flow=flow,
            gt_flow_valid=np.ones(flow.shape[:3], bool),
            human_mask=clip['human_mask'])
    else:
        joints = clip['joints_2d']
        output['gt_joint_flow'] = joints[1:] - joints[:-1]
        output['cycles'][0]['pred_joint_flow'] = joints[1:] - joints[:-1] + 2
        output['cycles'][1]['pred_joint_flow'] = joints[1:] - joints[:-1] + 1
    return output


def test_clip_curves_hand_computed(clip):
    curves = clip_curves(_output(clip), sigma=1.0)
    # 16 of 17 joints 50 mm off after root alignment -> 47.06 mm
    np.testing.assert_allclose(curves['mpjpe']['initial'], 50 * 16 / 17)
    np.testing.assert_allclose(curves['mpjpe']['refined'], 10 * 16 / 17)
    # the smoother baseline, recomputed by hand with scipy and numpy
    from scipy.ndimage import gaussian_filter1d
    init = _output(clip)['cycles'][0]['pred_pose3d']
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
    assert clip_curves(dict(clip_id='x', cycles=[], refinement={})) == {}
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
        batch = dict(inputs=[dict(frames=clip['frames'])])
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
