"""The pose step on fixed flows: nearest-pixel visibility, warm-started
cycles and the batched noise-aware rows, with a real (tiny) optimiser."""
import numpy as np
import torch

from mmflowpose.evaluation.benchmark import (AWARE_BATCH, NO_FLOOR_BATCH,
                                             aware_batch, record_terms,
                                             run_cycles, visible_at)
from mmflowpose.registry import MODELS

T, H, W = 5, 32, 32


def test_visible_at_nearest_pixel_and_outside():
    valid = torch.ones(1, 4, 4, dtype=torch.bool)
    valid[0, 1, 2] = False  # row 1, column 2
    points = torch.tensor([[[2.2, 0.8], [0.0, 0.0], [-1.0, 0.0],
                            [3.6, 0.0], [3.4, 3.4]]])
    out = visible_at(valid, points)
    np.testing.assert_array_equal(out.numpy(), [[0, 1, 0, 0, 1]])
    assert out.dtype == torch.float32


def _clip():
    g = torch.Generator().manual_seed(0)
    pose = torch.randn(1, T, 17, 3, generator=g) * 0.2
    pose[..., 2] += 4
    kp = pose[..., :2] / pose[..., 2:] * 40 + 16
    return pose - pose[:, :, :1], kp, torch.ones(1, T, 17)


def test_run_cycles_warm_starts_with_annealed_anchors():
    torch.manual_seed(0)
    opt = MODELS.build(dict(type='PoseOptimizer', max_steps=4, min_steps=1))
    init, kp, scores = _clip()
    flow = torch.zeros(1, T - 1, 2, H, W)
    outs = run_cycles(opt, init, kp, scores, flow, (H, W), 2, 0.5)
    assert len(outs) == 2
    # cycle 2 = one pose step from cycle 1's pose and camera, anchors x0.5
    again = opt.optimize(init, kp, scores, flow=flow, image_size=(H, W),
                         camera=outs[0]['camera'],
                         start_pose=outs[0]['pose'], anchor_scale=0.5)
    torch.testing.assert_close(outs[1]['pose'], again['pose'])
    assert not torch.allclose(outs[1]['pose'], outs[0]['pose'])
    terms = {}
    record_terms(terms, 'row', outs[1])
    assert terms['row'].mean('steps') == sum(outs[1]['steps'])
    assert any(k != 'steps' for k in terms['row'].data)


def test_aware_batch_rows_and_their_weights():
    opt = MODELS.build(
        dict(type='PoseOptimizer', weighting='noise_aware',
             noise=dict(sigma_3d=0.05, sigma_vel=0.01, sigma_acc=0.01),
             max_steps=2))
    init, kp, scores = _clip()
    scores[0, 2, 3] = 0.5
    fwd = torch.randn(T - 1, 2, H, W, generator=torch.Generator().
                      manual_seed(1))
    gt_valid = torch.ones(T - 1, H, W, dtype=torch.bool)
    gt_valid[0] = False  # pair 0 occluded everywhere
    flows = dict(network=(fwd, -fwd), zero=(0 * fwd, 0 * fwd),
                 gt=(fwd, None), dis=(fwd, fwd), gt_valid=gt_valid)
    (b_init, b_kp, b_sc, b_fwd, w), levels = aware_batch(
        opt, init, kp, scores, flows, (H, W))
    V = len(AWARE_BATCH)
    assert b_init.shape == (V, T, 17, 3) and w.shape == (V, T - 1, 17)
    rows = [r for r, _, _ in AWARE_BATCH]
    assert (w[rows.index('no_opt')] == 0).all()
    pair = (scores[0, 1:] * scores[0, :-1])
    torch.testing.assert_close(w[rows.index('no_fb_confidence')], pair)
    visible = w[rows.index('gt')]
    assert (visible[0] == 0).all()  # occluded pair
    torch.testing.assert_close(visible[1:], pair[1:])
    assert set(levels) >= {'sigma_2d_px', 'sigma_flow_px', 'px_per_m'}
    assert levels['px_per_m'] > 0
    # other rows: inputs only, no noise levels
    _, levels = aware_batch(opt, init, kp, scores, flows, (H, W),
                            NO_FLOOR_BATCH)
    assert levels == {}
