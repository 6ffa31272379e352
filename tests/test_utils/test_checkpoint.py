import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from torch import nn

from mmflowpose.utils.checkpoint import (CheckpointError, load_model_weights,
                                         read_checkpoint,
                                         save_checkpoint_atomic)


class NotAllowListed:
    """A class no allow-list knows: safe loading must refuse it."""


def test_openmmlab_meta_loads_with_weights_only(tmp_path):
    model = nn.Linear(3, 2)
    buffer = HistoryBuffer()
    buffer.update(0.5)
    meta = dict(
        dataset_meta=dict(
            sigmas=np.ones(17, dtype=np.float32),
            flip_indices=np.arange(17)),
        seed=np.int64(7),
        message_hub=dict(log_scalars={'train/loss': buffer}))
    path = str(tmp_path / 'model.pth')
    save_checkpoint_atomic(model, path, meta)
    target = nn.Linear(3, 2)
    loaded_meta = load_model_weights(target, path)
    assert torch.equal(target.weight, model.weight)
    assert loaded_meta['seed'] == 7
    # the logging history is replaced by an inert placeholder
    dropped = loaded_meta['message_hub']['log_scalars']['train/loss']
    assert type(dropped).__name__ == 'DroppedObject'
    np.testing.assert_array_equal(loaded_meta['dataset_meta']['flip_indices'],
                                  np.arange(17))


def test_unknown_globals_need_trust(tmp_path):
    path = str(tmp_path / 'odd.pth')
    torch.save({'state_dict': {}, 'meta': {'x': NotAllowListed()}}, path)
    with pytest.raises(CheckpointError, match='NotAllowListed.*trusted=True'):
        read_checkpoint(path)
    checkpoint = read_checkpoint(path, trusted=True)
    assert isinstance(checkpoint['meta']['x'], NotAllowListed)


def test_shape_mismatch_is_named(tmp_path):
    path = str(tmp_path / 'small.pth')
    save_checkpoint_atomic(nn.Linear(3, 2), path)
    with pytest.raises(CheckpointError, match=r'weight \(2, 3\) vs \(4, 3\)'):
        load_model_weights(nn.Linear(3, 4), path)


def test_atomic_save_leaves_no_temporary(tmp_path):
    path = tmp_path / 'm.pth'
    save_checkpoint_atomic(nn.Linear(1, 1), str(path))
    assert [p.name for p in tmp_path.iterdir()] == ['m.pth']
