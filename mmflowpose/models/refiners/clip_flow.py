"""Flow of every consecutive pair of a clip, each frame encoded once.

Run pair by pair, RAFT encodes every inner frame twice (as frame t+1 of
pair t and as frame t of pair t+1). Its feature encoder (instance norm) and
its context encoder (batch norm, eval mode) treat each image on its own, so
the features of frame t are the same in both pairs: :func:`clip_flow`
computes them once per frame and runs only the recurrent decoder per pair.
The result equals pairwise :func:`flow_forward` (same normalisation,
padding and output); other networks go through :func:`flow_forward`.
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..flow_tuning.flow_forward import (_final_flows, flow_forward,
                                        flow_pad_multiple, normalize_frames)


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
        batch_size (int): frames (and pairs) per forward. Defaults to 4.
        channel_order (str): ``'rgb'`` or ``'bgr'``. Defaults to 'rgb'.

    Returns:
        Tensor: pair t is the flow from frame t to t+1, channel 0 = x.
    """
    num = frames.shape[0]
    if not shares_frame_features(net):
        # pairs i .. i + batch_size - 1 (never past the last pair)
        return torch.cat([
            flow_forward(net, frames[i:min(i + batch_size, num - 1)],
                         frames[i + 1:min(i + 1 + batch_size, num)],
                         channel_order)
            for i in range(0, num - 1, batch_size)
        ])
    height, width = frames.shape[-2:]
    multiple = flow_pad_multiple(net)
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    pad = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
    device = next(net.parameters()).device
    feats = []
    for i in range(0, num, batch_size):
        x = normalize_frames(net, frames[i:i + batch_size].to(device),
                             channel_order)
        if pad_h or pad_w:
            x = F.pad(x, pad, mode='replicate')
        feats.append(net.encoder(x))
    feats = torch.cat(feats)
    padded = (height + pad_h, width + pad_w)
    flows = []
    for i in range(0, num - 1, batch_size):
        j = min(i + batch_size, num - 1)
        x = normalize_frames(net, frames[i:j].to(device), channel_order)
        if pad_h or pad_w:
            x = F.pad(x, pad, mode='replicate')
        h_feat, cxt_feat = torch.split(
            net.context(x), [net.h_channels, net.cxt_channels], dim=1)
        feat1 = feats[i:j]
        out = net.decoder(
            feat1,
            feats[i + 1:j + 1],
            flow=feat1.new_zeros((j - i, 2, *feat1.shape[-2:])),
            h_feat=torch.tanh(h_feat),
            cxt_feat=torch.relu(cxt_feat))
        flow = _final_flows(net, out, padded)[-1]
        flows.append(flow[..., pad[2]:pad[2] + height,
                          pad[0]:pad[0] + width])
    return torch.cat(flows)
