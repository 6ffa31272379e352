"""Pose sketch: bones -> sampled points -> squares of displacement.

The sketch turns the 2D joints of a person at frames t and t+1 into a sparse
flow field on frame t: points are sampled along every bone by linear
interpolation of the joint positions (at t) and of the joint displacements
(t -> t+1); each point writes its displacement into a small square of pixels
around it. Composing the sketch over a flow network's own prediction gives
the target flow used to fine-tune that network.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from mmflowpose.models.utils.checks import check_shape
from mmflowpose.models.utils.geometry import sample_at_points
from mmflowpose.models.utils.skeleton import Skeleton, load_skeleton
from mmflowpose.registry import MODELS


def _bone_tensor(bones) -> Tensor:
    if isinstance(bones, str):
        bones = load_skeleton(bones)
    if isinstance(bones, Skeleton):
        return bones.bone_index()
    bones = torch.as_tensor(bones, dtype=torch.long)
    if bones.ndim != 2 or bones.shape[1] != 2 or bones.shape[0] == 0:
        raise ValueError('bones must be a skeleton name, a Skeleton or an '
                         '(E, 2) list of joint pairs, got '
                         f'{tuple(bones.shape)}')
    return bones.clone()


@MODELS.register_module()
class PoseSketchFlowHead(nn.Module):
    """Draw the pose sketch flow and compose the target flow.

    Convention: pixel centres sit at integer coordinates (as in
    :func:`sample_at_points`). A point ``p`` paints the ``S x S`` pixels
    ``round(p) + o`` with ``o`` in ``[-(S // 2), S - S // 2 - 1]`` on both
    axes (``S`` odd gives a centred square). Squares are clipped to the
    image: joints outside it are kept (displacements use the true
    positions), only the pixels inside the image are painted.

    Overlap rule (deterministic, vectorised): a pixel covered by several
    squares takes the displacement of the point whose exact position is
    nearest to it (Euclidean distance to the pixel centre); exact ties go to
    the lowest point index, points ordered bone by bone in ``bones`` order
    and from the first to the second joint of each bone.

    Args:
        bones (str | Skeleton | sequence): skeleton name for
            :func:`load_skeleton`, a :class:`Skeleton`, or (E, 2) joint-id
            pairs. Defaults to ``'h36m'``.
        points_per_bone (int): K points per bone, both joints included.
            Defaults to 22.
        square_size (int): side S of each square in px when
            ``square_scale`` is None, else its lower bound. Defaults to 5.
        square_scale (float, optional): if set, S is this fraction of the
            diagonal of the bounding box of the person's confident joints at
            t (per item), rounded, at least ``square_size``. Defaults to
            None.
        max_square_size (int): upper bound of S in px. Defaults to 63.
        score_thr (float): bones with an end whose confidence is below this
            are skipped. Defaults to 0.3.
        gate_thr (float, optional): if set and a base flow is given, drop
            points whose displacement differs from the base flow sampled
            there by more than this many px. Defaults to None.
    """

    def __init__(self,
                 bones: Union[str, Skeleton, Sequence] = 'h36m',
                 points_per_bone: int = 22,
                 square_size: int = 5,
                 square_scale: Optional[float] = None,
                 max_square_size: int = 63,
                 score_thr: float = 0.3,
                 gate_thr: Optional[float] = None) -> None:
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
        self.register_buffer('bones', _bone_tensor(bones), persistent=False)
        self.points_per_bone = int(points_per_bone)
        self.square_size = int(square_size)
        self.square_scale = square_scale
        self.max_square_size = int(max_square_size)
        self.score_thr = float(score_thr)
        self.gate_thr = gate_thr

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(bones={self.bones.shape[0]}, '
                f'points_per_bone={self.points_per_bone}, '
                f'square_size={self.square_size}, '
                f'square_scale={self.square_scale}, '
                f'score_thr={self.score_thr}, gate_thr={self.gate_thr})')

    # ------------------------------------------------------------------
    def sample_points(self, joints_t: Tensor, joints_t1: Tensor
                      ) -> Tuple[Tensor, Tensor]:
        """Points along the bones and their displacements.

        Args:
            joints_t (Tensor): (N, J, 2) joints at t, px (x, y).
            joints_t1 (Tensor): (N, J, 2) joints at t+1, px.

        Returns:
            tuple[Tensor, Tensor]: positions (N, E, K, 2) at t and
            displacements (N, E, K, 2) in px.
        """
        s = torch.linspace(0, 1, self.points_per_bone, dtype=joints_t.dtype,
                           device=joints_t.device)[:, None]  # (K, 1)
        disp = joints_t1 - joints_t
        a, b = self.bones[:, 0], self.bones[:, 1]
        pos = (1 - s) * joints_t[:, a, None] + s * joints_t[:, b, None]
        dsp = (1 - s) * disp[:, a, None] + s * disp[:, b, None]
        return pos, dsp

    def _square_sizes(self, joints_t: Tensor, joint_ok: Tensor) -> Tensor:
        """Per-item square side S (N,) long."""
        n = joints_t.shape[0]
        base = torch.full((n, ), self.square_size, dtype=torch.long,
                          device=joints_t.device)
        if self.square_scale is None:
            return base
        big = torch.finfo(joints_t.dtype).max
        ok = joint_ok[..., None]
        lo = torch.where(ok, joints_t, big).amin(dim=1)
        hi = torch.where(ok, joints_t, -big).amax(dim=1)
        diag = torch.where(joint_ok.any(1), (hi - lo).norm(dim=-1),
                           torch.zeros_like(lo[:, 0]))
        size = torch.round(diag * self.square_scale).long()
        return size.clamp(min=self.square_size, max=self.max_square_size)

    def forward(self,
                joints_t: Tensor,
                joints_t1: Tensor,
                image_size: Tuple[int, int],
                scores: Optional[Union[Tensor, Tuple[Tensor, Tensor]]] = None,
                base_flow: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Draw the sketch flow.

        Args:
            joints_t (Tensor): (N, J, 2) joints at t, px (x, y).
            joints_t1 (Tensor): (N, J, 2) joints at t+1, px (x, y).
            image_size (tuple[int, int]): (H, W) of frame t in px.
            scores (Tensor | tuple[Tensor, Tensor], optional): (N, J)
                confidences, or a pair of (N, J) at t and t+1 (a joint
                counts as confident when both are >= ``score_thr``).
                Defaults to None (all joints confident).
            base_flow (Tensor, optional): (N, 2, H, W) flow in px used by
                the gate; ignored when ``gate_thr`` is None. Defaults to
                None.

        Returns:
            tuple[Tensor, Tensor]: sketch flow (N, 2, H, W) in px (zero
            outside the mask) and its mask (N, 1, H, W) bool.
        """
        check_shape(joints_t, ['N', 'J', 2], 'joints_t')
        check_shape(joints_t1, list(joints_t.shape), 'joints_t1')
        n, num_joints = joints_t.shape[:2]
        if int(self.bones.max()) >= num_joints:
            raise ValueError(f'bones reference joint {int(self.bones.max())} '
                             f'but the joints have J={num_joints}')
        height, width = (int(v) for v in image_size)
        if height < 1 or width < 1:
            raise ValueError(f'image_size must be positive (H, W), got '
                             f'{tuple(image_size)}')
        if base_flow is not None:
            check_shape(base_flow, [n, 2, 'H', 'W'], 'base_flow')
            if tuple(base_flow.shape[-2:]) != (height, width):
                raise ValueError(
                    f'base_flow is {tuple(base_flow.shape[-2:])} (H, W) but '
                    f'the frames are {(height, width)}')
        joint_ok = self._joint_confidence(scores, joints_t, joints_t1)

        pos, dsp = self.sample_points(joints_t, joints_t1)  # (N, E, K, 2)
        bone_ok = joint_ok[:, self.bones].all(-1)  # (N, E)
        point_ok = bone_ok[..., None].expand(-1, -1, self.points_per_bone)
        pos, dsp = pos.flatten(1, 2), dsp.flatten(1, 2)  # (N, P, 2)
        point_ok = point_ok.flatten(1, 2)
        if self.gate_thr is not None and base_flow is not None:
            sampled, inside = sample_at_points(base_flow.to(pos.dtype), pos)
            agree = (sampled - dsp).norm(dim=-1) <= self.gate_thr
            point_ok = point_ok & (agree | ~inside)
        return self._paint(pos, dsp, point_ok,
                           self._square_sizes(joints_t, joint_ok),
                           height, width)

    def _joint_confidence(self, scores, joints_t, joints_t1) -> Tensor:
        finite = torch.isfinite(joints_t).all(-1) & \
            torch.isfinite(joints_t1).all(-1)
        if scores is None:
            return finite
        if isinstance(scores, (tuple, list)):
            if len(scores) != 2:
                raise ValueError('scores must be an (N, J) tensor or a pair '
                                 f'of them, got {len(scores)} items')
            for name, value in zip(('scores[0]', 'scores[1]'), scores):
                check_shape(value, list(joints_t.shape[:2]), name)
            return finite & (scores[0] >= self.score_thr) & \
                (scores[1] >= self.score_thr)
        check_shape(scores, list(joints_t.shape[:2]), 'scores')
        return finite & (scores >= self.score_thr)

    def _paint(self, pos: Tensor, dsp: Tensor, point_ok: Tensor,
               sizes: Tensor, height: int, width: int
               ) -> Tuple[Tensor, Tensor]:
        """Write point displacements into squares, nearest point wins."""
        n, num_points = pos.shape[:2]
        device, dtype = pos.device, pos.dtype
        smax = int(sizes.max()) if n else self.square_size
        offsets = torch.arange(smax, device=device)
        # Per-item offsets: -(S // 2) .. S - S // 2 - 1; beyond S is unused.
        lo = -(sizes // 2)  # (N,)
        off = lo[:, None] + offsets[None]  # (N, smax)
        off_ok = offsets[None] < sizes[:, None]  # (N, smax)
        safe_pos = torch.where(point_ok[..., None], pos, torch.zeros_like(pos))
        centre = torch.floor(safe_pos + 0.5).long()  # (N, P, 2)
        px = centre[..., 0, None] + off[:, None]  # (N, P, smax)
        py = centre[..., 1, None] + off[:, None]
        ok_x = off_ok[:, None] & (px >= 0) & (px < width)
        ok_y = off_ok[:, None] & (py >= 0) & (py < height)
        # Candidates (N, P, smax_y, smax_x).
        ok = ok_y[..., :, None] & ok_x[..., None, :] & \
            point_ok[..., None, None]
        dx = px.to(dtype) - safe_pos[..., 0, None]
        dy = py.to(dtype) - safe_pos[..., 1, None]
        dist = dy[..., :, None]**2 + dx[..., None, :]**2
        flat = py[..., :, None] * width + px[..., None, :]
        flat = torch.where(ok, flat, torch.zeros_like(flat)).flatten(1)
        ok = ok.flatten(1)
        inf = torch.tensor(float('inf'), dtype=dtype, device=device)
        dist = torch.where(ok, dist.flatten(1), inf)
        best = torch.full((n, height * width), float('inf'), dtype=dtype,
                          device=device)
        best = best.scatter_reduce(1, flat, dist, 'amin')
        win = ok & (dist == best.gather(1, flat))
        point_id = torch.arange(num_points, device=device)
        point_id = point_id[None, :, None].expand(n, -1, smax * smax)
        point_id = torch.where(win, point_id.flatten(1), num_points)
        owner = torch.full((n, height * width), num_points, dtype=torch.long,
                           device=device)
        owner = owner.scatter_reduce(1, flat, point_id, 'amin')
        mask = owner < num_points  # (N, HW)
        safe_owner = owner.clamp(max=max(num_points - 1, 0))
        if num_points:
            sketch = dsp.gather(1, safe_owner[..., None].expand(-1, -1, 2))
        else:
            sketch = dsp.new_zeros(n, height * width, 2)
        sketch = sketch * mask[..., None].to(dtype)
        sketch = sketch.transpose(1, 2).reshape(n, 2, height, width)
        return sketch, mask.view(n, 1, height, width)

    @staticmethod
    def compose(base_flow: Tensor, sketch: Tensor, mask: Tensor) -> Tensor:
        """Target flow: the sketch where the mask is set, else base flow.

        Args:
            base_flow (Tensor): (N, 2, H, W) network flow, px.
            sketch (Tensor): (N, 2, H, W) sketch flow, px.
            mask (Tensor): (N, 1, H, W) bool sketch mask.

        Returns:
            Tensor: (N, 2, H, W) target flow in px.
        """
        check_shape(base_flow, ['N', 2, 'H', 'W'], 'base_flow')
        check_shape(sketch, list(base_flow.shape), 'sketch')
        check_shape(mask, [base_flow.shape[0], 1, *base_flow.shape[2:]],
                    'mask')
        return torch.where(mask.bool(), sketch.to(base_flow.dtype), base_flow)

    def predict(self,
                base_flow: Tensor,
                joints_t: Tensor,
                joints_t1: Tensor,
                scores: Optional[Union[Tensor, Tuple[Tensor, Tensor]]] = None
                ) -> Tuple[Tensor, Tensor]:
        """Sketch composed over ``base_flow``: (target, mask).

        Args:
            base_flow (Tensor): (N, 2, H, W) network flow, px.
            joints_t (Tensor): (N, J, 2) joints at t, px.
            joints_t1 (Tensor): (N, J, 2) joints at t+1, px.
            scores (Tensor | tuple[Tensor, Tensor], optional): see
                :meth:`forward`.

        Returns:
            tuple[Tensor, Tensor]: target flow (N, 2, H, W) px and sketch
            mask (N, 1, H, W) bool.
        """
        check_shape(base_flow, ['N', 2, 'H', 'W'], 'base_flow')
        sketch, mask = self.forward(joints_t, joints_t1,
                                    tuple(base_flow.shape[-2:]), scores,
                                    base_flow)
        return self.compose(base_flow, sketch, mask), mask
