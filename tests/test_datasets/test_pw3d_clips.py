"""PW3DClipDataset on a sequence written in 3DPW's format from a rendered
clip with known ground truth."""
import os
import pickle

import numpy as np
import pytest

from mmflowpose.datasets.pw3d_clips import (PW3DClipDataset, coco18_to_h36m,
                                            smpl_to_h36m)

# SMPL-24 id <- H36M-17 id for the joints that map one to one
H36M_OF_SMPL = {0: 0, 2: 1, 5: 2, 8: 3, 1: 4, 4: 5, 7: 6, 6: 7, 12: 8,
                15: 10, 16: 11, 18: 12, 20: 13, 17: 14, 19: 15, 21: 16}
# COCO-18 id <- H36M-17 id
H36M_OF_COCO = {0: 10, 1: 8, 2: 14, 3: 15, 4: 16, 5: 11, 6: 12, 7: 13,
                8: 1, 9: 2, 10: 3, 11: 4, 12: 5, 13: 6}


def write_3dpw(root, clip):
    """One sequence, one person, in 3DPW's layout."""
    import cv2
    num_frames = len(clip['frames'])
    world = np.zeros((num_frames, 24, 3), np.float32)
    for smpl, h36m in H36M_OF_SMPL.items():
        world[:, smpl] = clip['joints_3d_world'][:, h36m]
    camera = clip['camera']
    extrinsics = np.tile(np.eye(4, dtype=np.float32), (num_frames, 1, 1))
    extrinsics[:, :3, :3] = camera['R']
    extrinsics[:, :3, 3] = camera['t']
    poses2d = np.zeros((num_frames, 3, 18), np.float32)
    for coco, h36m in H36M_OF_COCO.items():
        poses2d[:, :2, coco] = clip['joints_2d'][:, h36m]
        poses2d[:, 2, coco] = 0.9
    data = dict(
        sequence='downtown_walking_00',
        img_frame_ids=np.arange(num_frames),
        jointPositions=[world.reshape(num_frames, 72)],
        poses2d=[poses2d],
        cam_poses=extrinsics,
        cam_intrinsics=camera['K'].astype(np.float32),
        campose_valid=[np.ones(num_frames)])
    os.makedirs(root / 'sequenceFiles' / 'test')
    with open(root / 'sequenceFiles' / 'test' / 'downtown_walking_00.pkl',
              'wb') as file:
        pickle.dump(data, file)
    os.makedirs(root / 'imageFiles' / 'downtown_walking_00')
    for t, frame in enumerate(clip['frames']):
        cv2.imwrite(
            str(root / 'imageFiles' / 'downtown_walking_00' /
                f'image_{t:05d}.jpg'), frame[..., ::-1])


def test_reads_3dpw_sequence(tmp_path):
    from mmflowpose.datasets.synthetic import make_clip
    clip = make_clip('procedural', image_size=(48, 64), seed=1, num_frames=6)
    write_3dpw(tmp_path, clip)
    dataset = PW3DClipDataset(str(tmp_path), clip_len=3)
    assert len(dataset) == 2
    item = dataset[1]
    samples = item['data_samples']
    assert item['inputs']['frames'].shape == (3, 48, 64, 3)
    expected = clip['joints_3d_cam'][3:6].copy()
    # neck_base is the midpoint of SMPL neck (= thorax here) and head
    expected[:, 9] = (expected[:, 8] + expected[:, 10]) / 2
    np.testing.assert_allclose(samples['gt_pose3d'], expected, atol=1e-4)
    keep = [j for j in range(17) if j != 9]
    np.testing.assert_allclose(samples['gt_keypoints_2d'][:, keep],
                               clip['joints_2d'][3:6, keep], atol=1e-2)
    np.testing.assert_allclose(samples['keypoints_2d'][:, 1:7],
                               clip['joints_2d'][3:6, 1:7], atol=1e-4)
    np.testing.assert_allclose(samples['keypoint_scores'], 0.9)
    assert samples['clip_id'] == 'downtown_walking_00_p0_000003'
    assert samples['gt_joint_flow'].shape == (2, 17, 2)


def test_mappings_and_errors(tmp_path):
    smpl = np.arange(24 * 3, dtype=np.float32).reshape(1, 24, 3)
    h36m = smpl_to_h36m(smpl)
    np.testing.assert_array_equal(h36m[0, 1], smpl[0, 2])  # right hip
    np.testing.assert_array_equal(h36m[0, 9], (smpl[0, 12] + smpl[0, 15]) / 2)
    rows = np.random.rand(1, 3, 18).astype(np.float32)
    mapped = coco18_to_h36m(rows)
    np.testing.assert_allclose(mapped[0, 0, :2],
                               (rows[0, :2, 8] + rows[0, :2, 11]) / 2)
    assert mapped[0, 0, 2] == min(rows[0, 2, 8], rows[0, 2, 11])
    with pytest.raises(FileNotFoundError, match='sequenceFiles'):
        PW3DClipDataset(str(tmp_path))
    os.makedirs(tmp_path / 'sequenceFiles' / 'test')
    (tmp_path / 'sequenceFiles' / 'test' / 'x.pkl').write_bytes(b'junk')
    with pytest.raises(ValueError, match='x.pkl.*is not a readable pickle'):
        PW3DClipDataset(str(tmp_path))
