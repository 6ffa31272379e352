"""Side-by-side pictures of a refined clip: what the refinement changed.

One grid per frame, every panel of one size (the input's aspect ratio, at
most ``max_panel_size``)::

    | frame + 2D skeleton | 3D: refined over initial | refined - base flow |
    | pose sketch arrows  | base flow t->t+1         | refined flow t->t+1 |

and, with dense ground-truth flow, a fourth column with the end-point
error maps of the base (top) and refined (bottom) flow on one colour scale.

The base and refined flows share one colour scale, a high percentile of
their magnitudes (not the maximum, which is an outlier; computed on the
flows shrunk to panel size, values still in input px), printed beside a
colour-wheel legend; the difference panel has its own scale, printed on
it, and is white where the two flows agree. The last frame of a clip has
no forward flow: its flow panels are blank (grey), so the grid keeps its
size. Panels: see :mod:`.pose3d_panel`, :mod:`.flow_colours`,
:mod:`.sketch_panel`.
"""
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.visualization import Visualizer

from mmflowpose.registry import VISUALIZERS
from .flow_panels import epe_panels as draw_epe_panels
from .flow_panels import flow_panels, flow_pictures
from .layout import auto_panel_size, blank_panel, fit, put_text, resize
from .pose2d import bone_colours, draw_skeleton_2d
from .pose3d_panel import Pose3dOverlay
from .sketch_panel import sketch_motion_panel


