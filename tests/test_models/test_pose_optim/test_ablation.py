"""Ablation on known ground truth: real CMU walk, perspective camera.

Ground truth: ``load_mocap`` of the shared CMU 07_05 walk (or a procedural
walk when the fixture or loader is absent). Joint flow comes from the TRUE
motion; the initial poses carry a bias plus temporally correlated jitter;
2D detections carry 2 px noise. Only the robust direction is asserted
(the full objective beats the initial estimate); the rows are printed.
"""
import os.path as osp

import torch
import torch.nn.functional as F

from mmflowpose.models.pose_optim import PoseOptimizer
from mmflowpose.models.utils.projection import project_perspective

FOCAL = torch.tensor([1145., 1144.], dtype=torch.float64)
CENTER = torch.tensor([512., 515.], dtype=torch.float64)


def _gt_clip(fixtures_root, T=60):
    path = osp.join(fixtures_root, 'mocap', 'usc_cs520_starter',
                    '07_05-walk.amc')
    try:
        from mmflowpose.datasets.synthetic import load_mocap
        joints = torch.from_numpy(load_mocap(path)['joints']).double()
        joints = joints[::2][:T]  # 60 fps
    except (ImportError, FileNotFoundError, OSError):
        from .test_pose_optimizer import _walk
        return _walk(T)
    # Y-up world -> camera (x right, y down, z forward), 6 m away.
    joints = joints - joints[:1, :1]
    cam = torch.stack(
        [joints[..., 0], 0.9 - joints[..., 1], 6.0 - joints[..., 2]], -1)
    return cam[None]


def _mpjpe_mm(pred, gt):
    pred = pred - pred[..., :1, :]
    gt = gt - gt[..., :1, :]
    return 1000 * (pred - gt).norm(dim=-1).mean().item()


def test_ablation(capsys):
    from tests.conftest import FIXTURES
    gt = _gt_clip(FIXTURES)
    B, T, J, _ = gt.shape
    gen = torch.Generator().manual_seed(0)
    kp_true = project_perspective(gt, FOCAL, CENTER)
    kp = kp_true + 2 * torch.randn(kp_true.shape, generator=gen,
                                   dtype=gt.dtype)
    joint_flow = kp_true.diff(dim=1)
    white = torch.randn(J * 3, 1, T + 8, generator=gen, dtype=gt.dtype)
    jitter = F.conv1d(white, torch.ones(1, 1, 9, dtype=gt.dtype) / 3)
    jitter = 0.03 * jitter.view(J, 3, T).permute(2, 0, 1)[None]
    bias = torch.tensor([0.02, -0.01, 0.03], dtype=gt.dtype)
    init = gt - gt[..., :1, :] + bias * torch.linspace(
        -1, 1, J, dtype=gt.dtype)[:, None] + jitter
    cam = dict(focal=FOCAL, center=CENTER)
    no_temp = dict(type='TemporalLoss', joint_weight=0, camera_weight=0,
                   bone_weight=0)
    rows = [
        ('L_3D', dict(flow_loss=None, reprojection_loss=None,
                      temporal_loss=no_temp)),
        ('+L_2D', dict(flow_loss=None, temporal_loss=no_temp)),
        ('+L_temp w/o bone', dict(
            flow_loss=None,
            temporal_loss=dict(type='TemporalLoss', bone_weight=0))),
        ('+bone', dict(flow_loss=None)),
        ('+L_opt (full)', dict()),
    ]
    init_err = _mpjpe_mm(init, gt)
    results = {}
    for name, cfg in rows:
        opt = PoseOptimizer(camera='perspective', max_steps=300,
                            window_size=None, **cfg)
        out = opt.optimize(init.float(), kp.float(),
                           joint_flow=joint_flow.float(), camera=cam)
        results[name] = (_mpjpe_mm(out['pose'].double(), gt),
                         out['steps'][0])
    with capsys.disabled():
        print(f'\nablation (MPJPE mm, T={T}); init {init_err:.1f}')
        for name, (err, steps) in results.items():
            print(f'  {name:<18s} {err:6.1f}  steps {steps}')
    assert results['L_3D'][0] <= init_err + 0.5
    assert results['+L_2D'][0] < results['L_3D'][0]
    assert results['+L_opt (full)'][0] < init_err
