"""Acclaim ASF/AMC (CMU motion capture) parsing and forward kinematics.

Conventions: see :mod:`.mocap`.
"""
import os
import os.path as osp
import re
from typing import Dict, List, Tuple

import numpy as np

from .mocap_format import MocapFormatError, euler_to_matrix, fail, read_lines


def read_asf(path: str) -> Dict:
    """Parse an Acclaim ASF skeleton.

    Args:
        path (str): the ``.asf`` file.

    Returns:
        dict: ``length_unit`` (float, the ``:units length`` value),
        ``root_order`` (list[str], e.g. ``['TX', ..., 'RZ']``),
        ``root_axis`` (str), ``bones`` (dict name -> dict(direction (3,),
        length, axis (3,) degrees, axis_order, dof list[str], parent)) and
        ``order`` (list[str], bones parents-first).
    """
    lines = read_lines(path)
    out = dict(length_unit=1.0, root_order=['TX', 'TY', 'TZ', 'RX', 'RY',
                                            'RZ'],
               root_axis='XYZ', bones={}, order=[])
    section, bone, bone_line = None, None, None
    children: Dict[str, List[str]] = {}
    for lineno, raw in enumerate(lines, 1):
        tok = raw.split('#', 1)[0].split()
        if not tok:
            continue
        if tok[0].startswith(':'):
            section = tok[0][1:]
            continue
        try:
            if section == 'units' and tok[0] == 'length':
                out['length_unit'] = float(tok[1])
            elif section == 'units' and tok[0] == 'angle' and \
                    tok[1].lower() != 'deg':
                fail(path, lineno, f'only degrees are supported, got '
                     f'{tok[1]!r}')
            elif section == 'root' and tok[0] == 'order':
                out['root_order'] = [t.upper() for t in tok[1:]]
            elif section == 'root' and tok[0] == 'axis':
                out['root_axis'] = tok[1].upper()
            elif section == 'bonedata':
                if tok[0] == 'begin':
                    bone, bone_line = dict(dof=[], axis=np.zeros(3),
                                           axis_order='XYZ'), lineno
                elif tok[0] == 'end':
                    if bone is None or 'name' not in bone or \
                            'direction' not in bone or 'length' not in bone:
                        fail(path, bone_line, 'bone block without name, '
                             'direction or length')
                    out['bones'][bone['name']] = bone
                    bone = None
                elif bone is None:
                    fail(path, lineno, f'{tok[0]!r} outside begin/end')
                elif tok[0] == 'name':
                    bone['name'] = tok[1]
                elif tok[0] == 'direction':
                    bone['direction'] = np.array(tok[1:4], dtype=np.float64)
                elif tok[0] == 'length':
                    bone['length'] = float(tok[1])
                elif tok[0] == 'axis':
                    bone['axis'] = np.array(tok[1:4], dtype=np.float64)
                    bone['axis_order'] = tok[4].upper()
                elif tok[0] == 'dof':
                    bone['dof'] = [t.lower() for t in tok[1:]]
            elif section == 'hierarchy' and tok[0] not in ('begin', 'end'):
                children.setdefault(tok[0], []).extend(tok[1:])
        except (IndexError, ValueError) as e:
            if isinstance(e, MocapFormatError):
                raise
            fail(path, lineno, f'cannot parse {raw.strip()!r} ({e})')
    if not out['bones']:
        fail(path, None, 'no :bonedata bones found (not an ASF file?)')
    # Parents-first order from the hierarchy, starting at the root.
    queue = ['root']
    while queue:
        parent = queue.pop(0)
        for child in children.get(parent, []):
            if child not in out['bones']:
                fail(path, None, f'hierarchy names unknown bone {child!r}')
            out['bones'][child]['parent'] = parent
            out['order'].append(child)
            queue.append(child)
    missing = set(out['bones']) - set(out['order'])
    if missing:
        fail(path, None, f'bones {sorted(missing)} not in :hierarchy')
    return out


