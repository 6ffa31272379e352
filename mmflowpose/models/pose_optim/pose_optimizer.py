"""Batched optimisation of a clip's 3D joints and cameras (pose from flow).

The whole clip (or each window of a long clip) is one tensor problem over
the joints ``X`` (B, T, J, 3) and per-frame cameras: no loop over frames.
The parts live in their own modules: :mod:`.inputs` (checks),
:mod:`.cameras` (camera models), :mod:`.objective` (the paper's terms;
:mod:`.noise_aware_objective` the alternative), :mod:`.windows` (windows,
chunks, blending) and :mod:`.solver` (the gradient loop).
"""
import functools
import math
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmflowpose.registry import MODELS
from ..losses.temporal_loss import reference_bone_lengths
from ..utils.skeleton import Skeleton, load_skeleton
from . import cameras
from .inputs import clip_data
from .noise_aware_objective import NoiseAwareObjective
from .objective import PaperObjective
from .solver import DEFAULT_OPTIM_WRAPPER, check_optim_wrapper, solve
from .windows import (OverlapBlender, gather_windows, optimize_in_chunks,
                      overlap_ramp, plan_windows)


@functools.lru_cache(maxsize=8)
def _cached_skeleton(name: str) -> Skeleton:
    return load_skeleton(name)


