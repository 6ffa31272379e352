"""Readers for CMU motion capture (ASF/AMC and BVH) mapped to H36M-17.

Pure numpy: the files are parsed here and forward kinematics (FK) is run
for all frames at once (a loop over bones, never over frames).

Conventions of the output of :func:`load_mocap`:

- World frame Y-up, right-handed, metres. CMU files are already Y-up; the
  subject's left is +X when facing +Z, so ``left = up x facing`` as in
  H36M's body frame (left hip on +x when the body faces +z).
- Units: CMU "units" are ``inch / length`` with the ASF header's
  ``:units length`` (0.45 in all CMU files), i.e. metres =
  units x 0.0254 / 0.45 = units x 0.05644. BVH files carry no unit; the
  cgspeed CMU conversions use the same numbers as the ASF. The BVH unit is
  detected from the rest-pose height (CMU units, cm, inches, mm or m, the
  one giving a stature closest to 1.7 m) unless ``bvh_units`` is given.
- Joints: H36M-17 order of mmpose (``load_skeleton('h36m')``). The pelvis
  (joint 0) is by default the midpoint of the two hip joints (H36M's hips lie
  on the pelvis line; the CMU root sits ~10 cm above them), see
  ``root='cmu'`` to keep the CMU root point.

Mapping tables (H36M joint -> point of the source skeleton):

================ ============== ==================== ===================
H36M-17           ASF/AMC (end)  BVH MotionBuilder    BVH 3dsMax
================ ============== ==================== ===================
root              root           Hips                 Hips
right_hip         rhipjoint      RightUpLeg           RightHip
right_knee        rfemur         RightLeg             RightKnee
right_foot        rtibia         RightFoot            RightAnkle
left_hip          lhipjoint      LeftUpLeg            LeftHip
left_knee         lfemur         LeftLeg              LeftKnee
left_foot         ltibia         LeftFoot             LeftAnkle
spine             upperback      Spine1               Chest2
thorax            lowerneck      Neck1                Neck
neck_base         upperneck      Head                 Head
head              head           Head_end             Head_end
left_shoulder     lclavicle      LeftArm              LeftShoulder
left_elbow        lhumerus       LeftForeArm          LeftElbow
left_wrist        lwrist         LeftHand             LeftWrist
right_shoulder    rclavicle      RightArm             RightShoulder
right_elbow       rhumerus       RightForeArm         RightElbow
right_wrist       rwrist         RightHand            RightWrist
================ ============== ==================== ===================

An ASF/AMC point is the END of the named bone (``root`` is the root
position); a BVH point is the joint's origin, ``<Joint>_end`` its End Site.
The cgspeed BVH conversions have zero-length ``thorax`` and ``wrist``
segments, so their spine->thorax and forearm are ~10 cm shorter than in the
ASF/AMC originals: prefer ASF/AMC for H36M-like proportions.
"""
import os
import os.path as osp
import re
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

H36M_JOINT_NAMES = ('root', 'right_hip', 'right_knee', 'right_foot',
                    'left_hip', 'left_knee', 'left_foot', 'spine', 'thorax',
                    'neck_base', 'head', 'left_shoulder', 'left_elbow',
                    'left_wrist', 'right_shoulder', 'right_elbow',
                    'right_wrist')

#: H36M-17 joint -> source point, per skeleton family (see module doc).
H36M_MAPPINGS: Dict[str, Tuple[str, ...]] = {
    'asf': ('root', 'rhipjoint', 'rfemur', 'rtibia', 'lhipjoint', 'lfemur',
            'ltibia', 'upperback', 'lowerneck', 'upperneck', 'head',
            'lclavicle', 'lhumerus', 'lwrist', 'rclavicle', 'rhumerus',
            'rwrist'),
    'bvh_motionbuilder':
    ('Hips', 'RightUpLeg', 'RightLeg', 'RightFoot', 'LeftUpLeg', 'LeftLeg',
     'LeftFoot', 'Spine1', 'Neck1', 'Head', 'Head_end', 'LeftArm',
     'LeftForeArm', 'LeftHand', 'RightArm', 'RightForeArm', 'RightHand'),
    'bvh_3dsmax':
    ('Hips', 'RightHip', 'RightKnee', 'RightAnkle', 'LeftHip', 'LeftKnee',
     'LeftAnkle', 'Chest2', 'Neck', 'Head', 'Head_end', 'LeftShoulder',
     'LeftElbow', 'LeftWrist', 'RightShoulder', 'RightElbow', 'RightWrist'),
}

