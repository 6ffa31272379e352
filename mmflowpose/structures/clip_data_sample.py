"""One data element per clip: inputs, ground truth and every cycle's
predictions, read and written by datasets, the refiner, metrics and hooks.

Letters (docs/style.md): T frames, P = T - 1 frame pairs, J joints, H, W
image size, C refinement cycles. Tensors are channel-first (frames
``(T, 3, H, W)``, flows ``(P, 2, H, W)`` px, channel 0 = x, pair p going
from frame p to p + 1); poses are in metres, 2D joints in px (x, y).
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.structures import BaseDataElement
from torch import Tensor

#: name -> (layout, fixed sizes by axis). The ``pred_*`` fields stack the
#: cycles on a leading axis of C + 1 entries: entry 0 holds the initial
#: state (the detections, the lifted pose, the pretrained networks' flow, a
#: zero camera, no sketch), entry c the state after cycle c.
FIELDS: Dict[str, Tuple[str, Dict[int, int]]] = dict(
    # inputs
    frames=('(T, 3, H, W) RGB, uint8 0-255 or float', {1: 3}),
    keypoints_2d=('(T, J, 2) px detections', {2: 2}),
    keypoint_scores=('(T, J) detection scores, 0 = missing', {}),
    pose3d_init=('(T, J, 3) m precomputed initial 3D', {2: 3}),
    # ground truth
    gt_pose3d=('(T, J, 3) m', {2: 3}),
    gt_keypoints_2d=('(T, J, 2) px', {2: 2}),
    gt_visible=('(T, J) joint visibility', {}),
    pose_mask=('(T, J) bool joints scored by pose metrics', {}),
    gt_flow=('(P, 2, H, W) px', {1: 2}),
    gt_flow_valid=('(P, H, W) bool pixels with valid flow', {}),
    human_mask=('(T, H, W) bool person pixels', {}),
    gt_joint_flow=('(P, J, 2) px motion of frame t\'s joints', {2: 2}),
    gt_joint_flow_valid=('(P, J) bool', {}),
    # the label step's output (FlowPoseRefiner(label_tracking=...))
    labels_mirrored=('(T, ) bool frames whose left/right names the flow '
                     'exchanged', {}),
    # per-cycle predictions
    pred_pose3d=('(C+1, T, J, 3) m root-relative', {3: 3}),
    pred_keypoints_2d=('(C+1, T, J, 2) px projections', {3: 2}),
    pred_camera=('(C+1, T, 3) optimised camera values', {2: 3}),
    pred_flow=('(C+1, P, 2, H, W) px', {2: 2}),
    pred_sketch_mask=('(C+1, P, H, W) bool pixels the sketch drew', {}),
    # per-cycle step records (cycles 1..C)
    pose_steps=('(C, ) int solver steps of each pose step', {}),
    flow_accepted=('(C, ) bool guarded flow step kept its fine-tune', {}),
)

#: the stacked per-cycle fields (leading axis C + 1)
STACKED = ('pred_pose3d', 'pred_keypoints_2d', 'pred_camera', 'pred_flow',
           'pred_sketch_mask')
#: camera metainfo entries that are arrays (``w``, ``h`` are ints)
CAMERA_FIELDS = ('f', 'c', 'k', 'p', 'R', 'T')

_NDIM = {
    name: len([d for d in layout[1:layout.index(')')].split(',') if d.strip()])
    for name, (layout, _) in FIELDS.items()
}


def check_field(name: str, value, clip: str = '') -> None:
    """Raise if ``value`` is not a tensor of field ``name``'s layout.

    Raises:
        TypeError: not a tensor.
        ValueError: wrong number of axes or a wrong fixed size (the
            message names the field, its layout and the shape got).
    """
    layout, sizes = FIELDS[name]
    where = f' of clip {clip!r}' if clip else ''
    if not isinstance(value, Tensor):
        raise TypeError(f'ClipDataSample.{name}{where} must be a Tensor '
                        f'{layout}, got {type(value).__name__}')
    shape = tuple(value.shape)
    if value.ndim != _NDIM[name] or any(
            shape[axis] != size for axis, size in sizes.items()):
        raise ValueError(f'ClipDataSample.{name}{where} must be {layout}, '
                         f'got shape {shape}')


def _tensor_property(name: str) -> property:
    """A data field whose setter checks the documented layout."""

    def getter(self):
        return getattr(self, f'_{name}', None)

    def setter(self, value):
        try:
            check_field(name, value, self.metainfo.get('clip_id', ''))
        except (TypeError, ValueError):
            # mmengine listed the name before calling us: a rejected value
            # must not leave an empty field behind
            self._data_fields.discard(name)
            raise
        self.set_field(value, f'_{name}')

    def deleter(self):
        # mmengine's __delattr__ then forgets the public name too
        delattr(self, f'_{name}')

    return property(getter, setter, deleter, doc=FIELDS[name][0])


class ClipDataSample(BaseDataElement):
    """A video clip as every stage of mmflowpose sees it.

    Metainfo (set once by the dataset's ``PackClipInputs``): ``clip_id``
    (str), ``img_paths`` (list[str]), ``image_size`` (H, W) and ``camera``
    (dict of tensors: ``f``, ``c`` (2, ) px, optional ``k`` radial, ``p``
    tangential distortion, ``R``, ``T``; ints ``w``, ``h``).

    Data fields, each a tensor whose layout is checked when it is set
    (:data:`FIELDS` lists them): inputs ``frames``, ``keypoints_2d``,
    ``keypoint_scores``, ``pose3d_init``; ground truth ``gt_pose3d``,
    ``gt_keypoints_2d``, ``gt_visible``, ``pose_mask``, ``gt_flow``,
    ``gt_flow_valid``, ``human_mask``, ``gt_joint_flow``,
    ``gt_joint_flow_valid``; predictions of every cycle ``pred_pose3d``,
    ``pred_keypoints_2d``, ``pred_camera``, ``pred_flow``,
    ``pred_sketch_mask``, and the step records ``pose_steps``,
    ``flow_accepted``. ``flow_step_reasons`` (list per cycle of the
    guarded flow step's reason per network, str) is a plain field.

    Per-cycle predictions are one tensor with a leading cycle axis rather
    than a list: every cycle has the same shape, a metric reads cycle c as
    ``pred_pose3d[c]`` and the last as ``pred_pose3d[-1]``, and files store
    them as one array. ``num_cycles`` is C (0 before refinement).

    Example:
        >>> sample = ClipDataSample(metainfo=dict(clip_id='walk0'))
        >>> sample.keypoints_2d = torch.zeros(4, 17, 2)
        >>> sample.keypoints_2d.shape
        torch.Size([4, 17, 2])
    """

    @property
    def num_cycles(self) -> int:
        """Cycles C run on this clip (0 without predictions)."""
        pred = self.pred_pose3d
        return 0 if pred is None else len(pred) - 1

    def cycle(self, index: int) -> dict:
        """Every field of cycle ``index`` (0 = initial, -1 = last) as a
        dict, each stacked prediction indexed at ``index`` (e.g.
        ``pred_pose3d`` (T, J, 3), ``pred_flow`` (P, 2, H, W)) under its
        own name; no tensor is copied. Metrics read it like a sample."""
        view = self.to_dict()
        for name, value in view.items():
            if name in STACKED and value is not None:
                view[name] = value[index]
        return view

    def shallow_copy(self, drop: Sequence[str] = ()) -> 'ClipDataSample':
        """A new sample sharing this one's metainfo and tensors (none is
        copied), without the fields named in ``drop``."""
        out = type(self)(metainfo=self.metainfo)
        for name, value in self.items():
            if name not in drop:
                setattr(out, name, value)
        return out

    def camera_tensors(self, device: torch.device) -> Optional[dict]:
        """The camera intrinsics on ``device`` (float32), or None."""
        camera = self.metainfo.get('camera')
        if not camera:
            return None
        return {
            key: torch.as_tensor(value, dtype=torch.float32, device=device)
            for key, value in camera.items() if key in CAMERA_FIELDS
        }


for _name in FIELDS:
    setattr(ClipDataSample, _name, _tensor_property(_name))
