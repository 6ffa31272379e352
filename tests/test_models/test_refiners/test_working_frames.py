"""Working frames made on demand equal the whole window resized at once."""
import pytest
import torch

from mmflowpose.models.refiners.working_frames import (WorkingFrames,
                                                       crop_frames,
                                                       whole_frames)
from mmflowpose.models.refiners.working_resolution import resize_frames


def _frames(num=5, size=(54, 96)):
    gen = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (num, 3, *size), generator=gen,
                         dtype=torch.uint8)


@pytest.mark.parametrize('size', [(27, 48), (54, 96)])
def test_slices_and_crops_equal_the_whole_resize(size):
    frames = _frames()
    whole = resize_frames(frames, size)
    lazy = WorkingFrames(frames, size, 'cpu')
    assert len(lazy) == 5 and lazy.shape == whole.shape
    # chunks of pairs as the clip flow reads them: frames i..j, i+1..j+1
    for i, j in ((0, 1), (1, 2), (1, 3), (2, 5), (4, 5), (3, 3)):
        assert torch.equal(lazy[i:j], whole[i:j]), (i, j)
        assert torch.equal(lazy[i + 1:j + 1], whole[i + 1:j + 1]), (i, j)
    box = (3, 19, 8, 40)
    assert torch.equal(crop_frames(lazy, box), whole[..., 3:19, 8:40])
    assert torch.equal(crop_frames(whole, box), whole[..., 3:19, 8:40])
    assert torch.equal(whole_frames(lazy), whole)
    assert whole_frames(whole) is whole
    with pytest.raises(TypeError, match='slice'):
        lazy[2]


def test_keeps_only_the_last_slice():
    """The shared frame of consecutive chunks is resized once, and no more
    than the last chunk's frames are held."""
    lazy = WorkingFrames(_frames(), (27, 48), 'cpu')
    calls = []
    resize = lazy._frame

    def counting(index):
        if index not in lazy._kept:
            calls.append(index)
        return resize(index)

    lazy._frame = counting
    for i in range(4):
        lazy[i:i + 1], lazy[i + 1:i + 2]
    assert calls == [0, 1, 2, 3, 4]
    assert sorted(lazy._kept) == [4]
