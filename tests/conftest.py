"""Shared pytest fixtures.

Real-data tests read ``../shared/fixtures`` (or ``$MMFLOWPOSE_FIXTURES``).
Where the folder is absent they skip with the reason; with
``MMFLOWPOSE_REQUIRE_FIXTURES=1`` (set by ``.ci/run``) they fail instead.
"""
import os
import os.path as osp
import warnings

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FIXTURES = os.environ.get(
    'MMFLOWPOSE_FIXTURES',
    osp.join(osp.dirname(REPO_ROOT), 'shared', 'fixtures'))

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')


def fixture_path(*parts: str) -> str:
    """Path of a shared fixture file; skips (or fails in CI) if absent."""
    path = osp.join(FIXTURES, *parts)
    if not osp.exists(path):
        reason = (f'shared fixture {path} not found; set '
                  'MMFLOWPOSE_FIXTURES to the fixtures folder')
        if os.environ.get('MMFLOWPOSE_REQUIRE_FIXTURES') == '1':
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture
def fixtures():
    """The :func:`fixture_path` helper as a pytest fixture."""
    return fixture_path


@pytest.fixture(scope='session', autouse=True)
def _registered():
    import mmflowpose
    mmflowpose.utils.register_all_modules()
    torch.set_num_threads(2)
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine').setLevel('WARNING')


# One tolerance table for every numeric comparison (kornia-style).
TOLERANCES = {
    torch.float32: dict(rtol=1e-4, atol=1e-5),
    torch.float64: dict(rtol=1e-7, atol=1e-9),
}


@pytest.fixture(params=[torch.float32, torch.float64], ids=['f32', 'f64'])
def dtype(request):
    return request.param


@pytest.fixture
def tol(dtype):
    return TOLERANCES[dtype]
