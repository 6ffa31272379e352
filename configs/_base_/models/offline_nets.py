# The small networks this project trained and ships in checkpoints/ (see
# checkpoints/README.md): no model-zoo download. Paths are relative to this
# file, so they resolve in a checkout and in an installed package (where
# configs/ and checkpoints/ sit side by side under mmflowpose/.mim).
_root = '{{ fileDirname }}/../../..'
videopose3d_small = dict(
    type='MMPoseLifter',
    config=_root + '/configs/training/videopose3d-small_mocap.py',
    checkpoint=_root + '/checkpoints/videopose3d-small_mocap.pth')
raft_small = dict(
    config=_root + '/configs/training/raft-small_synthetic.py',
    checkpoint=_root + '/checkpoints/raft-small_synthetic.pth')
