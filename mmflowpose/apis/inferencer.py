"""FlowPoseInferencer: estimate, refine and draw 3D pose and flow of a video.

Follows the call style of mmpose's ``MMPoseInferencer`` without subclassing
mmengine's ``BaseInferencer`` (that class builds one model from one config
with a data pipeline; here an estimator, a refiner and a windowed stream are
combined). Outputs under ``out_dir``::

    predictions/<name>.json            refined 3D, mmpose video layout
    predictions/<name>_unrefined.json  the initial estimate, same layout
    predictions/<name>_meta.json       joints, units, axes, fps, timings
    visualizations/<name>.mp4          grids (or visualizations/<name>/*.jpg)
    flows/<name>/<t>.npz | <t>_{base,refined}.flo   with ``save_flow=True``

The mmpose layout is ``[dict(frame_id, instances=[dict(keypoints (17, 3),
keypoint_scores (17,), keypoints_2d (17, 2), bbox [[x1, y1, x2, y2]],
bbox_score, track_id)])]``; ``instances`` is empty on frames without a
person. 3D keypoints are metres, root-relative, H36M camera axes (x right,
y down, z forward), H36M-17 joint order.

Long inputs are cut into windows of ``window`` frames overlapping by
``overlap``; only one window of frames is held in memory. Refined 3D poses
are blended linearly across the overlap; flows, sketches and pictures come
from the window whose centre is nearer.

Every file is written into a staging folder inside ``out_dir`` and moved to
its place with ``os.replace`` only after the whole input was processed; on
any error the staging folder is removed and nothing is left half-written.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
import time
import warnings
from collections import defaultdict
from typing import Dict, Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np

from mmflowpose.registry import INFERENCERS
from .pose_estimators import NUM_JOINTS, build_pose_estimator, empty_estimate

VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.mpg', '.mpeg',
              '.m4v', '.wmv')
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
RESULT_KEYS = ('pose3d_init', 'pose3d', 'flow_init', 'flow', 'sketch_mask')


def build_refiner(cfg, device: str = 'cpu'):
    """Build a :class:`FlowPoseRefiner` from ``refine_cfg``.

    Args:
        cfg (str | dict | Config): a config file (its ``model`` entry is
            built), or the refiner dict itself (``type='FlowPoseRefiner'``).
        device (str): torch device of the refiner. Defaults to 'cpu'.

    Returns:
        FlowPoseRefiner: in eval mode on ``device``.
    """
    from mmflowpose.apis.model_init import load_config
    from mmflowpose.registry import MODELS
    config = load_config(cfg)
    refiner_cfg = config.get('model', config)
    if hasattr(refiner_cfg, 'to_dict'):
        refiner_cfg = refiner_cfg.to_dict()
    if refiner_cfg.get('type') is None:
        raise ValueError('refine_cfg has no `model` entry with a `type`')
    refiner = MODELS.build(refiner_cfg)
    return refiner.to(device).eval()


# -- inputs -----------------------------------------------------------------
class FrameSource:
    """Frames of a video file, a folder of images or a list of arrays.

    Checks what it can before anything is processed (existence, extension,
    decodability of the first frame); changing frame sizes raise
    ``ValueError`` when met. Iterating yields (H, W, 3) uint8 RGB frames.

    Attributes:
        name (str): output file stem. fps (float). num_frames (int): 0 when
        unknown. is_video (bool).
    """

    def __init__(self, inputs, channel_order: str = 'bgr',
                 fps: Optional[float] = None) -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError("channel_order must be 'bgr' or 'rgb', got "
                             f'{channel_order!r}')
        self.channel_order = channel_order
        self.is_video = False
        self._paths = self._arrays = None
        self.fps = fps
        if isinstance(inputs, str):
            self._open_path(inputs)
        elif isinstance(inputs, np.ndarray) and inputs.ndim == 4:
            self._set_arrays(list(inputs))
        elif isinstance(inputs, (list, tuple)):
            if all(isinstance(x, str) for x in inputs):
                self._set_paths(list(inputs), 'frames')
            else:
                self._set_arrays(list(inputs))
        else:
            raise TypeError('inputs must be a video path, a folder of '
                            'frames, a list of image paths or of (H, W, 3) '
                            f'uint8 arrays, got {type(inputs).__name__}')
        if self.fps is None:
            self.fps = 25.0
        self.size = None

    def _open_path(self, path: str) -> None:
        if not osp.exists(path):
            raise FileNotFoundError(f'input {path!r} does not exist')
        if osp.isdir(path):
            files = sorted(
                osp.join(path, f) for f in os.listdir(path)
                if osp.splitext(f)[1].lower() in IMAGE_EXTS)
            if not files:
                raise ValueError(f'input folder {path!r} holds no image '
                                 f'({", ".join(IMAGE_EXTS)})')
            self._set_paths(files, osp.basename(osp.normpath(path)))
            return
        ext = osp.splitext(path)[1].lower()
        if ext in IMAGE_EXTS:
            raise ValueError(f'input {path!r} is a single image; flow needs '
                             'a video, a folder or a list of >= 2 frames')
        if ext not in VIDEO_EXTS:
            raise ValueError(f'input {path!r}: unsupported extension {ext!r}'
                             f'; expected a video ({", ".join(VIDEO_EXTS)}),'
                             ' a folder of frames or a list of arrays')
        capture = cv2.VideoCapture(path)
        ok, frame = capture.read() if capture.isOpened() else (False, None)
        if not ok or frame is None:
            capture.release()
            raise ValueError(f'input video {path!r} cannot be decoded (no '
                             'readable frame): the file is corrupt or its '
                             'codec is not supported by OpenCV')
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.num_frames = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
        capture.release()
        self.fps = self.fps or (fps if fps and fps > 0 else None)
        self.path, self.is_video = path, True
        self.name = osp.splitext(osp.basename(path))[0]

    def _set_paths(self, paths: List[str], name: str) -> None:
        missing = [p for p in paths if not osp.isfile(p)]
        if missing:
            raise FileNotFoundError(f'input frame {missing[0]!r} does not '
                                    'exist')
        self._paths, self.name, self.num_frames = paths, name, len(paths)
        self._check_count()

    def _set_arrays(self, arrays: list) -> None:
        for i, array in enumerate(arrays):
            if not isinstance(array, np.ndarray) or array.ndim != 3 or \
                    array.shape[-1] != 3 or array.dtype != np.uint8:
                raise ValueError(
                    f'inputs[{i}] must be a (H, W, 3) uint8 array, got '
                    f'{getattr(array, "shape", type(array).__name__)} '
                    f'{getattr(array, "dtype", "")}')
        self._arrays, self.name, self.num_frames = arrays, 'frames', \
            len(arrays)
        self._check_count()

    def _check_count(self) -> None:
        if self.num_frames < 2:
            raise ValueError('flow needs at least 2 frames, got '
                             f'{self.num_frames}')

    def _check_size(self, frame: np.ndarray, index: int) -> np.ndarray:
        if self.size is None:
            self.size = frame.shape[:2]
        elif frame.shape[:2] != self.size:
            raise ValueError(
                f'frame {index} of {self.name!r} is {frame.shape[1]}x'
                f'{frame.shape[0]} but frame 0 is {self.size[1]}x'
                f'{self.size[0]}: all frames must have one size')
        return frame

    def __iter__(self) -> Iterator[np.ndarray]:
        self.size = None
        if self.is_video:
            capture = cv2.VideoCapture(self.path)
            index = 0
            try:
                while True:
                    ok, frame = capture.read()
                    if not ok:
                        break
                    yield self._check_size(
                        np.ascontiguousarray(frame[..., ::-1]), index)
                    index += 1
            finally:
                capture.release()
            if index < 2:
                raise ValueError(f'input video {self.path!r} has {index} '
                                 'readable frame(s); flow needs >= 2')
            return
        if self._paths is not None:
            for index, path in enumerate(self._paths):
                frame = cv2.imread(path, cv2.IMREAD_COLOR)
                if frame is None:
                    raise ValueError(f'input frame {path!r} cannot be '
                                     'decoded as an image')
                yield self._check_size(
                    np.ascontiguousarray(frame[..., ::-1]), index)
            return
        for index, frame in enumerate(self._arrays):
            if self.channel_order == 'bgr':
                frame = frame[..., ::-1]
            yield self._check_size(np.ascontiguousarray(frame), index)


# -- outputs ----------------------------------------------------------------
class StagedOutput:
    """Write files under a staging folder; :meth:`commit` moves them.

    Args:
        out_dir (str): the final folder (created if missing).
    """

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.created = not osp.isdir(out_dir)
        try:
            os.makedirs(out_dir, exist_ok=True)
            self.stage = tempfile.mkdtemp(prefix='.flowpose-tmp-',
                                          dir=out_dir)
        except OSError as error:
            raise PermissionError(
                f'out_dir {out_dir!r} is not a writable folder: '
                f'{error.strerror or error}') from error
        self.files: List[str] = []

    def path(self, relative: str) -> str:
        """Staging path of ``relative`` (parents created)."""
        path = osp.join(self.stage, relative)
        os.makedirs(osp.dirname(path), exist_ok=True)
        if relative not in self.files:
            self.files.append(relative)
        return path

    def dump_json(self, relative: str, obj) -> None:
        with open(self.path(relative), 'w') as file:
            json.dump(obj, file, indent=1)

    def commit(self) -> Dict[str, str]:
        """Move every staged file into ``out_dir``; return their paths."""
        final = {}
        for relative in self.files:
            target = osp.join(self.out_dir, relative)
            os.makedirs(osp.dirname(target), exist_ok=True)
            os.replace(osp.join(self.stage, relative), target)
            final[relative] = target
        shutil.rmtree(self.stage, ignore_errors=True)
        return final

    def abort(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)
        if self.created:
            try:
                os.rmdir(self.out_dir)
            except OSError:
                pass


def _instances(kpt3d, scores, kpt2d) -> list:
    """mmpose-style instance list of one frame ([] without a person)."""
    scores = np.asarray(scores, np.float64)
    if not np.any(scores > 0):
        return []
    seen = kpt2d[scores > 0]
    bbox = [float(v) for v in (*seen.min(0), *seen.max(0))]
    return [
        dict(
            keypoints=np.round(np.asarray(kpt3d, np.float64), 5).tolist(),
            keypoint_scores=np.round(scores, 4).tolist(),
            keypoints_2d=np.round(np.asarray(kpt2d, np.float64), 2).tolist(),
            bbox=[bbox],
            bbox_score=round(float(scores.mean()), 4),
            track_id=0)
    ]


def _check_result(result: Dict, num_frames: int, size) -> None:
    """Check a ``refine_clip`` result against the contract."""
    height, width = size
    expected = dict(
        pose3d_init=(num_frames, NUM_JOINTS, 3),
        pose3d=(num_frames, NUM_JOINTS, 3),
        flow_init=(num_frames - 1, height, width, 2),
        flow=(num_frames - 1, height, width, 2),
        sketch_mask=(num_frames - 1, height, width))
    for key, shape in expected.items():
        if key not in result:
            raise ValueError(f'refiner result has no {key!r} (keys: '
                             f'{sorted(result)})')
        got = tuple(np.shape(result[key]))
        if got != shape:
            raise ValueError(f'refiner result {key!r} has shape {got}, '
                             f'expected {shape}')


@INFERENCERS.register_module()
class FlowPoseInferencer:
    """Estimate 3D pose, refine it with optical flow, save and draw it.

    Args:
        refiner (object, optional): anything with ``refine_clip(frames,
            keypoints_2d, keypoint_scores, pose3d) -> dict`` (see
            ``FlowPoseRefiner``). None with ``refine_cfg`` None runs the
            estimator only (refined = initial, no flow).
        pose_estimator (str | dict | object): ``'mediapipe'``, an mmpose
            3D config/alias, a registry dict or an estimator object.
            Defaults to ``'mediapipe'``.
        refine_cfg (str | dict, optional): built with :func:`build_refiner`
            when ``refiner`` is None.
        pose3d_weights (str, optional): weights for an mmpose estimator.
        window (int): frames per refinement window. Defaults to 16.
        overlap (int): frames shared by consecutive windows (>= 1, so that
            the pair across a window border gets a flow). Defaults to 4.
        visualizer (dict | FlowPoseVisualizer, optional): how to draw;
            default ``FlowPoseVisualizer()``.
        device (str): torch device for built models. Defaults to ``'cpu'``.
        show_progress (bool): mmengine ``ProgressBar``. Defaults to True.
    """

    def __init__(self,
                 refiner=None,
                 pose_estimator='mediapipe',
                 refine_cfg=None,
                 pose3d_weights: Optional[str] = None,
                 window: int = 16,
                 overlap: int = 4,
                 visualizer=None,
                 device: str = 'cpu',
                 show_progress: bool = True) -> None:
        if int(window) < 2:
            raise ValueError(f'window must be >= 2 frames, got {window!r}')
        if not 1 <= int(overlap) < int(window):
            raise ValueError(f'overlap must be in [1, window - 1] = [1, '
                             f'{int(window) - 1}], got {overlap!r}')
        self.window, self.overlap = int(window), int(overlap)
        if refiner is None and refine_cfg is not None:
            refiner = build_refiner(refine_cfg, device)
        if refiner is not None and not hasattr(refiner, 'refine_clip'):
            raise TypeError('refiner must have a `refine_clip` method, got '
                            f'{type(refiner).__name__}')
        self.refiner = refiner
        self.pose_estimator = build_pose_estimator(
            pose_estimator, weights=pose3d_weights, device=device)
        self._visualizer_cfg = visualizer
        self._visualizer = None
        self.show_progress = show_progress

    @property
    def visualizer(self):
        if self._visualizer is None:
            from mmflowpose.visualization import FlowPoseVisualizer
            cfg = self._visualizer_cfg
            if cfg is None:
                self._visualizer = FlowPoseVisualizer(
                    name=f'flowpose_inferencer_{id(self)}')
            elif isinstance(cfg, dict):
                from mmflowpose.registry import VISUALIZERS
                cfg = dict(cfg)
                cfg.setdefault('type', 'FlowPoseVisualizer')
                cfg.setdefault('name', f'flowpose_inferencer_{id(self)}')
                self._visualizer = VISUALIZERS.build(cfg)
            else:
                self._visualizer = cfg
        return self._visualizer

    # -- windows ------------------------------------------------------------
    def _windows(self, source: FrameSource, timings: Dict) -> Iterator:
        """Yield (start, frames, estimate, result) per window."""
        stride = self.window - self.overlap
        frames: List[np.ndarray] = []
        estimate = {k: v[:0] for k, v in empty_estimate(0).items()}
        start = 0
        iterator = iter(source)
        exhausted = False
        while not exhausted:
            tic = time.perf_counter()
            while len(frames) < self.window:
                try:
                    frames.append(next(iterator))
                except StopIteration:
                    exhausted = True
                    break
            timings['read'] += time.perf_counter() - tic
            new = len(frames) - len(estimate['pose3d'])
            if new == 0 or len(frames) < 2:
                # nothing new after the last window (or < 2 frames in all)
                break
            clip = np.stack(frames)
            tic = time.perf_counter()
            fresh = self.pose_estimator.estimate(clip[-new:])
            estimate = {
                k: np.concatenate([estimate[k], np.asarray(fresh[k])])
                for k in estimate
            }
            timings['estimate'] += time.perf_counter() - tic
            tic = time.perf_counter()
            result = self._refine(clip, estimate)
            timings['refine'] += time.perf_counter() - tic
            yield start, clip, estimate, result
            if exhausted:
                break
            frames = frames[stride:]
            estimate = {k: v[stride:] for k, v in estimate.items()}
            start += stride

    def _refine(self, clip: np.ndarray, estimate: Dict) -> Optional[Dict]:
        if self.refiner is None or not np.any(estimate['keypoint_scores'] > 0):
            return None
        result = self.refiner.refine_clip(
            clip, estimate['keypoints_2d'].astype(np.float32),
            estimate['keypoint_scores'].astype(np.float32),
            estimate['pose3d'].astype(np.float32))
        result = {
            k: (v.detach().cpu().numpy() if hasattr(v, 'detach') else v)
            for k, v in dict(result).items()
        }
        _check_result(result, len(clip), clip.shape[1:3])
        return result

    def _frames(self, source: FrameSource, timings: Dict) -> Iterator[Dict]:
        """Yield one record per frame, windows merged (see module doc)."""
        emitted = 0
        pending = None  # previous window: (start, clip, estimate, result)
        for window in self._windows(source, timings):
            start, clip, estimate, result = window
            if pending is not None:
                p_start, p_clip, p_est, p_res = pending
                p_end = p_start + len(p_clip)
                split = start + (p_end - start) // 2
                for t in range(emitted, p_end):
                    if t < split:
                        record = self._record(t, p_start, p_clip, p_est,
                                              p_res)
                    else:
                        record = self._record(t, start, clip, estimate,
                                              result)
                    if t >= start:  # overlap: blend refined poses
                        weight = (t - start + 1) / (p_end - start + 1)
                        record['pose3d'] = self._blend(
                            p_res, p_est, t - p_start, result, estimate,
                            t - start, weight)
                    yield record
                emitted = p_end
            pending = window
        if pending is not None:
            p_start, p_clip, p_est, p_res = pending
            for t in range(emitted, p_start + len(p_clip)):
                yield self._record(t, p_start, p_clip, p_est, p_res)

    @staticmethod
    def _blend(res_a, est_a, i, res_b, est_b, j, weight) -> np.ndarray:
        pose_a = est_a['pose3d'][i] if res_a is None else res_a['pose3d'][i]
        pose_b = est_b['pose3d'][j] if res_b is None else res_b['pose3d'][j]
        return (1 - weight) * np.asarray(pose_a) + weight * np.asarray(
            pose_b)

    @staticmethod
    def _record(t: int, start: int, clip, estimate, result) -> Dict:
        i = t - start
        pair = i < len(clip) - 1
        record = dict(
            frame_id=t,
            image=clip[i],
            keypoints_2d=estimate['keypoints_2d'][i],
            keypoint_scores=estimate['keypoint_scores'][i],
            pose3d_init=estimate['pose3d'][i],
            pose3d=estimate['pose3d'][i],
            flow_init=None, flow=None, sketch_mask=None)
        if result is not None:
            record['pose3d_init'] = result['pose3d_init'][i]
            record['pose3d'] = result['pose3d'][i]
            if pair:
                for key in ('flow_init', 'flow', 'sketch_mask'):
                    record[key] = result[key][i]
        return record

    # -- call ---------------------------------------------------------------
    def __call__(self,
                 inputs: Union[str, np.ndarray, Sequence],
                 out_dir: Optional[str] = None,
                 return_vis: bool = False,
                 save_flow: bool = False,
                 flow_format: str = 'npz',
                 vis_format: str = 'video',
                 show: bool = False,
                 channel_order: str = 'bgr',
                 fps: Optional[float] = None) -> Dict:
        """Process one input and write/return the results.

        Args:
            inputs (str | np.ndarray | list): a video file, a folder of
                frames, a list of image paths, or (T, H, W, 3) / a list of
                (H, W, 3) uint8 arrays.
            out_dir (str, optional): output folder (see module docstring);
                None writes nothing.
            return_vis (bool): also return the grid of every frame (memory
                grows with the length). Defaults to False.
            save_flow (bool): write base and refined flows. Defaults to
                False.
            flow_format (str): ``'npz'`` (one file per pair: ``flow_init``,
                ``flow``, ``sketch_mask``) or ``'flo'`` (Middlebury, via
                ``mmcv.flowwrite``). Defaults to ``'npz'``.
            vis_format (str): ``'video'`` (``<name>.mp4``), ``'images'``
                (``<name>/<frame>.jpg``) or ``'none'``. Defaults to
                ``'video'``.
            show (bool): display grids with ``cv2.imshow``.
                Defaults to False.
            channel_order (str): of array inputs, ``'bgr'`` (mmpose/OpenCV
                convention) or ``'rgb'``. Defaults to ``'bgr'``.
            fps (float, optional): of the output video; default: the input
                video's, or 25.

        Returns:
            dict: ``predictions`` and ``predictions_unrefined`` (list per
            frame of instance lists, as in the JSON files),
            ``visualization`` (list of (H, W, 3) uint8 RGB grids when
            ``return_vis``), ``files`` (relative -> path written),
            ``timings`` (seconds per frame for each stage), ``num_frames``.
        """
        if flow_format not in ('npz', 'flo'):
            raise ValueError("flow_format must be 'npz' or 'flo', got "
                             f'{flow_format!r}')
        if vis_format not in ('video', 'images', 'none'):
            raise ValueError("vis_format must be 'video', 'images' or "
                             f"'none', got {vis_format!r}")
        source = FrameSource(inputs, channel_order=channel_order, fps=fps)
        output = StagedOutput(out_dir) if out_dir is not None else None
        try:
            result = self._run(source, output, return_vis, save_flow,
                               flow_format, vis_format, show)
            result['files'] = output.commit() if output is not None else {}
        except BaseException:
            if output is not None:
                output.abort()
            raise
        return result

    def _run(self, source, output, return_vis, save_flow, flow_format,
             vis_format, show) -> Dict:
        from mmengine.utils import ProgressBar
        self.pose_estimator.reset()
        timings = defaultdict(float)
        name = source.name
        draw = return_vis or show or (output is not None
                                      and vis_format != 'none')
        sink = None
        if output is not None and vis_format == 'video':
            from mmflowpose.visualization import VideoSink
            sink = VideoSink(output.path(f'visualizations/{name}.mp4'),
                             source.fps)
        bar = ProgressBar(source.num_frames) if self.show_progress else None
        refined, unrefined, grids = [], [], []
        num_frames = 0
        try:
            for record in self._frames(source, timings):
                t = record['frame_id']
                num_frames += 1
                refined.append(
                    _instances(record['pose3d'], record['keypoint_scores'],
                               record['keypoints_2d']))
                unrefined.append(
                    _instances(record['pose3d_init'],
                               record['keypoint_scores'],
                               record['keypoints_2d']))
                tic = time.perf_counter()
                if save_flow and output is not None and \
                        record['flow'] is not None:
                    self._save_flow(output, name, t, record, flow_format)
                timings['write'] += time.perf_counter() - tic
                if draw:
                    tic = time.perf_counter()
                    grid = self.visualizer.draw_frame(
                        record['image'], record['keypoints_2d'],
                        record['keypoint_scores'], record['pose3d_init'],
                        record['pose3d'], record['flow_init'],
                        record['flow'], record['sketch_mask'],
                        title=f'frame {t}')
                    timings['visualize'] += time.perf_counter() - tic
                    tic = time.perf_counter()
                    if sink is not None:
                        sink.write(grid)
                    elif output is not None and vis_format == 'images':
                        cv2.imwrite(
                            output.path(f'visualizations/{name}/{t:06d}.jpg'),
                            grid[..., ::-1])
                    timings['write'] += time.perf_counter() - tic
                    if return_vis:
                        grids.append(grid)
                    if show:
                        self._show(grid)
                if bar is not None:
                    bar.update()
            if sink is not None:
                sink.close()
        except BaseException:
            if sink is not None:
                sink.abort()
            raise
        if bar is not None:
            print()
        per_frame = {k: v / max(num_frames, 1) for k, v in timings.items()}
        if output is not None:
            layout = lambda preds: [  # noqa: E731
                dict(frame_id=i, instances=inst)
                for i, inst in enumerate(preds)]
            output.dump_json(f'predictions/{name}.json', layout(refined))
            output.dump_json(f'predictions/{name}_unrefined.json',
                             layout(unrefined))
            output.dump_json(f'predictions/{name}_meta.json', self._meta(
                source, num_frames, per_frame))
        return dict(
            predictions=refined,
            predictions_unrefined=unrefined,
            visualization=grids,
            timings=per_frame,
            num_frames=num_frames)

    def _meta(self, source, num_frames, per_frame) -> Dict:
        from mmflowpose.models.utils.skeleton import load_skeleton
        skeleton = load_skeleton('h36m')
        return dict(
            name=source.name,
            num_frames=num_frames,
            fps=source.fps,
            image_size=list(source.size) if source.size else None,
            joint_names=list(skeleton.joint_names),
            skeleton_links=[list(b) for b in skeleton.bones],
            units=dict(keypoints='metres, root-relative',
                       keypoints_2d='pixels (x, y)'),
            axes='H36M camera: x right, y down, z away from the camera',
            estimator=type(self.pose_estimator).__name__,
            refiner=None if self.refiner is None else
            type(self.refiner).__name__,
            window=self.window,
            overlap=self.overlap,
            seconds_per_frame={k: round(v, 4) for k, v in per_frame.items()})

    @staticmethod
    def _save_flow(output, name, t, record, flow_format) -> None:
        if flow_format == 'npz':
            np.savez(
                output.path(f'flows/{name}/{t:06d}.npz'),
                flow_init=np.asarray(record['flow_init'], np.float32),
                flow=np.asarray(record['flow'], np.float32),
                sketch_mask=np.asarray(record['sketch_mask'], bool))
        else:
            import mmcv
            mmcv.flowwrite(
                np.asarray(record['flow_init'], np.float32),
                output.path(f'flows/{name}/{t:06d}_base.flo'))
            mmcv.flowwrite(
                np.asarray(record['flow'], np.float32),
                output.path(f'flows/{name}/{t:06d}_refined.flo'))

    def _show(self, grid: np.ndarray) -> None:
        try:
            cv2.imshow('flowpose', grid[..., ::-1])
            cv2.waitKey(1)
        except cv2.error as error:
            if not getattr(self, '_warned_show', False):
                warnings.warn(f'cannot show frames ({error}); continuing')
                self._warned_show = True
