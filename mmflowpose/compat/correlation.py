"""A pure-PyTorch drop-in for mmcv's CUDA-only ``Correlation`` op.

mmcv implements the FlowNet/PWC-Net cost volume only as a CUDA kernel. This
module computes the same quantity with shifted element-wise products, so it
runs on any device and autograd gives its gradient.

Convention (as mmcv's kernel): for output position (h, w) and patch offset
(dy, dx) in ``[-R, R]^2`` with ``R = max_displacement``::

    out[n, dy + R, dx + R, h, w] = sum_{c, i, j}
        in1[n, c, y, x] * in2[n, c, y + dy * dp, x + dx * dp]
    y = h * stride - padding + i * dilation,  i < kernel_size
    x = w * stride - padding + j * dilation,  j < kernel_size

with ``dp = dilation_patch`` and zeros outside the image. The result is not
divided by the channel count (mmflow's callers scale it themselves).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _pair(value) -> Tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f'expected an int or a pair, got {value!r}')
        return int(value[0]), int(value[1])
    return int(value), int(value)


def correlation(input1: Tensor,
                input2: Tensor,
                kernel_size=1,
                max_displacement=1,
                stride=1,
                padding=0,
                dilation=1,
                dilation_patch=1) -> Tensor:
    """Cost volume between two feature maps.

    Args:
        input1 (Tensor): (N, C, H, W) features of the first image.
        input2 (Tensor): (N, C, H, W) features of the second image.
        kernel_size (int | tuple[int, int]): summation window. Defaults to 1.
        max_displacement (int | tuple[int, int]): R, the patch is
            (2R + 1)^2 offsets. Defaults to 1.
        stride (int | tuple[int, int]): output stride. Defaults to 1.
        padding (int | tuple[int, int]): zero padding of both inputs.
            Defaults to 0.
        dilation (int | tuple[int, int]): dilation of the summation window.
            Defaults to 1.
        dilation_patch (int | tuple[int, int]): spacing between offsets.
            Defaults to 1.

    Returns:
        Tensor: (N, 2R + 1, 2R + 1, H_out, W_out) correlations, with
        ``H_out = (H + 2 * pad - dilation * (k - 1) - 1) // stride + 1``.
    """
    if input1.dim() != 4 or input1.shape != input2.shape:
        raise ValueError('correlation expects two (N, C, H, W) tensors of the '
                         f'same shape, got {tuple(input1.shape)} and '
                         f'{tuple(input2.shape)}')
    k_h, k_w = _pair(kernel_size)
    r_h, r_w = _pair(max_displacement)
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    d_h, d_w = _pair(dilation)
    dp_h, dp_w = _pair(dilation_patch)
    n, c, h, w = input1.shape
    out_h = (h + 2 * p_h - d_h * (k_h - 1) - 1) // s_h + 1
    out_w = (w + 2 * p_w - d_w * (k_w - 1) - 1) // s_w + 1
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f'correlation: input {h}x{w} is too small for '
                         f'kernel {k_h}x{k_w}, dilation {d_h}x{d_w}')

    # Pad the second map further by the largest shift, so every shifted
    # window is a plain slice; zeros reproduce the kernel's bounds check.
    shift_h, shift_w = r_h * dp_h, r_w * dp_w
    first = F.pad(input1, (p_w, p_w, p_h, p_h))
    second = F.pad(
        input2,
        (p_w + shift_w, p_w + shift_w, p_h + shift_h, p_h + shift_h))
    hp, wp = first.shape[-2:]
    window = first.new_ones(1, 1, k_h, k_w)

    products = []
    for dy in range(-r_h, r_h + 1):
        top = shift_h + dy * dp_h
        for dx in range(-r_w, r_w + 1):
            left = shift_w + dx * dp_w
            shifted = second[:, :, top:top + hp, left:left + wp]
            products.append((first * shifted).sum(dim=1, keepdim=True))
    # (N * P, 1, Hp, Wp): sum each product over the dilated kernel window.
    stacked = torch.cat(products, dim=1).reshape(-1, 1, hp, wp)
    summed = F.conv2d(stacked, window, stride=(s_h, s_w), dilation=(d_h, d_w))
    summed = summed[..., :out_h, :out_w]
    return summed.reshape(n, 2 * r_h + 1, 2 * r_w + 1, out_h, out_w)


class TorchCorrelation(nn.Module):
    """``nn.Module`` with the constructor of ``mmcv.ops.Correlation``.

    Registered in mmflow's MODELS registry as ``'Correlation'`` by
    :func:`mmflowpose.compat.install`, so PWC-Net, IRR and LiteFlowNet build
    with it. Arguments are those of :func:`correlation`.
    """

    def __init__(self,
                 kernel_size=1,
                 max_displacement=1,
                 stride=1,
                 padding=0,
                 dilation=1,
                 dilation_patch=1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.max_displacement = max_displacement
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.dilation_patch = dilation_patch

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return correlation(input1, input2, self.kernel_size,
                           self.max_displacement, self.stride, self.padding,
                           self.dilation, self.dilation_patch)

    def extra_repr(self) -> str:
        return (f'kernel_size={self.kernel_size}, '
                f'max_displacement={self.max_displacement}, '
                f'stride={self.stride}, padding={self.padding}, '
                f'dilation={self.dilation}, '
                f'dilation_patch={self.dilation_patch}')
