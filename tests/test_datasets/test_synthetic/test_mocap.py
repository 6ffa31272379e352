import numpy as np
import pytest

from mmflowpose.datasets.synthetic.mocap import (H36M_JOINT_NAMES,
                                                 H36M_MAPPINGS,
                                                 MocapFormatError,
                                                 euler_to_matrix, load_mocap,
                                                 read_amc, read_asf,
                                                 read_bvh)
from mmflowpose.models.utils.skeleton import load_skeleton

WALK_AMC = ('mocap', 'usc_cs520_starter', '07_05-walk.amc')
WALK_ASF = ('mocap', 'usc_cs520_starter', '07-walk.asf')
RUN_AMC = ('mocap', 'usc_cs520_starter', '09_06-run.amc')
WALK_BVH = ('mocap', 'bvh11', '131_01.bvh')
JACKS_BVH = ('mocap', 'animated_drawings', 'jumping_jacks.bvh')
JUMPS_BVH = ('mocap', 'assimp', '01_01.bvh')

SKELETON = load_skeleton('h36m')
# H36M "bones" inside one rigid CMU segment chain without dofs in between;
# root->spine and thorax->shoulders span flexible spine/clavicle joints.
RIGID = [('root', 'left_hip'), ('left_hip', 'left_knee'),
         ('left_knee', 'left_foot'), ('root', 'right_hip'),
         ('right_hip', 'right_knee'), ('right_knee', 'right_foot'),
         ('thorax', 'neck_base'), ('neck_base', 'head'),
         ('left_shoulder', 'left_elbow'), ('left_elbow', 'left_wrist'),
         ('right_shoulder', 'right_elbow'), ('right_elbow', 'right_wrist')]


def _bone(joints, a, b):
    ia, ib = SKELETON.joint_ids([a, b])
    return np.linalg.norm(joints[:, ib] - joints[:, ia], axis=-1)


def test_joint_names_match_mmpose():
    assert H36M_JOINT_NAMES == SKELETON.joint_names
    for family, names in H36M_MAPPINGS.items():
        assert len(names) == 17, family