#: Metres per CMU unit (CMU FAQ: units x (1 / 0.45) x 0.0254).
CMU_UNIT = 0.0254 / 0.45
#: Metres per file unit for the BVH unit names accepted by ``bvh_units``.
BVH_UNITS = {'cmu': CMU_UNIT, 'cm': 0.01, 'inch': 0.0254, 'mm': 0.001,
             'm': 1.0}
#: Frame rate of AMC files whose rate differs from the CMU default (120 Hz),
#: keyed by file name. ``backflip.amc`` (gsimchoni/mocap): its ballistic
#: phases give g = 8.96 m/s^2 at 60 Hz (35.8 at 120 Hz), see the fixtures'
#: MANIFEST.
AMC_FPS = {'backflip.amc': 60.0}
AMC_DEFAULT_FPS = 120.0


class MocapFormatError(ValueError):
    """A mocap file that cannot be parsed; the message names file and line."""


def _fail(path: str, line: Optional[int], msg: str):
    where = f'{path}:{line}' if line is not None else path
    raise MocapFormatError(f'{where}: {msg}')


def _read_lines(path: str) -> List[str]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'mocap file not found: {path}')
    with open(path, 'r', encoding='utf-8', errors='replace') as f:
        return f.read().splitlines()


def _axis_rotation(axis: str, angle_deg: np.ndarray) -> np.ndarray:
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
        rot = _axis_rotation(axis, angles_deg[..., i]) @ rot
    return rot


