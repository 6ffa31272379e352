"""Batches drawn from one source dataset at a time.

Training on frames of several sizes (e.g. 96x128 clips and 160x224 crops of
192x256 clips, ``configs/training/raft-small_1xb32-7k_synthetic-gpu.py``)
needs batches whose samples share a size, or they cannot be stacked. With a
``ConcatDataset`` of one dataset per size, :class:`SourceBatchSampler`
buckets the indices of the underlying sampler by source and yields a
bucket when it is full: each batch comes from one source, and over a run
the sources are used in proportion to their sizes.
"""
from typing import Iterator, List

from mmengine.dataset import ConcatDataset
from torch.utils.data import BatchSampler, Sampler

from mmflowpose.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class SourceBatchSampler(BatchSampler):
    """Batch sampler of a ``ConcatDataset`` whose batches hold one source.

    Args:
        sampler (Sampler): index sampler over the ``ConcatDataset`` (e.g.
            mmengine's ``InfiniteSampler``); ``sampler.dataset`` must be the
            ``ConcatDataset``.
        batch_size (int): samples per batch.
        drop_last (bool): drop the unfilled buckets at the end of a finite
            sampler. Defaults to False.
    """

    def __init__(self, sampler: Sampler, batch_size: int,
                 drop_last: bool = False) -> None:
        if int(batch_size) < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        dataset = getattr(sampler, 'dataset', None)
        if not isinstance(dataset, ConcatDataset):
            raise TypeError('SourceBatchSampler needs a sampler over an '
                            'mmengine ConcatDataset (one dataset per frame '
                            f'size), got {type(dataset).__name__}')
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)
        self.ends = list(dataset.cumulative_sizes)

    def source(self, index: int) -> int:
        """Which dataset of the concatenation ``index`` belongs to."""
        return next(i for i, end in enumerate(self.ends) if index < end)

    def __iter__(self) -> Iterator[List[int]]:
        buckets = [[] for _ in self.ends]
        for index in self.sampler:
            bucket = buckets[self.source(index)]
            bucket.append(index)
            if len(bucket) == self.batch_size:
                yield bucket[:]
                del bucket[:]
        if not self.drop_last:
            for bucket in buckets:
                if bucket:
                    yield bucket

    def __len__(self) -> int:
        size = len(self.sampler)
        if self.drop_last:
            return size // self.batch_size
        return -(-size // self.batch_size)