def read_amc(path: str, asf: Dict) -> Dict[str, np.ndarray]:
    """Parse an AMC motion for a skeleton read by :func:`read_asf`.

    Args:
        path (str): the ``.amc`` file.
        asf (dict): the skeleton.

    Returns:
        dict: name -> (T, D) float64 values in the order of the bone's
        ``dof`` (``root``: the ASF root ``order``). Bones without a line
        are absent.
    """
    lines = read_lines(path)
    ndof = {name: len(b['dof']) for name, b in asf['bones'].items()}
    ndof['root'] = len(asf['root_order'])
    values: Dict[str, List[List[float]]] = {}
    frame, frame_line = 0, None
    for lineno, raw in enumerate(lines, 1):
        tok = raw.split()
        if not tok or tok[0].startswith('#') or tok[0].startswith(':'):
            continue
        if len(tok) == 1 and tok[0].isdigit():
            number = int(tok[0])
            if number != frame + 1:
                fail(path, lineno, f'frame number {number} does not follow '
                     f'frame {frame}')
            frame, frame_line = number, lineno
            continue
        if frame == 0:
            fail(path, lineno, f'data before the first frame number: '
                 f'{raw.strip()!r}')
        name = tok[0]
        if name not in ndof:
            fail(path, lineno, f'bone {name!r} is not in the ASF skeleton')
        if len(tok) - 1 != ndof[name]:
            fail(path, lineno, f'bone {name!r} has {len(tok) - 1} values, '
                 f'the ASF gives it {ndof[name]} dofs')
        rows = values.setdefault(name, [])
        if len(rows) != frame - 1:
            fail(path, lineno, f'bone {name!r} is missing or repeated in '
                 f'frame {frame} (started at line {frame_line})')
        try:
            rows.append([float(v) for v in tok[1:]])
        except ValueError:
            fail(path, lineno, f'non-numeric value in {raw.strip()!r}')
    if frame == 0:
        fail(path, None, 'no frames found (not an AMC file?)')
    out = {}
    for name, rows in values.items():
        if len(rows) != frame:
            fail(path, None, f'bone {name!r} has {len(rows)} frames, the '
                 f'file has {frame}')
        out[name] = np.asarray(rows, dtype=np.float64).reshape(frame, -1)
    if 'root' not in out:
        fail(path, None, 'no root line in any frame')
    return out


def asf_amc_fk(asf: Dict,
               motion: Dict[str, np.ndarray]) -> Tuple[np.ndarray, List[str]]:
    """Forward kinematics of an ASF/AMC pair (CMU conventions).

    ``L_b = L_parent @ C_b @ M_b @ C_b.T`` with ``C_b = E(axis_b)`` and
    ``M_b = E(rx, ry, rz)`` (missing dofs = 0);
    ``end_b = end_parent + length_b * L_b @ direction_b``.

    Returns:
        tuple[np.ndarray, list[str]]: (T, 1 + bones, 3) points in file units
        (root position, then the END of each bone) and their names.
    """
    root = motion['root']
    num_frames = root.shape[0]
    order = asf['root_order']
    get = {k: root[:, i] for i, k in enumerate(order)}
    zeros = np.zeros(num_frames)
    pos = np.stack([get.get(k, zeros) for k in ('TX', 'TY', 'TZ')], -1)
    axis = asf['root_axis']
    ang = np.stack([get.get('R' + a, zeros) for a in axis], -1)
    rots = {'root': euler_to_matrix(ang, axis)}
    points = {'root': pos}
    for name in asf['order']:
        bone = asf['bones'][name]
        parent = bone['parent']
        c_mat = euler_to_matrix(bone['axis'], bone['axis_order'])
        vals = motion.get(name)
        dof = {d: (vals[:, i] if vals is not None else zeros)
               for i, d in enumerate(bone['dof'])}
        ang = np.stack([dof.get('r' + a.lower(), zeros)
                        for a in bone['axis_order']], -1)
        m_mat = euler_to_matrix(ang, bone['axis_order'])
        rot = rots[parent] @ c_mat @ m_mat @ c_mat.T
        length = bone['length'] + dof.get('l', 0.0)
        rots[name] = rot
        points[name] = points[parent] + length * (rot @ bone['direction'])
    names = ['root'] + list(asf['order'])
    return np.stack([points[n] for n in names], axis=1), names


def find_asf(amc_path: str) -> str:
    """The ASF skeleton of an AMC file: same stem, the stem without the
    trial number, or the only ASF in the folder."""
    folder = osp.dirname(amc_path) or '.'
    stem = osp.splitext(osp.basename(amc_path))[0]
    candidates = [stem, re.sub(r'^(\d+)_\d+', r'\1', stem),
                  stem.split('_')[0]]
    for cand in candidates:
        path = osp.join(folder, cand + '.asf')
        if osp.isfile(path):
            return path
    asfs = [f for f in os.listdir(folder) if f.lower().endswith('.asf')]
    if len(asfs) == 1:
        return osp.join(folder, asfs[0])
    raise FileNotFoundError(f'no ASF skeleton found for {amc_path} (tried '
                            f'{[c + ".asf" for c in candidates]} in {folder});'
                            ' pass asf_path')
