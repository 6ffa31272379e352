"""BVH parsing and forward kinematics (intrinsic channel order).

Conventions: see :mod:`.mocap`.
"""
from typing import Dict, List, Tuple

import numpy as np

from .mocap_format import MocapFormatError, axis_rotation, fail, read_lines


def read_bvh(path: str) -> Dict:
    """Parse a BVH file.

    Returns:
        dict: ``names`` (list[str]; End Sites are ``<Joint>_end``),
        ``parents`` (list[int], -1 for the root), ``offsets`` (P, 3),
        ``channels`` (list[list[str]] per point), ``motion`` (T, C) float64,
        ``frame_time`` (float, seconds).
    """
    lines = read_lines(path)
    names, parents, offsets, channels = [], [], [], []
    stack: List[int] = []
    pending = None
    lineno = 0
    motion_line = None
    for lineno, raw in enumerate(lines, 1):
        tok = raw.split()
        if not tok:
            continue
        key = tok[0].upper()
        try:
            if key in ('ROOT', 'JOINT'):
                pending = tok[1]
                if key == 'ROOT' and names:
                    fail(path, lineno, 'only one ROOT is supported')
            elif key == 'END':
                pending = names[stack[-1]] + '_end'
            elif key == '{':
                if pending is None:
                    fail(path, lineno, "'{' without a ROOT/JOINT/End Site")
                parents.append(stack[-1] if stack else -1)
                names.append(pending)
                offsets.append(np.zeros(3))
                channels.append([])
                stack.append(len(names) - 1)
                pending = None
            elif key == '}':
                if not stack:
                    fail(path, lineno, "unbalanced '}'")
                stack.pop()
            elif key == 'OFFSET':
                offsets[stack[-1]] = np.array(tok[1:4], dtype=np.float64)
            elif key == 'CHANNELS':
                count = int(tok[1])
                if len(tok) - 2 != count:
                    fail(path, lineno, f'CHANNELS says {count} but lists '
                         f'{len(tok) - 2}')
                channels[stack[-1]] = tok[2:]
            elif key == 'HIERARCHY':
                continue
            elif key == 'MOTION':
                motion_line = lineno
                break
            else:
                fail(path, lineno, f'unexpected token {tok[0]!r}')
        except (IndexError, ValueError) as e:
            if isinstance(e, MocapFormatError):
                raise
            fail(path, lineno, f'cannot parse {raw.strip()!r} ({e})')
    if motion_line is None or not names or stack:
        fail(path, lineno or None, 'no complete HIERARCHY followed by '
             'MOTION (not a BVH file?)')
    num_channels = sum(len(c) for c in channels)
    header = {}
    i = motion_line
    while len(header) < 2 and i < len(lines):
        tok = lines[i].replace(':', ' : ').split()
        i += 1
        if not tok:
            continue
        if tok[0].lower() == 'frames':
            header['frames'] = (int(tok[-1]), i)
        elif tok[0].lower() == 'frame' and tok[1].lower() == 'time':
            header['time'] = float(tok[-1])
        else:
            fail(path, i, f'expected "Frames:" and "Frame Time:", got '
                 f'{lines[i - 1].strip()!r}')
    if len(header) < 2:
        fail(path, motion_line, 'MOTION without Frames/Frame Time')
    rows = []
    for j in range(i, len(lines)):
        tok = lines[j].split()
        if not tok:
            continue
        if len(tok) != num_channels:
            fail(path, j + 1, f'{len(tok)} values, the hierarchy has '
                 f'{num_channels} channels')
        rows.append(tok)
    try:
        motion = np.asarray(rows, dtype=np.float64).reshape(-1, num_channels)
    except ValueError as e:
        fail(path, None, f'non-numeric motion data ({e})')
    frames, frames_line = header['frames']
    if motion.shape[0] != frames:
        fail(path, frames_line, f'"Frames: {frames}" but the file has '
             f'{motion.shape[0]} motion lines')
    return dict(names=names, parents=parents, offsets=np.stack(offsets),
                channels=channels, motion=motion,
                frame_time=header['time'])


def bvh_fk(bvh: Dict) -> Tuple[np.ndarray, List[str]]:
    """Forward kinematics of a parsed BVH (intrinsic channel order).

    ``R_local = R_c1(v1) @ R_c2(v2) @ R_c3(v3)`` for rotation channels in
    the listed order; ``p = p_parent + R_parent @ (offset + translation)``.

    Returns:
        tuple[np.ndarray, list[str]]: (T, P, 3) points in file units (joint
        origins and End Sites) and their names.
    """
    motion = bvh['motion']
    num_frames = motion.shape[0]
    rots, points = [], []
    col = 0
    for idx, parent in enumerate(bvh['parents']):
        trans = np.broadcast_to(bvh['offsets'][idx], (num_frames, 3)).copy()
        rot = np.broadcast_to(np.eye(3), (num_frames, 3, 3))
        for ch in bvh['channels'][idx]:
            axis, kind = ch[0].upper(), ch[1:].lower()
            if kind == 'position':
                trans[:, 'XYZ'.index(axis)] += motion[:, col]
            elif kind == 'rotation':
                rot = rot @ axis_rotation(axis, motion[:, col])
            else:
                raise MocapFormatError(f'unknown BVH channel {ch!r}')
            col += 1
        if parent < 0:
            points.append(trans)
            rots.append(rot)
        else:
            points.append(points[parent] +
                          np.einsum('tij,tj->ti', rots[parent], trans))
            rots.append(rots[parent] @ rot)
    return np.stack(points, axis=1), list(bvh['names'])
