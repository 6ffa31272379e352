"""Shared pieces of the mocap readers: errors naming file and line, file
lines, and Euler rotations (numpy, degrees)."""
import os.path as osp
from typing import List, Optional

import numpy as np


class MocapFormatError(ValueError):
    """A mocap file that cannot be parsed; the message names file and line."""


def fail(path: str, line: Optional[int], msg: str):
    """Raise :class:`MocapFormatError` as ``path:line: msg``."""
    where = f'{path}:{line}' if line is not None else path
    raise MocapFormatError(f'{where}: {msg}')


def read_lines(path: str) -> List[str]:
    """The lines of a text file; FileNotFoundError names a missing one."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'mocap file not found: {path}')
    with open(path, 'r', encoding='utf-8', errors='replace') as f:
        return f.read().splitlines()


def axis_rotation(axis: str, angle_deg: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices about a principal axis, in degrees."""
    a = np.deg2rad(np.asarray(angle_deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    one, zero = np.ones_like(a), np.zeros_like(a)
    if axis == 'X':
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == 'Y':
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    elif axis == 'Z':
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    else:
        raise ValueError(f'axis must be X, Y or Z, got {axis!r}')
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def euler_to_matrix(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Rotation from angles applied about fixed axes in ``order``.

    ``order='XYZ'`` rotates about X first, then Y, then Z:
    ``R = Rz(a[2]) @ Ry(a[1]) @ Rx(a[0])`` (Acclaim convention). Angles are
    given in ``order``'s sequence.

    Args:
        angles_deg (np.ndarray): (..., 3) angles in degrees.
        order (str): three letters from ``XYZ``.

    Returns:
        np.ndarray: (..., 3, 3) rotation matrices.
    """
    angles_deg = np.asarray(angles_deg, dtype=np.float64)
    rot = np.broadcast_to(np.eye(3), angles_deg.shape[:-1] + (3, 3))
    for i, axis in enumerate(order.upper()):
        rot = axis_rotation(axis, angles_deg[..., i]) @ rot
    return rot
