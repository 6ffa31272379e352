"""Rendered synthetic frame pairs with exact flow, as mmflow samples.

:func:`render_flow_cache` renders clips with
:func:`~mmflowpose.datasets.synthetic.make_clip` (random motions, cameras,
frame rates and seeds) into a cache folder; :class:`SyntheticFlowDataset`
serves their consecutive frame pairs in mmflow 1.x's layout, so mmflow's
transforms (``RandomFlip``, ``Validation``, ``PackFlowInputs``...) and
``RAFT.loss``/``predict`` work on them unchanged.

Cache layout: ``<root>/<split>/<clip>.npz`` with ``frames`` (T, H, W, 3)
uint8 RGB, ``flow`` (T-1, H, W, 2) float32 px forward (channel 0 = x),
``occlusion`` (T-1, H, W) bool, ``human_mask`` (T, H, W) bool, plus
``<root>/index.json`` describing how each clip was made.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset

from mmflowpose.registry import DATASETS
from mmflowpose.utils.io import dump_json_atomic, save_npz_atomic

#: Camera ranges of rendered clips (kwargs of ``make_camera``); a clip
#: orbits with probability ``orbit_prob`` at ``orbit_deg_per_frame`` of
#: either sign, which moves the background.
RENDER_CAMERA_RANGES = dict(
    azimuth_deg=(-180.0, 180.0),
    elevation_deg=(0.0, 30.0),
    distance=(3.0, 6.0),
    fill=(0.45, 0.9),
    orbit_deg_per_frame=(0.0, 3.0),
    orbit_prob=0.5)


def _draw_camera(rng: np.random.Generator, ranges: Dict) -> Dict:
    r = ranges
    orbit = rng.uniform(*r['orbit_deg_per_frame']) * rng.choice([-1, 1]) \
        if rng.uniform() < r['orbit_prob'] else 0.0
    return dict(
        azimuth_deg=float(rng.uniform(*r['azimuth_deg'])),
        elevation_deg=float(rng.uniform(*r['elevation_deg'])),
        distance=float(rng.uniform(*r['distance'])),
        fill=float(rng.uniform(*r['fill'])),
        orbit_deg_per_frame=float(orbit))


def render_flow_cache(root: str,
                      splits: Dict[str, Sequence[str]],
                      clips_per_split: Dict[str, int],
                      mocap_root: Optional[str] = None,
                      frames_per_clip: int = 5,
                      image_size: Tuple[int, int] = (96, 128),
                      strides: Sequence[int] = (2, 3, 4, 6),
                      camera_ranges: Optional[Dict] = None,
                      seed: int = 0) -> Dict:
    """Render clips into ``root/<split>/`` (skips clips already there).

    Clip ``i`` of a split takes motion ``i % len(motions)``: a mocap file
    (relative to ``mocap_root``; a random window, every ``stride``-th frame
    with ``stride`` drawn from ``strides``, i.e. 60-20 Hz from 120 Hz) or
    ``'procedural:<kind>'`` (a random seed); its camera comes from
    :data:`RENDER_CAMERA_RANGES`.

    Args:
        root (str): cache folder (created).
        splits (dict): split name -> motions.
        clips_per_split (dict): split name -> number of clips.
        mocap_root (str, optional): folder of the mocap files.
        frames_per_clip (int): T (T - 1 pairs). Defaults to 5.
        image_size (tuple[int, int]): (H, W). Defaults to (96, 128).
        strides (sequence[int]): mocap frame strides. Defaults to
            (2, 3, 4, 6).
        camera_ranges (dict, optional): overrides of
            :data:`RENDER_CAMERA_RANGES`.
        seed (int): base seed. Defaults to 0.

    Returns:
        dict: the index (also written to ``root/index.json``): per split a
        list of dicts ``file``, ``motion``, ``start``, ``stride``,
        ``camera``, ``seed``.
    """
    from .mocap import load_mocap
    from .clip import make_clip
    if frames_per_clip < 2:
        raise ValueError(f'frames_per_clip must be >= 2, got '
                         f'{frames_per_clip}')
    if set(clips_per_split) != set(splits):
        raise ValueError(f'clips_per_split keys {sorted(clips_per_split)} '
                         f'must equal splits keys {sorted(splits)}')
    ranges = dict(RENDER_CAMERA_RANGES)
    unknown = set(camera_ranges or {}) - set(ranges)
    if unknown:
        raise ValueError(f'camera_ranges has unknown keys {sorted(unknown)};'
                         f' known: {sorted(ranges)}')
    ranges.update(camera_ranges or {})
    index, loaded = {}, {}
    for split_no, (split, motions) in enumerate(sorted(splits.items())):
        if not motions:
            raise ValueError(f'split {split!r} has no motions')
        os.makedirs(osp.join(root, split), exist_ok=True)
        entries = []
        for i in range(clips_per_split[split]):
            motion = motions[i % len(motions)]
            clip_seed = seed * 100003 + split_no * 10007 + i
            rng = np.random.default_rng(clip_seed)
            camera = _draw_camera(rng, ranges)
            entry = dict(file=f'{split}/{i:04d}.npz', motion=motion,
                         camera=camera, seed=clip_seed, start=0, stride=1)
            if motion.startswith('procedural:'):
                source = motion
                kwargs = dict(num_frames=frames_per_clip)
            else:
                if motion not in loaded:
                    path = motion if mocap_root is None else osp.join(
                        mocap_root, motion)
                    loaded[motion] = load_mocap(path)['joints']
                joints = loaded[motion]
                stride = int(rng.choice(strides))
                span = (frames_per_clip - 1) * stride + 1
                if span > len(joints):
                    raise ValueError(f'{motion}: {len(joints)} frames, '
                                     f'need {span}')
                start = int(rng.integers(0, len(joints) - span + 1))
                source = joints[start:start + span:stride]
                entry.update(start=start, stride=stride)
                kwargs = dict(fps=120.0 / stride)
            entries.append(entry)
            out = osp.join(root, entry['file'])
            if osp.isfile(out):
                continue
            clip = make_clip(source, camera=camera, image_size=image_size,
                             seed=clip_seed, **kwargs)
            save_npz_atomic(
                out, frames=clip['frames'], flow=clip['flow'],
                occlusion=clip['occlusion'], human_mask=clip['human_mask'])
        index[split] = entries
    # strict JSON, written atomically (a killed run leaves no half index)
    dump_json_atomic(index, osp.join(root, 'index.json'))
    return index


@DATASETS.register_module()
class SyntheticFlowDataset(BaseDataset):
    """Frame pairs of a :func:`render_flow_cache` folder, mmflow style.

    Each sample (``get_data_info``) has ``img1``, ``img2`` (H, W, 3) uint8
    RGB, ``gt_flow_fw`` (H, W, 2) float32 px (channel 0 = x),
    ``gt_occ_fw`` (H, W) uint8 (1 = occluded at t+1; None unless
    ``with_occ``), ``human_mask``
    (H, W) bool, ``img_shape``/``ori_shape`` (H, W), ``img1_path``/
    ``img2_path`` (``<split>/<clip>.npz#<t>``) and ``pair_id``. No
    backward flow. The frames are RGB (``make_clip``'s order); mmflow's
    RAFT normalises with mean = std = 127.5 per channel, so the order only
    matters for consistency between training and use.

    Args:
        data_root (str): the cache folder.
        split (str): sub-folder. Defaults to ``'train'``.
        max_pairs (int, optional): keep the first pairs only.
        with_occ (bool): give ``gt_occ_fw``. Defaults to False: mmflow's
            ``RandomFlip`` leaves flipped occlusion maps with negative
            strides, which its ``PackFlowInputs`` rejects.
        pipeline (sequence): transforms. Defaults to ().
        test_mode (bool): Defaults to False.
        **kwargs: other :class:`mmengine.dataset.BaseDataset` arguments.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 max_pairs: Optional[int] = None,
                 with_occ: bool = False,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs):
        folder = osp.join(data_root, split)
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'synthetic flow cache {folder!r} not found; render it with '
                'mmflowpose.datasets.synthetic.render_flow_cache '
                '(tools/train_flow.py does it)')
        if max_pairs is not None and max_pairs < 1:
            raise ValueError(f'max_pairs must be >= 1, got {max_pairs}')
        self.split = split
        self.max_pairs = max_pairs
        self.with_occ = with_occ
        self._clips: Dict[str, Dict[str, np.ndarray]] = {}
        super().__init__(
            ann_file='',
            data_root=data_root,
            pipeline=list(pipeline),
            test_mode=test_mode,
            serialize_data=False,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        folder = osp.join(self.data_root, self.split)
        files = sorted(f for f in os.listdir(folder)
                       if f.endswith('.npz') and not f.endswith('.tmp.npz'))
        if not files:
            raise FileNotFoundError(f'no .npz clips in {folder!r}')
        data_list = []
        for name in files:
            with np.load(osp.join(folder, name), allow_pickle=False) as data:
                if 'flow' not in data or 'frames' not in data:
                    raise ValueError(f'{name}: needs frames and flow arrays')
                clip = {key: data[key] for key in data.files}
            self._clips[name] = clip
            for t in range(len(clip['flow'])):
                data_list.append(dict(clip=name, t=t))
        if self.max_pairs is not None:
            data_list = data_list[:self.max_pairs]
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """The mmflow-style sample ``idx`` (see the class docstring)."""
        entry = super().get_data_info(idx)
        clip = self._clips[entry['clip']]
        t = entry['t']
        frames = clip['frames']
        name = f'{self.split}/{entry["clip"]}'
        occ = clip.get('occlusion') if self.with_occ else None
        mask = clip.get('human_mask')
        return dict(
            img1=frames[t].copy(),
            img2=frames[t + 1].copy(),
            gt_flow_fw=clip['flow'][t].astype(np.float32),
            gt_flow_bw=None,
            gt_occ_fw=None if occ is None else occ[t].astype(np.uint8),
            human_mask=None if mask is None else mask[t].copy(),
            img_shape=frames.shape[1:3],
            ori_shape=frames.shape[1:3],
            img1_path=f'{name}#{t}',
            img2_path=f'{name}#{t + 1}',
            pair_id=int(idx),
            sample_idx=entry.get('sample_idx', idx))
