"""Every pickle-based input goes through the allow-list: a crafted file of
each kind is refused with an error naming it, and the code it asks for
never runs (no marker file appears)."""
import os
import os.path as osp
import pickle
import re

import numpy as np
import pytest
import torch

from mmflowpose.utils.checkpoint import CheckpointError, read_checkpoint
from mmflowpose.utils.safe_pickle import UnsafePickleError, load_pickle

PACKAGE = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'mmflowpose')


class _Touch:
    """Unpickling this calls ``open(marker, 'w')``: a file appears."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, 'w')


class _System:
    """Unpickling this runs a shell command that creates the marker."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


PAYLOADS = [_Touch, _System]
PROTOCOLS = [0, 2, pickle.HIGHEST_PROTOCOL]


def _crafted(path, marker, payload, protocol, wrap):
    with open(path, 'wb') as file:
        pickle.dump(wrap(payload(marker)), file, protocol=protocol)


@pytest.mark.parametrize('protocol', PROTOCOLS)
@pytest.mark.parametrize('payload', PAYLOADS, ids=['open', 'os.system'])
def test_h36m_camera_pickle_refused(fixtures, tmp_path, payload, protocol):
    from mmflowpose.datasets.h36m_clips import H36MClipDataset
    ann = fixtures('mmpose', 'h36m', 'test_h36m_body3d.npz')
    marker = tmp_path / 'marker'
    cameras = tmp_path / 'cameras.pkl'
    _crafted(cameras, marker, payload, protocol,
             lambda obj: {('S1', '54138969'): dict(w=obj)})
    with pytest.raises(UnsafePickleError,
                       match=r"camera_param_file '.*cameras\.pkl' refused: "
                       r'global (builtins|io|posix|os)\.(open|system) '
                       'is not allow-listed'):
        H36MClipDataset(ann, str(cameras), load_frames=False)
    assert not marker.exists()


def test_3dpw_sequence_pickle_refused(tmp_path):
    from mmflowpose.datasets.pw3d_clips import PW3DClipDataset
    folder = tmp_path / 'sequenceFiles' / 'test'
    folder.mkdir(parents=True)
    marker = tmp_path / 'marker'
    # 3DPW files are Python 2 pickles: protocol 2, latin1 strings
    _crafted(folder / 'seq.pkl', marker, _System, 2,
             lambda obj: dict(jointPositions=[obj]))
    with pytest.raises(UnsafePickleError,
                       match=r"3DPW sequence file '.*seq\.pkl' refused"):
        PW3DClipDataset(str(tmp_path), load_frames=False)
    assert not marker.exists()


def test_synthetic_writer_camera_file_refused(tmp_path):
    from mmflowpose.datasets.synthetic import make_clip, write_h36m
    marker = tmp_path / 'marker'
    (tmp_path / 'annotations').mkdir()
    _crafted(tmp_path / 'annotations' / 'cameras.pkl', marker, _Touch, 4,
             lambda obj: obj)
    clip = make_clip('procedural', image_size=(32, 32), seed=0, num_frames=2)
    with pytest.raises(UnsafePickleError, match="camera file '.*refused"):
        write_h36m(clip, str(tmp_path), action='Walk')
    assert not marker.exists()


def _object_npy(path, marker):
    np.save(path, np.array([_Touch(marker)], dtype=object),
            allow_pickle=True)


def test_annotation_and_detection_files_refuse_object_arrays(
        fixtures, tmp_path):
    from mmflowpose.datasets.h36m_clips import H36MClipDataset
    root = osp.dirname(fixtures('mmpose', 'h36m', 'cameras.pkl'))
    marker = tmp_path / 'marker'
    ann = tmp_path / 'ann.npz'
    np.savez(ann, imgname=np.array([_Touch(marker)], dtype=object),
             S=np.zeros((1, 17, 4)), part=np.zeros((1, 17, 3)))
    with pytest.raises(ValueError, match='Object arrays cannot be loaded'):
        H36MClipDataset(str(ann), osp.join(root, 'cameras.pkl'),
                        load_frames=False)
    _object_npy(tmp_path / 'det.npy', marker)
    with pytest.raises(ValueError,
                       match=r"detection_file '.*det\.npy' is not a "
                       'readable numeric'):
        H36MClipDataset(
            osp.join(root, 'test_h36m_body3d.npz'),
            osp.join(root, 'cameras.pkl'),
            detection_file=str(tmp_path / 'det.npy'),
            load_frames=False)
    assert not marker.exists()


def test_flow_npz_refuses_object_arrays(tmp_path):
    from mmflowpose.datasets.flow_io import read_flow
    marker = tmp_path / 'marker'
    path = tmp_path / 'flow.npz'
    np.savez(path, flow=np.array([_Touch(marker)], dtype=object))
    with pytest.raises(ValueError, match=r"flow\.npz.*pickled objects"):
        read_flow(str(path))
    assert not marker.exists()


@pytest.mark.parametrize('zipped', [True, False], ids=['zip', 'legacy'])
def test_crafted_checkpoint_refused(tmp_path, zipped):
    marker = tmp_path / 'marker'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': _System(marker)}, path,
               _use_new_zipfile_serialization=zipped)
    with pytest.raises(CheckpointError,
                       match='outside the allow-list.*system'):
        read_checkpoint(path)
    assert not marker.exists()