@VISUALIZERS.register_module()
class FlowPoseVisualizer(Visualizer):
    """Draw the refiner's results frame by frame.

    Args:
        name (str): instance name (mmengine's ``ManagerMixin``).
            Defaults to ``'flowpose_visualizer'``.
        skeleton (str | dict): mmpose metainfo for the joint layout.
            Defaults to ``'h36m'``.
        panel_size (tuple[int, int], optional): fixed (H, W) of every
            panel, px; None follows each input's aspect ratio (see
            :func:`auto_panel_size`). Defaults to None.
        max_panel_size (tuple[int, int]): largest automatic panel (H, W).
            Defaults to (360, 640).
        kpt_thr (float): joints with a score below are not drawn.
            Defaults to 0.3.
        radius_3d (float): half extent of the 3D axes around the root,
            metres. Defaults to 1.0.
        flow_percentile (float): percentile of the flow magnitudes that
            gets full colour. Defaults to 99.
        max_displacement_mm (float): top of the 3D panel's displacement
            colour bar. Defaults to 100.
        **kwargs: passed to :class:`mmengine.visualization.Visualizer`.
    """

    def __init__(self,
                 name: str = 'flowpose_visualizer',
                 skeleton='h36m',
                 panel_size: Optional[Tuple[int, int]] = None,
                 max_panel_size: Tuple[int, int] = (360, 640),
                 kpt_thr: float = 0.3,
                 radius_3d: float = 1.0,
                 flow_percentile: float = 99.0,
                 max_displacement_mm: float = 100.0,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        from mmflowpose.models.utils.skeleton import load_skeleton
        self.skeleton = load_skeleton(skeleton)
        for what, size in (('panel_size', panel_size), ('max_panel_size',
                                                        max_panel_size)):
            if size is not None and (len(size) != 2 or min(size) < 32):
                raise ValueError(f'{what} must be (H, W) with both >= 32, '
                                 f'got {size!r}')
        if radius_3d <= 0:
            raise ValueError(f'radius_3d must be > 0, got {radius_3d!r}')
        if not 0 < flow_percentile <= 100:
            raise ValueError('flow_percentile must be in (0, 100], got '
                             f'{flow_percentile!r}')
        self.panel_size = None if panel_size is None else (int(panel_size[0]),
                                                           int(panel_size[1]))
        self.max_panel_size = (int(max_panel_size[0]), int(max_panel_size[1]))
        self.kpt_thr = float(kpt_thr)
        self.radius_3d = float(radius_3d)
        self.flow_percentile = float(flow_percentile)
        self.max_displacement_mm = float(max_displacement_mm)
        self.colours = bone_colours(self.skeleton.joint_names,
                                    self.skeleton.bones)
        self._overlay = None

    def panel_size_for(self, image_size: Tuple[int, int]) -> Tuple[int, int]:
        """(H, W) of the panels for frames of ``image_size`` (H, W)."""
        if self.panel_size is not None:
            return self.panel_size
        return auto_panel_size(image_size, self.max_panel_size)

    # -- single panels -------------------------------------------------
    def draw_pose_2d(self, image: np.ndarray, keypoints: np.ndarray,
                     scores: np.ndarray) -> np.ndarray:
        """Frame (H, W, 3) RGB with its (J, 2) px skeleton drawn on a copy.

        Joints below ``kpt_thr`` are skipped; joints outside the frame are
        clipped (the picture keeps the frame's size).
        """
        thickness = max(2, int(round(max(image.shape[:2]) / 320)))
        return draw_skeleton_2d(image, keypoints, scores, self.skeleton.bones,
                                self.colours, self.kpt_thr, thickness)

    def draw_pose_3d(self,
                     before: np.ndarray,
                     after: np.ndarray,
                     scores: Optional[np.ndarray] = None,
                     ground_truth: Optional[np.ndarray] = None,
                     size: Optional[Tuple[int, int]] = None) -> np.ndarray:
        """Refined (J, 3) skeleton over the ghost of ``before``, metres.

        See :class:`Pose3dOverlay`. Nothing is drawn when ``scores`` (J, )
        are all zero (no person) or a pose is not finite.

        Returns:
            np.ndarray: (H, W, 3) uint8 RGB, ``size`` or the fixed
            ``panel_size``.
        """
        size = tuple(size or self.panel_size or (240, 320))
        if self._overlay is None or self._overlay.size != size:
            self._overlay = Pose3dOverlay(self.skeleton.bones, self.colours,
                                          size, self.radius_3d,
                                          self.max_displacement_mm)
        no_person = scores is not None and not np.any(np.asarray(scores) > 0)
        return self._overlay.draw(before, after, ground_truth, no_person)

    def draw_flow_panels(self, flow_init: np.ndarray,
                         flow: np.ndarray) -> Tuple[np.ndarray, ...]:
        """Base flow, refined flow and their difference, (h, w, 2) px.

        Returns:
            tuple: three (h, w, 3) uint8 RGB pictures and a dict with
            ``scale`` (shared colour scale, px), ``diff_scale`` and
            ``diff_mean`` (mean |refined - base|, px).
        """
        return flow_pictures(flow_init, flow, self.flow_percentile)

    # -- whole grid ----------------------------------------------------
    def draw_frame(self,
                   image: np.ndarray,
                   keypoints_2d: np.ndarray,
                   keypoint_scores: np.ndarray,
                   pose3d_init: np.ndarray,
                   pose3d: np.ndarray,
                   flow_init: Optional[np.ndarray] = None,
                   flow: Optional[np.ndarray] = None,
                   sketch_mask: Optional[np.ndarray] = None,
                   title: str = '',
                   sketch_keypoints: Optional[np.ndarray] = None,
                   gt_pose3d: Optional[np.ndarray] = None,
                   gt_flow: Optional[np.ndarray] = None,
                   gt_flow_valid: Optional[np.ndarray] = None,
                   human_mask: Optional[np.ndarray] = None,
                   epe_panels: Optional[bool] = None) -> np.ndarray:
        """Draw one frame's grid.

        Args:
            image (np.ndarray): (H, W, 3) uint8 RGB frame.
            keypoints_2d (np.ndarray): (J, 2) px.
            keypoint_scores (np.ndarray): (J, ).
            pose3d_init (np.ndarray): (J, 3) metres, initial.
            pose3d (np.ndarray): (J, 3) metres, refined.
            flow_init (np.ndarray, optional): (H, W, 2) px base flow t->t+1.
            flow (np.ndarray, optional): (H, W, 2) px refined flow.
            sketch_mask (np.ndarray, optional): (H, W) bool pose sketch.
            title (str): text on the first panel (e.g. frame index).
            sketch_keypoints (np.ndarray, optional): (2, J, 2) px joints the
                sketch was drawn from, at t and t+1; without them the
                refined flow inside the mask stands for the sketch motion.
            gt_pose3d (np.ndarray, optional): (J, 3) metres, ground truth.
            gt_flow (np.ndarray, optional): (H, W, 2) px ground-truth flow.
            gt_flow_valid (np.ndarray, optional): (H, W) bool.
            human_mask (np.ndarray, optional): (H, W) bool, for the EPE on
                the person printed on the EPE panels.
            epe_panels (bool, optional): add the EPE column (blank when
                ``gt_flow`` is None, so a clip's grids keep one size);
                None adds it when ``gt_flow`` is given.

        Returns:
            np.ndarray: (2 Hp, 3 Wp, 3) uint8 RGB ((2 Hp, 4 Wp, 3) with the
            EPE column) for the panel size (Hp, Wp).
        """
        image = np.ascontiguousarray(image)
        size = self.panel_size_for(image.shape[:2])
        scores = np.asarray(keypoint_scores)
        # draw at panel resolution (cost grows with pixels)
        scale = min(size[0] / image.shape[0], size[1] / image.shape[1])
        small = resize(image, scale)
        label = f'{title}: 2D pose' if title else '2D pose'
        pose_panel = put_text(
            fit(
                self.draw_pose_2d(small,
                                  np.asarray(keypoints_2d) * scale, scores),
                size), label)
        panel_3d = self.draw_pose_3d(pose3d_init, pose3d, scores, gt_pose3d,
                                     size)
        has_flow = flow_init is not None and flow is not None
        if has_flow:
            small_init = resize(np.asarray(flow_init, np.float32), scale)
            small_flow = resize(np.asarray(flow, np.float32), scale)
            base_panel, refined_panel, diff_panel, info = flow_panels(
                small_init, small_flow, size, self.flow_percentile)
            sketch = sketch_motion_panel(small, scale, size,
                                         self.skeleton.bones, scores
                                         >= self.kpt_thr, info['scale'],
                                         sketch_mask, sketch_keypoints,
                                         small_flow)
        else:
            base_panel = blank_panel(size, 'no flow (last frame)')
            refined_panel, diff_panel = base_panel.copy(), base_panel.copy()
            sketch = blank_panel(size, 'no sketch')
        top = [pose_panel, panel_3d, diff_panel]
        bottom = [sketch, base_panel, refined_panel]
        if epe_panels or (epe_panels is None and gt_flow is not None):
            epe_top, epe_bottom = draw_epe_panels(size, scale, flow_init, flow,
                                                  gt_flow, gt_flow_valid,
                                                  human_mask,
                                                  self.flow_percentile)
            top.append(epe_top)
            bottom.append(epe_bottom)
        return np.concatenate(
            [np.concatenate(top, axis=1),
             np.concatenate(bottom, axis=1)],
            axis=0)

    def draw_clip(self, frames, sample, start: int = 0):
        """Yield the grid of each frame of a refined clip.

        The drawing edge: tensors become channel-last host arrays here,
        one frame at a time.

        Args:
            frames (Tensor | np.ndarray): (T, 3, H, W) uint8 RGB, the
                clip's packed input.
            sample (ClipDataSample | dict): the refiner's output:
                ``keypoint_scores`` (T, J), ``keypoints_2d`` (T, J, 2),
                ``pred_pose3d`` (C+1, T, J, 3) and optionally ``pred_flow``
                (C+1, P, 2, H, W), ``pred_sketch_mask`` (C+1, P, H, W),
                ``pred_keypoints_2d`` (C+1, T, J, 2) (the sketch was drawn
                from the last), plus any ground truth ``gt_pose3d``,
                ``gt_flow`` (P, 2, H, W), ``gt_flow_valid``, ``human_mask``.
            start (int): index of the first frame, for the titles.

        Yields:
            np.ndarray: one grid per frame (see :meth:`draw_frame`).
        """
        images = torch.as_tensor(frames).permute(0, 2, 3, 1)
        with_epe = sample.get('gt_flow') is not None and \
            sample.get('pred_flow') is not None

        def at(key, t, cycle=None):
            value = sample.get(key)
            if value is None or t >= value.shape[0 if cycle is None else 1]:
                return None
            value = torch.as_tensor(value if cycle is None else value[cycle])
            value = value[t].detach().cpu()
            return (value.movedim(0, -1) if key.endswith('flow') else
                    value).numpy()

        refined_2d = sample.get('pred_keypoints_2d')
        for t in range(len(images)):
            pair = t < len(images) - 1
            sketch = None
            if pair and refined_2d is not None:
                sketch = refined_2d[-1][t:t + 2].detach().cpu().numpy()
            yield self.draw_frame(
                images[t].cpu().numpy(),
                at('keypoints_2d', t),
                at('keypoint_scores', t),
                at('pred_pose3d', t, 0),
                at('pred_pose3d', t, -1),
                flow_init=at('pred_flow', t, 0),
                flow=at('pred_flow', t, -1),
                sketch_mask=at('pred_sketch_mask', t, -1),
                sketch_keypoints=sketch,
                title=f'frame {start + t}',
                gt_pose3d=at('gt_pose3d', t),
                gt_flow=at('gt_flow', t),
                gt_flow_valid=at('gt_flow_valid', t),
                human_mask=at('human_mask', t),
                epe_panels=with_epe)
