"""FlowPoseRefiner on rendered clips with exact ground truth."""
import numpy as np
import pytest
import torch

from mmflowpose.apis import ConfigError
from mmflowpose.datasets import SyntheticClipDataset
from mmflowpose.evaluation.functional import mpjpe_errors
from mmflowpose.registry import MODELS
from mmflowpose.utils.checkpoint import CheckpointError

RAFT = dict(
    config='mmflow::raft/raft_8xb2_100k_flyingchairs-368x496.py',
    cfg_options=dict(model=dict(decoder=dict(iters=2))))


def build_refiner(**overrides):
    cfg = dict(
        type='FlowPoseRefiner',
        num_cycles=2,
        flow_networks=[RAFT],
        pose_optimizer=dict(type='PoseOptimizer', max_steps=150),
        sketch_head=dict(type='PoseSketchFlowHead', square_size=3),
        flow_finetuner=dict(passes=1, batch_size=4))
    cfg.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(cfg)


@pytest.fixture(scope='module')
def clip():
    dataset = SyntheticClipDataset(
        num_clips=1, num_frames=8, image_size=(64, 96), seed=3)
    return dataset[0]


def mpjpe_mm(pred, gt):
    return 1000 * float(
        mpjpe_errors(torch.as_tensor(pred).double(),
                     torch.as_tensor(gt).double()).mean())


def test_refinement_lowers_mpjpe_with_true_flow(clip):
    refiner = build_refiner(pose_flow='ground_truth')
    output = refiner.predict([clip['inputs']], [clip['data_samples']])[0]
    gt = clip['data_samples']['gt_pose3d']
    errors = [mpjpe_mm(v['pred_pose3d'], gt) for v in output['cycles']]
    print('MPJPE per cycle (mm):', [round(e, 2) for e in errors])
    assert len(errors) == 3  # initial + 2 cycles
    assert errors[-1] < errors[0] - 1.0
    refinement = output['refinement']
    num_frames, height, width = clip['inputs']['frames'].shape[:3]
    assert refinement['pose3d'].shape == (num_frames, 17, 3)
    assert refinement['flow'].shape == (num_frames - 1, height, width, 2)
    assert refinement['sketch_mask'].shape == (num_frames - 1, height, width)
    assert refinement['sketch_mask'].any()
    assert output['pred_joint_flow'].shape == (num_frames - 1, 17, 2)
    # the flow network was fine-tuned: the flow changed between cycles
    assert not np.allclose(refinement['flow_init'], refinement['flow'])


def test_each_clip_starts_from_pretrained_flow(clip):
    refiner = build_refiner(num_cycles=1)
    first = refiner.predict([clip['inputs']], [clip['data_samples']])[0]
    second = refiner.predict([clip['inputs']], [clip['data_samples']])[0]
    np.testing.assert_allclose(first['refinement']['flow_init'],
                               second['refinement']['flow_init'])


def test_oracle_sketch_uses_ground_truth_joints(clip):
    refiner = build_refiner(num_cycles=1, sketch_source='ground_truth')
    output = refiner.predict([clip['inputs']], [clip['data_samples']])[0]
    mask = output['refinement']['sketch_mask']
    points = np.round(clip['data_samples']['gt_keypoints_2d'][0]).astype(int)
    inside = (points[:, 0] >= 0) & (points[:, 0] < 96) & \
        (points[:, 1] >= 0) & (points[:, 1] < 64)
    assert mask[0][points[inside, 1], points[inside, 0]].all()


def test_ensembles_are_averaged(clip):
    refiner = build_refiner(num_cycles=0, flow_networks=[RAFT, RAFT])
    assert len(refiner.finetuners) == 2
    output = refiner.predict([clip['inputs']], [clip['data_samples']])[0]
    frames = torch.from_numpy(clip['inputs']['frames']).permute(0, 3, 1,
                                                                2).float()
    flows = refiner.predict_flow(frames)
    expected = ((flows[0] + flows[1]) / 2).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(output['refinement']['flow_init'], expected,
                               rtol=1e-5, atol=1e-5)


def test_bad_configs_and_inputs(tmp_path, clip):
    with pytest.raises(ConfigError, match='RAFTT.*did you mean'):
        build_refiner(flow_networks=[dict(config=dict(type='RAFTT'))])
    with pytest.raises(ValueError, match='at least one mmflow network'):
        build_refiner(flow_networks=[])
    with pytest.raises(ValueError, match="pose_flow must be"):
        build_refiner(pose_flow='gt')
    lifter = MODELS.build(
        dict(
            type='MMPoseLifter',
            config='mmpose::body_3d_keypoint/image_pose_lift/h36m/'
            'image-pose-lift_tcn_8xb64-200e_h36m.py'))
    path = str(tmp_path / 'lifter.pth')
    torch.save({'state_dict': lifter.lifter.state_dict()}, path)
    with pytest.raises(CheckpointError, match='does not fit RAFT'):
        build_refiner(flow_networks=[dict(RAFT, checkpoint=path)])
    refiner = build_refiner(num_cycles=0)
    sample = dict(clip['data_samples'])
    with pytest.raises(ValueError, match='needs >= 2 frames'):
        refiner.refine_clip(clip['inputs']['frames'][:1],
                            sample['keypoints_2d'][:1],
                            sample['keypoint_scores'][:1],
                            sample['pose3d_init'][:1])
    with pytest.raises(ValueError, match='T = 8 frames'):
        refiner.refine_clip(clip['inputs']['frames'],
                            sample['keypoints_2d'][:5],
                            sample['keypoint_scores'][:5],
                            sample['pose3d_init'])
    with pytest.raises(ValueError, match='precomputed pose3d_init'):
        refiner.refine_clip(clip['inputs']['frames'],
                            sample['keypoints_2d'],
                            sample['keypoint_scores'], None)


def test_missing_detections_never_give_nan(clip):
    refiner = build_refiner(num_cycles=1, pose_flow='ground_truth')
    sample = dict(clip['data_samples'])
    keypoints = sample['keypoints_2d'].copy()
    keypoints[2:4] = np.nan  # the detector lost the person in two frames
    sample['keypoints_2d'] = keypoints
    output = refiner.predict([clip['inputs']], [sample])[0]
    assert np.isfinite(output['refinement']['pose3d']).all()
    assert np.isfinite(output['refinement']['flow']).all()
    # the lost joints were filled over time (not (0, 0)) with score 0
    used = np.asarray(output['refinement']['keypoints_2d'])
    before, after = keypoints[1], keypoints[4]
    np.testing.assert_allclose(used[2], before + (after - before) / 3,
                               rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(used[3], before + 2 * (after - before) / 3,
                               rtol=1e-5, atol=1e-3)
    assert (np.asarray(output['refinement']['keypoint_scores'])[2:4] == 0
            ).all()


def test_perspective_camera_uses_clip_intrinsics(clip):
    refiner = build_refiner(
        num_cycles=1,
        pose_flow='ground_truth',
        pose_optimizer=dict(
            type='PoseOptimizer', camera='perspective', max_steps=100))
    sample = clip['data_samples']
    output = refiner.predict([clip['inputs']], [sample])[0]
    refined = output['refinement']['keypoints_2d_refined']
    gt = sample['gt_keypoints_2d']
    # projections through the clip's own camera land near the true joints
    assert np.abs(refined - gt).mean() < 6.0
    no_camera = dict(sample, camera={})
    with pytest.raises(ValueError, match='needs the clip.s camera'):
        refiner.predict([clip['inputs']], [no_camera])
