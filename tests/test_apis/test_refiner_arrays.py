"""The inferencer's numpy edge of the refiner: arrays in, arrays out."""
import numpy as np
import torch
from helpers import tiny_refiner_cfg

from mmflowpose.apis.refiner_arrays import refine_arrays
from mmflowpose.datasets import SyntheticClipDataset
from mmflowpose.registry import MODELS


def test_arrays_match_the_sample_tensors():
    item = SyntheticClipDataset(num_frames=3, image_size=(64, 96), seed=1)[0]
    fields = item['data_samples']
    torch.manual_seed(0)
    refiner = MODELS.build(tiny_refiner_cfg(max_steps=5, passes=0))
    result = refine_arrays(refiner, item['inputs']['frames'],
                           fields['keypoints_2d'], fields['keypoint_scores'],
                           fields['pose3d_init'])
    assert all(isinstance(v, np.ndarray) for v in result.values())
    assert result['pose3d'].shape == (3, 17, 3)
    # the flows leave channel-last, once, here: (P, H, W, 2), x first
    assert result['flow'].shape == result['flow_init'].shape == (2, 64, 96,
                                                                 2)
    assert result['sketch_mask'].shape == (2, 64, 96)
    frames = torch.from_numpy(item['inputs']['frames']).permute(0, 3, 1, 2)
    net_flow = refiner.predict_flow(frames.float())[0]
    np.testing.assert_allclose(result['flow_init'],
                               net_flow.permute(0, 2, 3, 1).numpy(),
                               atol=1e-4)
    np.testing.assert_allclose(result['pose3d_init'],
                               fields['pose3d_init'] -
                               fields['pose3d_init'][:, :1], atol=1e-6)


def test_other_refiners_keep_the_array_contract():

    class Echo:

        def refine_clip(self, frames, keypoints_2d, keypoint_scores, pose3d):
            return dict(frames=frames, pose3d=pose3d)

    frames = np.zeros((2, 4, 4, 3), np.uint8)
    pose = np.ones((2, 17, 3), np.float32)
    out = refine_arrays(Echo(), frames, None, None, pose)
    assert out['frames'] is frames and out['pose3d'] is pose
