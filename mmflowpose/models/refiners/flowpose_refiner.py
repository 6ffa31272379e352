"""FlowPoseRefiner: 3D pose and optical flow refined in alternating cycles.

One cycle (BMVC 2022, "Bootstrapping Human Optical Flow and Pose"): the pose
optimiser fits the clip's 3D joints and cameras to the current flow; the
sketch head draws the refined joints' motion over each network's flow and
every network is fine-tuned towards it, giving the next cycle's flow. Each
pose step starts from (unless ``warm_start``) and is anchored to the
initial estimate; the networks keep their fine-tune across a clip's cycles
and restart from the pretrained weights on the next clip; several pose
estimators or flow networks are averaged (the paper's ``Avg(...)``). This
file is the cycle loop; its parts live beside it (``clip_inputs``,
``pose_step``, ``flow_side``, ``cycle_record``, ``build_parts``).
"""

from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from torch import Tensor

from mmflowpose.registry import MODELS
from mmflowpose.structures import ClipDataSample
from ..utils.skeleton import load_skeleton
from .build_parts import (ConfigList, build_estimators, build_finetuners,
                          check_refiner_args, split_flow_step)
from .clip_inputs import ClipInputs, check_packed, prepare_clip
from .cycle_record import CycleRecord
from .flow_side import (backward_flow, finetune, finetune_targets,
                        guarded_step, predict_flow, sketch_pairs)
from .label_step import check_label_tracking, relabel_clip
from .pose_step import camera_values, optimize_pose, project_result
from .stage_timer import StageTimer
from .working_resolution import resize_flow, resize_mask, scale_points


