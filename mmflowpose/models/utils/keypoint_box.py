"""The size of a person from its 2D keypoints, shared by the sketch head
(capsule radii, square sizes) and the label step (its noise scale)."""
import torch
from torch import Tensor


def bbox_diagonal(joints: Tensor, joint_ok: Tensor) -> Tensor:
    """(N,) diagonal of the bounding box of the ``joint_ok`` joints, px;
    0 for a person without any."""
    big = torch.finfo(joints.dtype).max
    ok = joint_ok[..., None]
    lo = torch.where(ok, joints, big).amin(dim=1)
    hi = torch.where(ok, joints, -big).amax(dim=1)
    return torch.where(joint_ok.any(1), (hi - lo).norm(dim=-1),
                       torch.zeros_like(lo[:, 0]))