@MODELS.register_module()
class PoseOptimizer(nn.Module):
    """Refine 3D poses so that L_opt + L_3D + L_2D + L_temp is small.

    Cameras (``camera`` argument):

    - ``'weak'``: per-frame ``(s, tx, ty)`` (px/m, px), initialised by
      :func:`fit_weak_perspective` unless given. It is optimised as
      ``cam0 + s_ref * delta`` with ``s_ref`` the clip's median initial
      scale, so one optimiser step moves the camera about as many pixels as a
      1 mm pose step (in raw pixels it would barely move, design.md).
    - ``'perspective'``: fixed intrinsics (focal, centre, optional
      distortion and extrinsics ``R``, ``T`` in the H36M convention) and an
      optimised per-frame root translation (metres): the pose is
      root-relative (``init_pose`` minus its root joint) and the projected
      points are ``pose + translation`` (camera coordinates, or world
      coordinates when ``R``/``T`` are given).

    Early stop: every ``check_every`` steps, after ``min_steps``, stop when
    the mean absolute pose displacement per step (metres) of every window
    in the group is below ``stop_tol`` -- the pose, not the loss, because
    camera creep keeps the loss moving.

    Long clips: windows of ``window_size`` frames overlapping by
    ``window_overlap`` are solved ``windows_per_batch`` at a time (one
    batched problem each), so memory stays flat in the clip length; the
    overlaps are blended with linear ramps. Bone lengths are tied to ONE
    per-clip reference (median over the clip's initial frames) shared by
    all windows.

    Args:
        flow_loss (dict, optional): L_opt config; None disables it.
        pose3d_loss (dict, optional): L_3D config; None disables it.
        reprojection_loss (dict, optional): L_2D config; None disables it.
        temporal_loss (dict, optional): L_temp config; None disables it.
        camera (str): ``'weak'`` or ``'perspective'``. Defaults to 'weak'.
        optim_wrapper (dict): mmengine optimiser-wrapper config of the
            solver, built from the OPTIMIZERS registry per window group.
            Defaults to ``dict(optimizer=dict(type='Adam', lr=1e-3))``
            (the paper's).
        max_steps (int): most optimiser steps per window group. Defaults to
            1500.
        min_steps (int): no early stop before this step. Defaults to 50.
        check_every (int): steps between early-stop checks and history
            entries. Defaults to 10.
        stop_tol (float): pose displacement per step (metres) below which
            the optimisation stops; 0 disables the early stop. Defaults to
            1e-5.
        window_size (int, optional): frames per window; None solves whole
            clips. Defaults to 243.
        window_overlap (int): frames shared by consecutive windows.
            Defaults to 16.
        windows_per_batch (int): windows solved together. Defaults to 32.
        chunk_frames (int, optional): clips longer than this are processed
            in chunks of this many frames (overlapping by
            ``window_overlap``, blended with linear ramps), each chunk
            checked and copied only while it is solved, so the working
            memory does not grow with the clip length (only the output
            does). Bone lengths are then tied to a per-chunk reference.
            None processes the whole clip at once. Defaults to 4096.
        root_joint (int): root joint id (perspective mode). Defaults to 0.
        skeleton (str | dict): mmpose metainfo for the bones. Defaults to
            'h36m'.
        weighting (str): ``'paper'`` (the four losses above with the
            paper's fixed weights) or ``'noise_aware'`` (every term weighed
            by its measurement noise, :class:`NoiseAwareObjective`; the
            four loss configs are then ignored). Defaults to 'paper'.
        noise (dict, optional): :class:`NoiseAwareObjective` arguments for
            ``weighting='noise_aware'``. Defaults to None (its defaults).
    """

    def __init__(self,
                 flow_loss: Optional[Dict] = dict(type='FlowConsistencyLoss'),
                 pose3d_loss: Optional[Dict] = dict(
                     type='Pose3DConsistencyLoss'),
                 reprojection_loss: Optional[Dict] = dict(
                     type='Reprojection2DLoss'),
                 temporal_loss: Optional[Dict] = dict(type='TemporalLoss'),
                 camera: str = 'weak',
                 optim_wrapper: Dict = DEFAULT_OPTIM_WRAPPER,
                 max_steps: int = 1500,
                 min_steps: int = 50,
                 check_every: int = 10,
                 stop_tol: float = 1e-5,
                 window_size: Optional[int] = 243,
                 window_overlap: int = 16,
                 windows_per_batch: int = 32,
                 chunk_frames: Optional[int] = 4096,
                 root_joint: int = 0,
                 skeleton: Union[str, Dict] = 'h36m',
                 weighting: str = 'paper',
                 noise: Optional[Dict] = None):
        super().__init__()
        if weighting not in ('paper', 'noise_aware'):
            raise ValueError("weighting must be 'paper' or 'noise_aware', "
                             f'got {weighting!r}')
        if noise is not None and weighting != 'noise_aware':
            raise ValueError("noise=... is only used with weighting="
                             "'noise_aware'")
        self.camera = cameras.check_camera_mode(camera)
        self.optim_wrapper = check_optim_wrapper(optim_wrapper)
        if max_steps < 0 or min_steps < 0 or check_every < 1:
            raise ValueError('max_steps and min_steps must be >= 0 and '
                             f'check_every >= 1, got {max_steps}, '
                             f'{min_steps}, {check_every}')
        if window_size is not None and window_size < 2:
            raise ValueError(f'window_size must be >= 2 or None, got '
                             f'{window_size}')
        if window_size is not None and not (0 <= window_overlap <
                                            window_size):
            raise ValueError('window_overlap must be in [0, window_size), '
                             f'got {window_overlap}')
        if chunk_frames is not None and chunk_frames <= max(
                2 * window_overlap, 2):
            raise ValueError('chunk_frames must exceed twice window_overlap '
                             f'(and 2), got {chunk_frames}')
        if windows_per_batch < 1:
            raise ValueError('windows_per_batch must be >= 1, got '
                             f'{windows_per_batch}')
        self.max_steps = max_steps
        self.min_steps = min_steps
        self.check_every = check_every
        self.stop_tol = stop_tol
        self.window_size = window_size
        self.window_overlap = window_overlap
        self.windows_per_batch = windows_per_batch
        self.chunk_frames = chunk_frames
        self.root_joint = root_joint
        if isinstance(skeleton, Skeleton):
            self.skeleton = skeleton
        elif isinstance(skeleton, str):
            self.skeleton = _cached_skeleton(skeleton)
        else:
            self.skeleton = load_skeleton(skeleton)
        self.weighting = weighting
        self.noise_objective = None
        self.paper_objective = None
        if weighting == 'noise_aware':
            self.noise_objective = NoiseAwareObjective(**(noise or {}))
        else:
            self.paper_objective = PaperObjective(flow_loss, pose3d_loss,
                                                  reprojection_loss,
                                                  temporal_loss)

    @property
    def lr(self) -> float:
        """Learning rate of the configured optimiser (None if unset)."""
        return self.optim_wrapper['optimizer'].get('lr')

    def objective(self,
                  pose: Tensor,
                  cam_param: Tensor,
                  data: Dict,
                  anchor_scale: float = 1.0) -> Dict[str, Tensor]:
        """Weighted loss terms for a batch of windows.

        Args:
            pose (Tensor): (N, T, J, 3) joints (metres).
            cam_param (Tensor): (N, T, 3) optimised camera parameter.
            data (dict): window data (``init_pose``, ``keypoints_2d``,
                ``scores``, ``ref_lengths``, the camera fields and the
                optional flow fields).
            anchor_scale (float): multiplies the anchors to the initial
                estimate (L_3D; and the velocity anchor when noise-aware).
                Defaults to 1.0.

        Returns:
            dict[str, Tensor]: scalar terms, see :class:`PaperObjective` and
            :class:`NoiseAwareObjective`.
        """
        camera = cameras.camera_values(cam_param, data, self.camera)
        points = cameras.project_joints(pose, camera, data, self.camera)
        bones = self.skeleton.bone_index(pose.device)
        terms = self.noise_objective or self.paper_objective
        return terms(pose, camera, points, data, bones, anchor_scale)

    def optimize(self,
                 init_pose: Tensor,
                 keypoints_2d: Tensor,
                 scores: Optional[Tensor] = None,
                 flow: Optional[Tensor] = None,
                 joint_flow: Optional[Tensor] = None,
                 camera: Optional[Union[Tensor, Dict]] = None,
                 image_size: Optional[Tuple[int, int]] = None,
                 backward_flow: Optional[Tensor] = None,
                 backward_joint_flow: Optional[Tensor] = None,
                 flow_weights: Optional[Tensor] = None,
                 start_pose: Optional[Tensor] = None,
                 anchor_scale: float = 1.0) -> Dict:
        """Optimise the joints and cameras of B clips of T frames.

        Note:
            B clips, T frames, P = T - 1 pairs, J joints, H x W flow size.

        Args:
            init_pose (Tensor): (B, T, J, 3) initial joints in metres
                (camera axes; weak mode uses x, y; perspective mode makes it
                root-relative). Must be finite.
            keypoints_2d (Tensor): (B, T, J, 2) detections in px; NaN =
                missing.
            scores (Tensor, optional): (B, T, J) detection scores; missing
                or ``<= score_thr`` detections are masked. Defaults to None.
            flow (Tensor, optional): (B, P, 2, H, W) forward flow in px
                (pair p = frame p -> p + 1, channel 0 = x).
            joint_flow (Tensor, optional): (B, P, J, 2) forward flow at the
                joints of frame p, in px; NaN = unknown.
            camera (Tensor | dict, optional): weak: (B, T, 3) initial
                ``(s, tx, ty)``, None fits it. Perspective (required): dict
                with ``focal`` and ``center`` ((2,), (B, 2) or (B, T, 2)
                px), optional ``radial`` (.., K<=3), ``tangential`` (.., 2),
                ``R`` (.., 3, 3) and ``T`` (.., 3) (H36M camera-to-world
                convention) and ``translation`` (B, T, 3) metres (None:
                fitted to the detections).
            image_size (tuple[int, int], optional): (H, W) of the frames
                the keypoints refer to; required with dense ``flow``. A
                flow of another size is sampled at rescaled points and its
                values rescaled to image px.
            backward_flow (Tensor, optional): (B, P, 2, H, W) backward flow
                for the occlusion check (with ``flow``).
            backward_joint_flow (Tensor, optional): (B, P, J, 2) backward
                flow at the joints of frame p + 1 (with ``joint_flow``).
            flow_weights (Tensor, optional): (B, P, J) L_opt joint weights.
            start_pose (Tensor, optional): (B, T, J, 3) where the joints
                start (a warm start, e.g. the previous cycle's result, with
                its camera as ``camera``); they stay anchored to
                ``init_pose``. Defaults to None (start at ``init_pose``).
            anchor_scale (float): multiplies the anchors to ``init_pose``
                (annealed over cycles). Defaults to 1.0.

        Returns:
            dict: ``pose`` (B, T, J, 3) optimised joints (root-relative in
            perspective mode), ``camera`` ((B, T, 3) weak camera, or the
            camera dict with the optimised ``translation`` (B, T, 3)),
            ``pose_camera`` (perspective only: ``pose + translation``),
            ``history`` (list of dicts: group, step, loss and terms every
            ``check_every`` steps) and ``steps`` (list of optimiser steps run
            per window group).
        """
        T = init_pose.shape[1] if init_pose.dim() == 4 else 0
        if not (anchor_scale >= 0 and math.isfinite(anchor_scale)):
            raise ValueError(f'anchor_scale must be >= 0, got {anchor_scale}')
        if self.chunk_frames is not None and T > self.chunk_frames:
            return self._optimize_chunks(
                dict(init_pose=init_pose, keypoints_2d=keypoints_2d,
                     scores=scores, flow=flow, joint_flow=joint_flow,
                     camera=camera, backward_flow=backward_flow,
                     backward_joint_flow=backward_joint_flow,
                     flow_weights=flow_weights, start_pose=start_pose),
                image_size, anchor_scale)
        data, B, T, J = self._check_inputs(init_pose, keypoints_2d, scores,
                                           flow, joint_flow, camera,
                                           image_size, backward_flow,
                                           backward_joint_flow, flow_weights)
        if start_pose is not None:
            if start_pose.shape != init_pose.shape or not bool(
                    torch.isfinite(start_pose).all()):
                raise ValueError('start_pose must be finite with the shape '
                                 f'of init_pose {tuple(init_pose.shape)}, '
                                 f'got {tuple(start_pose.shape)}')
            data['start_pose'] = start_pose.to(init_pose.dtype)
        data['anchor_scale'] = float(anchor_scale)
        return self._optimize(data, B, T, camera)

    def _check_inputs(self, init_pose, keypoints_2d, scores, flow,
                      joint_flow, camera, image_size, backward_flow,
                      backward_joint_flow, flow_weights):
        """Checked clip data and (B, T, J), see :func:`.inputs.clip_data`."""
        return clip_data(init_pose, keypoints_2d, scores, flow, joint_flow,
                         camera, image_size, backward_flow,
                         backward_joint_flow, flow_weights, self.camera,
                         self.skeleton)

    def _init_camera(self, data: Dict) -> Dict:
        """Camera start fields, see :func:`.cameras.init_camera`."""
        return cameras.init_camera(data, self.camera, self.root_joint)

    def _optimize(self, data: Dict, B: int, T: int, camera_in) -> Dict:
        """Solve the windows of checked clip data, group by group."""
        data = self._init_camera(data)
        if self.noise_objective is not None:
            data = self.noise_objective.prepare(data)
        ref = data['init_pose']
        data['ref_lengths'] = reference_bone_lengths(
            ref, self.skeleton.bone_index(ref.device))
        size, windows = plan_windows(B, T, self.window_size,
                                     self.window_overlap)
        cam_key = 'cam0' if self.camera == 'weak' else 'translation'
        blender = OverlapBlender(ref, data[cam_key])
        ramp = overlap_ramp(size, self.window_overlap, ref) \
            if len(windows) > B else ref.new_ones(size)
        history, steps = [], []
        offsets = torch.arange(size, device=ref.device)
        for group, first in enumerate(
                range(0, len(windows), self.windows_per_batch)):
            chunk = windows[first:first + self.windows_per_batch]
            index = torch.tensor([b for b, _ in chunk], device=ref.device)
            frames = torch.tensor([s for _, s in chunk],
                                  device=ref.device)[:, None] + offsets
            window = gather_windows(data, index, frames)
            anchor = window.get('anchor_scale', 1.0)
            pose, cam, n_steps = solve(
                lambda p, c: self.objective(p, c, window, anchor),
                window.get('start_pose', window['init_pose']),
                cameras.initial_parameter(window, self.camera),
                self.optim_wrapper, self.max_steps, self.min_steps,
                self.check_every, self.stop_tol, group, history)
            steps.append(n_steps)
            cam = cameras.camera_values(cam, window, self.camera)
            blender.add(index, frames, pose, cam,
                        ramp.expand(len(chunk), size))
        pose, cam = blender.result()
        return self._result(pose, cam, camera_in, history, steps)

    def _result(self, pose: Tensor, cam: Tensor, camera_in,
                history: List[Dict], steps: List[int]) -> Dict:
        result = dict(
            pose=pose,
            camera=cameras.camera_result(cam, self.camera, camera_in),
            history=history,
            steps=steps)
        if self.camera == 'perspective':
            result['pose_camera'] = pose + cam[..., None, :]
        return result

    def _optimize_chunks(self, inputs: Dict, image_size,
                         anchor_scale: float) -> Dict:
        """:meth:`optimize` chunk by chunk (see ``chunk_frames``)."""
        pose, cam, history, steps = optimize_in_chunks(
            functools.partial(self.optimize, image_size=image_size,
                              anchor_scale=anchor_scale), inputs,
            self.chunk_frames, self.window_overlap)
        return self._result(pose, cam, inputs['camera'], history, steps)

    def __repr__(self) -> str:
        terms = self.noise_objective or self.paper_objective
        return (f'{self.__class__.__name__}(camera={self.camera!r}, '
                f'optimizer={self.optim_wrapper["optimizer"]}, '
                f'max_steps={self.max_steps}, '
                f'window_size={self.window_size}, '
                f'window_overlap={self.window_overlap}, '
                f'objective={terms})')