@MODELS.register_module()
class FlowPoseRefiner(BaseModel):
    """Pair any mmpose 3D estimator(s) with any mmflow network(s).

    Args:
        flow_networks (dict | list[dict]): each the arguments of
            :func:`mmflowpose.models.builder.init_model` (``config``,
            ``checkpoint``, ``cfg_options``); several are averaged.
        pose_estimators (dict | list[dict], optional): registered 3D
            estimators (lifters such as ``MMPoseLifter``, or frame
            estimators); several are averaged. None or [] uses the clip's
            ``pose3d_init``. Defaults to None.
        sketch_head (dict): :class:`PoseSketchFlowHead` config.
        pose_optimizer (dict): :class:`PoseOptimizer` config.
        flow_finetuner (dict, optional): :class:`FlowFinetuner` arguments
            but ``net``; ``passes=0`` keeps the pretrained flow.
        num_cycles (int): flow -> pose -> flow cycles. Defaults to 2.
        skeleton (str | dict): mmpose metainfo of the joints. Defaults to
            'h36m'.
        keep_dense_flow (bool): keep every cycle's dense flow
            (``pred_flow``; dense EPE, pictures). Defaults to True.
        pose_flow (str): flow the pose step follows: ``'network'`` or
            ``'ground_truth'`` (``gt_flow``, an oracle). Defaults to
            'network'.
        sketch_source (str): joints the sketch is drawn from: ``'refined'``
            (projected refined pose) or ``'ground_truth'``
            (``gt_keypoints_2d``, the oracle sketch). Defaults to 'refined'.
        flow_max_side (int, optional): longest side (px) of the frames the
            flow networks and the sketch work on; results are mapped back
            (``working_resolution.py``). None keeps the size. Defaults to
            None.
        finetune_crop (dict, optional): fine-tune on the box of the sketch
            grown by ``margin`` (default 0.25) to >= ``min_side`` px
            (default 64); None fine-tunes on whole frames. Defaults to None.
        flow_output_size (str): size of the flows and masks in the results:
            ``'original'`` (H, W) or ``'working'`` (px of that size; the
            inferencer maps them back). Joints are in original px either
            way. Defaults to 'original'.
        warm_start (bool): each pose step starts from the previous cycle's
            pose and camera (still anchored to the initial estimate).
            Defaults to False (the paper).
        anchor_anneal (float): cycle k scales the anchors to the initial
            estimate by ``anchor_anneal ** k``. Defaults to 1.0.
        backward_flow (bool): also predict backward flow for the pose
            step's forward-backward confidences. Defaults to False.
        flow_step (dict, optional): :func:`guarded_flow_step` arguments
            plus ``guard`` (:class:`FlowGuard` arguments or None); each
            cycle's flow step is then guarded and records
            ``flow_accepted``. Defaults to None (the paper's step).
        label_tracking (dict, optional): before the first pose step,
            carry the detections' left/right names along the pretrained
            flow and lift them again (``label_step.py``; arguments of
            :func:`track_left_right`: ``sigma``, ``mirror_prior``,
            ``horizon``; ``dict()`` takes the defaults). Needs lifters as
            ``pose_estimators``. Defaults to None (the paper: off).
        data_preprocessor (dict, optional): see ``BaseModel``.
        init_cfg (dict, optional): see ``BaseModel``.
    """

    def __init__(self,
                 flow_networks: ConfigList,
                 pose_estimators: ConfigList = None,
                 sketch_head: dict = dict(type='PoseSketchFlowHead'),
                 pose_optimizer: dict = dict(type='PoseOptimizer'),
                 flow_finetuner: Optional[dict] = None,
                 num_cycles: int = 2,
                 skeleton: Union[str, dict] = 'h36m',
                 keep_dense_flow: bool = True,
                 pose_flow: str = 'network',
                 sketch_source: str = 'refined',
                 flow_max_side: Optional[int] = None,
                 finetune_crop: Optional[dict] = None,
                 flow_output_size: str = 'original',
                 warm_start: bool = False,
                 anchor_anneal: float = 1.0,
                 backward_flow: bool = False,
                 flow_step: Optional[dict] = None,
                 label_tracking: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        check_refiner_args(num_cycles, pose_flow, sketch_source,
                           flow_max_side, anchor_anneal, finetune_crop,
                           flow_output_size)
        self.num_cycles = int(num_cycles)
        self.keep_dense_flow = keep_dense_flow
        self.pose_flow, self.sketch_source = pose_flow, sketch_source
        self.flow_max_side = flow_max_side and int(flow_max_side)
        self.finetune_crop = finetune_crop and dict(finetune_crop)
        self.flow_output_size = flow_output_size
        self.warm_start, self.anchor_anneal = warm_start, anchor_anneal
        self.backward_flow = backward_flow
        self.flow_step, self.flow_guard = split_flow_step(flow_step)
        self.timer = StageTimer()  # seconds per stage (the cost report)
        self.skeleton = load_skeleton(skeleton)
        self.finetuners, self.finetune_passes = build_finetuners(
            flow_networks, flow_finetuner)
        self.pose_estimators, self.frame_estimators = build_estimators(
            pose_estimators, self.skeleton)
        self.label_tracking = check_label_tracking(
            label_tracking, self.pose_estimators, self.frame_estimators)
        self.sketch_head = MODELS.build(sketch_head)
        self.pose_optimizer = MODELS.build(pose_optimizer)

    @property
    def device(self) -> torch.device:
        """Device of the flow networks; every tensor of a clip lives here."""
        return next(self.finetuners.parameters()).device

    def predict_flow(self, frames: Tensor) -> List[Tensor]:
        """Each network's flow (P, 2, h, w) px for (T, 3, h, w) frames."""
        return predict_flow(self.finetuners, frames)

    def _flows(self, frames: Tensor, size):
        """Each network's flow and their mean at the working size, the
        mean at the output size, and the mean backward flow (or None);
        timed as the 'flow' and 'resize' stages."""
        with self.timer('flow', self.device):
            flows = self.predict_flow(frames)
            # one network: its flow is the mean (no stacked copy of it)
            work = flows[0] if len(flows) == 1 else torch.stack(flows).mean(0)
            back = backward_flow(self.finetuners, frames) \
                if self.backward_flow else None
        with self.timer('resize', self.device):
            return flows, work, self._output(work, size), \
                None if back is None else self._output(back, size)

    def _output(self, value: Tensor, size, mask: bool = False) -> Tensor:
        """A working-size flow (or mask) at the size the pose step reads
        and the results hold: the original ``size`` or, with
        ``flow_output_size='working'``, unchanged (the pose step rescales
        points and values: no full-size copy of a window's flows)."""
        if self.flow_output_size == 'working':
            return value
        return resize_mask(value, size) if mask else resize_flow(value, size)

    def refine_clip(self, frames: Tensor,
                    sample: ClipDataSample) -> ClipDataSample:
        """Refine one clip: frames (T, 3, H, W) RGB 0-255 and its sample
        (``keypoints_2d``, ``keypoint_scores``, optional ``pose3d_init``,
        camera metainfo) on any device. Returns a new sample on
        :attr:`device` with every cycle's predictions."""
        clip: ClipInputs = prepare_clip(self, frames, sample)
        timer, device, size = self.timer, self.device, clip.image_size
        for tuner in self.finetuners:
            tuner.restore()  # every clip starts from the pretrained nets
        flows, flow_work, current, backward = self._flows(clip.frames, size)
        if self.label_tracking is not None:
            with timer('labels', device):
                clip, _ = relabel_clip(self, clip, flow_work)
        record, pose_init = CycleRecord(self.keep_dense_flow), clip.pose3d_init
        record.add(pose_init, pose_init.new_zeros(len(pose_init), 3),
                   clip.keypoints_2d, current,
                   torch.zeros_like(current[:, 0], dtype=torch.bool))
        pair_flows = [None] * len(self.finetuners)  # guarded flow step
        result = None
        for cycle in range(self.num_cycles):
            with timer('pose', device), torch.enable_grad():
                # mmengine's test loop runs under no_grad; the step optimises
                result = optimize_pose(
                    self.pose_optimizer, clip,
                    current if clip.pose_flow is None else clip.pose_flow,
                    backward if clip.pose_flow is None else None,
                    result if self.warm_start else None,
                    self.anchor_anneal**cycle)
                projected = project_result(self.pose_optimizer, result)
            drawn = projected if clip.sketch_keypoints is None else \
                clip.sketch_keypoints
            drawn = scale_points(drawn, size, clip.work_size)
            step = None
            if self.flow_step is not None and self.finetune_passes:
                with timer('finetune', device):
                    step = guarded_step(self.finetuners, self.sketch_head,
                                        clip.frames, drawn,
                                        clip.keypoint_scores, pair_flows,
                                        self.flow_step, self.flow_guard,
                                        self.finetune_crop)
                pair_flows, mask = step['pair_flows'], step['mask']
                flow_work = torch.stack([p[0] for p in pair_flows]).mean(0)
                current = self._output(flow_work, size)
                if self.backward_flow:
                    backward = self._output(
                        torch.stack([p[1] for p in pair_flows]).mean(0), size)
            else:
                with timer('sketch', device):
                    sketch, mask = sketch_pairs(
                        self.sketch_head, drawn, clip.keypoint_scores,
                        clip.work_size, flow_work)
                if self.finetune_passes:
                    with timer('finetune', device):
                        targets = finetune_targets(
                            self.sketch_head, flows, sketch, mask,
                            clip.work_size, self.finetune_crop)
                        # in the targets now: not held while fine-tuning
                        sketch = None
                        if targets is not None:
                            finetune(self.finetuners, clip.frames, *targets)
                        targets = None
                    flows, flow_work, current, backward = self._flows(
                        clip.frames, size)
            record.add(result['pose'][0], camera_values(result), projected,
                       current, self._output(mask, size, mask=True)[:, 0])
            record.add_steps(sum(result['steps']),
                             None if step is None else step['accepted'],
                             None if step is None else step['reasons'])
        # the working frames are done with: freed before the stacking
        clip = clip._replace(frames=None)
        return record.pack(sample, clip)

    def forward(self, inputs, data_samples=None, mode: str = 'predict'):
        if mode != 'predict':
            raise ValueError(
                'FlowPoseRefiner is a test-time method: only mode="predict" '
                f'is supported, got {mode!r}')
        return self.predict(inputs, data_samples)

    def predict(self, inputs: Sequence[Tensor],
                data_samples: Sequence[ClipDataSample]
                ) -> List[ClipDataSample]:
        """Refine each clip of a ``PackClipInputs`` batch (frames
        (T, 3, H, W) per clip): one new :class:`ClipDataSample` each, with
        ``pred_pose3d`` (C+1, T, J, 3), ``pred_flow`` (C+1, P, 2, H, W),
        ... (entry 0: the initial estimates)."""
        for frames, sample in zip(inputs, data_samples):
            check_packed(frames, sample)
        return [self.refine_clip(*clip) for clip in zip(inputs, data_samples)]

    def loss(self, *args, **kwargs):
        raise NotImplementedError('FlowPoseRefiner has no training loss; use '
                                  'tools/test.py')
