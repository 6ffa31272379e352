"""Pose sketch: bones -> sparse flow on the limbs, gated by the base flow.

The sketch turns the 2D joints of a person at frames t and t+1 into a sparse
flow field on frame t. Two shapes: points sampled along every bone, each
writing its displacement into a small square (the paper's), or a capsule
around every bone whose radius scales with the person's size (limb-wide
bands that do not spill across limb outlines). A gate then keeps only the
pixels where the pose's motion is more trustworthy than the network's flow
(see :meth:`PoseSketchFlowHead.gate`). Composing the sketch over a flow
network's own prediction gives the target flow used to fine-tune it.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from mmflowpose.models.utils.checks import check_shape
from mmflowpose.models.utils.keypoint_box import bbox_diagonal
from mmflowpose.models.utils.sampling import sample_at_points
from mmflowpose.models.utils.skeleton import Skeleton
from mmflowpose.registry import MODELS
from .sketch_gate import Frames, compose_sketch, gate_sketch
from .sketch_joints import (Scores, bone_pairs, confident_joints,
                            inside_image, points_along_bones)
from .sketch_paint import paint_capsules, paint_squares


@MODELS.register_module()
class PoseSketchFlowHead(nn.Module):
    """Draw the pose sketch flow and compose the target flow.

    Convention: pixel centres sit at integer coordinates (as in
    :func:`sample_at_points`). Only bones whose two joints are confident
    and inside the image at t and at t+1 paint (a joint outside the frame
    is a guess: it never paints, whatever the gate says).

    Squares (``limb_scale`` None): a point ``p`` paints the ``S x S``
    pixels ``round(p) + o`` with ``o`` in ``[-(S // 2), S - S // 2 - 1]``
    on both axes, clipped to the image. A pixel covered by several squares
    takes the displacement of the point nearest to it; exact ties go to the
    lowest point index, points ordered bone by bone in ``bones`` order and
    from the first to the second joint of each bone.

    Capsules (``limb_scale`` set): every bone paints the pixels within
    ``r = limb_scale * d`` px of its segment at t, ``d`` the diagonal of
    the bounding box of the confident joints (clamped to ``[min_radius,
    max_radius]``), with the joints' displacements interpolated along the
    bone; the nearest bone wins (see :func:`paint_capsules`).

    Args:
        bones (str | Skeleton | sequence): skeleton name for
            :func:`load_skeleton`, a :class:`Skeleton`, or (E, 2) joint-id
            pairs. Defaults to ``'h36m'``.
        points_per_bone (int): K points per bone, both joints included
            (squares only). Defaults to 22.
        square_size (int): side S of each square in px when
            ``square_scale`` is None, else its lower bound. Defaults to 5.
        square_scale (float, optional): if set, S is this fraction of the
            bounding-box diagonal of the person's confident joints at t
            (per item), rounded, at least ``square_size``. Defaults to None.
        max_square_size (int): upper bound of S in px. Defaults to 63.
        score_thr (float): bones with an end whose confidence is below this
            are skipped. Defaults to 0.3.
        gate_thr (float, optional): if set and a base flow is given, drop
            points (squares) or pixels (capsules) whose displacement differs
            from the base flow there by more than this many px. Defaults to
            None.
        limb_scale (float, optional): capsule radius as a fraction of the
            person's bounding-box diagonal; None paints squares. Defaults
            to None.
        min_radius (float): lower bound of the capsule radius, px.
            Defaults to 1.0.
        max_radius (float): upper bound of the capsule radius, px.
            Defaults to 32.0.
        photo_thr (float, optional): the base flow is distrusted where its
            local warping error (0-255 colour units, see
            :func:`photometric_error`) exceeds this. Defaults to None.
        photo_window (int): side of the window the warping error is
            averaged over, px. Defaults to 5.
        photo_gain (bool): with frames, paint only pixels whose local
            warping error under the sketch is below the base flow's.
            Defaults to True.
        fb_alpha (float): relative tolerance of the forward-backward check
            (:func:`fb_inconsistent`). Defaults to 0.01.
        fb_beta (float): absolute tolerance of that check, px^2. Defaults
            to 0.5.
    """

    def __init__(self,
                 bones: Union[str, Skeleton, Sequence] = 'h36m',
                 points_per_bone: int = 22,
                 square_size: int = 5,
                 square_scale: Optional[float] = None,
                 max_square_size: int = 63,
                 score_thr: float = 0.3,
                 gate_thr: Optional[float] = None,
                 limb_scale: Optional[float] = None,
                 min_radius: float = 1.0,
                 max_radius: float = 32.0,
                 photo_thr: Optional[float] = None,
                 photo_window: int = 5,
                 photo_gain: bool = True,
                 fb_alpha: float = 0.01,
                 fb_beta: float = 0.5) -> None:
        super().__init__()
        if int(points_per_bone) < 2:
            raise ValueError('points_per_bone must be >= 2, got '
                             f'{points_per_bone}')
        if int(square_size) < 1:
            raise ValueError(f'square_size must be >= 1, got {square_size}')
        if int(max_square_size) < int(square_size):
            raise ValueError(f'max_square_size ({max_square_size}) must be >= '
                             f'square_size ({square_size})')
        if square_scale is not None and not square_scale > 0:
            raise ValueError(f'square_scale must be > 0, got {square_scale}')
        if gate_thr is not None and not gate_thr > 0:
            raise ValueError(f'gate_thr must be > 0, got {gate_thr}')
        if limb_scale is not None and not limb_scale > 0:
            raise ValueError(f'limb_scale must be > 0, got {limb_scale}')
        if not 0 < min_radius <= max_radius:
            raise ValueError('need 0 < min_radius <= max_radius, got '
                             f'{min_radius} and {max_radius}')
        if photo_thr is not None and not photo_thr >= 0:
            raise ValueError(f'photo_thr must be >= 0, got {photo_thr}')
        if int(photo_window) < 1 or int(photo_window) % 2 == 0:
            raise ValueError('photo_window must be an odd number >= 1, got '
                             f'{photo_window}')
        if fb_alpha < 0 or fb_beta < 0:
            raise ValueError('fb_alpha and fb_beta must be >= 0, got '
                             f'{fb_alpha} and {fb_beta}')
        self.register_buffer('bones', bone_pairs(bones), persistent=False)
        self.points_per_bone = int(points_per_bone)
        self.square_size = int(square_size)
        self.square_scale = square_scale
        self.max_square_size = int(max_square_size)
        self.score_thr = float(score_thr)
        self.gate_thr = gate_thr
        self.limb_scale = limb_scale
        self.min_radius = float(min_radius)
        self.max_radius = float(max_radius)
        self.photo_thr = photo_thr
        self.photo_window = int(photo_window)
        self.photo_gain = bool(photo_gain)
        self.fb_alpha = float(fb_alpha)
        self.fb_beta = float(fb_beta)

    def __repr__(self) -> str:
        shape = (f'limb_scale={self.limb_scale}' if self.limb_scale else
                 f'points_per_bone={self.points_per_bone}, '
                 f'square_size={self.square_size}, '
                 f'square_scale={self.square_scale}')
        return (f'{self.__class__.__name__}(bones={self.bones.shape[0]}, '
                f'{shape}, score_thr={self.score_thr}, '
                f'gate_thr={self.gate_thr}, photo_thr={self.photo_thr}, '
                f'photo_gain={self.photo_gain})')

    # ------------------------------------------------------------------
    def sample_points(self, joints_t: Tensor, joints_t1: Tensor
                      ) -> Tuple[Tensor, Tensor]:
        """(N, E, K, 2) points along the bones at t and their (N, E, K, 2)
        displacements, px (see :func:`points_along_bones`)."""
        return points_along_bones(joints_t, joints_t1, self.bones,
                                  self.points_per_bone)

    def _square_sizes(self, joints_t: Tensor, joint_ok: Tensor) -> Tensor:
        """Per-item square side S (N,) long."""
        n = joints_t.shape[0]
        base = torch.full((n, ), self.square_size, dtype=torch.long,
                          device=joints_t.device)
        if self.square_scale is None:
            return base
        diag = bbox_diagonal(joints_t, joint_ok)
        size = torch.round(diag * self.square_scale).long()
        return size.clamp(min=self.square_size, max=self.max_square_size)

    def _check(self, joints_t, joints_t1, image_size, base_flow):
        check_shape(joints_t, ['N', 'J', 2], 'joints_t')
        check_shape(joints_t1, list(joints_t.shape), 'joints_t1')
        if int(self.bones.max()) >= joints_t.shape[1]:
            raise ValueError(f'bones reference joint {int(self.bones.max())} '
                             f'but the joints have J={joints_t.shape[1]}')
        height, width = (int(v) for v in image_size)
        if height < 1 or width < 1:
            raise ValueError(f'image_size must be positive (H, W), got '
                             f'{tuple(image_size)}')
        if base_flow is not None:
            check_shape(base_flow, [joints_t.shape[0], 2, 'H', 'W'],
                        'base_flow')
            if tuple(base_flow.shape[-2:]) != (height, width):
                raise ValueError(
                    f'base_flow is {tuple(base_flow.shape[-2:])} (H, W) but '
                    f'the frames are {(height, width)}')
        return height, width

    def paint(self,
              joints_t: Tensor,
              joints_t1: Tensor,
              image_size: Tuple[int, int],
              scores: Scores = None,
              base_flow: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """The sketch before the pixel gate (see :meth:`forward`).

        ``gate_thr`` (agreement with ``base_flow``) applies here, the
        warping and forward-backward tests in :meth:`gate`. The mask is
        also the person's region the flow step's guard checks.
        """
        height, width = self._check(joints_t, joints_t1, image_size,
                                    base_flow)
        joint_ok = confident_joints(scores, joints_t, joints_t1,
                                    self.score_thr)
        joint_ok = joint_ok & inside_image(joints_t, height, width) & \
            inside_image(joints_t1, height, width)
        bone_ok = joint_ok[:, self.bones].all(-1)  # (N, E)
        if self.limb_scale is not None:
            diag = bbox_diagonal(joints_t, joint_ok)
            radius = (diag * self.limb_scale).clamp(self.min_radius,
                                                    self.max_radius)
            sketch, mask = paint_capsules(joints_t, joints_t1, self.bones,
                                          bone_ok, radius, height, width)
            if self.gate_thr is not None and base_flow is not None:
                far = (sketch - base_flow.to(sketch)).norm(
                    dim=1, keepdim=True) > self.gate_thr
                mask = mask & ~far
                sketch = sketch * mask.to(sketch.dtype)
            return sketch, mask
        pos, dsp = self.sample_points(joints_t, joints_t1)  # (N, E, K, 2)
        point_ok = bone_ok[..., None].expand(-1, -1, self.points_per_bone)
        pos, dsp = pos.flatten(1, 2), dsp.flatten(1, 2)  # (N, P, 2)
        point_ok = point_ok.flatten(1, 2)
        if self.gate_thr is not None and base_flow is not None:
            sampled, inside = sample_at_points(base_flow.to(pos.dtype), pos)
            agree = (sampled - dsp).norm(dim=-1) <= self.gate_thr
            point_ok = point_ok & agree & inside
        return paint_squares(pos, dsp, point_ok,
                             self._square_sizes(joints_t, joint_ok), height,
                             width)

    def gate(self,
             sketch: Tensor,
             mask: Tensor,
             base_flow: Tensor,
             frames: Frames = None,
             backward_flow: Optional[Tensor] = None) -> Tensor:
        """(N, 1, H, W) mask of the sketch pixels where the pose beats the
        network's flow, with this head's thresholds (see
        :func:`gate_sketch`)."""
        return gate_sketch(sketch, mask, base_flow, frames, backward_flow,
                           self.photo_thr, self.photo_window,
                           self.photo_gain, self.fb_alpha, self.fb_beta)

    def forward(self,
                joints_t: Tensor,
                joints_t1: Tensor,
                image_size: Tuple[int, int],
                scores: Scores = None,
                base_flow: Optional[Tensor] = None,
                frames: Frames = None,
                backward_flow: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor]:
        """Draw the sketch flow.

        Args:
            joints_t (Tensor): (N, J, 2) joints at t, px (x, y).
            joints_t1 (Tensor): (N, J, 2) joints at t+1, px (x, y).
            image_size (tuple[int, int]): (H, W) of frame t in px.
            scores (Tensor | tuple[Tensor, Tensor], optional): (N, J)
                confidences, or a pair of (N, J) at t and t+1 (a joint
                counts as confident when both are >= ``score_thr``).
                Defaults to None (all joints confident).
            base_flow (Tensor, optional): (N, 2, H, W) network flow in px,
                for ``gate_thr`` and :meth:`gate`. Defaults to None.
            frames (tuple[Tensor, Tensor], optional): (N, 3, H, W) frames
                at t and t+1, 0-255, for the warping tests of :meth:`gate`.
                Defaults to None.
            backward_flow (Tensor, optional): (N, 2, H, W) network flow
                t+1 -> t in px, for the forward-backward test. Defaults to
                None.

        Returns:
            tuple[Tensor, Tensor]: sketch flow (N, 2, H, W) in px (zero
            outside the mask) and its mask (N, 1, H, W) bool.
        """
        sketch, mask = self.paint(joints_t, joints_t1, image_size, scores,
                                  base_flow)
        if base_flow is not None and (frames is not None
                                      or backward_flow is not None):
            mask = self.gate(sketch, mask, base_flow, frames, backward_flow)
            sketch = sketch * mask.to(sketch.dtype)
        return sketch, mask

    @staticmethod
    def compose(base_flow: Tensor, sketch: Tensor, mask: Tensor) -> Tensor:
        """(N, 2, H, W) target flow, see :func:`compose_sketch`."""
        return compose_sketch(base_flow, sketch, mask)

    def predict(self,
                base_flow: Tensor,
                joints_t: Tensor,
                joints_t1: Tensor,
                scores: Scores = None,
                frames: Frames = None,
                backward_flow: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor]:
        """Sketch composed over ``base_flow``: (target, mask).

        Args:
            base_flow (Tensor): (N, 2, H, W) network flow, px.
            joints_t (Tensor): (N, J, 2) joints at t, px.
            joints_t1 (Tensor): (N, J, 2) joints at t+1, px.
            scores (Tensor | tuple[Tensor, Tensor], optional): see
                :meth:`forward`.
            frames (tuple[Tensor, Tensor], optional): see :meth:`forward`.
            backward_flow (Tensor, optional): see :meth:`forward`.

        Returns:
            tuple[Tensor, Tensor]: target flow (N, 2, H, W) px and sketch
            mask (N, 1, H, W) bool.
        """
        check_shape(base_flow, ['N', 2, 'H', 'W'], 'base_flow')
        sketch, mask = self.forward(joints_t, joints_t1,
                                    tuple(base_flow.shape[-2:]), scores,
                                    base_flow, frames, backward_flow)
        return self.compose(base_flow, sketch, mask), mask
