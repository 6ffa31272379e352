"""FlowPoseInferencer: estimate, refine and draw 3D pose and flow of a video.

Follows the call style of mmpose's ``MMPoseInferencer`` without subclassing
mmengine's ``BaseInferencer`` (that class builds one model from one config
with a data pipeline; here an estimator, a refiner and a windowed stream are
combined). Outputs under ``out_dir``::

    predictions/<name>.json            refined 3D, mmpose video layout
    predictions/<name>_unrefined.json  the initial estimate, same layout
    predictions/<name>_meta.json       joints, units, axes, fps, timings
    visualizations/<name>.mp4          grids (or visualizations/<name>/*.jpg)
    visualizations/<name>_summary.png  joint displacement over time, bone
                                       length spread before/after
    flows/<name>/<t>.npz | <t>_{base,refined}.flo   with ``save_flow=True``

The mmpose layout is ``[dict(frame_id, instances=[dict(keypoints (17, 3),
keypoint_scores (17,), keypoints_2d (17, 2), bbox [[x1, y1, x2, y2]],
bbox_score, track_id)])]``; ``instances`` is empty on frames without a
person. 3D keypoints are metres, root-relative, H36M camera axes (x right,
y down, z forward), H36M-17 joint order.

Three parts, one file each: ``frame_source.py`` decodes frames one at a
time (``mmcv.VideoReader``), ``window_stream.py`` cuts them into windows of
``window`` frames overlapping by ``overlap``, refines and merges them (at
most one window of frames and the previous window's overlap are in memory),
``staged_output.py`` writes every file
under a staging folder and moves it into ``out_dir`` only at the end.
Progress is logged per window and per refiner stage; the result carries
seconds per frame by stage and the peak memory (``cost_report.py``).
"""
import time
import warnings
from collections import defaultdict
from typing import Dict, Optional, Sequence, Union

import cv2
import numpy as np

from mmflowpose.registry import INFERENCERS
from .cost_report import peak_memory_mb
from .frame_source import IMAGE_EXTS, VIDEO_EXTS, FrameSource
from mmflowpose.models.pose_estimators import build_pose_estimator
from .staged_output import StagedOutput, instances, save_flow as write_flow
from .window_stream import (RESULT_KEYS, RefineProgress, WindowStream,
                            num_windows)

__all__ = [
    'FlowPoseInferencer', 'build_refiner', 'FrameSource', 'StagedOutput',
    'VIDEO_EXTS', 'IMAGE_EXTS', 'RESULT_KEYS'
]


