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
import os.path as osp
import warnings
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .mocap_asf import asf_amc_fk, find_asf, read_amc, read_asf
from .mocap_bvh import bvh_fk, read_bvh
from .mocap_format import MocapFormatError, euler_to_matrix  # noqa: F401

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
        asf = read_asf(asf_path or find_asf(path))
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
