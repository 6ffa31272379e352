"""ClipResultsDumpHook: one npz per clip, every cycle stacked."""
from types import SimpleNamespace

import numpy as np
import torch

from mmflowpose.registry import HOOKS
from mmflowpose.structures import ClipDataSample


def _output(clip_id):
    sample = ClipDataSample(metainfo=dict(clip_id=clip_id))
    sample.keypoints_2d = torch.rand(3, 17, 2)
    sample.keypoint_scores = torch.ones(3, 17)
    sample.pred_pose3d = torch.rand(2, 3, 17, 3)
    sample.pred_camera = torch.rand(2, 3, 3)
    sample.pred_keypoints_2d = torch.rand(2, 3, 17, 2)
    sample.pred_flow = torch.rand(2, 2, 2, 4, 5)
    sample.gt_flow = torch.rand(2, 2, 4, 5)  # ground truth: never dumped
    return sample


def test_dump_writes_the_sample_fields(tmp_path):
    hook = HOOKS.build(dict(type='ClipResultsDumpHook', save_flow=True))
    hook.before_test(SimpleNamespace(work_dir=str(tmp_path)))
    outputs = [_output('a'), _output('b')]
    hook.after_test_iter(None, 0, None, outputs)
    saved = np.load(tmp_path / 'predictions' / 'a.npz')
    assert sorted(saved.files) == [
        'camera_cycles', 'flow_cycles', 'keypoint_scores', 'keypoints_2d',
        'keypoints_2d_cycles', 'pose3d_cycles'
    ]
    np.testing.assert_array_equal(saved['pose3d_cycles'],
                                  outputs[0].pred_pose3d.numpy())
    assert saved['flow_cycles'].shape == (2, 2, 2, 4, 5)
    assert (tmp_path / 'predictions' / 'b.npz').exists()


def test_dump_without_flow(tmp_path):
    hook = HOOKS.build(dict(type='ClipResultsDumpHook', out_dir='p'))
    hook.before_test(SimpleNamespace(work_dir=str(tmp_path)))
    hook.after_test_iter(None, 0, None, [_output('a')])
    assert 'flow_cycles' not in np.load(tmp_path / 'p' / 'a.npz').files
