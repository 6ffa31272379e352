"""Sums and the pose / flow error rows, against hand-computed values."""
import math

import numpy as np
import pytest
import torch

from mmflowpose.evaluation.benchmark import (EVAL_IDS, Sums, add_flow,
                                             add_pose, flow_chw, flow_row,
                                             pose_row)


def test_sums_average_items_not_batches():
    sums = Sums()
    sums.add('a', 6.0, 3)  # three items of 2
    sums.add('a', 4.0, 1)  # one item of 4
    # 10 / 4, not the mean of the batch means (2 + 4) / 2
    assert sums.mean('a') == 2.5
    sums.add_errors('b', torch.tensor([[1.0, 2.0], [3.0, 6.0]]))
    assert sums.mean('b') == 3.0
    assert math.isnan(sums.mean('never added'))


def _walk(T=4):
    gt = np.zeros((T, 17, 3))
    gt[..., 1] = np.arange(17) * 0.1  # joints stacked along y, metres
    gt[..., 0] = np.arange(T)[:, None] * 0.05  # walking along x
    return gt


def test_add_pose_in_mm_on_the_evaluation_joints():
    gt = _walk()
    pred = gt.copy()
    pred[:, 2] += (0.003, 0.004, 0)  # right knee 5 mm off, every frame
    pred[:, 9] += 1.0  # neck base is not an evaluation joint
    sums = Sums()
    add_pose(sums, 'x', pred, gt)
    row = pose_row(sums, 'x')
    assert len(EVAL_IDS) == 14 and 9 not in EVAL_IDS
    assert row['mpjpe'] == pytest.approx(5 / 14)
    # a constant offset has no acceleration
    assert row['accel'] == pytest.approx(0, abs=1e-9)


def test_add_pose_p_mpjpe_ignores_scale():
    gt = np.random.default_rng(0).normal(size=(3, 17, 3))
    sums = Sums()
    add_pose(sums, 'x', 1.1 * gt, gt)  # 10% too large, same shape
    row = pose_row(sums, 'x')
    assert row['p_mpjpe'] == pytest.approx(0, abs=1e-6)
    assert row['mpjpe'] > 10  # mm: the scale error is visible without it


def test_add_pose_acceleration_error_of_one_frame_jump():
    gt = _walk()
    pred = gt.copy()
    pred[1, 2, 0] += 0.003  # 3 mm off in frame 1 only
    sums = Sums()
    add_pose(sums, 'x', pred, gt)
    # second differences (frames 0-1-2, 1-2-3): |0 - 2*3 + 0| and |3|
    assert pose_row(sums, 'x')['accel'] == pytest.approx(9 / (2 * 14))
    # a whole-body shift is removed by root alignment
    sums = Sums()
    add_pose(sums, 'y', gt + 0.2, gt)
    assert pose_row(sums, 'y')['mpjpe'] == pytest.approx(0, abs=1e-9)


def test_add_flow_splits_person_background_and_joints():
    P, H, W = 2, 4, 6
    gt = np.zeros((P, H, W, 2), np.float32)
    human = np.zeros((P + 1, H, W), bool)
    human[:, :, :2] = True  # two columns of person
    pred = torch.ones(P, 2, H, W)  # (1, 1): EPE sqrt(2) on the background
    pred[:, :, :, :2] = torch.tensor([3.0, 4.0])[:, None, None]  # EPE 5
    valid = np.ones((P, H, W), bool)
    valid[0, 0, 0] = False  # one person pixel excluded
    kp = np.zeros((P + 1, 17, 2), np.float32)
    kp[..., 0] = 1  # joints in the person's columns
    kp[:, 0, 0] = 4  # the root on the background
    jvalid = np.ones((P, 17), bool)
    jvalid[1, 1:] = False
    sample = dict(gt_flow=gt, gt_flow_valid=valid, human_mask=human,
                  gt_keypoints_2d=kp,
                  gt_joint_flow=np.zeros((P, 17, 2), np.float32),
                  gt_joint_flow_valid=jvalid)
    sums = Sums()
    add_flow(sums, 'net', pred, sample)
    row = flow_row(sums, 'net')
    n_person, n_bg = P * H * 2 - 1, P * H * 4
    assert row['epe_person'] == pytest.approx(5)
    assert row['epe_background'] == pytest.approx(math.sqrt(2))
    assert row['epe'] == pytest.approx(
        (5 * n_person + math.sqrt(2) * n_bg) / (n_person + n_bg))
    # 17 joints of pair 0 (16 on the person) + the root of pair 1
    assert row['epe_joints'] == pytest.approx(
        (16 * 5 + 2 * math.sqrt(2)) / 18, rel=1e-5)


def test_flow_chw_puts_x_in_channel_0():
    flow = np.zeros((1, 2, 3, 2), np.float32)
    flow[..., 0], flow[..., 1] = 1, 2
    out = flow_chw(flow)
    assert out.shape == (1, 2, 2, 3)
    assert (out[:, 0] == 1).all() and (out[:, 1] == 2).all()
