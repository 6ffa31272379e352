"""Data synthesis: clips, flow pairs and lifting samples with exact ground
truth, made from motion capture or procedural motion (see README.md)."""
from .camera import look_at, make_camera, project, to_h36m_camera
from .clip import VIEWPOINTS, make_clip
from .clip_dataset import SyntheticClipDataset
from .estimate_noise import simulate_estimates
from .flow_dataset import SyntheticFlowDataset, render_flow_cache
from .mocap import MocapFormatError, load_mocap
from .mocap_lifting import MocapLiftingDataset
from .motion import KINDS, procedural_motion
from .pw3d_writer import write_3dpw
from .writers import h36m_annotations, write_h36m, write_sintel

__all__ = [
    'look_at', 'make_camera', 'project', 'to_h36m_camera', 'VIEWPOINTS',
    'make_clip', 'procedural_motion', 'KINDS', 'write_sintel', 'write_h36m',
    'h36m_annotations', 'write_3dpw', 'load_mocap', 'MocapFormatError',
    'simulate_estimates', 'SyntheticClipDataset', 'SyntheticFlowDataset',
    'render_flow_cache', 'MocapLiftingDataset'
]
