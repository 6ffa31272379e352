"""FlowPoseVisualizer grids: layout, legends, difference and EPE panels."""
import cv2
import numpy as np
import pytest
import torch

from mmflowpose.registry import VISUALIZERS
from mmflowpose.structures import ClipDataSample
from mmflowpose.visualization import FlowPoseVisualizer
from mmflowpose.visualization.flow_colours import flow_to_rgb
from mmflowpose.visualization.layout import BLANK

from test_pose3d_panel import standing_pose

_count = [0]


def _visualizer(**kwargs):
    _count[0] += 1
    return FlowPoseVisualizer(name=f'test_vis_{_count[0]}', **kwargs)


def _frame(fixtures, size=None):
    path = fixtures('mmpose', 'posetrack18', 'videos', '000001_mpiinew_test',
                    '000000.jpg')
    image = cv2.imread(path)[..., ::-1]
    return image if size is None else cv2.resize(image, size[::-1])


def _keypoints(height, width):
    keypoints = np.zeros((17, 2))
    keypoints[:, 0] = np.linspace(0.3, 0.7, 17) * width
    keypoints[:, 1] = np.linspace(0.2, 0.8, 17) * height
    return keypoints


def _panels(grid, rows=2, cols=3):
    height, width = grid.shape[0] // rows, grid.shape[1] // cols
    return [[
        grid[r * height:(r + 1) * height, c * width:(c + 1) * width]
        for c in range(cols)
    ] for r in range(rows)]


def test_registry_builds():
    vis = VISUALIZERS.build(
        dict(
            type='FlowPoseVisualizer',
            name='test_vis_registry',
            panel_size=(64, 96)))
    assert isinstance(vis, FlowPoseVisualizer)
    assert vis.panel_size == (64, 96)


def test_bad_arguments():
    with pytest.raises(ValueError, match='panel_size'):
        _visualizer(panel_size=(10, 96))
    with pytest.raises(ValueError, match='max_panel_size'):
        _visualizer(max_panel_size=(10, 96))
    with pytest.raises(ValueError, match='radius_3d'):
        _visualizer(radius_3d=0)
    with pytest.raises(ValueError, match='flow_percentile'):
        _visualizer(flow_percentile=0)


def test_panels_follow_the_input_aspect_ratio(fixtures):
    vis = _visualizer()
    image = _frame(fixtures)  # 1280 x 720
    assert image.shape[:2] == (720, 1280)
    pose = standing_pose()
    grid = vis.draw_frame(image, _keypoints(720, 1280), np.ones(17), pose,
                          pose)
    assert grid.shape == (720, 1920, 3)  # 2 x 3 panels of 640 x 360
    small = vis.draw_frame(
        cv2.resize(image, (320, 180)), _keypoints(180, 320), np.ones(17), pose,
        pose)
    assert small.shape == (360, 960, 3)


def test_joint_outside_the_frame_keeps_the_panel(fixtures):
    vis = _visualizer()
    image = _frame(fixtures, (180, 320))
    pose = standing_pose()
    inside = _keypoints(180, 320)
    outside = inside.copy()
    outside[16] = (-4000.0, 2500.0)  # an extrapolated wrist, far away
    grids = [
        vis.draw_frame(image, kp, np.ones(17), pose, pose)
        for kp in (inside, outside)
    ]
    assert grids[0].shape == grids[1].shape == (360, 960, 3)
    first = [_panels(g)[0][0] for g in grids]
    # no border, no shrinking: the right column of the panel is the
    # frame itself (the skeleton does not reach it) in both pictures
    np.testing.assert_array_equal(first[0][40:, -20:], image[40:, -20:])
    np.testing.assert_array_equal(first[1][40:, -20:], image[40:, -20:])
    # the bone towards the far joint is drawn, clipped, inside the frame
    assert not np.array_equal(first[0], first[1])


def _flow(height, width, seed=0):
    rng = np.random.default_rng(seed)
    flow = np.zeros((height, width, 2), np.float32)
    flow[..., 0] = 3.0
    return flow + rng.normal(0, 0.5, flow.shape).astype(np.float32)