def test_euler_convention():
    # 'XYZ' = rotate about fixed X first: Rz @ Ry @ Rx.
    rot = euler_to_matrix(np.array([90., 0., 90.]), 'XYZ')
    # y -> (Rx) z -> (Rz) z
    np.testing.assert_allclose(rot @ [0, 1, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(rot @ [1, 0, 0], [0, 1, 0], atol=1e-12)


@pytest.mark.parametrize('parts,frames,fps', [(WALK_AMC, 517, 120.),
                                              (RUN_AMC, 141, 120.),
                                              (WALK_BVH, 994, 120.),
                                              (JACKS_BVH, 125, 30.),
                                              (JUMPS_BVH, 2751, 120.)])
def test_load_shapes_and_rigid_bones(fixtures, parts, frames, fps):
    out = load_mocap(fixtures(*parts))
    joints = out['joints']
    assert joints.dtype == np.float32
    assert joints.shape == (frames, 17, 3)
    assert out['fps'] == fps
    assert out['source'] == fixtures(*parts)
    for a, b in RIGID:
        length = _bone(joints.astype(np.float64), a, b)
        assert np.ptp(length) < 1e-5, (a, b, np.ptp(length))


def test_bvh_tpose_frame_dropped(fixtures):
    # 01_01.bvh: "Frames: 2752", frame 0 is a synthetic T-pose.
    out = load_mocap(fixtures(*JUMPS_BVH))
    assert out['dropped_frames'] == 1
    kept = load_mocap(fixtures(*JUMPS_BVH), drop_tpose=False)
    assert kept['joints'].shape[0] == 2752
    np.testing.assert_array_equal(kept['joints'][1:], out['joints'])


# 131_01.bvh is ~12 cm short: the cgspeed conversion drops the ASF thorax
# segment (see the fixtures' MANIFEST), so its stature is checked >= 1.3 m.
@pytest.mark.parametrize('parts,min_height', [(WALK_AMC, 1.4), (RUN_AMC, 1.4),
                                              (WALK_BVH, 1.3),
                                              (JACKS_BVH, 1.4)])
def test_human_proportions(fixtures, parts, min_height):
    joints = load_mocap(fixtures(*parts))['joints'].astype(np.float64)
    for side in ('left', 'right'):
        thigh = _bone(joints, f'{side}_hip', f'{side}_knee').mean()
        assert 0.35 < thigh < 0.55
        shin = _bone(joints, f'{side}_knee', f'{side}_foot').mean()
        assert 0.35 < shin < 0.55
    # Standing height: head top above the lower ankle (+ ~8 cm foot).
    ids = SKELETON.joint_ids(['head', 'left_foot', 'right_foot'])
    height = np.median(joints[:, ids[0], 1] -
                       joints[:, ids[1:], 1].min(-1)) + 0.08
    assert min_height < height < 2.0
    # Metres, Y-up, floor near y = 0.
    assert abs(joints[:, ids[1:], 1].min()) < 0.2


@pytest.mark.parametrize('parts', [WALK_AMC, RUN_AMC, WALK_BVH])
def test_left_right(fixtures, parts):
    # H36M body frame: facing +z with y up puts the left hip on +x, i.e.
    # left = up x facing. Walks and runs face where they go.
    out = load_mocap(fixtures(*parts))
    joints = out['joints'].astype(np.float64)
    vel = np.diff(joints[:, 0], axis=0) * out['fps']
    vel[:, 1] = 0
    moving = np.linalg.norm(vel, axis=-1) > 0.5
    left_dir = np.cross([0., 1., 0.], vel)
    lhip, rhip = SKELETON.joint_ids(['left_hip', 'right_hip'])
    hips = joints[1:, lhip] - joints[1:, rhip]
    agree = (np.sum(hips * left_dir, axis=-1) > 0)[moving]
    assert moving.sum() > 50
    assert agree.mean() > 0.85
    lsh, rsh = SKELETON.joint_ids(['left_shoulder', 'right_shoulder'])
    shoulders = joints[1:, lsh] - joints[1:, rsh]
    assert (np.sum(shoulders * left_dir, -1) > 0)[moving].mean() > 0.85


def test_root_options(fixtures):
    hips = load_mocap(fixtures(*WALK_AMC))['joints']
    cmu = load_mocap(fixtures(*WALK_AMC), root='cmu')['joints']
    np.testing.assert_allclose(hips[:, 0], 0.5 * (hips[:, 1] + hips[:, 4]),
                               atol=1e-6)
    np.testing.assert_array_equal(hips[:, 1:], cmu[:, 1:])
    # The CMU root sits above the hip joints.
    assert np.all(cmu[:, 0, 1] - hips[:, 0, 1] > 0.05)
    with pytest.raises(ValueError, match='root'):
        load_mocap(fixtures(*WALK_AMC), root='pelvis')


def test_units_asf_and_bvh_agree(fixtures):
    # 131_01.bvh (cgspeed) uses the 131 ASF numbers: same metres.
    asf = read_asf(fixtures('mocap', 'usc_cs520_starter', '131-dance.asf'))
    femur_m = asf['bones']['lfemur']['length'] * 0.0254 / 0.45
    joints = load_mocap(fixtures(*WALK_BVH))['joints'].astype(np.float64)
    np.testing.assert_allclose(
        _bone(joints, 'left_hip', 'left_knee')[0], femur_m, rtol=1e-4)
    cm = load_mocap(fixtures(*WALK_BVH), bvh_units='cm')['joints']
    np.testing.assert_allclose(cm, joints * 0.01 / (0.0254 / 0.45),
                               rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match='bvh_units'):
        load_mocap(fixtures(*WALK_BVH), bvh_units='feet')


def test_fps_override(fixtures):
    assert load_mocap(fixtures(*WALK_AMC), fps=60)['fps'] == 60.0
    with pytest.raises(ValueError, match='fps'):
        load_mocap(fixtures(*WALK_AMC), fps=0)


def test_read_amc_values(fixtures):
    asf = read_asf(fixtures(*WALK_ASF))
    motion = read_amc(fixtures(*WALK_AMC), asf)
    assert motion['root'].shape == (517, 6)
    np.testing.assert_allclose(motion['root'][0],
                               [7.46593, 15.9937, -36.7321, 7.11356,
                                1.31487, -3.66776])
    assert motion['ltibia'].shape == (517, 1)
    assert 'lhipjoint' not in motion


def test_missing_files(tmp_path, fixtures):
    with pytest.raises(FileNotFoundError, match='nope.bvh'):
        load_mocap(str(tmp_path / 'nope.bvh'))
    amc = tmp_path / 'lonely.amc'
    amc.write_text(':DEGREES\n1\nroot 0 0 0 0 0 0\n')
    with pytest.raises(FileNotFoundError, match='ASF'):
        load_mocap(str(amc))
    with pytest.raises(ValueError, match='.bvh or .amc'):
        load_mocap(fixtures('mocap', 'MANIFEST.md'))


def test_corrupt_bvh_names_line(tmp_path, fixtures):
    lines = open(fixtures(*JACKS_BVH)).read().splitlines()
    lines[200] = lines[200].rsplit(' ', 3)[0]  # drop values on a frame line
    bad = tmp_path / 'bad.bvh'
    bad.write_text('\n'.join(lines))
    with pytest.raises(MocapFormatError, match=r'bad.bvh:201: .*channels'):
        load_mocap(str(bad))
    bad.write_text('HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 x\n}\n')
    with pytest.raises(MocapFormatError, match=r'bad.bvh:4'):
        read_bvh(str(bad))


def test_corrupt_amc_names_line(tmp_path, fixtures):
    asf_text = open(fixtures(*WALK_ASF)).read()
    (tmp_path / 'x.asf').write_text(asf_text)
    lines = open(fixtures(*WALK_AMC)).read().splitlines()
    lines[10] = 'lfoo 1 2 3'
    (tmp_path / 'x.amc').write_text('\n'.join(lines))
    with pytest.raises(MocapFormatError, match=r'x.amc:11: .*lfoo'):
        load_mocap(str(tmp_path / 'x.amc'))
