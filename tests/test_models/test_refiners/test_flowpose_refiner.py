"""FlowPoseRefiner on rendered clips with exact ground truth."""
import pytest
import torch
from helpers import tiny_raft

from mmflowpose.apis import ConfigError
from mmflowpose.datasets import SyntheticClipDataset
from mmflowpose.evaluation.functional import mpjpe_errors
from mmflowpose.registry import MODELS
from mmflowpose.structures import ClipDataSample
from mmflowpose.utils.checkpoint import CheckpointError

RAFT = tiny_raft(iters=2)


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
        num_clips=1, num_frames=8, image_size=(64, 96), seed=3,
        pipeline=[dict(type='PackClipInputs')])
    return dataset[0]


def run(refiner, clip, sample=None):
    return refiner.predict([clip['inputs']],
                           [sample or clip['data_samples']])[0]


def mpjpe_mm(pred, gt):
    return 1000 * float(
        mpjpe_errors(torch.as_tensor(pred).double(),
                     torch.as_tensor(gt).double()).mean())


def test_refinement_lowers_mpjpe_with_true_flow(clip):
    refiner = build_refiner(pose_flow='ground_truth')
    output = run(refiner, clip)
    assert isinstance(output, ClipDataSample)
    gt = clip['data_samples'].gt_pose3d
    errors = [mpjpe_mm(pose, gt) for pose in output.pred_pose3d]
    print('MPJPE per cycle (mm):', [round(e, 2) for e in errors])
    assert output.num_cycles == 2 and len(errors) == 3  # initial + 2
    assert errors[-1] < errors[0] - 1.0
    num_frames, _, height, width = clip['inputs'].shape
    assert output.pred_pose3d.shape == (3, num_frames, 17, 3)
    assert output.pred_flow.shape == (3, num_frames - 1, 2, height, width)
    assert output.pred_sketch_mask.shape == (3, num_frames - 1, height,
                                             width)
    assert output.pred_camera.shape == (3, num_frames, 3)
    assert output.pred_keypoints_2d.shape == (3, num_frames, 17, 2)
    # cycle 0 draws no sketch; the cycles do
    assert not output.pred_sketch_mask[0].any()
    assert output.pred_sketch_mask[-1].any()
    assert output.pose_steps.shape == (2, ) and (output.pose_steps > 0).all()
    assert 'frames' not in output and output.flow_accepted is None
    # the ground truth travels with the sample, untouched
    assert output.gt_pose3d is clip['data_samples'].gt_pose3d
    # the flow network was fine-tuned: the flow changed between cycles
    assert not torch.allclose(output.pred_flow[0], output.pred_flow[-1])


def test_each_clip_starts_from_pretrained_flow(clip):
    refiner = build_refiner(num_cycles=1)
    first, second = run(refiner, clip), run(refiner, clip)
    torch.testing.assert_close(first.pred_flow[0], second.pred_flow[0])


def test_without_dense_flow_and_cycles(clip):
    output = run(build_refiner(num_cycles=0, keep_dense_flow=False), clip)
    assert output.pred_flow is None and output.num_cycles == 0
    torch.testing.assert_close(output.pred_pose3d[0],
                               output.pred_pose3d[-1])
    assert output.pose_steps.shape == (0, )


def test_oracle_sketch_uses_ground_truth_joints(clip):
    refiner = build_refiner(num_cycles=1, sketch_source='ground_truth')
    mask = run(refiner, clip).pred_sketch_mask[-1]
    points = clip['data_samples'].gt_keypoints_2d[0].round().long()
    inside = (points[:, 0] >= 0) & (points[:, 0] < 96) & \
        (points[:, 1] >= 0) & (points[:, 1] < 64)
    assert mask[0][points[inside, 1], points[inside, 0]].all()


def test_ensembles_are_averaged(clip):
    refiner = build_refiner(num_cycles=0, flow_networks=[RAFT, RAFT])
    assert len(refiner.finetuners) == 2
    output = run(refiner, clip)
    flows = refiner.predict_flow(clip['inputs'].float())
    torch.testing.assert_close(output.pred_flow[0], (flows[0] + flows[1]) / 2,
                               rtol=1e-5, atol=1e-5)