# ----------------------------------------------------------------- ASF/AMC
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
    lines = _read_lines(path)
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
                _fail(path, lineno, f'only degrees are supported, got '
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
                        _fail(path, bone_line, 'bone block without name, '
                              'direction or length')
                    out['bones'][bone['name']] = bone
                    bone = None
                elif bone is None:
                    _fail(path, lineno, f'{tok[0]!r} outside begin/end')
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
            _fail(path, lineno, f'cannot parse {raw.strip()!r} ({e})')
    if not out['bones']:
        _fail(path, None, 'no :bonedata bones found (not an ASF file?)')
    # Parents-first order from the hierarchy, starting at the root.
    queue = ['root']
    while queue:
        parent = queue.pop(0)
        for child in children.get(parent, []):
            if child not in out['bones']:
                _fail(path, None, f'hierarchy names unknown bone {child!r}')
            out['bones'][child]['parent'] = parent
            out['order'].append(child)
            queue.append(child)
    missing = set(out['bones']) - set(out['order'])
    if missing:
        _fail(path, None, f'bones {sorted(missing)} not in :hierarchy')
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
    lines = _read_lines(path)
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
                _fail(path, lineno, f'frame number {number} does not follow '
                      f'frame {frame}')
            frame, frame_line = number, lineno
            continue
        if frame == 0:
            _fail(path, lineno, f'data before the first frame number: '
                  f'{raw.strip()!r}')
        name = tok[0]
        if name not in ndof:
            _fail(path, lineno, f'bone {name!r} is not in the ASF skeleton')
        if len(tok) - 1 != ndof[name]:
            _fail(path, lineno, f'bone {name!r} has {len(tok) - 1} values, '
                  f'the ASF gives it {ndof[name]} dofs')
        rows = values.setdefault(name, [])
        if len(rows) != frame - 1:
            _fail(path, lineno, f'bone {name!r} is missing or repeated in '
                  f'frame {frame} (started at line {frame_line})')
        try:
            rows.append([float(v) for v in tok[1:]])
        except ValueError:
            _fail(path, lineno, f'non-numeric value in {raw.strip()!r}')
    if frame == 0:
        _fail(path, None, 'no frames found (not an AMC file?)')
    out = {}
    for name, rows in values.items():
        if len(rows) != frame:
            _fail(path, None, f'bone {name!r} has {len(rows)} frames, the '
                  f'file has {frame}')
        out[name] = np.asarray(rows, dtype=np.float64).reshape(frame, -1)
    if 'root' not in out:
        _fail(path, None, 'no root line in any frame')
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


# --------------------------------------------------------------------- BVH
def read_bvh(path: str) -> Dict:
    """Parse a BVH file.

    Returns:
        dict: ``names`` (list[str]; End Sites are ``<Joint>_end``),
        ``parents`` (list[int], -1 for the root), ``offsets`` (P, 3),
        ``channels`` (list[list[str]] per point), ``motion`` (T, C) float64,
        ``frame_time`` (float, seconds).
    """
    lines = _read_lines(path)
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
                    _fail(path, lineno, 'only one ROOT is supported')
            elif key == 'END':
                pending = names[stack[-1]] + '_end'
            elif key == '{':
                if pending is None:
                    _fail(path, lineno, "'{' without a ROOT/JOINT/End Site")
                parents.append(stack[-1] if stack else -1)
                names.append(pending)
                offsets.append(np.zeros(3))
                channels.append([])
                stack.append(len(names) - 1)
                pending = None
            elif key == '}':
                if not stack:
                    _fail(path, lineno, "unbalanced '}'")
                stack.pop()
            elif key == 'OFFSET':
                offsets[stack[-1]] = np.array(tok[1:4], dtype=np.float64)
            elif key == 'CHANNELS':
                count = int(tok[1])
                if len(tok) - 2 != count:
                    _fail(path, lineno, f'CHANNELS says {count} but lists '
                          f'{len(tok) - 2}')
                channels[stack[-1]] = tok[2:]
            elif key == 'HIERARCHY':
                continue
            elif key == 'MOTION':
                motion_line = lineno
                break
            else:
                _fail(path, lineno, f'unexpected token {tok[0]!r}')
        except (IndexError, ValueError) as e:
            if isinstance(e, MocapFormatError):
                raise
            _fail(path, lineno, f'cannot parse {raw.strip()!r} ({e})')
    if motion_line is None or not names or stack:
        _fail(path, lineno or None, 'no complete HIERARCHY followed by '
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
            _fail(path, i, f'expected "Frames:" and "Frame Time:", got '
                  f'{lines[i - 1].strip()!r}')
    if len(header) < 2:
        _fail(path, motion_line, 'MOTION without Frames/Frame Time')
    rows = []
    for j in range(i, len(lines)):
        tok = lines[j].split()
        if not tok:
            continue
        if len(tok) != num_channels:
            _fail(path, j + 1, f'{len(tok)} values, the hierarchy has '
                  f'{num_channels} channels')
        rows.append(tok)
    try:
        motion = np.asarray(rows, dtype=np.float64).reshape(-1, num_channels)
    except ValueError as e:
        _fail(path, None, f'non-numeric motion data ({e})')
    frames, frames_line = header['frames']
    if motion.shape[0] != frames:
        _fail(path, frames_line, f'"Frames: {frames}" but the file has '
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
                rot = rot @ _axis_rotation(axis, motion[:, col])
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


def _bvh_family(names: Sequence[str], path: str) -> str:
    for family in ('bvh_motionbuilder', 'bvh_3dsmax'):
        if set(H36M_MAPPINGS[family]) <= set(names):
            return family
    raise ValueError(f'{path}: BVH joints {list(names)} match no known '
                     f'skeleton family (cgspeed CMU MotionBuilder- or '
                     f'3dsMax-friendly); see H36M_MAPPINGS')


def _bvh_scale(bvh: Dict, units: Optional[str]) -> float:
    if units is not None:
        if units not in BVH_UNITS:
            raise ValueError(f'bvh_units must be one of {sorted(BVH_UNITS)}, '
                             f'got {units!r}')
        return BVH_UNITS[units]
    # Rest pose = all channels zero except nothing: FK of offsets only.
    rest = dict(bvh, motion=np.zeros((1, bvh['motion'].shape[1])))
    pts, _ = bvh_fk(rest)
    height = np.ptp(pts[0, :, 1])
    if height <= 0:
        raise ValueError('cannot detect BVH units: flat rest pose; pass '
                         'bvh_units')
    return min(BVH_UNITS.values(),
               key=lambda s: abs(np.log(height * s / 1.7)))


def _snap_rate(rate: float) -> float:
    # 'Frame Time: .0083333' means 120 Hz: snap to an integer within 0.1%.
    near = round(rate)
    return float(near) if near and abs(rate - near) < 1e-3 * rate else rate


def _find_asf(amc_path: str) -> str:
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


def load_mocap(path: str,
               fps: Optional[float] = None,
               asf_path: Optional[str] = None,
               root: str = 'hips',
               bvh_units: Optional[str] = None,
               drop_tpose: bool = True) -> Dict:
    """Load a CMU mocap clip as H36M-17 joints in metres (Y-up world).

    Args:
        path (str): a ``.bvh`` or ``.amc`` file (the ``.asf`` is looked up
            next to it: same stem, or the stem without the trial number as
            ``07_05-walk.amc`` -> ``07-walk.asf``, or the only ASF there).
        fps (float, optional): frame rate of the file. Defaults to None:
            BVH ``Frame Time``; for AMC (no rate in the file) 120 Hz, the
            CMU rate, except the names in :data:`AMC_FPS`.
        asf_path (str, optional): the skeleton of an AMC file.
        root (str): ``'hips'`` puts joint 0 at the midpoint of the two hip
            joints (H36M-like pelvis); ``'cmu'`` keeps the CMU root point.
            Defaults to ``'hips'``.
        bvh_units (str, optional): a key of :data:`BVH_UNITS`; None detects
            it from the rest-pose height.
        drop_tpose (bool): drop a first BVH frame whose rotations are all
            integers (the synthetic T-pose of cgspeed MotionBuilder files).
            Defaults to True.

    Returns:
        dict: ``joints`` (T, 17, 3) float32 metres in H36M-17 order,
        ``fps`` (float), ``source`` (str, ``path``), ``family`` (str, a key
        of :data:`H36M_MAPPINGS`), ``dropped_frames`` (int).
    """
    if root not in ('hips', 'cmu'):
        raise ValueError(f"root must be 'hips' or 'cmu', got {root!r}")
    if fps is not None and not fps > 0:
        raise ValueError(f'fps must be positive, got {fps}')
    ext = osp.splitext(path)[1].lower()
    dropped = 0
    if ext == '.bvh':
        bvh = read_bvh(path)
        points, names = bvh_fk(bvh)
        family = _bvh_family(names, path)
        scale = _bvh_scale(bvh, bvh_units)
        rot_cols = np.concatenate([
            [('rotation' in c.lower()) for c in chans]
            for chans in bvh['channels']
        ]).astype(bool)
        first = bvh['motion'][0, rot_cols]
        if drop_tpose and points.shape[0] > 1 and \
                np.all(first == np.round(first)):
            points, dropped = points[1:], 1
        src_fps = fps or _snap_rate(1.0 / bvh['frame_time'])
    elif ext == '.amc':
        if not osp.isfile(path):
            raise FileNotFoundError(f'mocap file not found: {path}')
        asf = read_asf(asf_path or _find_asf(path))
        points, names = asf_amc_fk(asf, read_amc(path, asf))
        family = 'asf'
        scale = 0.0254 / asf['length_unit']
        src_fps = fps or AMC_FPS.get(osp.basename(path), AMC_DEFAULT_FPS)
    elif not osp.exists(path):
        raise FileNotFoundError(f'mocap file not found: {path}')
    else:
        raise ValueError(f'{path}: expected a .bvh or .amc file')
    index = {n: i for i, n in enumerate(names)}
    ids = [index[n] for n in H36M_MAPPINGS[family]]
    joints = points[:, ids] * scale
    if root == 'hips':
        joints[:, 0] = 0.5 * (joints[:, 1] + joints[:, 4])
    if not np.all(np.isfinite(joints)):
        warnings.warn(f'{path}: non-finite joint positions')
    return dict(joints=joints.astype(np.float32), fps=float(src_fps),
                source=path, family=family, dropped_frames=dropped)