def test_difference_blank_when_flows_equal_and_legend_present():
    vis = _visualizer()
    image = np.full((180, 320, 3), 90, np.uint8)
    pose = standing_pose()
    flow = _flow(180, 320)
    grid = vis.draw_frame(image, _keypoints(180, 320), np.ones(17), pose, pose,
                          flow, flow)
    panels = _panels(grid)
    diff = panels[0][2]
    # between the two text lines at the top and the legend: all white
    assert (diff[50:125] == 255).all()
    changed = vis.draw_frame(image, _keypoints(180, 320), np.ones(17), pose,
                             pose, flow, flow + (0.5, 0))
    assert (_panels(changed)[0][2][50:125] < 250).any()
    # the colour wheel sits in the bottom-right corner of each flow panel;
    # half-way right of its centre: rightward motion of half the scale
    for panel in (panels[1][1], panels[1][2]):
        corner = panel[-50:, -50:].reshape(-1, 3).astype(int)
        assert len({tuple(c // 32) for c in corner}) > 15
    radius = 180 // 9
    centre_y, centre_x = 180 - 6 - radius - 1, 320 - 6 - radius - 1
    half = panels[1][1][centre_y, centre_x + radius // 2]
    expected = flow_to_rgb(np.array([[[0.5, 0]]], np.float32), 1.0)[0, 0]
    np.testing.assert_allclose(half, expected, atol=2)


def test_shared_percentile_scale():
    vis = _visualizer()
    base = np.zeros((20, 20, 2), np.float32)
    base[..., 0] = 2.0
    refined = base.copy()
    refined[0, 0] = (90.0, 0.0)  # one outlier
    rgb_base, rgb_refined, rgb_diff, info = vis.draw_flow_panels(base, refined)
    assert info['scale'] == pytest.approx(2.0)
    # equal motion, equal colour in both panels despite the outlier
    np.testing.assert_array_equal(rgb_base[5, 5], rgb_refined[5, 5])
    assert rgb_base[5, 5].min() < 30  # saturated, not pale
    assert info['diff_mean'] == pytest.approx(88.0 / 400)
    assert (rgb_diff[5, 5] == 255).all()


def test_sketch_panel_shows_motion():
    vis = _visualizer()
    image = np.full((180, 320, 3), 120, np.uint8)
    pose = standing_pose()
    keypoints = _keypoints(180, 320)
    flow = np.zeros((180, 320, 2), np.float32)
    flow[..., 1] = 2.0  # everything moves down
    mask = np.zeros((180, 320), bool)
    sketch = np.stack([keypoints, keypoints + (0.0, 2.0)])
    grid = vis.draw_frame(
        image,
        keypoints,
        np.ones(17),
        pose,
        pose,
        flow,
        flow,
        mask,
        sketch_keypoints=sketch)
    panel = _panels(grid)[1][0]
    down = flow_to_rgb(np.array([[[0.0, 2.0]]], np.float32), 2.0)[0, 0]
    arrows = np.all(np.abs(panel.astype(int) - down) <= 3, axis=-1)
    assert arrows.sum() > 100
    # without joints the refined flow inside the mask stands in
    mask[60:120, 100:200] = True
    fallback = vis.draw_frame(image, keypoints, np.ones(17), pose, pose, flow,
                              flow, mask)
    panel = _panels(fallback)[1][0]
    arrows = np.all(np.abs(panel.astype(int) - down) <= 3, axis=-1)
    assert arrows[50:130, 90:210].sum() > 50
    assert arrows[:, 220:].sum() == 0


def test_epe_column_with_ground_truth():
    vis = _visualizer()
    image = np.full((180, 320, 3), 120, np.uint8)
    pose = standing_pose()
    gt = _flow(180, 320, seed=1)
    base = gt + (1.0, 1.0)
    grid = vis.draw_frame(
        image,
        _keypoints(180, 320),
        np.ones(17),
        pose,
        pose,
        base,
        gt,
        gt_flow=gt,
        gt_pose3d=pose,
        human_mask=np.ones((180, 320), bool))
    assert grid.shape == (360, 1280, 3)
    panels = _panels(grid, cols=4)
    before, after = panels[0][3], panels[1][3]
    # refined flow = ground truth: zero error, black map (inferno's 0)
    assert after[40:140, :200].max() < 10
    # base flow: 1.41 px everywhere = the shared scale: bright
    assert before[40:140, :200].mean() > 150
    # the last frame of such a clip keeps the 4-column layout
    last = vis.draw_frame(
        image, _keypoints(180, 320), np.ones(17), pose, pose, epe_panels=True)
    assert last.shape == grid.shape
    assert (_panels(last, cols=4)[1][3][40:] == BLANK).all()


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
    poses = np.stack([standing_pose()] * 3)
    estimate = dict(
        keypoints_2d=np.full((3, 17, 2), 100.0),
        keypoint_scores=np.ones((3, 17)),
        pose3d=poses)
    sample = ClipDataSample(metainfo=dict(clip_id='demo'))
    sample.keypoints_2d = torch.as_tensor(estimate['keypoints_2d'])
    sample.keypoint_scores = torch.as_tensor(estimate['keypoint_scores'])
    sample.pred_pose3d = torch.as_tensor(np.stack([poses, poses + 0.03]))
    chw = torch.as_tensor(flow).permute(0, 3, 1, 2)
    sample.pred_flow = torch.stack([chw, chw * 1.1])
    sample.pred_sketch_mask = chw.norm(dim=1)[None].expand(2, -1, -1,
                                                           -1) > 1
    sample.pred_keypoints_2d = sample.keypoints_2d[None].expand(2, -1, -1,
                                                                -1)
    vis = _visualizer()
    frames = torch.as_tensor(frames).permute(0, 3, 1, 2)
    grids = list(vis.draw_clip(frames, sample))
    assert len(grids) == 3
    assert len({g.shape for g in grids}) == 1
    last = _panels(grids[-1])
    assert (last[1][1][40:] == BLANK).all()  # last frame: no pair
    assert not (_panels(grids[0])[1][1][40:] == BLANK).all()
    sample.gt_pose3d = torch.as_tensor(poses)
    sample.gt_flow = chw
    with_gt = list(vis.draw_clip(frames, sample))
    assert {g.shape for g in with_gt} == {(360, 1280, 3)}
