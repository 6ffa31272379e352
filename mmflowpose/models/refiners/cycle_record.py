"""Each cycle's state, packed into one :class:`ClipDataSample`."""
from typing import List, Optional

import torch
from torch import Tensor

from mmflowpose.structures import ClipDataSample


class CycleRecord:
    """Collect the state after each cycle (entry 0: the initial one) and
    pack it as the stacked ``pred_*`` fields of a :class:`ClipDataSample`.

    Args:
        keep_flow (bool): record the dense flows (``pred_flow``).
    """

    def __init__(self, keep_flow: bool = True) -> None:
        self.keep_flow = keep_flow
        self.pose3d: List[Tensor] = []
        self.camera: List[Tensor] = []
        self.keypoints_2d: List[Tensor] = []
        self.flow: List[Tensor] = []
        self.sketch_mask: List[Tensor] = []
        self.steps: List[int] = []
        self.accepted: List[bool] = []
        self.reasons: List[list] = []

    def add(self, pose3d: Tensor, camera: Tensor, keypoints_2d: Tensor,
            flow: Tensor, sketch_mask: Tensor) -> None:
        """Record one cycle: (T, J, 3) m, (T, 3), (T, J, 2) px,
        (P, 2, H, W) px and (P, H, W) bool, all on one device."""
        self.pose3d.append(pose3d.detach())
        self.camera.append(camera.detach())
        self.keypoints_2d.append(keypoints_2d.detach())
        if self.keep_flow:
            self.flow.append(flow.detach())
        self.sketch_mask.append(sketch_mask.bool())

    def add_steps(self, steps: int, accepted: Optional[List[bool]] = None,
                  reasons: Optional[list] = None) -> None:
        """The pose solver's steps and, after a guarded flow step, whether
        every network kept its fine-tune and each one's reason."""
        self.steps.append(int(steps))
        if accepted is not None:
            self.accepted.append(all(accepted))
            self.reasons.append(list(reasons or []))

    def pack(self, sample: ClipDataSample, clip) -> ClipDataSample:
        """A new sample: ``sample``'s fields (frames dropped), the
        detections as used (``clip``'s keypoints and scores) and the
        stacked per-cycle predictions. Call once: the record's flows and
        masks move into the stacks (its lists are emptied)."""
        out = sample.shallow_copy(drop=('frames', ))
        out.keypoints_2d = clip.keypoints_2d
        out.keypoint_scores = clip.keypoint_scores
        if clip.labels_mirrored is not None:
            out.labels_mirrored = clip.labels_mirrored
        out.pred_pose3d = torch.stack(self.pose3d)
        out.pred_camera = torch.stack(self.camera)
        out.pred_keypoints_2d = torch.stack(self.keypoints_2d)
        out.pred_sketch_mask = _stack_releasing(self.sketch_mask)
        if self.keep_flow:
            out.pred_flow = _stack_releasing(self.flow)
        device = out.pred_pose3d.device
        out.pose_steps = torch.tensor(self.steps, dtype=torch.long,
                                      device=device)
        if self.accepted:
            out.flow_accepted = torch.tensor(self.accepted, device=device)
            out.flow_step_reasons = self.reasons
        return out


def _stack_releasing(values: List[Tensor]) -> Tensor:
    """``torch.stack(values)`` that drops each entry once it is copied
    (``values`` is emptied), so a window's dense per-cycle flows and their
    stack never all exist at once."""
    out = values[0].new_empty((len(values), *values[0].shape))
    for i in range(len(values)):
        out[i] = values[i]
        values[i] = None
    values.clear()
    return out
