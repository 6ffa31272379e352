import pytest
import torch

from mmflowpose.apis import init_model
from mmflowpose.models.flow_tuning import flow_forward
from mmflowpose.models.refiners.clip_flow import (clip_flow,
                                                  shares_frame_features)

RAFT_S = 'configs/training/raft-small_synthetic.py'


@pytest.fixture(scope='module')
def raft():
    torch.manual_seed(0)
    return init_model(RAFT_S, checkpoint=None,
                      cfg_options={'model.decoder.iters': 2})


def clip(num, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (num, 3, 60, 90), generator=gen).float()


# (T, batch_size): last batch short, last batch full, one pair per batch
@pytest.mark.parametrize('num,batch_size', [(4, 2), (5, 2), (3, 1)])
def test_equals_pairwise_and_encodes_each_frame_once(raft, num, batch_size):
    frames = clip(num)
    seen = []
    hook = raft.encoder.register_forward_hook(
        lambda module, args, out: seen.append(args[0].shape[0]))
    try:
        flows = clip_flow(raft, frames, batch_size)
    finally:
        hook.remove()
    assert shares_frame_features(raft)
    assert sum(seen) == num  # 60 x 90 padded to 64 x 96 inside
    with torch.no_grad():
        pairwise = flow_forward(raft, frames[:-1], frames[1:])
    assert flows.shape == (num - 1, 2, 60, 90)
    # batch composition only: float noise, not a different computation
    torch.testing.assert_close(flows, pairwise, atol=1e-4, rtol=0)


def test_bgr_frames(raft):
    frames = clip(3, seed=1)
    torch.testing.assert_close(
        clip_flow(raft, frames.flip(1), 2, channel_order='bgr'),
        clip_flow(raft, frames, 2))


@pytest.mark.parametrize('shared', [True, False])
def test_filled_in_place_equals_the_chunks(raft, shared):
    """Each chunk is written into one output: the same numbers as the
    concatenation of the chunks (pairs 0-1, 2-3, 4), either path."""
    frames = clip(6, seed=2)
    # train mode updates the running stats: the module's network is shared
    state = {k: v.clone() for k, v in raft.state_dict().items()}
    if not shared:
        # train-mode batch norm: frames' features depend on their batch
        raft.context.train()
    try:
        assert shares_frame_features(raft) == shared
        flows = clip_flow(raft, frames, 2)
        with torch.no_grad():
            chunks = [flow_forward(raft, frames[i:min(i + 2, 5)],
                                   frames[i + 1:min(i + 3, 6)])
                      for i in range(0, 5, 2)]
    finally:
        raft.context.eval()
        raft.load_state_dict(state)
    assert flows.shape == (5, 2, 60, 90) and flows.is_contiguous()
    if shared:
        torch.testing.assert_close(flows, torch.cat(chunks), atol=1e-4,
                                   rtol=0)
    else:
        assert torch.equal(flows, torch.cat(chunks))
