import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """Flow networks run and train with one intra-op thread here: on a
    contended 2-core box that is 5-10x faster than two."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