def test_real_camera_fixture_still_loads(fixtures):
    path = fixtures('mmpose', 'h36m', 'cameras.pkl')
    cameras = load_pickle(path)
    camera = cameras[('S1', '54138969')]
    assert camera['R'].shape == (3, 3) and camera['R'].dtype == np.float64
    assert camera['w'] == 1000 and camera['h'] == 1002
    # identical to an unrestricted load of this trusted fixture
    with open(path, 'rb') as file:
        reference = pickle.load(file, encoding='latin1')
    assert cameras.keys() == reference.keys()
    for key, value in reference.items():
        for name, field in value.items():
            np.testing.assert_array_equal(cameras[key][name], field)


def test_safe_pickle_round_trips_plain_data(tmp_path):
    import collections
    value = dict(
        a=np.arange(6, dtype=np.int16).reshape(2, 3),
        b=[np.float32(1.5), 'x', b'y', {1, 2}, frozenset([3]), 2j],
        c=collections.OrderedDict(k=np.zeros(2, np.bool_)))
    for protocol in PROTOCOLS:
        path = tmp_path / f'v{protocol}.pkl'
        with open(path, 'wb') as file:
            pickle.dump(value, file, protocol=protocol)
        loaded = load_pickle(str(path))
        np.testing.assert_array_equal(loaded['a'], value['a'])
        assert loaded['b'][1:] == value['b'][1:]
        assert loaded['c']['k'].dtype == np.bool_


@pytest.mark.parametrize(
    'content', [b'', b'not a pickle at all', pickle.dumps([1, 2])[:-3]],
    ids=['empty', 'text', 'truncated'])
def test_corrupt_pickle_named(tmp_path, content):
    path = tmp_path / 'cameras.pkl'
    path.write_bytes(content)
    with pytest.raises(UnsafePickleError,
                       match=r"cameras '.*cameras\.pkl' is not a readable"):
        load_pickle(str(path), 'cameras')


def test_only_safe_loaders_unpickle():
    """``pickle.load``/``torch.load`` only in the two safe loaders, and
    every ``np.load`` passes ``allow_pickle=False``."""
    allowed = {
        osp.join('utils', 'safe_pickle.py'),
        osp.join('utils', 'checkpoint.py')
    }
    unpickling = re.compile(r'\b(pickle|torch|dill|joblib)\.loads?\(|'
                            r'Unpickler\(|\bmmengine\.load\(')
    offenders, bare_np_load = [], []
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            rel = osp.relpath(path, PACKAGE)
            text = open(path).read()
            if rel not in allowed and unpickling.search(text):
                offenders.append(rel)
            for call in re.finditer(r'np\.load\(([^()]|\([^()]*\))*\)',
                                    text):
                if 'allow_pickle=False' not in call.group(0):
                    bare_np_load.append(f'{rel}: {call.group(0)}')
    assert offenders == []
    assert bare_np_load == []


def test_checkpoint_and_data_share_one_allow_list():
    from mmflowpose.utils import checkpoint, safe_pickle
    assert checkpoint.OPENMMLAB_SAFE_GLOBALS is \
        safe_pickle.OPENMMLAB_SAFE_GLOBALS
    assert not hasattr(checkpoint, '_numpy_globals')


def _good_checkpoint_bytes(tmp_path, zipped=True):
    path = tmp_path / 'good.pth'
    torch.save({'state_dict': torch.nn.Linear(2, 2).state_dict()}, str(path),
               _use_new_zipfile_serialization=zipped)
    return path.read_bytes()


@pytest.mark.parametrize(
    'kind', [
        'text', 'empty', 'random', 'zip-half', 'zip-tail', 'legacy-cut',
        'pickle-list', 'pickle-cut', 'npz'
    ])
def test_corrupt_checkpoint_of_any_kind(tmp_path, kind):
    rng = np.random.default_rng(0)
    content = {
        'text': lambda: b'hello\nnot a checkpoint\n',
        'empty': lambda: b'',
        'random': lambda: rng.bytes(4096),
        'zip-half': lambda: _good_checkpoint_bytes(tmp_path)[:400],
        'zip-tail': lambda: _good_checkpoint_bytes(tmp_path)[:-30],
        'legacy-cut': lambda: _good_checkpoint_bytes(tmp_path, False)[:300],
        'pickle-list': lambda: pickle.dumps([1, 2, 3]),
        'pickle-cut': lambda: pickle.dumps({'a': np.ones(50)})[:40],
        'npz': lambda: _npz_bytes(tmp_path),
    }[kind]()
    path = tmp_path / 'model.pth'
    path.write_bytes(content)
    with pytest.raises(CheckpointError,
                       match=r"checkpoint '.*model\.pth' (could not be read "
                       r'\(corrupt, truncated or not a checkpoint\)|holds a)'):
        read_checkpoint(str(path))


def _npz_bytes(tmp_path):
    np.savez(tmp_path / 'a.npz', x=np.ones(3))
    return (tmp_path / 'a.npz').read_bytes()


def test_checkpoint_folder_is_named(tmp_path):
    with pytest.raises(CheckpointError, match='is a folder, not a file'):
        read_checkpoint(str(tmp_path))
