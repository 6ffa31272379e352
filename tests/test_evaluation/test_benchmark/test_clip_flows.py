"""DIS flow of a shifted texture: layout and direction."""
import numpy as np

from mmflowpose.evaluation.benchmark import dis_flow


def test_dis_flow_finds_a_two_pixel_shift_both_ways():
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 255, size=(48, 80), dtype=np.uint8)
    texture = np.kron(texture, np.ones((2, 2), np.uint8))  # 96 x 160
    frames = np.stack([np.roll(texture, 2 * t, axis=1) for t in range(3)])
    frames = np.repeat(frames[..., None], 3, -1)  # (T, H, W, 3) RGB
    fwd, bwd = dis_flow(frames)
    assert fwd.shape == bwd.shape == (2, 2, 96, 160)
    inner = (slice(None), slice(16, -16), slice(16, -16))
    # channel 0 = x: content moves 2 px right, backward 2 px left
    assert abs(float(fwd[:, 0][inner].median()) - 2) < 0.2
    assert abs(float(fwd[:, 1][inner].median())) < 0.2
    assert abs(float(bwd[:, 0][inner].median()) + 2) < 0.2
