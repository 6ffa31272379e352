"""One place that runs any mmflow network on raw frames.

The network's own pieces do the work where they can: its
``data_preprocessor`` normalises (mean/std, channel order), its config's
test-time ``InputPad`` says how to pad, and the output is read as its
decoder does (RAFT/GMA: a list of per-iteration full-resolution flows;
PWC-Net-like decoders: a dict of levels scaled by ``flow_div``). The result
is the flow at full input resolution in px. ``docs/en/data_flow.md`` says
which mmflow pieces are used and why.
"""
from typing import List, NamedTuple, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmflowpose.models.utils.checks import check_shape

# numpy.pad modes of InputPad that commute with the preprocessor's
# per-pixel normalisation, and their torch names
PAD_MODES = {'edge': 'replicate', 'reflect': 'reflect', 'constant': 'constant'}
PAD_POSITIONS = ('center', 'left', 'right', 'top', 'down')


class FlowPadding(NamedTuple):
    """How frames are padded for a network (mmflow ``InputPad`` terms).

    Attributes:
        multiple (int): H and W are padded up to a multiple of this.
        mode (str): ``numpy.pad`` mode, one of :data:`PAD_MODES`.
        position (str): where the image sits in the padded one, one of
            :data:`PAD_POSITIONS` (``'left'``: padding on the right).
        value (float): fill of ``mode='constant'``, in 0-255 pixel units.
    """
    multiple: int
    mode: str = 'edge'
    position: str = 'center'
    value: float = 0.

    def amounts(self, height: int, width: int) -> Tuple[int, int, int, int]:
        """(left, right, top, bottom) px, in ``F.pad``'s order."""
        pad_h, pad_w = (-height) % self.multiple, (-width) % self.multiple
        rows = (pad_h // 2, pad_h - pad_h // 2)
        cols = (pad_w // 2, pad_w - pad_w // 2)
        # mmflow's own 'top' entry is malformed (a 3-element row pair);
        # this is what its docstring means: the image at the top
        rows = dict(top=(0, pad_h), down=(pad_h, 0)).get(self.position, rows)
        cols = dict(left=(0, pad_w), right=(pad_w, 0)).get(self.position, cols)
        return cols + rows


def _test_pipelines(cfg) -> list:
    """The config's test-time pipelines: the test dataloader's dataset
    (or each of a concatenation's), then the ``test_pipeline`` variable.

    mmflow's Sintel configs give a list of test dataloaders (clean and
    final pass); every one of them is read.
    """
    loaders = cfg.get('test_dataloader') or []
    if not isinstance(loaders, (list, tuple)):
        loaders = [loaders]
    parts = []
    for loader in loaders:
        dataset = loader.get('dataset') if isinstance(loader, dict) else None
        if isinstance(dataset, dict):
            parts += [dataset] + list(dataset.get('datasets') or [])
    pipelines = [
        part['pipeline'] for part in parts
        if isinstance(part, dict) and part.get('pipeline')
    ]
    if cfg.get('test_pipeline'):
        pipelines.append(cfg['test_pipeline'])
    return pipelines


def flow_padding(net: nn.Module) -> FlowPadding:
    """How to pad frames for ``net``: as its config's test ``InputPad``.

    When ``net`` carries its config (``net.cfg``, attached by
    :func:`mmflowpose.models.builder.init_model`) and the config's test
    pipeline pads with ``InputPad(exponent=n, mode, position)``, frames are
    padded to a multiple of ``2 ** n`` with that mode and position, as
    mmflow's own test does. Otherwise (no config, or a pipeline that
    resizes, as PWC-Net's ``InputResize``): edge padding, centred, to a
    multiple of 8 for RAFT/GMA (they work at 1/8 resolution) and of 64 for
    the rest (pyramid networks downsample six times).

    Raises:
        ValueError: the config's ``InputPad`` has an exponent, mode or
            position that cannot be followed; the message names it.
    """
    cfg = getattr(net, 'cfg', None)
    for pipeline in _test_pipelines(cfg) if cfg is not None else []:
        for step in pipeline:
            if str(step.get('type', '')).split('.')[-1] != 'InputPad':
                continue
            exponent = step.get('exponent')
            mode = step.get('mode', 'edge')
            position = step.get('position', 'center')
            if not isinstance(exponent, int) or exponent < 0:
                raise ValueError('InputPad.exponent in the test pipeline of '
                                 f'{type(net).__name__} must be an int >= 0,'
                                 f' got {exponent!r}')
            if mode not in PAD_MODES or position not in PAD_POSITIONS:
                raise ValueError(
                    f'InputPad(mode={mode!r}, position={position!r}) in the '
                    f'test pipeline of {type(net).__name__}: mode must be '
                    f'one of {sorted(PAD_MODES)}, position one of '
                    f'{PAD_POSITIONS}')
            return FlowPadding(2**exponent, mode, position,
                               float(step.get('constant_values', 0.)))
    from mmflow.models.flow_estimators import RAFT
    return FlowPadding(8 if isinstance(net, RAFT) else 64)


def flow_pad_multiple(net: nn.Module) -> int:
    """H and W multiple that ``net`` needs (see :func:`flow_padding`)."""
    return flow_padding(net).multiple


def flow_inputs(net: nn.Module,
                frame1: Tensor,
                frame2: Tensor,
                channel_order: str = 'rgb',
                padding: Optional[FlowPadding] = None
                ) -> Tuple[Tensor, Tuple[int, int, int, int]]:
    """The network input of N frame pairs and the padding it holds.

    Frames are padded as :func:`flow_padding` says (on the raw pixels, as
    ``InputPad`` does before the preprocessor) and then go through the
    network's own ``data_preprocessor`` in test mode (its training noise is
    not added). The preprocessor expects BGR, as mmflow's loaders read
    images, and flips to RGB itself when its config says so; RGB frames
    are flipped to BGR here for it.

    Args:
        net (nn.Module): mmflow flow estimator.
        frame1 (Tensor): (N, 3, H, W) uint8 or float frames at t, 0-255.
        frame2 (Tensor): (N, 3, H, W) frames at t+1.
        channel_order (str): the frames' order, ``'rgb'`` or ``'bgr'``.
            Defaults to ``'rgb'``.
        padding (FlowPadding, optional): defaults to
            :func:`flow_padding` of ``net``.

    Returns:
        tuple: (N, 6, H', W') float normalised pairs on the network's
        device, and (left, right, top, bottom) padding in px.
    """
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got "
                         f'{channel_order!r}')
    pre = getattr(net, 'data_preprocessor', None)
    if pre is None:
        raise ValueError(f'{type(net).__name__} has no data_preprocessor; '
                         'flow_forward needs an mmflow FlowEstimator')
    padding = padding or flow_padding(net)
    pad = padding.amounts(*frame1.shape[-2:])
    # no tensor made just to learn the device (it would be a host one)
    param = next(net.parameters(), None)
    device = frame1.device if param is None else param.device
    pairs = torch.stack([f.to(device).float() for f in (frame1, frame2)],
                        1)
    if channel_order == 'rgb':
        pairs = pairs.flip(2)
    if any(pad):
        # F.pad pads the last dimensions of a 3D-5D tensor: fold the pair
        pairs = F.pad(
            pairs.flatten(1, 2), pad, mode=PAD_MODES[padding.mode],
            **(dict(value=padding.value) if padding.mode == 'constant'
               else {})).unflatten(1, (2, 3))
    # (N, 2, 3, H', W') iterates as the per-pair list mmflow collates
    return pre(dict(inputs=pairs), training=False)['inputs'], pad


def unpad(flow: Tensor, pad: Tuple[int, int, int, int]) -> Tensor:
    """Crop (..., H', W') back to the frames padded by ``pad``."""
    height = flow.shape[-2] - pad[2] - pad[3]
    width = flow.shape[-1] - pad[0] - pad[1]
    return flow[..., pad[2]:pad[2] + height, pad[0]:pad[0] + width]


def _final_flows(net: nn.Module, out, size) -> List[Tensor]:
    """Full-resolution px flows from a ``'tensor'`` mode output.

    The same tensors as mmflow's ``BaseDecoder.predict_by_feat`` (resize
    to the input size, times ``flow_div``), which cannot be used here: in
    mmflow 1.0.0rc0 its ``data_samples=None`` path fails (it puts a dict
    into ``PixelData``), with samples it needs a ``FlowDataSample`` with
    meta per pair and fills only the first (its loop returns early), and
    it reads one tensor, not RAFT's per-iteration list that the sequence
    loss needs with gradients.
    """
    if isinstance(out, Tensor):
        out = [out]
    if isinstance(out, dict):
        decoder = getattr(net, 'decoder', None)
        level = getattr(decoder, 'end_level', None)
        if level not in out:
            level = max(out, key=lambda k: out[k].shape[-1])
        out = [out[level]]
        scale = float(getattr(decoder, 'flow_div', 1.))
    else:
        scale = 1.
    flows = []
    for flow in out:
        if tuple(flow.shape[-2:]) != tuple(size):
            # bilinear, values already in full-resolution px after flow_div
            flow = F.interpolate(
                flow, size=size, mode='bilinear', align_corners=False)
        flows.append(flow * scale if scale != 1. else flow)
    return flows


def flow_forward(net: nn.Module,
                 frame1: Tensor,
                 frame2: Tensor,
                 channel_order: str = 'rgb',
                 pad_multiple: Optional[int] = None,
                 return_all: bool = False) -> Union[Tensor, List[Tensor]]:
    """Flow from ``frame1`` to ``frame2`` with any mmflow network.

    Gradients flow through (wrap in ``torch.no_grad()`` for inference).

    Args:
        net (nn.Module): mmflow flow estimator (``mode='tensor'`` forward).
        frame1 (Tensor): (N, 3, H, W) uint8 or float frames at t, 0-255.
        frame2 (Tensor): (N, 3, H, W) frames at t+1, same size.
        channel_order (str): order of the frames' channels, ``'rgb'`` or
            ``'bgr'``. Defaults to ``'rgb'``.
        pad_multiple (int, optional): pad H and W to a multiple of this
            instead of :func:`flow_padding`'s (same mode and position).
        return_all (bool): return every prediction (one per RAFT
            iteration; a single one for other networks). Defaults to False.

    Returns:
        Tensor | list[Tensor]: final flow (N, 2, H, W) in px, channel 0 = x,
        or the list of all predictions when ``return_all``.
    """
    check_shape(frame1, ['N', 3, 'H', 'W'], 'frame1')
    check_shape(frame2, list(frame1.shape), 'frame2')
    padding = flow_padding(net)
    if pad_multiple:
        padding = padding._replace(multiple=int(pad_multiple))
    inputs, pad = flow_inputs(net, frame1, frame2, channel_order, padding)
    out = net(inputs, mode='tensor')
    flows = [unpad(f, pad) for f in _final_flows(net, out, inputs.shape[-2:])]
    return flows if return_all else flows[-1]
