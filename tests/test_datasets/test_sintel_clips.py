"""SintelClipDataset on a rendered clip written in the Sintel layout, and
the refiner taking its pose from a frame estimator (mediapipe)."""
import numpy as np
import pytest
import torch

from mmflowpose.datasets import SintelClipDataset
from mmflowpose.datasets.synthetic import make_clip, write_sintel


@pytest.fixture(scope='module')
def sintel_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('sintel')
    clip = make_clip('procedural', image_size=(256, 320), seed=0,
                     num_frames=4)
    write_sintel(clip, str(root), 'walk_1')
    return root, clip


def test_clip_layout(sintel_root, tmp_path):
    root, clip = sintel_root
    dataset = SintelClipDataset(
        data_root=str(root / 'training'), clip_length=3)
    assert len(dataset) == 1  # frames 1-3 (a shorter remainder is dropped)
    item = dataset[0]
    samples = item['data_samples']
    np.testing.assert_array_equal(item['inputs']['frames'],
                                  clip['frames'][:3])
    np.testing.assert_allclose(samples['gt_flow'], clip['flow'][:2],
                               atol=1e-4)
    np.testing.assert_array_equal(samples['gt_flow_valid'],
                                  ~clip['occlusion'][:2])
    assert samples['clip_id'] == 'walk_1_0001'
    assert 'keypoints_2d' not in samples
    # precomputed estimates matched by frame id
    np.savez(
        tmp_path / 'walk_1.npz',
        frame_ids=np.array([3, 2, 1, 4]),
        keypoints_2d=clip['joints_2d'][[2, 1, 0, 3]],
        keypoint_scores=np.ones((4, 17)))
    with_estimates = SintelClipDataset(
        data_root=str(root / 'training'), clip_length=3,
        estimates_dir=str(tmp_path))
    np.testing.assert_allclose(
        with_estimates[0]['data_samples']['keypoints_2d'],
        clip['joints_2d'][:3])
    missing = SintelClipDataset(
        data_root=str(root / 'training'), clip_length=3,
        estimates_dir=str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='walk_1.npz'):
        missing[0]


def test_refiner_with_frame_estimator(sintel_root):
    from mmflowpose.registry import MODELS
    root, clip = sintel_root
    dataset = SintelClipDataset(
        data_root=str(root / 'training'), clip_length=4,
        pipeline=[dict(type='PackClipInputs')])
    item = dataset[0]
    refiner = MODELS.build(
        dict(
            type='FlowPoseRefiner',
            num_cycles=1,
            pose_estimators=[dict(type='MediaPipePoseEstimator')],
            flow_networks=[
                dict(
                    config='configs/training/raft-small_synthetic.py',
                    checkpoint='checkpoints/raft-small_synthetic.pth')
            ],
            pose_optimizer=dict(type='PoseOptimizer', max_steps=50),
            sketch_head=dict(type='PoseSketchFlowHead', square_size=3),
            flow_finetuner=dict(passes=1, batch_size=3)))
    assert len(refiner.frame_estimators) == 1
    output = refiner.predict([item['inputs']], [item['data_samples']])[0]
    assert output.keypoints_2d.shape == (4, 17, 2)
    # mediapipe finds the rendered person in every frame
    assert (output.keypoint_scores.max(dim=1).values > 0.5).all()
    assert torch.isfinite(output.pred_pose3d).all()
    assert output.pred_flow.shape == (2, 3, 2, 256, 320)
