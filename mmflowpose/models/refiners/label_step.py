"""The refiner's label step: the detections' left/right names carried
along the flow (:func:`track_left_right`), and the initial pose lifted
again from the relabelled detections.

It runs once per clip, on the pretrained networks' flow, before the first
pose step. Only a lifter can turn relabelled 2D into the 3D of a person
facing the other way (mirroring a lifted pose's names, with or without
reflecting its depth, left the validation error at 148-153 mm where
lifting again gave 128), so the step needs one.
"""
from typing import Optional, Tuple

from torch import Tensor

from ..utils.label_tracking import apply_mirror, track_left_right
from .clip_inputs import ClipInputs, estimate_pose
from .working_resolution import scale_points

#: chosen on 35 rendered validation clips by benchmarks/label_step.py
#: (the lowest MPJPE of the relabelled, lifted detections with the shipped
#: RAFT-S): look 2 frames ahead, flow noise 2% of the person's size, a
#: mirrored frame costs half a joint's robust cost
LABEL_TRACKING = dict(sigma=0.02, mirror_prior=0.5, horizon=2)


def check_label_tracking(cfg: Optional[dict], lifters,
                         frame_estimators) -> Optional[dict]:
    """The label step's arguments (:data:`LABEL_TRACKING` updated by
    ``cfg``), or None when ``cfg`` is None.

    Raises:
        ValueError: an unknown key, or no lifter to lift the relabelled
            detections (frame estimators' own 3D cannot be relabelled).
    """
    if cfg is None:
        return None
    unknown = set(cfg) - set(LABEL_TRACKING)
    if unknown:
        raise ValueError(f'label_tracking: unknown keys {sorted(unknown)}; '
                         f'expected some of {sorted(LABEL_TRACKING)}')
    if not len(lifters) or len(frame_estimators):
        raise ValueError(
            'label_tracking needs pose_estimators made of lifters only '
            '(e.g. MMPoseLifter): the relabelled 2D detections are lifted '
            'again, and a frame estimator\'s own 3D cannot be')
    return dict(LABEL_TRACKING, **cfg)


def relabel_clip(refiner, clip: ClipInputs,
                 flow_work: Tensor) -> Tuple[ClipInputs, Tensor]:
    """Relabel ``clip``'s detections along the flow and lift them again.

    Args:
        refiner: the :class:`FlowPoseRefiner` (its skeleton, lifters and
            ``label_tracking`` arguments).
        clip (ClipInputs): the prepared clip.
        flow_work (Tensor): (P, 2, h, w) px flow at the working size (the
            oracle ``clip.pose_flow`` at the image size is used instead
            when the clip has one).

    Returns:
        tuple[ClipInputs, Tensor]: the clip with relabelled
        ``keypoints_2d``/``keypoint_scores`` and the new ``pose3d_init``,
        and (T,) bool, the frames whose names were exchanged.
    """
    flip = refiner.skeleton.flip_indices
    if clip.pose_flow is not None:
        points, flow = clip.keypoints_2d, clip.pose_flow
    else:
        # sigma is relative to the person's size: any consistent pixel
        # grid gives the same labels
        points = scale_points(clip.keypoints_2d, clip.image_size,
                              clip.work_size)
        flow = flow_work
    mirrored = track_left_right(points, clip.keypoint_scores, flow, flip,
                                **refiner.label_tracking)
    keypoints = apply_mirror(clip.keypoints_2d, mirrored, flip)
    scores = apply_mirror(clip.keypoint_scores, mirrored, flip)
    # the clip's only lift (prepare_clip leaves it to this step; its time
    # counts in the refiner's 'labels' stage)
    pose = estimate_pose(refiner.pose_estimators, keypoints, scores,
                         clip.image_size, None, [])
    return clip._replace(
        keypoints_2d=keypoints,
        keypoint_scores=scores,
        pose3d_init=pose,
        labels_mirrored=mirrored), mirrored
