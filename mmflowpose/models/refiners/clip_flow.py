"""Flow of every consecutive pair of a clip, each frame encoded once.

Run pair by pair, RAFT encodes every inner frame twice (as frame t+1 of
pair t and as frame t of pair t+1). Its feature encoder (instance norm) and
its context encoder (batch norm, eval mode) treat each image on its own, so
the features of frame t are the same in both pairs: :func:`clip_flow`
computes them once per frame and runs only the recurrent decoder per pair.
The result equals pairwise :func:`flow_forward` (same normalisation,
padding and output); other networks go through :func:`flow_forward`.
Each chunk's flow is written into the output as it is decoded, so no list
of the window's flows is held next to their concatenation.
"""
import torch
from torch import Tensor, nn

from ..flow_tuning.flow_forward import (_final_flows, flow_forward,
                                        flow_inputs, unpad)


def shares_frame_features(net: nn.Module) -> bool:
    """True for an mmflow RAFT in eval mode whose features are per image."""
    from mmflow.models.flow_estimators import RAFT
    if type(net).extract_feat is not RAFT.extract_feat or \
            type(net)._forward is not RAFT._forward:
        return False  # a subclass that mixes the two images differently
    batch_norms = (m for m in net.modules()
                   if isinstance(m, nn.modules.batchnorm._BatchNorm))
    return not any(m.training for m in batch_norms)


@torch.no_grad()
def clip_flow(net: nn.Module, frames: Tensor, batch_size: int = 4,
              channel_order: str = 'rgb') -> Tensor:
    """Final flow (T-1, 2, H, W) px of (T, 3, H, W) 0-255 frames.

    Args:
        net (nn.Module): mmflow flow estimator, in eval mode.
        frames (Tensor): (T, 3, H, W) frames, 0-255, on any device.
        batch_size (int): pairs per forward. Defaults to 4.
        channel_order (str): ``'rgb'`` or ``'bgr'``. Defaults to 'rgb'.

    Returns:
        Tensor: pair t is the flow from frame t to t+1, channel 0 = x.
    """
    num = frames.shape[0]
    out = _FlowOutput(num - 1)
    if not shares_frame_features(net):
        # pairs i .. i + batch_size - 1 (never past the last pair)
        for i in range(0, num - 1, batch_size):
            out.put(flow_forward(net, frames[i:min(i + batch_size, num - 1)],
                                 frames[i + 1:min(i + 1 + batch_size, num)],
                                 channel_order))
        return out.flows
    held = None
    for i in range(0, num - 1, batch_size):
        j = min(i + batch_size, num - 1)
        # the same network input as flow_forward's: frames i .. j-1 in its
        # first half, i+1 .. j in its second
        inputs, pad = flow_inputs(net, frames[i:j], frames[i + 1:j + 1],
                                  channel_order)
        first = inputs[:, :3]
        # frames are encoded in batches i .. i + batch_size - 1 (the last
        # frame joins the last short one), so frame j's features come with
        # the next batch and this batch's pairs wait for it
        short = j - i < batch_size
        feats = net.encoder(torch.cat([first, inputs[-1:, 3:]])
                            if short else first)
        if held is not None:
            out.put(_decode(net, *held, feats[:1]))
        held = (first, feats, inputs.shape[-2:], pad)
        if short:
            out.put(_decode(net, first, feats[:-1], *held[2:], feats[-1:]))
            held = None
        elif j == num - 1:
            out.put(_decode(net, *held, net.encoder(inputs[-1:, 3:])))
    return out.flows


class _FlowOutput:
    """The (P, 2, H, W) flows of a clip, filled chunk by chunk in pair
    order (allocated at the first chunk, whose size and dtype it takes)."""

    def __init__(self, num_pairs: int) -> None:
        self.num_pairs, self.filled, self.flows = num_pairs, 0, None

    def put(self, flow: Tensor) -> None:
        if self.flows is None:
            self.flows = flow.new_empty((self.num_pairs, *flow.shape[1:]))
        self.flows[self.filled:self.filled + len(flow)] = flow
        self.filled += len(flow)


def _decode(net: nn.Module, first: Tensor, feats: Tensor, size, pad,
            next_feat: Tensor) -> Tensor:
    """Unpadded final flow of the pairs whose first frames are ``first``
    (normalised, padded), from their features and the next frame's."""
    h_feat, cxt_feat = torch.split(
        net.context(first), [net.h_channels, net.cxt_channels], dim=1)
    out = net.decoder(
        feats,
        torch.cat([feats[1:], next_feat]),
        flow=feats.new_zeros((len(feats), 2, *feats.shape[-2:])),
        h_feat=torch.tanh(h_feat),
        cxt_feat=torch.relu(cxt_feat))
    return unpad(_final_flows(net, out, size)[-1], pad)
