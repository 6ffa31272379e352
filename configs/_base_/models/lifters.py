# mmpose 3D pose lifters wrapped as clip-level estimators (MMPoseLifter).
_pose_cfg = 'mmpose::body_3d_keypoint/'
_pose_zoo = 'https://download.openmmlab.com/mmpose/'
videopose3d_243 = dict(
    type='MMPoseLifter',
    config=_pose_cfg + 'video_pose_lift/h36m/'
    'video-pose-lift_tcn-243frm-supv-cpn-ft_8xb128-200e_h36m.py',
    checkpoint=_pose_zoo +
    'body3d/videopose/videopose_h36m_243frames_fullconv_'
    'supervised_cpn_ft-88f5abbb_20210527.pth')
videopose3d_27 = dict(
    type='MMPoseLifter',
    config=_pose_cfg + 'video_pose_lift/h36m/'
    'video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py',
    checkpoint=_pose_zoo + 'body3d/videopose/videopose_h36m_27frames_fullconv_'
    'supervised-fe8fbba9_20210527.pth')
simplebaseline3d = dict(
    type='MMPoseLifter',
    config=_pose_cfg + 'image_pose_lift/h36m/'
    'image-pose-lift_tcn_8xb64-200e_h36m.py',
    checkpoint=_pose_zoo + 'body3d/simple_baseline/'
    'simple3Dbaseline_h36m-f0ad73a4_20210419.pth')
motionbert = dict(
    type='MMPoseLifter',
    config=_pose_cfg + 'motionbert/h36m/'
    'motionbert_dstformer-ft-243frm_8xb32-120e_h36m.py',
    checkpoint=_pose_zoo + 'v1/body_3d_keypoint/pose_lift/h36m/'
    'motionbert_ft_h36m-d80af323_20230531.pth')
