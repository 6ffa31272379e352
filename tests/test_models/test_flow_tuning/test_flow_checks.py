import pytest
import torch

from mmflowpose.models.flow_tuning import (backward_warp, fb_inconsistent,
                                           forward_backward_error,
                                           fuse_flows, photometric_error)


def texture(height=16, width=20, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, height, width, generator=gen) * 255


def test_backward_warp_hand_computed():
    ramp = torch.arange(6.).view(1, 1, 1, 6).expand(1, 1, 2, 6)
    flow = torch.zeros(1, 2, 2, 6)
    flow[:, 0] = 1.5
    warped, inside = backward_warp(ramp, flow)
    # x + 1.5 inside [0, 5] for x <= 3.5: columns 0..3 read x + 1.5.
    assert warped[0, 0, 0, :4].tolist() == [1.5, 2.5, 3.5, 4.5]
    assert inside[0, 0, 0].tolist() == [True] * 4 + [False] * 2
    with pytest.raises(ValueError, match='flow'):
        backward_warp(ramp, flow[..., :5])


def test_photometric_error_is_zero_for_the_true_shift():
    frame1 = texture()
    frame2 = torch.roll(frame1, 3, dims=3)  # content moves 3 px right
    flow = torch.zeros(1, 2, 16, 20)
    flow[:, 0] = 3.
    error, inside = photometric_error(frame1, frame2, flow)
    assert float(error[inside].max()) < 1e-3
    wrong, _ = photometric_error(frame1, frame2, torch.zeros_like(flow))
    assert float(wrong.mean()) > 20  # random texture: large mismatch
    # A window averages the error over the neighbourhood.
    smooth, _ = photometric_error(frame1, frame2, torch.zeros_like(flow), 3)
    expected = wrong[..., 4:7, 4:7].mean()
    assert float(smooth[0, 0, 5, 5]) == pytest.approx(float(expected),
                                                      rel=1e-5)


def test_forward_backward_check():
    fwd = torch.zeros(1, 2, 8, 10)
    fwd[:, 0] = 2.
    bwd = -fwd
    residual, magnitude, inside = forward_backward_error(fwd, bwd)
    assert float(residual[inside].abs().max()) < 1e-6
    assert float(magnitude[inside].max()) == pytest.approx(8.)
    fails = fb_inconsistent(fwd, bwd)
    # Only the pixels whose flow leaves the image (last 2 columns) fail.
    assert fails[0, 0, :, 8:].all() and not fails[0, 0, :, :8].any()
    # |f + b|^2 = 16 > 0.01 * 8 + 0.5: everything fails.
    assert fb_inconsistent(fwd, fwd).all()
    # A tolerance large enough accepts it.
    assert not fb_inconsistent(fwd, fwd, beta=17.)[0, 0, :, :8].any()


def test_fuse_flows_takes_the_candidate_only_where_it_warps_better():
    frame1 = texture()
    frame2 = torch.roll(frame1, 2, dims=3)
    base = torch.zeros(1, 2, 16, 20)
    good = base.clone()
    good[:, 0] = 2.
    region = torch.zeros(1, 1, 16, 20, dtype=torch.bool)
    region[..., 4:12, 4:12] = True
    fused, taken = fuse_flows(frame1, frame2, base, good, region)
    assert torch.equal(taken, region)  # better everywhere in the region
    assert torch.equal(fused[:, :, ~region[0, 0]],
                       base[:, :, ~region[0, 0]])
    # A worse candidate is never taken.
    bad = base.clone()
    bad[:, 0] = -3.
    _, taken_bad = fuse_flows(frame1, frame2, good, bad, region)
    assert not taken_bad.any()
    # The margin: an equal candidate is not taken.
    _, same = fuse_flows(frame1, frame2, good, good.clone(), region,
                         margin=0.0)
    assert not same.any()
