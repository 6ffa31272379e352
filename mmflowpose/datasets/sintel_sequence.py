"""MPI-Sintel sequences as clips of frames and ground-truth flows."""
import glob
import os
import os.path as osp
import re
from typing import List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from mmflowpose.registry import DATASETS
from .flow_io import read_flow

_FRAME = re.compile(r'^frame_(\d+)\.png$')


@DATASETS.register_module()
class SintelSequenceDataset(BaseDataset):
    """Sintel sequences cut into clips (one item = one clip).

    Layout (the official one)::

        <data_root>/<pass_name>/<seq>/frame_0001.png ...
        <data_root>/flow/<seq>/frame_0001.flo ...        # frame i -> i + 1
        <data_root>/occlusions/<seq>/frame_0001.png ...  # optional
        <data_root>/invalid/<seq>/frame_0001.png ...     # optional

    A sample (after loading, before ``pipeline``) is a dict:

    - ``seq_name`` (str), ``pass_name`` (str), ``frame_ids`` (list[int], T
      file numbers), ``img_paths`` (list[str], T), ``flow_paths``,
      ``occ_paths``, ``invalid_paths`` (list[str], T - 1, empty when the
      folder is absent);
    - ``imgs``: (T, H, W, 3) uint8 RGB frames;
    - ``flows``: (T - 1, H, W, 2) float32 forward flow t -> t+1 in px,
      channel 0 = x (absent without ``flow/``);
    - ``flow_valid``: (T - 1, H, W) bool, finite flow and not marked in
      ``invalid/``;
    - ``occlusions``: (T - 1, H, W) bool, True = occluded (only with
      ``occlusions/``).

    Args:
        data_root (str): Sintel ``training`` (or ``test``) folder.
        pass_name (str): ``'final'`` or ``'clean'``. Defaults to ``'final'``.
        sequences (sequence[str], optional): sequence names to use; all by
            default. Defaults to None.
        clip_length (int, optional): frames per clip (>= 2); whole
            sequences by default. Defaults to None.
        clip_stride (int, optional): first-frame step between clips;
            defaults to ``clip_length - 1`` (consecutive clips share one
            frame, so every pair is used once).
        load (bool): read frames and flows in ``prepare_data``; when False
            samples hold paths only. Defaults to True.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 data_root: str,
                 pass_name: str = 'final',
                 sequences: Optional[Sequence[str]] = None,
                 clip_length: Optional[int] = None,
                 clip_stride: Optional[int] = None,
                 load: bool = True,
                 **kwargs) -> None:
        if clip_length is not None and int(clip_length) < 2:
            raise ValueError(f'clip_length must be >= 2, got {clip_length}')
        if clip_stride is not None and int(clip_stride) < 1:
            raise ValueError(f'clip_stride must be >= 1, got {clip_stride}')
        self.pass_name = pass_name
        self.sequences = None if sequences is None else list(sequences)
        self.clip_length = clip_length
        self.clip_stride = clip_stride
        self.load = load
        super().__init__(data_root=data_root, **kwargs)

    def _frames(self, seq: str) -> List[int]:
        folder = osp.join(self.data_root, self.pass_name, seq)
        ids = []
        for path in glob.glob(osp.join(folder, 'frame_*.png')):
            match = _FRAME.match(osp.basename(path))
            if match:
                ids.append(int(match.group(1)))
        return sorted(ids)

    def load_data_list(self) -> List[dict]:
        pass_dir = osp.join(self.data_root, self.pass_name)
        if not osp.isdir(pass_dir):
            raise FileNotFoundError(
                f'Sintel pass folder {pass_dir!r} does not exist (expected '
                '<data_root>/<pass_name>/<seq>/frame_%04d.png)')
        available = sorted(
            d for d in os.listdir(pass_dir)
            if osp.isdir(osp.join(pass_dir, d)))
        if self.sequences is None:
            seqs = available
        else:
            missing = [s for s in self.sequences if s not in available]
            if missing:
                raise FileNotFoundError(
                    f'sequences {missing} not found in {pass_dir} '
                    f'(found {available})')
            seqs = self.sequences
        data_list = []
        for seq in seqs:
            ids = self._frames(seq)
            if len(ids) < 2:
                continue
            length = self.clip_length or len(ids)
            stride = self.clip_stride or max(length - 1, 1)
            for start in range(0, max(len(ids) - length, 0) + 1, stride):
                clip = ids[start:start + length]
                if len(clip) < 2:
                    continue
                data_list.append(self._clip_info(seq, clip))
        return data_list

    def _aux(self, folder: str, seq: str, ids: List[int],
             ext: str) -> List[str]:
        paths = [
            osp.join(self.data_root, folder, seq, f'frame_{i:04d}{ext}')
            for i in ids
        ]
        return paths if all(osp.isfile(p) for p in paths) else []

    def _clip_info(self, seq: str, ids: List[int]) -> dict:
        pairs = ids[:-1]
        return dict(
            seq_name=seq,
            pass_name=self.pass_name,
            frame_ids=list(ids),
            img_paths=[
                osp.join(self.data_root, self.pass_name, seq,
                         f'frame_{i:04d}.png') for i in ids
            ],
            flow_paths=self._aux('flow', seq, pairs, '.flo'),
            occ_paths=self._aux('occlusions', seq, pairs, '.png'),
            invalid_paths=self._aux('invalid', seq, pairs, '.png'))

    @staticmethod
    def load_clip(info: dict) -> dict:
        """Add ``imgs``, ``flows``, ``flow_valid``, ``occlusions``."""
        import mmcv
        info = dict(info)
        info['imgs'] = np.stack([
            mmcv.imread(p, channel_order='rgb') for p in info['img_paths']
        ])
        if info['flow_paths']:
            flows, valid = zip(*(read_flow(p) for p in info['flow_paths']))
            info['flows'] = np.stack(flows)
            info['flow_valid'] = np.stack(valid)
            if info['invalid_paths']:
                invalid = np.stack([
                    mmcv.imread(p, flag='grayscale') > 0
                    for p in info['invalid_paths']
                ])
                info['flow_valid'] = info['flow_valid'] & ~invalid
        if info['occ_paths']:
            info['occlusions'] = np.stack([
                mmcv.imread(p, flag='grayscale') > 0
                for p in info['occ_paths']
            ])
        return info

    def prepare_data(self, idx: int):
        info = self.get_data_info(idx)
        if self.load:
            info = self.load_clip(info)
        return self.pipeline(info)