def build_refiner(cfg, device: str = 'cpu'):
    """Build a :class:`FlowPoseRefiner` from ``refine_cfg``.

    Args:
        cfg (str | dict | Config): a config file (its ``model`` entry is
            built), or the refiner dict itself (``type='FlowPoseRefiner'``).
        device (str): torch device of the refiner. Defaults to 'cpu'.

    Returns:
        FlowPoseRefiner: in eval mode on ``device``.
    """
    from mmflowpose.models.builder import load_config
    from mmflowpose.registry import MODELS
    config = load_config(cfg)
    refiner_cfg = config.get('model', config)
    if hasattr(refiner_cfg, 'to_dict'):
        refiner_cfg = refiner_cfg.to_dict()
    if refiner_cfg.get('type') is None:
        raise ValueError('refine_cfg has no `model` entry with a `type`')
    refiner = MODELS.build(refiner_cfg)
    return refiner.to(device).eval()


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
        show_progress (bool): log each window and refiner stage (flow,
            pose step, fine-tuning...) as it ends, through mmengine's
            logger. Defaults to True.
        release_heap (bool): return the heap's free pages to the system
            after each refiner stage and window (glibc ``malloc_trim``;
            lowers the peak RSS, results unchanged). Defaults to True.
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
                 show_progress: bool = True,
                 release_heap: bool = True) -> None:
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
        self.release_heap = release_heap
        self.device = device

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
            ``timings`` (seconds per frame for each stage; ``refine.<stage>``
            split the refiner's ``refine``), ``peak_memory_mb`` (``rss``,
            and ``device`` on CUDA), ``num_frames``.
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
        progress = RefineProgress(
            num_windows(source.num_frames, self.window, self.overlap)
            if source.num_frames else 0, enabled=self.show_progress)
        stream = WindowStream(self.pose_estimator, self.refiner, self.window,
                              self.overlap, timings, progress,
                              release_heap=self.release_heap)
        refined, unrefined, grids = [], [], []
        # per frame (J, 3) poses and (J,) scores for the summary figure
        summary = dict(init=[], refined=[], scores=[])
        num_frames = 0
        try:
            for record in stream(iter(source)):
                t = record['frame_id']
                num_frames += 1
                summary['init'].append(np.asarray(record['pose3d_init']))
                summary['refined'].append(np.asarray(record['pose3d']))
                summary['scores'].append(
                    np.asarray(record['keypoint_scores']))
                refined.append(
                    instances(record['pose3d'], record['keypoint_scores'],
                              record['keypoints_2d']))
                unrefined.append(
                    instances(record['pose3d_init'],
                              record['keypoint_scores'],
                              record['keypoints_2d']))
                tic = time.perf_counter()
                if save_flow and output is not None and \
                        record['flow'] is not None:
                    write_flow(output, name, t, record, flow_format)
                timings['write'] += time.perf_counter() - tic
                if draw:
                    tic = time.perf_counter()
                    grid = self.visualizer.draw_frame(
                        record['image'], record['keypoints_2d'],
                        record['keypoint_scores'], record['pose3d_init'],
                        record['pose3d'], record['flow_init'],
                        record['flow'], record['sketch_mask'],
                        title=f'frame {t}',
                        # (2, J, 2) joints at t, t+1 the sketch was drawn
                        # from; without them the sketch panel shows the
                        # refined flow inside the sketch mask
                        sketch_keypoints=record.get('sketch_keypoints'))
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
                # the record's image is a view of its whole window and its
                # flows are full-size: drop them before the stream goes on
                # to refine the next window
                record = grid = None
            if sink is not None:
                sink.close()
        except BaseException:
            if sink is not None:
                sink.abort()
            raise
        per_frame = {k: v / max(num_frames, 1) for k, v in timings.items()}
        peak = peak_memory_mb(self.device)
        if output is not None:
            layout = lambda preds: [  # noqa: E731
                dict(frame_id=i, instances=inst)
                for i, inst in enumerate(preds)]
            output.dump_json(f'predictions/{name}.json', layout(refined))
            output.dump_json(f'predictions/{name}_unrefined.json',
                             layout(unrefined))
            output.dump_json(f'predictions/{name}_meta.json', self._meta(
                source, num_frames, per_frame, peak))
            if draw and num_frames > 1:
                from mmflowpose.visualization import (draw_refinement_summary,
                                                      save_image)
                save_image(
                    output.path(f'visualizations/{name}_summary.png'),
                    draw_refinement_summary(
                        np.stack(summary['init']),
                        np.stack(summary['refined']),
                        keypoint_scores=np.stack(summary['scores']),
                        title=name))
        return dict(
            predictions=refined,
            predictions_unrefined=unrefined,
            visualization=grids,
            timings=per_frame,
            peak_memory_mb=peak,
            num_frames=num_frames)

    def _meta(self, source, num_frames, per_frame, peak) -> Dict:
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
            seconds_per_frame={k: round(v, 4) for k, v in per_frame.items()},
            peak_memory_mb=peak)

    def _show(self, grid: np.ndarray) -> None:
        try:
            cv2.imshow('flowpose', grid[..., ::-1])
            cv2.waitKey(1)
        except cv2.error as error:
            if not getattr(self, '_warned_show', False):
                warnings.warn(f'cannot show frames ({error}); continuing')
                self._warned_show = True
