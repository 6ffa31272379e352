"""FlowPoseInferencer on real frames: layout, windows, files, bad inputs.

The plumbing tests (windows, files, bad inputs) use ``DISRefiner``, a
fast refiner that fills the ``refine_clip`` contract from real computations
(OpenCV DIS flow on the frames, a temporal average of the estimated poses,
discs around the 2D joints); ``test_real_refiner_on_real_frames`` runs the
shipped FlowPoseRefiner setup end to end.
"""
import json
import os
import os.path as osp
from collections import defaultdict

import cv2
import numpy as np
import pytest

from mmflowpose.apis import (FlowPoseInferencer, build_pose_estimator,
                             build_refiner)
from mmflowpose.apis.window_stream import (RefineProgress, WindowStream,
                                           num_windows)
from mmflowpose.models.refiners.stage_timer import StageTimer
from mmflowpose.registry import INFERENCERS

pytest.importorskip('mediapipe', reason='run `make install-demo`')


class DISRefiner:
    """``refine_clip`` from OpenCV DIS flow and a 3-frame pose average."""

    def __init__(self):
        self.calls = []

    def refine_clip(self, frames, keypoints_2d, keypoint_scores, pose3d):
        self.calls.append(len(frames))
        gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
        coarse = cv2.DISOpticalFlow_create(
            cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        fine = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        flow_init = np.stack([
            coarse.calc(a, b, None) for a, b in zip(gray[:-1], gray[1:])])
        flow = np.stack([
            fine.calc(a, b, None) for a, b in zip(gray[:-1], gray[1:])])
        padded = np.concatenate([pose3d[:1], pose3d, pose3d[-1:]])
        smooth = (padded[:-2] + padded[1:-1] + padded[2:]) / 3
        masks = np.zeros(flow.shape[:3], np.uint8)
        for t in range(len(flow)):
            for (x, y), s in zip(keypoints_2d[t], keypoint_scores[t]):
                if s > 0.5:
                    cv2.circle(masks[t], (int(x), int(y)), 4, 1, -1)
        return dict(pose3d_init=pose3d.copy(), pose3d=smooth,
                    flow_init=flow_init, flow=flow,
                    sketch_mask=masks.astype(bool),
                    cycles=[dict(pose3d=smooth, flow=flow)])


class ProbeRefiner:
    """Marks each window: pose3d = init + k, flow = k for the k-th call."""

    def __init__(self):
        self.calls = 0

    def refine_clip(self, frames, keypoints_2d, keypoint_scores, pose3d):
        self.calls += 1
        num, height, width = frames.shape[:3]
        flow = np.full((num - 1, height, width, 2), self.calls, np.float32)
        return dict(pose3d_init=pose3d, pose3d=pose3d + self.calls,
                    flow_init=flow * 0, flow=flow,
                    sketch_mask=np.zeros((num - 1, height, width), bool))


def _posetrack(fixtures, size=(320, 180)):
    folder = osp.dirname(
        fixtures('mmpose', 'posetrack18', 'videos', '000001_mpiinew_test',
                 '000000.jpg'))
    names = sorted(f for f in os.listdir(folder) if f.endswith('.jpg'))
    return [
        cv2.resize(cv2.imread(osp.join(folder, n)), size,
                   interpolation=cv2.INTER_AREA) for n in names
    ]  # BGR, as mmpose takes arrays


def _listing(folder):
    return sorted(
        osp.relpath(osp.join(root, f), folder)
        for root, _, files in os.walk(folder) for f in files)


def test_video_outputs(fixtures, tmp_path):
    video = fixtures('mmpose', 'demo', 'demo.mp4')
    refiner = DISRefiner()
    inferencer = FlowPoseInferencer(
        refiner=refiner, window=3, overlap=1, show_progress=False,
        visualizer=dict(panel_size=(120, 160)))
    out = inferencer(video, out_dir=str(tmp_path), save_flow=True)
    assert refiner.calls == [3, 3]  # windows [0, 3) and [2, 5)
    assert out['num_frames'] == 5
    files = _listing(tmp_path)
    assert files == sorted([
        'predictions/demo.json', 'predictions/demo_unrefined.json',
        'predictions/demo_meta.json', 'visualizations/demo.mp4',
        'visualizations/demo_summary.png'
    ] + [f'flows/demo/{t:06d}.npz' for t in range(4)])
    # the summary figure: joints x frames shift map and bone-length bars
    summary = cv2.imread(str(tmp_path / 'visualizations' /
                             'demo_summary.png'))
    assert summary is not None and summary.std() > 10
    for name, key in (('demo', 'predictions'),
                      ('demo_unrefined', 'predictions_unrefined')):
        with open(tmp_path / 'predictions' / f'{name}.json') as file:
            preds = json.load(file)
        assert [p['frame_id'] for p in preds] == list(range(5))
        for pred, returned in zip(preds, out[key]):
            assert len(pred['instances']) == 1
            inst = pred['instances'][0]
            assert np.shape(inst['keypoints']) == (17, 3)
            assert np.shape(inst['keypoint_scores']) == (17, )
            assert np.shape(inst['keypoints_2d']) == (17, 2)
            assert np.shape(inst['bbox']) == (1, 4)  # mmpose's [[x1..y2]]
            assert inst['keypoints'][0] == [0.0, 0.0, 0.0]  # root-relative
            assert returned == pred['instances']
    refined = np.array([p[0]['keypoints'] for p in out['predictions']])
    initial = np.array(
        [p[0]['keypoints'] for p in out['predictions_unrefined']])
    assert not np.allclose(refined, initial)
    # first frame: the average of frames 0, 0, 1 of the first window
    np.testing.assert_allclose(
        refined[0], (2 * initial[0] + initial[1]) / 3, atol=2e-5)
    with open(tmp_path / 'predictions' / 'demo_meta.json') as file:
        meta = json.load(file)
    assert meta['joint_names'][0] == 'root' and len(meta['joint_names']) == 17
    assert meta['fps'] == pytest.approx(5.0, abs=0.5)
    capture = cv2.VideoCapture(str(tmp_path / 'visualizations' / 'demo.mp4'))
    ok, grid = capture.read()
    assert ok and grid.shape == (240, 480, 3)
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 5
    capture.release()
    pair = np.load(tmp_path / 'flows' / 'demo' / '000002.npz')
    assert pair['flow'].shape == (540, 960, 2)
    assert pair['sketch_mask'].dtype == bool and pair['sketch_mask'].any()
    assert set(out['timings']) >= {'read', 'estimate', 'refine', 'visualize'}


def test_windows_are_stitched(fixtures):
    frames = _posetrack(fixtures)
    probe = ProbeRefiner()
    inferencer = FlowPoseInferencer(
        refiner=probe, window=3, overlap=1, show_progress=False)
    out = inferencer(frames, return_vis=True)
    assert probe.calls == 2
    refined = np.array([p[0]['keypoints'] for p in out['predictions']])
    initial = np.array(
        [p[0]['keypoints'] for p in out['predictions_unrefined']])
    # frames 0, 1 from window 1 (+1), 3, 4 from window 2 (+2); frame 2 is
    # shared and blended half-half (+1.5)
    np.testing.assert_allclose(
        (refined - initial)[:, 1, 0], [1, 1, 1.5, 2, 2], atol=1e-4)
    assert len(out['visualization']) == 5
    # 3 x 2 panels that follow the 320x180 frames' aspect
    assert out['visualization'][0].shape == (2 * 180, 3 * 320, 3)


class TimedProbeRefiner(ProbeRefiner):
    """ProbeRefiner whose stages go through a real ``StageTimer``."""

    def __init__(self):
        super().__init__()
        self.timer = StageTimer()

    def refine_clip(self, frames, keypoints_2d, keypoint_scores, pose3d):
        with self.timer('flow'):
            pass
        for _ in range(2):  # two cycles
            for stage in ('pose', 'sketch', 'finetune', 'flow'):
                with self.timer(stage):
                    pass
        return super().refine_clip(frames, keypoints_2d, keypoint_scores,
                                   pose3d)


def test_stream_emits_frames_before_the_next_window(fixtures):
    frames = [f[..., ::-1] for f in _posetrack(fixtures)]  # RGB
    probe, lines = TimedProbeRefiner(), []
    timings = defaultdict(float)
    stream = WindowStream(
        build_pose_estimator('mediapipe'), probe, window=3, overlap=1,
        timings=timings,
        progress=RefineProgress(num_windows(5, 3, 1), log=lines.append))
    seen = [(r['frame_id'], probe.calls) for r in stream(iter(frames))]
    # frames 0, 1 leave after window 1; frame 2 (the overlap) waits for
    # window 2, which also gives 3 and 4
    assert seen == [(0, 1), (1, 1), (2, 2), (3, 2), (4, 2)]
    assert num_windows(5, 3, 1) == 2 and num_windows(3, 3, 1) == 1
    assert num_windows(17, 16, 4) == 2 and num_windows(29, 16, 4) == 3
    # progress: a line per window, per stage, with the cycle it belongs to
    assert lines[0] == 'window 1/2: frames 0-2'
    assert lines[1].startswith('window 1/2 flow forward done in')
    assert lines[2].startswith('window 1/2 cycle 1: pose step done in')
    assert lines[6].startswith('window 1/2 cycle 2: pose step done in')
    assert lines[10] == 'window 2/2: frames 2-4'
    assert len(lines) == 20
    # the probe's stages are timed per frame under refine.<stage>
    assert {'refine.flow', 'refine.pose', 'refine.sketch',
            'refine.finetune'} <= set(timings)


class HalfSizeRefiner(ProbeRefiner):
    """Flows of (1, -0.5) px and a mask at half the frame size, as a
    refiner with ``flow_output_size='working'`` returns them."""

    def refine_clip(self, frames, keypoints_2d, keypoint_scores, pose3d):
        result = super().refine_clip(frames, keypoints_2d, keypoint_scores,
                                     pose3d)
        num, height, width = frames.shape[:3]
        flow = np.zeros((num - 1, height // 2, width // 2, 2), np.float32)
        flow[..., 0], flow[..., 1] = 1.0, -0.5
        mask = np.zeros(flow.shape[:3], bool)
        mask[:, 10:20, 30:40] = True
        result.update(flow_init=flow, flow=flow, sketch_mask=mask)
        return result


def test_working_size_flows_are_written_at_frame_size(fixtures, tmp_path):
    frames = _posetrack(fixtures)  # 320 x 180
    inferencer = FlowPoseInferencer(
        refiner=HalfSizeRefiner(), window=5, overlap=1, show_progress=False)
    out = inferencer(frames, out_dir=str(tmp_path), save_flow=True,
                     vis_format='none')
    saved = np.load(out['files']['flows/frames/000000.npz'])
    assert saved['flow'].shape == (180, 320, 2)
    # values in frame px: twice the half-size ones
    np.testing.assert_allclose(saved['flow'][90, 160], [2.0, -1.0])
    assert saved['sketch_mask'].shape == (180, 320)
    assert saved['sketch_mask'][20:40, 60:80].all()
    assert saved['sketch_mask'].sum() == 20 * 20


def test_folder_flo_images(fixtures, tmp_path):
    folder = tmp_path / 'clip'
    folder.mkdir()
    for t, frame in enumerate(_posetrack(fixtures)[:3]):
        cv2.imwrite(str(folder / f'{t:03d}.png'), frame)
    out_dir = tmp_path / 'out'
    inferencer = FlowPoseInferencer(
        refiner=DISRefiner(), window=8, overlap=2, show_progress=False,
        visualizer=dict(panel_size=(90, 160)))
    inferencer(str(folder), out_dir=str(out_dir), save_flow=True,
               flow_format='flo', vis_format='images')
    files = _listing(out_dir)
    assert 'flows/clip/000001_refined.flo' in files
    assert 'flows/clip/000001_base.flo' in files
    assert 'visualizations/clip/000002.jpg' in files
    import mmcv
    flow = mmcv.flowread(str(out_dir / 'flows/clip/000000_base.flo'))
    assert flow.shape == (180, 320, 2)
    assert cv2.imread(str(out_dir / 'visualizations/clip/000000.jpg')) \
        .shape == (180, 480, 3)


def test_no_person_video(tmp_path):
    path = str(tmp_path / 'empty.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             (160, 120))
    for t in range(4):
        writer.write(np.full((120, 160, 3), 40 * t, np.uint8))
    writer.release()
    refiner = DISRefiner()
    inferencer = FlowPoseInferencer(
        refiner=refiner, window=3, overlap=1, show_progress=False)
    out = inferencer(path, out_dir=str(tmp_path / 'out'))
    assert refiner.calls == []  # nothing to refine
    assert out['predictions'] == [[], [], [], []]
    with open(tmp_path / 'out' / 'predictions' / 'empty.json') as file:
        assert json.load(file) == [
            dict(frame_id=t, instances=[]) for t in range(4)]
    capture = cv2.VideoCapture(str(tmp_path / 'out/visualizations/empty.mp4'))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 4


def test_estimate_only_without_refiner(fixtures):
    out = FlowPoseInferencer(window=4, overlap=1, show_progress=False)(
        _posetrack(fixtures)[:2])
    assert out['predictions'] == out['predictions_unrefined']
    assert len(out['predictions'][0]) == 1


@pytest.fixture
def inferencer():
    return FlowPoseInferencer(
        refiner=DISRefiner(), window=4, overlap=1, show_progress=False)


def test_bad_paths(inferencer, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        inferencer(str(tmp_path / 'nope.mp4'))
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(ValueError, match="unsupported extension '.txt'"):
        inferencer(str(tmp_path / 'notes.txt'))
    (tmp_path / 'empty_dir').mkdir()
    with pytest.raises(ValueError, match='holds no image'):
        inferencer(str(tmp_path / 'empty_dir'))
    cv2.imwrite(str(tmp_path / 'one.png'), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match='single image'):
        inferencer(str(tmp_path / 'one.png'))


def test_corrupt_video_writes_nothing(inferencer, tmp_path):
    path = tmp_path / 'broken.mp4'
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    out_dir = tmp_path / 'out'
    with pytest.raises(ValueError, match='cannot be decoded'):
        inferencer(str(path), out_dir=str(out_dir))
    assert not out_dir.exists()


def test_changing_size_writes_nothing(fixtures, inferencer, tmp_path):
    frames = _posetrack(fixtures)
    frames[4] = cv2.resize(frames[4], (160, 90))
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    with pytest.raises(ValueError, match='frame 4 .* one size'):
        inferencer(frames, out_dir=str(out_dir))
    assert os.listdir(out_dir) == []  # no staging folder, no video


def test_out_dir_not_writable(fixtures, inferencer, tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(PermissionError, match='not a writable folder'):
        inferencer(_posetrack(fixtures)[:2], out_dir=str(tmp_path / 'file'))


def test_bad_arguments(inferencer):
    with pytest.raises(ValueError, match='overlap'):
        FlowPoseInferencer(refiner=DISRefiner(), window=4, overlap=4)
    with pytest.raises(ValueError, match='window'):
        FlowPoseInferencer(refiner=DISRefiner(), window=1, overlap=0)
    with pytest.raises(TypeError, match='refine_clip'):
        FlowPoseInferencer(refiner=object())
    frames = [np.zeros((8, 8, 3), np.uint8)] * 2
    with pytest.raises(ValueError, match='flow_format'):
        inferencer(frames, flow_format='png')
    with pytest.raises(ValueError, match=r'inputs\[1\]'):
        inferencer([frames[0], frames[0].astype(np.float32)])
    with pytest.raises(ValueError, match='at least 2 frames'):
        inferencer(frames[:1])


def test_refiner_breaking_contract(fixtures, tmp_path):

    class Broken(DISRefiner):

        def refine_clip(self, *args):
            result = super().refine_clip(*args)
            result['flow'] = result['flow'][..., :1]
            return result

    out_dir = tmp_path / 'out'
    inferencer = FlowPoseInferencer(
        refiner=Broken(), window=4, overlap=1, show_progress=False)
    with pytest.raises(ValueError, match="'flow' has shape"):
        inferencer(_posetrack(fixtures)[:3], out_dir=str(out_dir))
    assert not out_dir.exists()


def test_registry_and_build_refiner():
    assert INFERENCERS.get('FlowPoseInferencer') is FlowPoseInferencer
    try:
        from mmflowpose.models.refiners import FlowPoseRefiner  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='FlowPoseRefiner'):
            build_refiner(dict(type='FlowPoseRefiner'))
    else:
        refiner = build_refiner(
            dict(model=dict(
                type='FlowPoseRefiner',
                flow_networks=[
                    dict(config='mmflow::raft/'
                         'raft_8xb2_100k_flyingchairs-368x496.py')
                ])))
        assert type(refiner).__name__ == 'FlowPoseRefiner'
        assert hasattr(refiner, 'refine_clip') and not refiner.training


def test_real_refiner_on_real_frames(fixtures, tmp_path):
    """The shipped offline setup (mediapipe + FlowPoseRefiner with the
    small RAFT) on the real mmpose demo video, downscaled to keep the CPU
    time of RAFT in check."""
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    capture = cv2.VideoCapture(fixtures('mmpose', 'demo', 'demo.mp4'))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, (512, 288),
                                 interpolation=cv2.INTER_AREA))
    assert len(frames) == 5
    refine_cfg = dict(
        type='FlowPoseRefiner',
        num_cycles=1,
        flow_networks=[
            dict(
                config=osp.join(repo, 'configs', 'training',
                                'raft-small_synthetic.py'),
                checkpoint=osp.join(repo, 'checkpoints',
                                    'raft-small_synthetic.pth'))
        ],
        pose_optimizer=dict(type='PoseOptimizer', max_steps=100),
        sketch_head=dict(type='PoseSketchFlowHead', square_size=3),
        flow_finetuner=dict(passes=1, batch_size=4))
    inferencer = FlowPoseInferencer(
        pose_estimator='mediapipe', refine_cfg=refine_cfg, window=5,
        overlap=1, show_progress=False)
    out = inferencer(frames, out_dir=str(tmp_path / 'out'), save_flow=True)
    assert len(out['predictions']) == len(out['predictions_unrefined']) == 5
    found = [t for t, people in enumerate(out['predictions']) if people]
    assert found, 'mediapipe found nobody in the demo video'
    instance = out['predictions'][found[0]][0]
    assert np.asarray(instance['keypoints']).shape == (17, 3)
    assert np.asarray(instance['keypoint_scores']).shape == (17, )
    unrefined = out['predictions_unrefined'][found[0]][0]
    assert not np.allclose(instance['keypoints'], unrefined['keypoints'])
    written = {osp.basename(k): v for k, v in out['files'].items()}
    names = sorted(written)
    json_name = [n for n in names if n.endswith('.json') and
                 not n.endswith(('_unrefined.json', '_meta.json'))][0]
    with open(written[json_name]) as file:
        assert len(json.load(file)) == 5
    video_name = [n for n in names if n.endswith('.mp4')][0]
    video = cv2.VideoCapture(written[video_name])
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
