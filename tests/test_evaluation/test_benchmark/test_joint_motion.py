"""Joint-motion errors, the static-error floor and the exact flow's
error at the joints, on small clips built by hand."""
import numpy as np
import pytest
import torch

from mmflowpose.evaluation.benchmark import (MOTION_KEYS, Sums,
                                             flow_floor_data,
                                             joint_motion_errors,
                                             static_floor)


def _clip(T=4, H=32, W=48):
    """Joints in a column, moving 1 px right per frame."""
    kp = np.zeros((T, 17, 2), np.float32)
    kp[..., 0] = 10 + np.arange(T)[:, None]
    kp[..., 1] = 4 + np.arange(17)
    flow = np.zeros((T - 1, H, W, 2), np.float32)
    flow[..., 0] = 1  # the exact flow: everything 1 px right
    valid = np.ones((T - 1, 17), bool)
    valid[0, 5] = False  # occluded joint: not counted
    pose = np.zeros((T, 17, 3), np.float32)
    pose[..., 0] = (kp[..., 0] - 24) / 100
    pose[..., 1] = (kp[..., 1] - 16) / 100
    pose[..., 2] = 4 + 0.01 * np.arange(17)
    return dict(gt_keypoints_2d=kp, keypoints_2d=kp.copy(),
                keypoint_scores=np.ones((T, 17), np.float32),
                gt_joint_flow=np.diff(kp, axis=0),
                gt_joint_flow_valid=valid, gt_flow=flow, gt_pose3d=pose)


def test_joint_motion_errors_against_the_true_motion():
    sample = _clip()
    P = 3
    flows = dict(network=(torch.ones(P, 2, 32, 48) * torch.tensor(
        [1.0, 0.0])[:, None, None], None),
                 dis=(torch.zeros(P, 2, 32, 48) + torch.tensor(
                     [0.0, 1.0])[:, None, None], None))
    sums = Sums()
    init = sample['gt_pose3d'] - sample['gt_pose3d'][:, :1]
    joint_motion_errors(sums, 'm', sample, flows, init)
    assert set(k.split('/')[1] for k in sums.data) == set(MOTION_KEYS)
    assert sums.data['m/zero'][1] == 3 * 17 - 1  # valid joints only
    assert sums.mean('m/network') == pytest.approx(0, abs=1e-5)
    assert sums.mean('m/zero') == pytest.approx(1)
    assert sums.mean('m/dis') == pytest.approx(np.sqrt(2), rel=1e-5)
    assert sums.mean('m/detections') == pytest.approx(0, abs=1e-6)
    # the camera is fitted per frame to the detections, so an exact pose
    # shape projects to the true motion; a pose whose shape changes in one
    # frame does not
    assert sums.mean('m/initial_projection') == pytest.approx(0, abs=1e-3)
    init = init.copy()
    init[2, 7, 0] += 0.1  # 10 px at 100 px/m, one joint in one frame
    sums = Sums()
    joint_motion_errors(sums, 'm', sample, flows, init)
    assert sums.mean('m/initial_projection') > 0.1


def test_static_floor_keeps_the_mean_error_and_no_jitter():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(6, 17, 3))
    bias = rng.normal(size=(1, 17, 3))
    init = gt + bias + 0.1 * rng.normal(size=gt.shape)
    floor = static_floor(init, gt)
    rel = gt - gt[:, :1]
    err = floor - rel
    # one error for every frame: the initial pose's mean root-relative one
    np.testing.assert_allclose(err, err[:1].repeat(6, 0), atol=1e-12)
    np.testing.assert_allclose(
        err[0], ((init - init[:, :1]) - rel).mean(0), atol=1e-12)


def test_flow_floor_data_of_an_exact_translation():
    sample = _clip()
    flow, motion, scale, valid = flow_floor_data(sample)
    assert flow.shape == motion.shape == (3, 17, 2)
    torch.testing.assert_close(flow, motion)  # uniform flow: no model error
    # joints 1 px apart vertically and 1 cm apart in 3D -> 100 px/m
    assert scale == pytest.approx(100, rel=0.05)
    assert not valid[0, 5] and valid.sum() == 3 * 17 - 1
