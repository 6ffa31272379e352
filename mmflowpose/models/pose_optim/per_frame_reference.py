"""The paper's pose step as written: a loop over frames (the reference).

BMVC 2022 optimises the joints ``X_t`` and camera ``C_t`` of one frame at a
time with Adam, frame ``t - 1`` held at its already optimised value; the
temporal and bone terms look back at that frame only. This module keeps
that loop, made fair, as the reference :class:`PoseOptimizer` is compared
with in tests and benchmarks. It reuses the batched optimiser's input
checks, cameras, objective (projection, flow sampling, smooth-L1 terms)
and solver, so the two differ only in how the problem is cut.
"""
from typing import Dict, List

import torch
from torch import Tensor

from mmflowpose.registry import MODELS
from ..losses.temporal_loss import reference_bone_lengths
from . import cameras
from .pose_optimizer import PoseOptimizer
from .solver import solve
from .windows import gather_windows

#: terms that are means over the window's frames whose frame t - 1 part is
#: exactly 0 (its target is its own optimised value), so the window length
#: times the term is frame t's own mean
PER_FRAME_MEANS = ('loss_3d', 'loss_temp_bones')


@MODELS.register_module()
class PerFrameReferenceOptimizer(PoseOptimizer):
    """Frame-by-frame pose step with the paper's weights (a reference).

    Frame ``t`` of clip ``b`` is solved alone (its joints and camera) on the
    two-frame window ``(t - 1, t)`` through :meth:`PoseOptimizer.objective`
    (same terms, weights, camera model and dense or sparse flow), with
    frame ``t - 1`` fixed at its optimised value:

    - L_2D is frame t's alone (frame t - 1's detections get score 0; L_2D
      is a masked mean);
    - L_3D and the bone term, whose frame t - 1 part is exactly 0 (the
      anchor of frame t - 1 is its optimised pose, the reference lengths
      are its bone lengths), are multiplied by the window length so they
      are frame t's means;
    - L_opt and the joint/camera parts of L_temp see the one pair
      ``(t - 1, t)``;
    - bone lengths are tied to the PREVIOUS optimised frame (the seed's
      scheme; frame 0 to its own initial lengths), not to one per-clip
      reference as in the batched optimiser.

    Every frame runs the configured optimiser (Adam, lr 1e-3 for the paper)
    for at most ``max_steps`` steps with the batched optimiser's early stop
    on the pose (:func:`.solver.solve`). Cameras start as in the batched
    optimiser (fitted over the whole clip, weak scale from the clip's
    median). Clips are solved one after another, so a clip's result does
    not depend on the others in the batch.

    Takes :class:`PoseOptimizer`'s arguments so a config swaps by ``type``;
    the window and chunk arguments are accepted and ignored (only two
    frames are ever in memory). Only ``weighting='paper'`` is supported.

    The result has :meth:`PoseOptimizer.optimize`'s layout; ``steps`` holds
    one step count per frame (clip-major, B * T entries) and every
    ``history`` entry also names its ``clip`` and ``frame``.

    Example:
        The paper preset of a refiner config, as its reference::

            cfg = dict(model.pose_optimizer,
                       type='PerFrameReferenceOptimizer')
            out = MODELS.build(cfg).optimize(init_pose, keypoints_2d,
                                             scores, flow,
                                             image_size=(H, W))

    Args:
        **kwargs: :class:`PoseOptimizer` arguments (``weighting`` must be
            ``'paper'``; ``window_size``, ``window_overlap``,
            ``windows_per_batch`` and ``chunk_frames`` are ignored).
    """

    def __init__(self, **kwargs):
        if kwargs.get('weighting', 'paper') != 'paper':
            raise ValueError('PerFrameReferenceOptimizer runs the paper '
                             "objective only: weighting must be 'paper', "
                             f"got {kwargs['weighting']!r}")
        super().__init__(**kwargs)
        self.chunk_frames = None  # the loop holds two frames at a time

    def _optimize(self, data: Dict, B: int, T: int, camera_in) -> Dict:
        """Solve checked clip data frame by frame, clip by clip."""
        data = self._init_camera(data)
        bones = self.skeleton.bone_index(data['init_pose'].device)
        start = data.get('start_pose', data['init_pose'])
        anchor = data.get('anchor_scale', 1.0)
        device = data['init_pose'].device
        poses, cams, history, steps = [], [], [], []
        for b in range(B):
            index = torch.tensor([b], device=device)
            clip_poses, clip_cams, clip_params = [], [], []
            for t in range(T):
                lo = max(t - 1, 0)
                frames = torch.arange(lo, t + 1, device=device)[None]
                window = gather_windows(data, index, frames)
                if t:
                    window['init_pose'] = torch.cat(
                        [clip_poses[-1], window['init_pose'][:, 1:]], 1)
                    window['scores'] = torch.cat([
                        torch.zeros_like(window['scores'][:, :1]),
                        window['scores'][:, 1:]
                    ], 1)
                    window['ref_lengths'] = reference_bone_lengths(
                        clip_poses[-1], bones)
                else:
                    window['ref_lengths'] = reference_bone_lengths(
                        window['init_pose'], bones)
                param0 = cameras.initial_parameter(window, self.camera)
                frame_log: List[Dict] = []
                pose, param, n_steps = solve(
                    self._frame_loss(window, clip_poses, clip_params, anchor,
                                     t + 1 - lo),
                    start[b:b + 1, t:t + 1], param0[:, -1:],
                    self.optim_wrapper, self.max_steps, self.min_steps,
                    self.check_every, self.stop_tol, b * T + t, frame_log)
                history.extend(
                    dict(entry, clip=b, frame=t) for entry in frame_log)
                steps.append(n_steps)
                full = torch.cat(clip_params[-1:] + [param], 1)
                camera = cameras.camera_values(full, window, self.camera)
                clip_poses.append(pose)
                clip_params.append(param)
                clip_cams.append(camera[:, -1:])
            poses.append(torch.cat(clip_poses, 1))
            cams.append(torch.cat(clip_cams, 1))
        return self._result(
            torch.cat(poses), torch.cat(cams), camera_in, history, steps)

    def _frame_loss(self, window: Dict, prev_poses: List[Tensor],
                    prev_params: List[Tensor], anchor: float, size: int):
        """The loss callable of one frame: the window's objective with the
        previous frame (if any) fixed in front of the unknown one."""

        def loss(pose: Tensor, param: Tensor) -> Dict[str, Tensor]:
            full_pose = torch.cat(prev_poses[-1:] + [pose], 1)
            full_param = torch.cat(prev_params[-1:] + [param], 1)
            terms = self.objective(full_pose, full_param, window, anchor)
            for key in PER_FRAME_MEANS:
                if key in terms:
                    terms[key] = terms[key] * size
            return terms

        return loss
