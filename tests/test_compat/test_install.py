import subprocess
import sys
import textwrap

import pytest


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_install_is_idempotent_and_keeps_mmcv_honest():
    from mmflowpose import compat
    compat.install()
    compat.install()
    assert compat.is_installed()
    from mmengine.utils.dl_utils import mmcv_full_available
    assert mmcv_full_available() is False
    import mmcv.ops
    # mmcv's own class is untouched; only mmflow's registry entry changes.
    assert mmcv.ops.Correlation.__module__.startswith('mmcv')
    from mmflow.registry import MODELS
    assert MODELS.get('Correlation') is compat.TorchCorrelation


def test_missing_compiled_op_fails_clearly():
    import sys
    ext = sys.modules['mmcv._ext']
    with pytest.raises(RuntimeError, match='nms_forward.*mmcv-lite'):
        ext.nms_forward()


@pytest.mark.parametrize('order', ['pose_first', 'flow_first'])
def test_native_init_model_after_register_all_modules(order):
    """mmpose's and mmflow's own init_model work after ours, either order."""
    pose = """
        from mmpose.apis import init_model as init_pose
        import mmpose, os.path as osp
        root = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs')
        pose = init_pose(osp.join(root, 'body_3d_keypoint/image_pose_lift/'
                         'h36m/image-pose-lift_tcn_8xb64-200e_h36m.py'),
                         None, device='cpu')
        print('pose', type(pose).__name__)
    """
    flow = """
        from mmflow.apis import init_model as init_flow
        import mmflow, os.path as osp
        root = osp.join(osp.dirname(mmflow.__file__), '.mim', 'configs')
        from mmengine.registry import DefaultScope
        with DefaultScope.overwrite_default_scope('mmflow'):
            flow = init_flow(osp.join(root, 'raft/raft_8xb2_100k_'
                             'flyingchairs-368x496.py'), None, device='cpu')
        print('flow', type(flow).__name__)
    """
    parts = [pose, flow] if order == 'pose_first' else [flow, pose]
    code = ('import mmflowpose\n'
            'mmflowpose.utils.register_all_modules()\n' +
            textwrap.dedent(parts[0]) + textwrap.dedent(parts[1]) + """
from mmpose.registry import MODELS as PM
from mmflow.registry import MODELS as FM
assert PM.get('PoseLifter') is not None and FM.get('RAFT') is not None
assert PM.scope == 'mmpose' and FM.scope == 'mmflow'
""")
    out = run_python(code)
    assert 'pose PoseLifter' in out and 'flow RAFT' in out
