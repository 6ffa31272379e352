"""Skeletons (joint names and bones) read from mmpose dataset metainfo.

No joint layout is hard-coded in losses, heads or renderers: they take the
``bones`` tensor of a :class:`Skeleton`, built from the same metainfo files
mmpose's datasets use (``configs/_base_/datasets/h36m.py`` by default).
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Tuple, Union

import torch
from torch import Tensor

# The paper's 14 evaluation joints on H36M-17 drop the pelvis, spine and
# neck base: MPJPE is reported on the remaining limbs and head.
H36M_EVAL_JOINT_NAMES = ('right_hip', 'right_knee', 'right_foot', 'left_hip',
                         'left_knee', 'left_foot', 'thorax', 'head',
                         'left_shoulder', 'left_elbow', 'left_wrist',
                         'right_shoulder', 'right_elbow', 'right_wrist')


@dataclass(frozen=True)
class Skeleton:
    """Joint names and bones of a keypoint layout.

    Attributes:
        name (str): dataset name from the metainfo (e.g. ``'h36m'``).
        joint_names (tuple[str]): J names, index = joint id.
        bones (tuple[tuple[int, int]]): E (parent, child) joint-id pairs.
        flip_indices (tuple[int]): J ids, the joint each joint becomes when
            left and right are exchanged (the metainfo's, else identity).
    """
    name: str
    joint_names: Tuple[str, ...]
    bones: Tuple[Tuple[int, int], ...]
    flip_indices: Tuple[int, ...] = ()

    def __post_init__(self):
        if not self.flip_indices:
            object.__setattr__(self, 'flip_indices',
                               tuple(range(len(self.joint_names))))
        if sorted(self.flip_indices) != list(range(len(self.joint_names))):
            raise ValueError(
                f'skeleton {self.name!r}: flip_indices must be a '
                f'permutation of the {len(self.joint_names)} joint ids, got '
                f'{list(self.flip_indices)}')

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def bone_index(self, device=None) -> Tensor:
        """(E, 2) long tensor of (parent, child) joint ids."""
        return torch.tensor(self.bones, dtype=torch.long, device=device)

    def joint_ids(self, names) -> List[int]:
        """Ids of the named joints; unknown names raise ``KeyError``."""
        lookup = {name: i for i, name in enumerate(self.joint_names)}
        missing = [name for name in names if name not in lookup]
        if missing:
            raise KeyError(f'joints {missing} are not in skeleton '
                           f'{self.name!r} ({list(self.joint_names)})')
        return [lookup[name] for name in names]

    def check_joints(self, num_joints: int, what: str = 'pose') -> None:
        if num_joints != self.num_joints:
            raise ValueError(f'{what} has {num_joints} joints but skeleton '
                             f'{self.name!r} has {self.num_joints}')


def _mmpose_metainfo_file(name: str) -> str:
    import mmpose
    path = osp.join(
        osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_', 'datasets',
        f'{name}.py')
    if not osp.exists(path):
        raise FileNotFoundError(f'mmpose ships no dataset metainfo {name!r} '
                                f'(looked for {path})')
    return path


def load_skeleton(metainfo: Union[str, Dict] = 'h36m') -> Skeleton:
    """Build a :class:`Skeleton` from mmpose dataset metainfo.

    Args:
        metainfo (str | dict): a dataset name shipped by mmpose (``'h36m'``,
            ``'mpi_inf_3dhp'``, ...), a metainfo ``.py`` file, or a metainfo
            dict (raw, with ``keypoint_info``/``skeleton_info``, or already
            parsed by mmpose, with ``keypoint_id2name``/``skeleton_links``).
            Defaults to ``'h36m'``.

    Returns:
        Skeleton: names and bones in the metainfo's joint order.
    """
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    if isinstance(metainfo, str):
        path = metainfo if metainfo.endswith('.py') else \
            _mmpose_metainfo_file(metainfo)
        metainfo = parse_pose_metainfo(dict(from_file=path))
    elif 'keypoint_id2name' not in metainfo:
        metainfo = parse_pose_metainfo(dict(metainfo))
    id2name = metainfo['keypoint_id2name']
    names = tuple(id2name[i] for i in range(len(id2name)))
    bones = tuple((int(a), int(b)) for a, b in metainfo['skeleton_links'])
    flip = tuple(int(i) for i in metainfo.get('flip_indices') or ())
    return Skeleton(
        name=str(metainfo.get('dataset_name', 'custom')),
        joint_names=names,
        bones=bones,
        flip_indices=flip)
