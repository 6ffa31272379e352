"""Synthetic human clips with exact ground truth (see :func:`make_clip`)."""
from .camera import look_at, make_camera, project, to_h36m_camera
from .clip import VIEWPOINTS, make_clip
from .motion import KINDS, procedural_motion
from .writers import h36m_annotations, write_h36m, write_sintel

__all__ = [
    'look_at', 'make_camera', 'project', 'to_h36m_camera', 'VIEWPOINTS',
    'make_clip', 'procedural_motion', 'KINDS', 'write_sintel', 'write_h36m',
    'h36m_annotations'
]
