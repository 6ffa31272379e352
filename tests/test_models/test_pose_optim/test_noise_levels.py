"""Noise levels measured on a clip without ground truth."""
import math

import pytest
import torch

from mmflowpose.models.pose_optim.noise_levels import (
    calibrate_detection_noise, calibrate_flow_floor, calibrate_pose_noise,
    detection_noise, flow_confidence, flow_noise, round_trip_noise,
    subject_scale)


def smooth_tracks(B=2, T=60, J=17):
    t = torch.arange(T, dtype=torch.float64).view(1, T, 1, 1)
    phase = torch.rand(B, 1, J, 2, dtype=torch.float64) * 6
    return 200 + 20 * torch.sin(t / 15 + phase)


@pytest.mark.parametrize('sigma', [0.5, 3.0])
def test_detection_noise_recovers_white_noise(sigma):
    torch.manual_seed(0)
    clean = smooth_tracks()
    noisy = clean + sigma * torch.randn_like(clean)
    est = detection_noise(noisy)
    assert est.shape == (2, )
    assert est.numpy() == pytest.approx([sigma, sigma], rel=0.15)


def test_detection_noise_skips_missing_and_short_clips():
    torch.manual_seed(0)
    kp = smooth_tracks(B=1) + torch.randn(1, 60, 17, 2,
                                          dtype=torch.float64)
    scores = torch.ones(1, 60, 17, dtype=torch.float64)
    kp[0, 10, 3] = 1e4  # a wild detection with score 0 is ignored
    scores[0, 10, 3] = 0
    assert detection_noise(kp, scores).item() == pytest.approx(1.0,
                                                               rel=0.15)
    assert torch.isnan(detection_noise(kp[:, :4])).all()


def test_flow_noise_subtracts_the_detector_part():
    torch.manual_seed(0)
    clean = smooth_tracks()
    det = clean + 2.0 * torch.randn_like(clean)
    motion = clean[:, 1:] - clean[:, :-1]
    flow = motion + 1.0 * torch.randn_like(motion)
    est = flow_noise(flow, det, torch.full((2, ), 2.0, dtype=det.dtype))
    assert est.numpy() == pytest.approx([1.0, 1.0], rel=0.3)
    # a perfect flow hits the floor rather than a negative variance
    exact = flow_noise(motion, det, torch.full((2, ), 2.5,
                                               dtype=det.dtype), floor=0.1)
    assert exact.numpy() == pytest.approx([0.1, 0.1])
    with pytest.raises(ValueError, match='keypoints_2d'):
        flow_noise(flow, det[:, :-2], torch.ones(2))


def test_flow_confidence_downweights_inconsistent_joints():
    fwd = torch.zeros(1, 2, 3, 2)
    bwd = torch.zeros(1, 2, 3, 2)
    bwd[0, 0, 1] = torch.tensor([30.0, 0.0])  # occluded: no round trip
    bwd[0, 1, 2] = float('nan')
    w = flow_confidence(fwd, bwd, torch.tensor([1.0]), tolerance=3.0)
    assert w[0, 0, 0].item() == pytest.approx(1.0)
    assert w[0, 0, 1].item() < 1e-10
    assert w[0, 1, 2].item() == 0.0
    # an error of tolerance * sqrt(2) * sigma gets exp(-0.5)
    bwd[0, 1, 0] = torch.tensor([3 * math.sqrt(2), 0.0])
    w = flow_confidence(fwd, bwd, torch.tensor([1.0]))
    assert w[0, 1, 0].item() == pytest.approx(math.exp(-0.5))
    scores = torch.full((1, 3, 3), 0.5)
    w = flow_confidence(fwd, torch.zeros_like(fwd), torch.tensor([1.0]),
                        scores)
    assert torch.allclose(w, torch.full_like(w, 0.25))


