import math

import pytest
import torch

from mmflowpose.models.heads import PoseSketchFlowHead
from mmflowpose.registry import MODELS


def loop_sketch(joints_t, joints_t1, bones, k, size, height, width,
                ok=None):
    """Plain loop reference: nearest point wins, ties to the lower index."""
    n = joints_t.shape[0]
    sketch = torch.zeros(n, 2, height, width, dtype=joints_t.dtype)
    mask = torch.zeros(n, 1, height, width, dtype=torch.bool)
    for i in range(n):
        best = {}
        for e, (a, b) in enumerate(bones):
            if ok is not None and not (ok[i, a] and ok[i, b]):
                continue
            for j in range(k):
                s = j / (k - 1)
                p = (1 - s) * joints_t[i, a] + s * joints_t[i, b]
                d = (1 - s) * (joints_t1[i, a] - joints_t[i, a]) + \
                    s * (joints_t1[i, b] - joints_t[i, b])
                cx = math.floor(float(p[0]) + 0.5)
                cy = math.floor(float(p[1]) + 0.5)
                for oy in range(-(size // 2), size - size // 2):
                    for ox in range(-(size // 2), size - size // 2):
                        x, y = cx + ox, cy + oy
                        if not (0 <= x < width and 0 <= y < height):
                            continue
                        dist = (x - p[0])**2 + (y - p[1])**2
                        if (y, x) not in best or dist < best[(y, x)]:
                            best[(y, x)] = dist
                            sketch[i, :, y, x] = d
                            mask[i, 0, y, x] = True
    return sketch, mask


def inside_image(points, height, width):
    x, y = points[..., 0], points[..., 1]
    return (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)


def one_bone_case():
    joints_t = torch.tensor([[[1., 1.], [5., 1.]]])
    joints_t1 = torch.tensor([[[2., 1.], [5., 2.]]])  # inside at t+1
    return joints_t, joints_t1


def test_hand_computed_single_pixels():
    head = PoseSketchFlowHead(bones=[(0, 1)], points_per_bone=3,
                              square_size=1)
    sketch, mask = head(*one_bone_case(), (3, 7))
    assert sketch.shape == (1, 2, 3, 7) and mask.shape == (1, 1, 3, 7)
    assert mask.dtype == torch.bool
    expected_mask = torch.zeros(3, 7, dtype=torch.bool)
    expected_mask[1, [1, 3, 5]] = True
    assert torch.equal(mask[0, 0], expected_mask)
    # Points at x = 1, 3, 5 carry (1, 0), (0.5, 0.5), (0, 1).
    assert sketch[0, :, 1, 1].tolist() == [1.0, 0.0]
    assert sketch[0, :, 1, 3].tolist() == [0.5, 0.5]
    assert sketch[0, :, 1, 5].tolist() == [0.0, 1.0]
    assert sketch[0][:, ~expected_mask].abs().sum() == 0


def test_convention_overlap_nearest_then_lowest_index():
    head = PoseSketchFlowHead(bones=[(0, 1)], points_per_bone=3,
                              square_size=3)
    sketch, mask = head(*one_bone_case(), (3, 7))
    assert bool(mask.all())
    # x = 2 is 1 px from points 0 and 1 (tie -> point 0); x = 4 likewise
    # ties points 1 and 2 -> point 1.
    u_row = [1.0, 1.0, 1.0, 0.5, 0.5, 0.0, 0.0]
    v_row = [0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    for row in range(3):
        assert sketch[0, 0, row].tolist() == u_row
        assert sketch[0, 1, row].tolist() == v_row


def test_matches_loop_reference_random():
    gen = torch.Generator().manual_seed(3)
    n, j, height, width = 2, 17, 40, 56
    joints_t = torch.rand(n, j, 2, generator=gen) * torch.tensor(
        [width + 10., height + 10.]) - 5
    joints_t1 = joints_t + torch.randn(n, j, 2, generator=gen) * 3
    scores = torch.rand(n, j, generator=gen)
    head = PoseSketchFlowHead(bones='h36m', points_per_bone=6,
                              square_size=4, score_thr=0.3)
    sketch, mask = head(joints_t, joints_t1, (height, width), scores)
    bones = head.bones.tolist()
    inside = inside_image(joints_t, height, width) & \
        inside_image(joints_t1, height, width)
    ref_s, ref_m = loop_sketch(joints_t, joints_t1, bones, 6, 4, height,
                               width, ok=(scores >= 0.3) & inside)
    assert torch.equal(mask, ref_m)
    torch.testing.assert_close(sketch, ref_s, rtol=0, atol=1e-6)
    assert mask.any()


def test_low_confidence_joints_are_ignored():
    joints_t = torch.tensor([[[2., 2.], [10., 2.], [10., 10.]]])
    joints_t1 = joints_t + 1
    head = PoseSketchFlowHead(bones=[(0, 1), (1, 2)], points_per_bone=5,
                              square_size=3, score_thr=0.5)
    scores = torch.tensor([[0.9, 0.9, 0.1]])
    _, mask = head(joints_t, joints_t1, (14, 14), scores)
    only_first = PoseSketchFlowHead(bones=[(0, 1)], points_per_bone=5,
                                    square_size=3)
    _, mask_first = only_first(joints_t, joints_t1, (14, 14))
    assert torch.equal(mask, mask_first)
    # A pair of scores: the t+1 score counts too.
    pair = (torch.ones(1, 3), torch.tensor([[1., 0.2, 1.]]))
    _, mask_pair = head(joints_t, joints_t1, (14, 14), pair)
    assert not mask_pair.any()


def test_joints_outside_the_image_never_paint():
    # Bone 0 has a joint left of the image, bone 1 both joints far out,
    # bone 2 leaves the image at t+1 only, bone 3 is inside throughout.
    joints_t = torch.tensor([[[-20., 3.], [4., 3.], [500., -300.],
                              [600., -200.], [1., 6.], [6., 6.],
                              [1., 1.], [6., 1.]]])
    joints_t1 = joints_t + torch.tensor([0.5, 0.5])
    joints_t1[0, 5] = torch.tensor([9., 6.])  # outside the 8 px width
    bones = [(0, 1), (2, 3), (4, 5), (6, 7)]
    for kwargs in (dict(square_size=3), dict(limb_scale=0.2)):
        head = PoseSketchFlowHead(bones=bones, points_per_bone=12, **kwargs)
        sketch, mask = head(joints_t, joints_t1, (8, 8))
        only_last = PoseSketchFlowHead(bones=[(6, 7)], points_per_bone=12,
                                       **kwargs)
        ref_s, ref_m = only_last(joints_t, joints_t1, (8, 8))
        assert torch.equal(mask, ref_m) and mask.any()
        assert not mask[0, 0, 4:].any()  # bones 0 and 2 paint nothing
        torch.testing.assert_close(sketch, ref_s)
        # Even a base flow agreeing with the outside bones lets none in.
        base = torch.zeros(1, 2, 8, 8)
        base[:, 0], base[:, 1] = 0.5, 0.5
        gated = PoseSketchFlowHead(bones=bones, points_per_bone=12,
                                   gate_thr=0.1, **kwargs)
        _, mask_gated = gated(joints_t, joints_t1, (8, 8), base_flow=base)
        assert torch.equal(mask_gated, ref_m)


def test_square_scale_uses_bbox_diagonal():
    joints_t = torch.tensor([[[10., 10.], [40., 50.]]])  # diagonal 50 px
    head = PoseSketchFlowHead(bones=[(0, 1)], points_per_bone=2,
                              square_size=1, square_scale=0.1)
    _, mask = head(joints_t, joints_t, (64, 64))
    # S = round(50 * 0.1) = 5: two separate 5x5 squares.
    assert mask.sum() == 50
    assert mask[0, 0, 8:13, 8:13].all()


def test_gate_drops_points_disagreeing_with_base_flow():
    joints_t = torch.tensor([[[2., 2.], [12., 2.], [2., 10.], [12., 10.]]])
    joints_t1 = joints_t + torch.tensor([3., 0.])
    base = torch.zeros(1, 2, 14, 16)
    base[:, 0, :6] = 3.  # agrees with the top bone only
    head = PoseSketchFlowHead(bones=[(0, 1), (2, 3)], points_per_bone=6,
                              square_size=3, gate_thr=1.0)
    sketch, mask = head(joints_t, joints_t1, (14, 16), base_flow=base)
    assert mask[0, 0, :6].any() and not mask[0, 0, 6:].any()
    target, mask2 = head.predict(base, joints_t, joints_t1)
    assert torch.equal(mask, mask2)


def test_compose_and_predict():
    base = torch.full((1, 2, 3, 7), 9.)
    head = PoseSketchFlowHead(bones=[(0, 1)], points_per_bone=3,
                              square_size=1)
    sketch, mask = head(*one_bone_case(), (3, 7))
    target = head.compose(base, sketch, mask)
    assert target[0, :, 1, 3].tolist() == [0.5, 0.5]
    assert target[0, :, 0, 0].tolist() == [9.0, 9.0]
    target2, _ = head.predict(base, *one_bone_case())
    assert torch.equal(target, target2)


def test_size_mismatch_errors():
    head = PoseSketchFlowHead(bones=[(0, 1)], points_per_bone=3)
    joints = one_bone_case()
    with pytest.raises(ValueError, match='base_flow'):
        head(*joints, (3, 7), base_flow=torch.zeros(1, 2, 4, 7))
    sketch, mask = head(*joints, (3, 7))
    with pytest.raises(ValueError, match='sketch'):
        head.compose(torch.zeros(1, 2, 4, 7), sketch, mask)
    with pytest.raises(ValueError, match='joints_t1'):
        head(joints[0], torch.zeros(1, 3, 2), (3, 7))
    with pytest.raises(ValueError, match='bones reference joint'):
        PoseSketchFlowHead(bones=[(0, 5)])(*joints, (3, 7))


@pytest.mark.parametrize('kwargs', [
    dict(points_per_bone=1),
    dict(square_size=0),
    dict(square_scale=-1.),
    dict(gate_thr=0.),
    dict(bones=[(0, 1, 2)]),
])
def test_bad_hyper_parameters(kwargs):
    with pytest.raises(ValueError):
        PoseSketchFlowHead(**kwargs)


def test_build_from_registry_and_repr():
    head = MODELS.build(dict(type='PoseSketchFlowHead', bones='h36m'))
    assert head.bones.shape == (16, 2)
    assert 'points_per_bone=22' in repr(head)


def loop_capsules(joints_t, joints_t1, bones, radius, height, width):
    """Loop reference of the capsule painter: nearest bone, lowest index."""
    sketch = torch.zeros(2, height, width, dtype=torch.float64)
    mask = torch.zeros(1, height, width, dtype=torch.bool)
    for y in range(height):
        for x in range(width):
            best = None
            for e, (a, b) in enumerate(bones):
                pa, pb = joints_t[a].double(), joints_t[b].double()
                ab = pb - pa
                pixel = torch.tensor([float(x), float(y)],
                                     dtype=torch.float64)
                s = float(((pixel - pa) @ ab) / max(float(ab @ ab), 1e-12))
                s = min(max(s, 0.), 1.)
                q = pa + s * ab
                dist = float((pixel - q).square().sum())
                if dist <= radius**2 and (best is None or dist < best[0]):
                    da = (joints_t1[a] - joints_t[a]).double()
                    db = (joints_t1[b] - joints_t[b]).double()
                    best = (dist, (1 - s) * da + s * db)
            if best is not None:
                sketch[:, y, x] = best[1]
                mask[0, y, x] = True
    return sketch, mask


def test_capsule_hand_computed():
    # One horizontal bone (2, 5) -> (10, 5); diagonal 8 px, radius 1.5 px.
    joints_t = torch.tensor([[[2., 5.], [10., 5.]]])
    joints_t1 = joints_t + torch.tensor([[[1., 0.], [3., 0.]]])
    head = PoseSketchFlowHead(bones=[(0, 1)], limb_scale=1.5 / 8)
    sketch, mask = head(joints_t, joints_t1, (11, 15))
    expected = torch.zeros(11, 15, dtype=torch.bool)
    expected[4:7, 2:11] = True  # rows within 1 px of the segment
    expected[4:7, 1] = True  # caps: (1, 4) is sqrt(2) < 1.5 px away
    expected[4:7, 11] = True
    assert torch.equal(mask[0, 0], expected)
    # The displacement is interpolated along the bone: x = 6 is halfway.
    assert sketch[0, :, 5, 6].tolist() == [2.0, 0.0]
    assert sketch[0, :, 4, 1].tolist() == [1.0, 0.0]  # clamped to s = 0
    assert sketch[0, 0, 6, 10] == pytest.approx(3.0)
    assert sketch[0][:, ~expected].abs().sum() == 0


def test_capsules_match_loop_reference():
    gen = torch.Generator().manual_seed(5)
    height, width = 18, 22
    joints_t = torch.rand(1, 17, 2, generator=gen) * torch.tensor(
        [width - 1., height - 1.])
    joints_t1 = (joints_t + torch.randn(1, 17, 2, generator=gen)).clamp(0,
                                                                        17)
    head = PoseSketchFlowHead(bones='h36m', limb_scale=0.08, min_radius=1.)
    sketch, mask = head(joints_t, joints_t1, (height, width))
    diag = float((joints_t[0].amax(0) - joints_t[0].amin(0)).norm())
    ref_s, ref_m = loop_capsules(joints_t[0], joints_t1[0],
                                 head.bones.tolist(), max(diag * 0.08, 1.),
                                 height, width)
    assert torch.equal(mask[0], ref_m)
    torch.testing.assert_close(sketch[0].double(), ref_s, rtol=0, atol=1e-5)


def textured_pair(shift=2):
    """A random texture and the same texture moved ``shift`` px right."""
    gen = torch.Generator().manual_seed(0)
    frame1 = torch.rand(1, 3, 24, 32, generator=gen) * 255
    frame1 = torch.nn.functional.avg_pool2d(frame1, 3, 1, 1)  # smooth-ish
    frame2 = torch.roll(frame1, shift, dims=3)
    return frame1, frame2


def test_gate_forward_backward_keeps_only_inconsistent_pixels():
    joints_t = torch.tensor([[[4., 6.], [27., 6.], [4., 16.], [27., 16.]]])
    joints_t1 = joints_t + torch.tensor([2., 0.])
    head = PoseSketchFlowHead(bones=[(0, 1), (2, 3)], limb_scale=0.1)
    base = torch.zeros(1, 2, 24, 32)
    backward = torch.zeros(1, 2, 24, 32)
    backward[:, 0, 12:] = 5.  # bottom half fails the check: 5^2 > 0.5
    painted, all_mask = head.paint(joints_t, joints_t1, (24, 32))
    _, mask = head(joints_t, joints_t1, (24, 32), base_flow=base,
                   backward_flow=backward)
    assert all_mask[0, 0, :12].sum() > 20 and all_mask[0, 0, 12:].sum() > 20
    assert not mask[0, 0, :12].any()  # consistent flow is trusted
    assert torch.equal(mask[0, 0, 12:], all_mask[0, 0, 12:])


def test_gate_photometric_paints_only_what_warps_better():
    frame1, frame2 = textured_pair(shift=2)
    joints_t = torch.tensor([[[6., 8.], [25., 8.], [6., 16.], [25., 16.]]])
    base = torch.zeros(1, 2, 24, 32)  # the network missed the motion
    head = PoseSketchFlowHead(bones=[(0, 1), (2, 3)], limb_scale=0.12,
                              photo_thr=5.0)
    right = joints_t + torch.tensor([2., 0.])  # the true motion
    wrong = joints_t + torch.tensor([-3., 1.])
    _, painted = head.paint(joints_t, right, (24, 32))
    _, mask_right = head(joints_t, right, (24, 32), base_flow=base,
                         frames=(frame1, frame2))
    _, mask_wrong = head(joints_t, wrong, (24, 32), base_flow=base,
                         frames=(frame1, frame2))
    assert mask_right.sum() >= 0.9 * painted.sum()
    assert mask_wrong.sum() <= 0.05 * painted.sum()
    # Where the base flow already warps well (photo error < thr), the
    # sketch is not written even if it is right.
    good_base = torch.zeros(1, 2, 24, 32)
    good_base[:, 0] = 2.
    _, mask_good = head(joints_t, right, (24, 32), base_flow=good_base,
                        frames=(frame1, frame2))
    assert not mask_good.any()
