"""Batched optimisation of a clip's 3D joints and cameras (pose from flow).

The whole clip (or each window of a long clip) is one tensor problem over
the joints ``X`` (B, T, J, 3) and per-frame cameras: no loop over frames.
"""
import copy
import functools
import math
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmflowpose.registry import MODELS
from ..losses.flow_consistency_loss import joint_flow_from_dense
from ..losses.temporal_loss import reference_bone_lengths
from ..utils.checks import check_shape
from ..utils.geometry import (camera_to_world, fit_perspective_translation,
                              fit_weak_perspective, project_perspective,
                              project_weak_perspective, world_to_camera)
from ..utils.skeleton import Skeleton, load_skeleton
from .noise_aware_objective import NoiseAwareObjective


@functools.lru_cache(maxsize=8)
def _cached_skeleton(name: str) -> Skeleton:
    return load_skeleton(name)


_PER_FRAME_KEYS = ('focal', 'center', 'radial', 'tangential', 'R', 'T',
                   'translation')


@MODELS.register_module()
class PoseOptimizer(nn.Module):
    """Refine 3D poses so that L_opt + L_3D + L_2D + L_temp is small.

    Cameras (``camera`` argument):

    - ``'weak'``: per-frame ``(s, tx, ty)`` (px/m, px), initialised by
      :func:`fit_weak_perspective` unless given. It is optimised as
      ``cam0 + s_ref * delta`` with ``s_ref`` the clip's median initial
      scale, so one Adam step moves the camera about as many pixels as a
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
        lr (float): Adam learning rate. Defaults to 1e-3.
        max_steps (int): most Adam steps per window group. Defaults to 1500.
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
        seed (int): torch seed used inside :meth:`optimize` (restored
            afterwards). Defaults to 0.
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
                 lr: float = 1e-3,
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
                 seed: int = 0,
                 weighting: str = 'paper',
                 noise: Optional[Dict] = None):
        super().__init__()
        if weighting not in ('paper', 'noise_aware'):
            raise ValueError("weighting must be 'paper' or 'noise_aware', "
                             f'got {weighting!r}')
        if noise is not None and weighting != 'noise_aware':
            raise ValueError("noise=... is only used with weighting="
                             "'noise_aware'")
        if camera not in ('weak', 'perspective'):
            raise ValueError("camera must be 'weak' or 'perspective', got "
                             f'{camera!r}')
        if not lr > 0:
            raise ValueError(f'lr must be > 0, got {lr}')
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
        self.flow_loss = self._build(flow_loss)
        self.pose3d_loss = self._build(pose3d_loss)
        self.reprojection_loss = self._build(reprojection_loss)
        self.temporal_loss = self._build(temporal_loss)
        self.camera = camera
        self.lr = lr
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
        self.seed = seed
        self.weighting = weighting
        self.noise_objective = None
        if weighting == 'noise_aware':
            self.noise_objective = NoiseAwareObjective(**(noise or {}))

    @staticmethod
    def _build(cfg: Optional[Dict]) -> Optional[nn.Module]:
        if cfg is None:
            return None
        return MODELS.build(copy.deepcopy(cfg))

    # ------------------------------------------------------------------
    # Objective (shared by the batched solver and reference loops)
    # ------------------------------------------------------------------
    def camera_values(self, cam_param: Tensor, data: Dict) -> Tensor:
        """Camera in natural units from the optimised parameter.

        Args:
            cam_param (Tensor): (N, T, 3) optimised camera parameter.
            data (dict): window data (see :meth:`objective`).

        Returns:
            Tensor: (N, T, 3) weak camera ``(s, tx, ty)`` or perspective
            root translation (metres).
        """
        if self.camera == 'weak':
            return data['cam0'] + data['cam_scale'][:, None, None] * cam_param
        return cam_param

    def project(self, pose: Tensor, camera: Tensor, data: Dict) -> Tensor:
        """Project (N, T, J, 3) joints with (N, T, 3) cameras to px."""
        if self.camera == 'weak':
            return project_weak_perspective(pose, camera)
        points = pose + camera[..., None, :]
        if data.get('R') is not None:
            points = world_to_camera(points, data['R'], data['T'])
        return project_perspective(points, data['focal'], data['center'],
                                   data.get('radial'),
                                   data.get('tangential'))

    def objective(self,
                  pose: Tensor,
                  cam_param: Tensor,
                  data: Dict,
                  anchor_scale: float = 1.0) -> Dict[str, Tensor]:
        """Weighted loss terms for a batch of windows.

        Args:
            pose (Tensor): (N, T, J, 3) joints (metres).
            cam_param (Tensor): (N, T, 3) camera parameter.
            data (dict): ``init_pose``, ``keypoints_2d``, ``scores``,
                optional ``flow``/``joint_flow``/``backward_*``/
                ``flow_weights``, ``ref_lengths`` and the camera fields.
            anchor_scale (float): multiplies the anchors to the initial
                estimate (L_3D; and the velocity anchor when noise-aware).
                Defaults to 1.0.

        Returns:
            dict[str, Tensor]: scalar terms ``loss_opt``, ``loss_3d``,
            ``loss_2d``, ``loss_temp_joints``, ``loss_temp_camera``,
            ``loss_temp_bones`` (enabled ones only); noise-aware:
            ``loss_2d``, ``loss_opt``, ``loss_3d``, ``loss_vel``,
            ``loss_acc``, ``loss_bones``, ``loss_camera``.
        """
        camera = self.camera_values(cam_param, data)
        if self.noise_objective is not None:
            points = self.project(pose, camera, data)
            return self.noise_objective(
                pose, camera, points, data,
                self.skeleton.bone_index(pose.device), anchor_scale)
        terms = {}
        need_2d = self.reprojection_loss is not None or (
            self.flow_loss is not None and pose.shape[1] > 1 and
            (data.get('flow') is not None
             or data.get('joint_flow') is not None))
        points = self.project(pose, camera, data) if need_2d else None
        if self.flow_loss is not None and pose.shape[1] > 1 and (
                data.get('flow') is not None
                or data.get('joint_flow') is not None):
            if data.get('flow_scale') is not None:
                terms['loss_opt'] = self._rescaled_flow_loss(points, data)
            else:
                terms['loss_opt'] = self.flow_loss(
                    points, data.get('flow'), data.get('joint_flow'),
                    data.get('flow_weights'), data.get('backward_flow'),
                    data.get('backward_joint_flow'))
        if self.pose3d_loss is not None:
            terms['loss_3d'] = anchor_scale * self.pose3d_loss(
                pose, data['init_pose'])
        if self.reprojection_loss is not None:
            terms['loss_2d'] = self.reprojection_loss(
                points, data['keypoints_2d'], data['scores'])
        if self.temporal_loss is not None:
            parts = self.temporal_loss(
                pose,
                camera,
                bones=self.skeleton.bone_index(pose.device),
                ref_lengths=data['ref_lengths'],
                return_parts=True)
            terms.update({f'loss_temp_{k}': v for k, v in parts.items()})
        return terms

    def _rescaled_flow_loss(self, points: Tensor, data: Dict) -> Tensor:
        """L_opt with a flow whose size differs from the image's.

        The flow (in its own px) is sampled at the joints mapped to the
        flow grid and converted back to image px, so the loss stays in
        image px.
        """
        scale = data['flow_scale']
        start = points[:, :-1] * scale
        fwd, inside = joint_flow_from_dense(data['flow'], start)
        nan = torch.full_like(fwd, float('nan'))
        joint_flow = torch.where(inside[..., None], fwd / scale, nan)
        back = None
        if data.get('backward_flow') is not None:
            with torch.no_grad():
                bwd, inside = joint_flow_from_dense(data['backward_flow'],
                                                    (start + fwd).detach())
                back = torch.where(inside[..., None], bwd / scale, nan)
        return self.flow_loss(
            points,
            joint_flow=joint_flow,
            weights=data.get('flow_weights'),
            backward_joint_flow=back)

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
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
            ``check_every`` steps) and ``steps`` (list of Adam steps run per
            window group).
        """
        T = init_pose.shape[1] if init_pose.dim() == 4 else 0
        if not (anchor_scale >= 0 and math.isfinite(anchor_scale)):
            raise ValueError(f'anchor_scale must be >= 0, got {anchor_scale}')
        if self.chunk_frames is not None and T > self.chunk_frames:
            return self._optimize_chunks(init_pose, keypoints_2d, scores,
                                         flow, joint_flow, camera,
                                         image_size, backward_flow,
                                         backward_joint_flow, flow_weights,
                                         start_pose, anchor_scale)
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
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            return self._optimize(data, B, T, J, camera)

    def _optimize_chunks(self, init_pose, keypoints_2d, scores, flow,
                         joint_flow, camera, image_size, backward_flow,
                         backward_joint_flow, flow_weights, start_pose,
                         anchor_scale) -> Dict:
        """:meth:`optimize` chunk by chunk (see ``chunk_frames``)."""
        B, T = init_pose.shape[:2]
        size, overlap = self.chunk_frames, self.window_overlap
        starts = list(range(0, T - size, size - overlap)) + [T - size]
        ramp = self._ramp(size, init_pose.float())

        def frames(value, first, last):
            # per-frame tensors (B, T, ...) and per-pair ones (B, T-1, ...)
            if isinstance(value, Tensor) and value.dim() >= 2 and \
                    value.shape[0] == B and value.shape[1] in (T, T - 1):
                stop = last if value.shape[1] == T else last - 1
                return value[:, first:stop]
            if isinstance(value, dict):
                return {k: frames(v, first, last) for k, v in value.items()}
            return value

        pose_out = cam_out = None
        weight = init_pose.new_zeros(B, T, dtype=torch.float32)
        history, steps, camera_out = [], [], None
        for start in starts:
            args = [
                frames(v, start, start + size)
                for v in (init_pose, keypoints_2d, scores, flow, joint_flow,
                          camera)
            ]
            extra = [
                frames(v, start, start + size) for v in (
                    backward_flow, backward_joint_flow, flow_weights,
                    start_pose)
            ]
            part = self.optimize(*args, image_size=image_size,
                                 backward_flow=extra[0],
                                 backward_joint_flow=extra[1],
                                 flow_weights=extra[2],
                                 start_pose=extra[3],
                                 anchor_scale=anchor_scale)
            w = ramp if len(starts) > 1 else torch.ones_like(ramp)
            if start == starts[0]:
                w = torch.where(torch.arange(size) < overlap,
                                torch.ones_like(w), w)
            if start == starts[-1]:
                w = torch.where(torch.arange(size) >= size - overlap,
                                torch.ones_like(w), w)
            cam = part['camera'] if isinstance(part['camera'], Tensor) \
                else part['camera']['translation']
            if pose_out is None:
                pose_out = part['pose'].new_zeros(B, T,
                                                  *part['pose'].shape[2:])
                cam_out = cam.new_zeros(B, T, cam.shape[-1])
                camera_out = part['camera']
            span = slice(start, start + size)
            pose_out[:, span] += part['pose'] * w[:, None, None]
            cam_out[:, span] += cam * w[:, None]
            weight[:, span] += w
            history.extend(dict(entry, chunk_start=start)
                           for entry in part['history'])
            steps.extend(part['steps'])
        pose_out /= weight[..., None, None]
        cam_out /= weight[..., None]
        result = dict(pose=pose_out, history=history, steps=steps)
        if self.camera == 'weak':
            result['camera'] = cam_out
        else:
            camera_out = dict(camera_out, translation=cam_out)
            for key, value in dict(camera).items():
                if key != 'translation':
                    camera_out[key] = value
            result['camera'] = camera_out
            result['pose_camera'] = pose_out + cam_out[..., None, :]
        return result

    # ------------------------------------------------------------------
    def _check_inputs(self, init_pose, keypoints_2d, scores, flow,
                      joint_flow, camera, image_size, backward_flow,
                      backward_joint_flow, flow_weights):
        check_shape(init_pose, ['B', 'T', 'J', 3], 'init_pose')
        B, T, J = init_pose.shape[:3]
        if B == 0 or T == 0:
            raise ValueError(f'empty clip: init_pose has shape '
                             f'{tuple(init_pose.shape)} (B, T, J, 3)')
        self.skeleton.check_joints(J, 'init_pose')
        if not torch.isfinite(init_pose).all():
            raise ValueError('init_pose must be finite (fill missing 3D '
                             'joints before optimising)')
        if keypoints_2d.shape != (B, T, J, 2):
            raise ValueError(f'keypoints_2d must have shape {(B, T, J, 2)}, '
                             f'got {tuple(keypoints_2d.shape)}')
        if scores is None:
            scores = torch.ones_like(keypoints_2d[..., 0])
        elif scores.shape != (B, T, J):
            raise ValueError(f'scores must have shape {(B, T, J)}, got '
                             f'{tuple(scores.shape)}')
        if flow is not None and joint_flow is not None:
            raise ValueError('give flow or joint_flow, not both')
        data = dict(
            init_pose=init_pose,
            keypoints_2d=keypoints_2d.to(init_pose.dtype),
            scores=scores.to(init_pose.dtype))
        if flow is not None:
            check_shape(flow, ['B', 'P', 2, 'H', 'W'], 'flow')
            if flow.shape[:2] != (B, T - 1):
                raise ValueError(
                    f'pose has {T} frames but flow has {flow.shape[1]} '
                    f'pairs; expected (B, P) = {(B, T - 1)}')
            if image_size is None:
                raise ValueError('image_size (H, W) is required to sample a '
                                 'dense flow at the projected joints')
            h, w = flow.shape[-2:]
            data['flow'] = flow.to(init_pose.dtype)
            if (h, w) != tuple(image_size):
                sx = (w - 1) / max(image_size[1] - 1, 1)
                sy = (h - 1) / max(image_size[0] - 1, 1)
                scale = init_pose.new_tensor([sx, sy])
                data['flow_scale'] = scale
            if backward_flow is not None:
                if backward_flow.shape != flow.shape:
                    raise ValueError('backward_flow must have the shape of '
                                     f'flow {tuple(flow.shape)}')
                data['backward_flow'] = backward_flow.to(init_pose.dtype)
        if joint_flow is not None:
            if joint_flow.shape != (B, T - 1, J, 2):
                raise ValueError(
                    f'pose has {T} frames and {J} joints but joint_flow has '
                    f'shape {tuple(joint_flow.shape)}; expected '
                    f'{(B, T - 1, J, 2)}')
            data['joint_flow'] = joint_flow.to(init_pose.dtype)
            if backward_joint_flow is not None:
                if backward_joint_flow.shape != joint_flow.shape:
                    raise ValueError('backward_joint_flow must have the '
                                     'shape of joint_flow')
                data['backward_joint_flow'] = backward_joint_flow.to(
                    init_pose.dtype)
        if flow_weights is not None:
            if flow_weights.shape != (B, T - 1, J):
                raise ValueError(f'flow_weights must have shape '
                                 f'{(B, T - 1, J)}, got '
                                 f'{tuple(flow_weights.shape)}')
            data['flow_weights'] = flow_weights.to(init_pose.dtype)
        if self.camera == 'weak':
            if camera is not None:
                if not isinstance(camera, Tensor) or camera.shape != (B, T,
                                                                      3):
                    raise ValueError('camera must be a (B, T, 3) tensor '
                                     '(s, tx, ty) in weak mode')
                data['cam0'] = camera.to(init_pose.dtype)
        else:
            if not isinstance(camera, dict) or 'focal' not in camera or \
                    'center' not in camera:
                raise ValueError("perspective mode needs camera=dict(focal="
                                 "..., center=..., [radial, tangential, R, "
                                 "T, translation])")
            unknown = set(camera) - set(_PER_FRAME_KEYS)
            if unknown:
                raise ValueError(f'unknown camera fields {sorted(unknown)}; '
                                 f'expected {list(_PER_FRAME_KEYS)}')
            if ('R' in camera) != ('T' in camera):
                raise ValueError('give both R and T (extrinsics) or neither')
            for key, value in camera.items():
                if value is None:
                    continue
                data[key] = self._per_frame(
                    torch.as_tensor(value, dtype=init_pose.dtype,
                                    device=init_pose.device), key, B, T)
        return data, B, T, J

    @staticmethod
    def _per_frame(value: Tensor, key: str, B: int, T: int) -> Tensor:
        """Expand a camera field to (B, T, ...) (a view, no copy)."""
        tail = {'R': 2}.get(key, 1)
        if key == 'T' and value.shape[-2:] == (3, 1):
            value = value[..., 0]
        lead = value.shape[:value.ndim - tail]
        if len(lead) > 2:
            raise ValueError(f'camera[{key!r}] has too many leading dims: '
                             f'{tuple(value.shape)}')
        if len(lead) == 1:
            value = value[:, None]
        if len(lead) == 0:
            value = value[None, None]
        try:
            return value.expand(B, T, *value.shape[2:])
        except RuntimeError:
            raise ValueError(f'camera[{key!r}] of shape {tuple(value.shape)} '
                             f'does not broadcast to (B, T) = {(B, T)}')

    def _windows(self, B: int, T: int) -> Tuple[int, List[Tuple[int, int]]]:
        size = T if self.window_size is None or T <= self.window_size \
            else self.window_size
        if size == T:
            starts = [0]
        else:
            stride = size - self.window_overlap
            starts = list(range(0, T - size, stride)) + [T - size]
        return size, [(b, s) for b in range(B) for s in starts]

    def _ramp(self, size: int, ref: Tensor) -> Tensor:
        i = torch.arange(size, dtype=ref.dtype, device=ref.device)
        ramp = torch.minimum((i + 1) / (self.window_overlap + 1),
                             (size - i) / (self.window_overlap + 1))
        return ramp.clamp(max=1.0)

    def _init_camera(self, data: Dict) -> Dict:
        """Fill ``cam0``/``cam_scale`` (weak) or ``translation``."""
        mask = (data['scores'] > 0) & torch.isfinite(data['scores'])
        weights = mask.to(data['init_pose'].dtype)
        if self.camera == 'weak':
            if 'cam0' not in data:
                data['cam0'] = fit_weak_perspective(data['init_pose'],
                                                    data['keypoints_2d'],
                                                    weights)
            scale = data['cam0'][..., 0].abs()
            scale = torch.where(scale > 0, scale, torch.full_like(scale, 1.))
            data['cam_scale'] = scale.median(dim=1).values.clamp_min(1.0)
            data['px_per_m'] = data['cam_scale']
            return data
        root = data['init_pose'][..., self.root_joint:self.root_joint + 1, :]
        data['init_pose'] = data['init_pose'] - root
        if data.get('start_pose') is not None:
            start = data['start_pose']
            data['start_pose'] = start - start[..., self.root_joint:self.
                                               root_joint + 1, :]
        if data.get('translation') is None:
            rel = data['init_pose']
            if data.get('R') is not None:
                rel = rel @ data['R']  # world axes -> camera axes
            trans = fit_perspective_translation(rel, data['keypoints_2d'],
                                                data['focal'],
                                                data['center'], weights)
            if data.get('R') is not None:
                trans = camera_to_world(trans[..., None, :], data['R'],
                                        data['T'])[..., 0, :]
            data['translation'] = trans
        # px per metre at the subject: focal length / depth
        depth = data['translation'][..., 2]
        if data.get('R') is not None:
            cam = world_to_camera(data['translation'][..., None, :],
                                  data['R'], data['T'])[..., 0, :]
            depth = cam[..., 2]
        ppm = data['focal'].mean(-1) / depth.abs().clamp_min(1e-3)
        data['px_per_m'] = ppm.median(dim=1).values
        return data

    def _gather(self, data: Dict, index: Tensor, frames: Tensor) -> Dict:
        """Window data: (G, W, ...) per-frame, (G, W-1, ...) per-pair."""
        out = {}
        pair_frames = frames[:, :-1]
        for key, value in data.items():
            if key in ('cam_scale', 'ref_lengths', 'px_per_m', 'sigma_2d',
                       'sigma_flow'):
                out[key] = value[index]
            elif key in ('flow_scale', 'anchor_scale'):
                out[key] = value
            elif key in ('flow', 'joint_flow', 'backward_flow',
                         'backward_joint_flow', 'flow_weights'):
                out[key] = value[index[:, None], pair_frames]
            else:
                out[key] = value[index[:, None], frames]
        return out

    def _optimize(self, data: Dict, B: int, T: int, J: int,
                  camera_in) -> Dict:
        data = self._init_camera(data)
        if self.noise_objective is not None:
            data = self.noise_objective.prepare(data)
        data['ref_lengths'] = reference_bone_lengths(
            data['init_pose'], self.skeleton.bone_index(
                data['init_pose'].device))
        size, windows = self._windows(B, T)
        ref = data['init_pose']
        pose_sum = torch.zeros_like(ref)
        cam_key = 'cam0' if self.camera == 'weak' else 'translation'
        cam_sum = torch.zeros_like(data[cam_key])
        weight_sum = ref.new_zeros(B, T)
        ramp = self._ramp(size, ref) if len(windows) > B else \
            ref.new_ones(size)
        history, steps = [], []
        offsets = torch.arange(size, device=ref.device)
        for group, first in enumerate(
                range(0, len(windows), self.windows_per_batch)):
            chunk = windows[first:first + self.windows_per_batch]
            index = torch.tensor([b for b, _ in chunk], device=ref.device)
            frames = torch.tensor([s for _, s in chunk],
                                  device=ref.device)[:, None] + offsets
            window = self._gather(data, index, frames)
            pose, cam, n_steps = self._solve(window, group, history)
            steps.append(n_steps)
            if self.camera == 'weak':
                cam = self.camera_values(cam, window)
            w = ramp.expand(len(chunk), size)
            pose_sum.index_put_((index[:, None], frames),
                                pose * w[..., None, None],
                                accumulate=True)
            cam_sum.index_put_((index[:, None], frames), cam * w[..., None],
                               accumulate=True)
            weight_sum.index_put_((index[:, None], frames), w,
                                  accumulate=True)
        pose = pose_sum / weight_sum[..., None, None]
        cam = cam_sum / weight_sum[..., None]
        result = dict(pose=pose, history=history, steps=steps)
        if self.camera == 'weak':
            result['camera'] = cam
        else:
            cam_out = {
                k: v
                for k, v in dict(camera_in).items() if k != 'translation'
            }
            cam_out['translation'] = cam
            result['camera'] = cam_out
            result['pose_camera'] = pose + cam[..., None, :]
        return result

    def _solve(self, data: Dict, group: int,
               history: List[Dict]) -> Tuple[Tensor, Tensor, int]:
        """Adam on one batch of windows; returns pose, camera param, steps."""
        pose = data.get('start_pose', data['init_pose'])
        pose = pose.clone().requires_grad_(True)
        anchor_scale = data.get('anchor_scale', 1.0)
        if self.camera == 'weak':
            cam = torch.zeros_like(data['cam0']).requires_grad_(True)
        else:
            cam = data['translation'].clone().requires_grad_(True)
        optim = torch.optim.Adam([pose, cam], lr=self.lr)
        last = pose.detach().clone()
        step = 0
        while step < self.max_steps:
            optim.zero_grad(set_to_none=True)
            terms = self.objective(pose, cam, data, anchor_scale)
            if not terms:
                break
            loss = sum(terms.values())
            loss.backward()
            optim.step()
            step += 1
            if step % self.check_every == 0 or step == self.max_steps:
                with torch.no_grad():
                    moved = (pose - last).abs().mean(dim=(1, 2, 3))
                    moved = moved.max().item() / self.check_every
                    last = pose.detach().clone()
                entry = dict(group=group, step=step, loss=loss.item(),
                             pose_step=moved)
                entry.update({k: v.item() for k, v in terms.items()})
                history.append(entry)
                if step >= self.min_steps and moved < self.stop_tol:
                    break
        return pose.detach(), cam.detach(), step

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(camera={self.camera!r}, '
                f'lr={self.lr}, max_steps={self.max_steps}, '
                f'window_size={self.window_size}, '
                f'window_overlap={self.window_overlap}, '
                f'flow_loss={self.flow_loss}, pose3d_loss={self.pose3d_loss}, '
                f'reprojection_loss={self.reprojection_loss}, '
                f'temporal_loss={self.temporal_loss})')