def test_bad_configs_and_inputs(tmp_path, clip):
    with pytest.raises(ConfigError, match='RAFTT.*did you mean'):
        build_refiner(flow_networks=[dict(config=dict(type='RAFTT'))])
    with pytest.raises(ValueError, match='at least one mmflow network'):
        build_refiner(flow_networks=[])
    with pytest.raises(ValueError, match='pose_flow must be'):
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
    frames, sample = clip['inputs'], clip['data_samples']
    with pytest.raises(ValueError, match='needs >= 2 frames'):
        refiner.refine_clip(frames[:1], sample)
    with pytest.raises(ValueError, match=r'\(T, 3, H, W\)'):
        refiner.refine_clip(frames.permute(0, 2, 3, 1), sample)
    short = sample.shallow_copy()
    short.keypoints_2d = sample.keypoints_2d[:5]
    with pytest.raises(ValueError, match='T = 8 frames'):
        refiner.refine_clip(frames, short)
    with pytest.raises(ValueError, match='precomputed pose3d_init'):
        refiner.refine_clip(frames, sample.shallow_copy(
            drop=('pose3d_init', )))
    with pytest.raises(TypeError, match='PackClipInputs'):
        refiner.predict([frames], [sample.to_dict()])


def test_missing_detections_never_give_nan(clip):
    refiner = build_refiner(num_cycles=1, pose_flow='ground_truth')
    sample = clip['data_samples'].shallow_copy()
    keypoints = sample.keypoints_2d.clone()
    keypoints[2:4] = float('nan')  # the detector lost the person in 2 frames
    sample.keypoints_2d = keypoints
    output = run(refiner, clip, sample)
    assert torch.isfinite(output.pred_pose3d).all()
    assert torch.isfinite(output.pred_flow).all()
    # the lost joints were filled over time (not (0, 0)) with score 0
    used = output.keypoints_2d
    before, after = keypoints[1], keypoints[4]
    torch.testing.assert_close(used[2], before + (after - before) / 3,
                               rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(used[3], before + 2 * (after - before) / 3,
                               rtol=1e-5, atol=1e-3)
    assert (output.keypoint_scores[2:4] == 0).all()
    # the input sample is not modified
    assert torch.isnan(sample.keypoints_2d[2:4]).all()


def test_perspective_camera_uses_clip_intrinsics(clip):
    refiner = build_refiner(
        num_cycles=1,
        pose_flow='ground_truth',
        pose_optimizer=dict(
            type='PoseOptimizer', camera='perspective', max_steps=100))
    sample = clip['data_samples']
    refined = run(refiner, clip).pred_keypoints_2d[-1]
    # projections through the clip's own camera land near the true joints
    assert (refined - sample.gt_keypoints_2d).abs().mean() < 6.0
    no_camera = sample.shallow_copy()
    no_camera.set_metainfo(dict(camera={}))
    with pytest.raises(ValueError, match='needs the clip.s camera'):
        run(refiner, clip, no_camera)


def test_label_step_undoes_mirrored_detections_and_lifts_again(clip):
    from mmflowpose.models.utils.label_tracking import apply_mirror
    from mmflowpose.models.utils.skeleton import load_skeleton
    lifter = dict(
        type='MMPoseLifter',
        config='mmpose::body_3d_keypoint/image_pose_lift/h36m/'
        'image-pose-lift_tcn_8xb64-200e_h36m.py')
    refiner = build_refiner(
        num_cycles=1, pose_flow='ground_truth', pose_estimators=[lifter],
        label_tracking=dict(), pose_optimizer=dict(type='PoseOptimizer',
                                                   max_steps=2))
    sample = clip['data_samples'].shallow_copy()
    truth = torch.tensor([0, 0, 0, 1, 1, 1, 0, 0], dtype=torch.bool)
    flip = load_skeleton('h36m').flip_indices
    # a detector that took a back view for a front view in frames 3-5
    sample.keypoints_2d = apply_mirror(sample.gt_keypoints_2d, truth, flip)
    sample.keypoint_scores = torch.ones(8, 17)
    output = run(refiner, clip, sample)
    assert output.labels_mirrored.tolist() == truth.tolist()
    assert torch.allclose(output.keypoints_2d, sample.gt_keypoints_2d)
    # the initial pose is the lifter's on the relabelled detections
    lifted = torch.as_tensor(refiner.pose_estimators[0](
        sample.gt_keypoints_2d.numpy(), torch.ones(8, 17).numpy(),
        tuple(clip['inputs'].shape[2:])))
    assert torch.allclose(output.pred_pose3d[0], lifted - lifted[:, :1],
                          atol=1e-5)
    with pytest.raises(ValueError, match='needs pose_estimators made of'):
        build_refiner(label_tracking=dict())
    with pytest.raises(ValueError, match='unknown keys'):
        build_refiner(pose_estimators=[lifter], label_tracking=dict(sig=1))
