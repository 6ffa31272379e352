import itertools

import pytest
import torch
from mmengine.registry import DefaultScope
from torch.autograd import gradcheck

from mmflowpose.compat import TorchCorrelation, correlation


def brute_force_correlation(in1, in2, kernel_size, max_disp, stride, padding,
                            dilation, dilation_patch):
    """Literal transcription of mmcv's CUDA kernel, one output at a time."""
    n, c, h, w = in1.shape
    out_h = (h + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    out_w = (w + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    patch = 2 * max_disp + 1
    out = in1.new_zeros(n, patch, patch, out_h, out_w)
    for b, ph, pw, oh, ow in itertools.product(
            range(n), range(patch), range(patch), range(out_h),
            range(out_w)):
        total = in1.new_zeros(())
        for i, j in itertools.product(range(kernel_size), repeat=2):
            y1 = oh * stride - padding + i * dilation
            x1 = ow * stride - padding + j * dilation
            y2 = y1 + (ph - max_disp) * dilation_patch
            x2 = x1 + (pw - max_disp) * dilation_patch
            if 0 <= y1 < h and 0 <= x1 < w and 0 <= y2 < h and 0 <= x2 < w:
                total = total + (in1[b, :, y1, x1] * in2[b, :, y2, x2]).sum()
        out[b, ph, pw, oh, ow] = total
    return out


SETTINGS = [
    # kernel, max_disp, stride, padding, dilation, dilation_patch
    (1, 1, 1, 0, 1, 1),
    (1, 2, 1, 0, 1, 2),
    (3, 1, 1, 1, 1, 1),
    (3, 2, 2, 2, 2, 1),
    (1, 4, 1, 0, 1, 1),  # PWC-Net's setting
    (3, 3, 2, 4, 1, 2),
]


@pytest.mark.parametrize('setting', SETTINGS)
def test_matches_brute_force(setting):
    torch.manual_seed(0)
    in1 = torch.randn(2, 3, 7, 6, dtype=torch.float64)
    in2 = torch.randn(2, 3, 7, 6, dtype=torch.float64)
    expected = brute_force_correlation(in1, in2, *setting)
    actual = correlation(in1, in2, *setting)
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected)


@pytest.mark.parametrize('setting', [SETTINGS[0], SETTINGS[3]])
def test_gradient_matches_brute_force(setting):
    torch.manual_seed(1)
    in1 = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    in2 = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    weights = torch.randn_like(brute_force_correlation(in1, in2, *setting))
    (brute_force_correlation(in1, in2, *setting) * weights).sum().backward()
    expected = in1.grad.clone(), in2.grad.clone()
    in1.grad = in2.grad = None
    (correlation(in1, in2, *setting) * weights).sum().backward()
    torch.testing.assert_close(in1.grad, expected[0])
    torch.testing.assert_close(in2.grad, expected[1])
    assert gradcheck(lambda a, b: correlation(a, b, *setting), (in1, in2))


def test_module_and_registry():
    from mmflow.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmflow'):
        op = MODELS.build(dict(type='Correlation', max_displacement=2))
    assert isinstance(op, TorchCorrelation)
    assert 'max_displacement=2' in repr(op)
    out = op(torch.ones(1, 4, 5, 5), torch.ones(1, 4, 5, 5))
    assert out.shape == (1, 5, 5, 5, 5)
    # the centre offset of all-ones maps is the channel count
    assert out[0, 2, 2, 2, 2].item() == 4.0


def test_bad_input():
    with pytest.raises(ValueError, match='same shape'):
        correlation(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match='too small'):
        correlation(torch.zeros(1, 2, 2, 2), torch.zeros(1, 2, 2, 2),
                    kernel_size=5)
