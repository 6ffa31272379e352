"""Fill missing 2D joints over time, as a pure tensor function.

The datasets fill missing detections on the host when they read a file
(:func:`mmflowpose.datasets.input_checks.fill_missing_keypoints`, with a
warning); clips handed to the refiner directly (the demo's frame estimator
finding nobody in a frame, the Python API) get the same rule here, on the
refiner's device, before any lifter sees them: a lifter would otherwise lift
a (0, 0) joint as a real position.
"""
import torch
from torch import Tensor

from .checks import check_shape


def fill_missing_over_time(keypoints: Tensor, missing: Tensor) -> Tensor:
    """Replace missing joints by their linear interpolation over time.

    Convention:
        A joint missing at frame t takes the straight line between its
        nearest present frames before and after t; before its first (after
        its last) present frame it keeps that frame's position. A joint
        missing in every frame takes the mean of the frame's present joints
        (the body's centre), filled over time the same way; a clip with no
        present joint at all becomes zeros. Values at missing positions
        (NaN, inf or anything else) are never read.

    Args:
        keypoints (Tensor): (T, J, 2) px, (x, y).
        missing (Tensor): (T, J) bool.

    Returns:
        Tensor: (T, J, 2) finite wherever a joint or the body was seen;
        present joints unchanged.

    Example:
        >>> kp = torch.tensor([[[0., 0.]], [[float('nan'), 0.]], [[4., 2.]]])
        >>> fill_missing_over_time(kp, ~torch.isfinite(kp).all(-1))[1]
        tensor([[2., 1.]])
    """
    check_shape(keypoints, ['T', 'J', 2], 'keypoints')
    check_shape(missing, list(keypoints.shape[:2]), 'missing')
    present = ~missing
    clean = torch.where(present[..., None], keypoints,
                        torch.zeros_like(keypoints))
    # joints never present: the body centre of each frame (frames without
    # anyone are filled over time below, like any missing joint)
    counts = present.sum(1, keepdim=True)  # (T, 1)
    centre = clean.sum(1) / counts.clamp_min(1)  # (T, 2)
    centre = _interpolate(centre[:, None], counts == 0)[:, 0]
    never = ~present.any(0)  # (J,)
    clean = torch.where(never[None, :, None], centre[:, None], clean)
    filled = _interpolate(clean, missing & ~never[None])
    return torch.where(present[..., None], keypoints, filled)


def _interpolate(values: Tensor, missing: Tensor) -> Tensor:
    """(T, J, C) values with (T, J) ``missing`` ones interpolated over T
    (columns with nothing present are returned as they are)."""
    num_frames = values.shape[0]
    times = torch.arange(
        num_frames, device=values.device)[:, None].expand_as(missing)
    present = ~missing
    none = torch.full_like(times, -1)
    # nearest present frame at or before t, and at or after t
    before = torch.where(present, times, none).cummax(0).values
    after = torch.where(present, times, torch.full_like(times, num_frames))
    after = after.flip(0).cummin(0).values.flip(0)
    has_before, has_after = before >= 0, after < num_frames
    start = values.gather(
        0,
        before.clamp(0, num_frames - 1)[..., None].expand_as(values))
    end = values.gather(
        0,
        after.clamp(0, num_frames - 1)[..., None].expand_as(values))
    span = (after - before).clamp_min(1).to(values.dtype)
    weight = ((times - before).to(values.dtype) / span)[..., None]
    between = start + weight * (end - start)
    edge = torch.where(has_before[..., None], start, end)
    estimate = torch.where((has_before & has_after)[..., None], between, edge)
    usable = (has_before | has_after)[..., None] & missing[..., None]
    return torch.where(usable, estimate, values)