def test_calibrate_pose_noise_separates_static_and_changing_error():
    torch.manual_seed(0)
    gts, inits = [], []
    for _ in range(6):
        t = torch.arange(40, dtype=torch.float64).view(40, 1, 1)
        gt = torch.randn(1, 17, 3, dtype=torch.float64) * 0.2 + \
            0.001 * t**2 * torch.randn(1, 17, 3, dtype=torch.float64)
        bias = 0.03 * torch.randn(1, 17, 3, dtype=torch.float64)
        jitter = 0.002 * torch.randn(40, 17, 3, dtype=torch.float64)
        gts.append(gt)
        inits.append(gt + bias + jitter)
    sig = calibrate_pose_noise(inits, gts)
    # relative to the root: bias std 0.03 * sqrt(2)
    assert sig['sigma_static'] == pytest.approx(0.03 * math.sqrt(2),
                                                rel=0.25)
    assert sig['sigma_vel'] == pytest.approx(0.002 * 2, rel=0.25)
    assert sig['sigma_3d'] > sig['sigma_vel']
    assert sig['sigma_acc'] > 0.001
    with pytest.raises(ValueError, match='same'):
        calibrate_pose_noise(inits, gts[:2])


def test_subject_scale_is_the_weak_perspective_scale():
    torch.manual_seed(0)
    pose = torch.randn(2, 5, 17, 3, dtype=torch.float64) * 0.3
    scale = torch.tensor([150.0, 600.0], dtype=torch.float64)
    kp = pose[..., :2] * scale.view(2, 1, 1, 1) + 250  # any image offset
    assert subject_scale(kp, pose).numpy() == pytest.approx([150, 600])
    with pytest.raises(ValueError, match='same'):
        subject_scale(kp[:, :4], pose)


def test_flow_floor_is_in_metres_and_ignores_invalid_joints():
    torch.manual_seed(0)
    motion = torch.randn(30, 17, 2, dtype=torch.float64) * 5
    # the same 0.5 px surface-vs-centre error at 100 px/m and, four times
    # the pixels, 2 px at 400 px/m: both are 5 mm at the subject
    small = motion + 0.5 * torch.randn_like(motion)
    big = 4 * motion + 2.0 * torch.randn_like(motion)
    valid = torch.ones(30, 17, dtype=torch.bool)
    big[3, 4] += 1e3  # an occluded joint, marked invalid
    valid[3, 4] = False
    floor = calibrate_flow_floor([small, big], [motion, 4 * motion],
                                 [100.0, 400.0], [valid, valid])
    assert floor == pytest.approx(0.005, rel=0.1)
    with pytest.raises(ValueError, match='px_per_m'):
        calibrate_flow_floor([small], [motion], [0.0])
    with pytest.raises(ValueError, match='same'):
        calibrate_flow_floor([small], [motion, motion], [1.0])


def test_detection_noise_calibration_sees_a_persistent_error():
    torch.manual_seed(0)
    gt = smooth_tracks(B=1)[0]
    # a detector whose 4 mm error (at 200 px/m: 0.8 px) is the same in
    # every frame: large error, no motion error
    offset = 0.8 * torch.randn(1, 17, 2, dtype=torch.float64)
    det = gt + offset + 0.01 * torch.randn_like(gt)
    scores = torch.ones(60, 17)
    scores[5, 2] = 0  # a joint it missed is left out
    det[5, 2] = 1e4
    out = calibrate_detection_noise([det], [gt], [200.0], [scores])
    assert out['sigma_2d'] == pytest.approx(0.004, rel=0.35)
    assert out['sigma_2d_motion'] < 0.2 * out['sigma_2d']
    with pytest.raises(ValueError, match='px_per_m'):
        calibrate_detection_noise([det], [gt], [-1.0])


def test_round_trip_noise_sees_independent_flow_errors():
    torch.manual_seed(0)
    flow = torch.randn(2, 40, 17, 2, dtype=torch.float64) * 5
    fwd = flow + 0.8 * torch.randn_like(flow)
    bwd = -flow + 0.8 * torch.randn_like(flow)
    est = round_trip_noise(fwd, bwd).numpy()
    assert est == pytest.approx([0.8, 0.8], rel=0.15)
    # a joint with score 0 in one frame drops its pairs
    scores = torch.ones(2, 41, 17, dtype=torch.float64)
    scores[:, 3] = 0
    bwd[:, 2:4] += 1e3
    assert round_trip_noise(fwd, bwd, scores).numpy() == pytest.approx(
        [0.8, 0.8], rel=0.15)
    with pytest.raises(ValueError, match='shape'):
        round_trip_noise(fwd, bwd[:, 1:])
