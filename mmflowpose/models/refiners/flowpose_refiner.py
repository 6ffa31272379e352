"""FlowPoseRefiner: 3D pose and optical flow refined in alternating cycles.

One cycle (BMVC 2022, "Bootstrapping Human Optical Flow and Pose"):

1. *pose from flow*: :class:`PoseOptimizer` refines the clip's 3D joints and
   cameras so their projected motion follows the current flow;
2. *flow from pose*: the refined joints are projected, the
   :class:`PoseSketchFlowHead` draws their motion over each network's own
   flow, and a :class:`FlowFinetuner` fine-tunes every flow network towards
   that target; the fine-tuned networks give the next cycle's flow.

By default (the paper) each cycle's pose step starts from, and is anchored
by L_3D to, the initial 3D estimate; what changes between cycles is the
flow it follows (the fine-tuned networks'). With ``warm_start`` a cycle
starts from the previous cycle's pose and camera, ``anchor_anneal`` weakens
the anchors to the initial estimate cycle by cycle, and ``backward_flow``
adds the networks' backward flow for forward-backward confidences. The
flow networks keep their fine-tuned weights across the cycles of a clip
and start from the pretrained ones on the next clip. Lists of pose
estimators or flow networks are averaged (the paper's ``Avg(...)``
ensembles). Every network is built from its own package's config (any
mmpose lifter, any mmflow network).
"""
import copy
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

from mmflowpose.registry import MODELS
from ..flow_tuning import FlowFinetuner, FlowGuard, guarded_flow_step
from ..utils.projection import (project_perspective,
                                project_weak_perspective)
from ..utils.sampling import sample_at_points
from ..utils.keypoint_fill import fill_missing_over_time
from ..utils.skeleton import load_skeleton
from .clip_flow import clip_flow
from .stage_timer import StageTimer
from .working_resolution import (person_box, resize_flow, resize_frames,
                                 resize_mask, scale_points, working_size)

ConfigList = Optional[Union[dict, Sequence[dict]]]


def _as_list(cfg: ConfigList) -> List[dict]:
    if cfg is None:
        return []
    if isinstance(cfg, dict):
        return [copy.deepcopy(cfg)]
    return [copy.deepcopy(c) for c in cfg]


def _to_tensor(value, device, dtype=torch.float32) -> Tensor:
    """A tensor on ``device``: tensors move there, arrays are copied in."""
    if isinstance(value, Tensor):
        return value.detach().to(device=device, dtype=dtype)
    return torch.as_tensor(np.asarray(value), dtype=dtype, device=device)


def _to_numpy(value):
    """The one device-to-host edge: nested results of tensor -> numpy."""
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_numpy(v) for v in value]
    return value


@MODELS.register_module()
class FlowPoseRefiner(BaseModel):
    """Pair any mmpose 3D estimator(s) with any mmflow network(s).

    Args:
        flow_networks (dict | list[dict]): each the arguments of
            :func:`mmflowpose.models.builder.init_model` (``config``,
            ``checkpoint``,
            ``cfg_options``); several are averaged.
        pose_estimators (dict | list[dict], optional): registered clip-level
            3D estimators, e.g. ``dict(type='MMPoseLifter', config=...,
            checkpoint=...)``; several are averaged. None or [] uses the
            clip's precomputed ``pose3d_init``. Defaults to None.
        sketch_head (dict): :class:`PoseSketchFlowHead` config.
        pose_optimizer (dict): :class:`PoseOptimizer` config.
        flow_finetuner (dict): :class:`FlowFinetuner` arguments except
            ``net``. Weights carry over between the cycles of a clip and
            are restored to the pretrained ones at the next clip.
        num_cycles (int): flow -> pose -> flow cycles. Defaults to 2.
        skeleton (str | dict): mmpose metainfo of the joints. Defaults to
            'h36m'.
        keep_dense_flow (bool): put every cycle's dense flow in the
            results (needed for dense EPE and visualisation). Defaults to
            True.
        pose_flow (str): flow the pose step follows: ``'network'`` (the
            method) or ``'ground_truth'`` (the clip's ``gt_flow``; an
            oracle for ablations). Defaults to 'network'.
        sketch_source (str): joints the sketch is drawn from: ``'refined'``
            (projections of the refined 3D pose, the method) or
            ``'ground_truth'`` (the clip's ``gt_keypoints_2d``: the oracle
            sketch, the ceiling of the flow step). Defaults to 'refined'.
        flow_max_side (int, optional): working resolution: the flow
            networks (prediction and fine-tuning) and the sketch run on
            frames resized so that their longest side is at most this many
            px; flows, masks and joints are mapped back to the original
            pixels (see ``working_resolution.py``). None keeps the frames'
            size. Defaults to None.
        finetune_crop (dict, optional): fine-tune on one crop around the
            person(s) instead of whole frames: the box of every pair's
            sketch mask grown by ``margin`` (fraction of its size, default
            0.25) to at least ``min_side`` px (default 64). The flow
            networks still predict on whole frames. None fine-tunes on
            whole frames. Defaults to None.
        flow_output_size (str): size of the flows and sketch masks in the
            results: ``'original'`` (the frames' (H, W), what metrics
            read) or ``'working'`` (the ``flow_max_side`` size, px of that
            size; the inferencer maps each pair to the frame size when it
            writes it, so a window holds only small flows). Joints are in
            original px either way. Defaults to 'original'.
        warm_start (bool): each cycle's pose step starts from the previous
            cycle's pose and camera instead of the initial estimate (it is
            still anchored to the initial estimate). Defaults to False (the
            paper: every cycle restarts).
        anchor_anneal (float): cycle k (from 0) multiplies the anchors to
            the initial estimate by ``anchor_anneal ** k``, so later cycles,
            whose flow is better, may move further. Defaults to 1.0.
        backward_flow (bool): also predict the backward flow (the same
            networks on swapped frames) for the pose step's
            forward-backward confidences. Defaults to False.
        flow_step (dict, optional): if set, each cycle's flow step is
            :func:`guarded_flow_step` per network (the sketch gated by the
            network's own forward-backward and warping checks, fine-tuning
            with the background distilled, fusion, rollback): its keyword
            arguments, plus ``guard`` (:class:`FlowGuard` arguments, or
            None for no guard). The cycles then carry the step's output
            flows, and each cycle records ``flow_accepted``. ``finetune_crop``
            still applies. Defaults to None (the paper's unguarded step).
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
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if int(num_cycles) < 0:
            raise ValueError(f'num_cycles must be >= 0, got {num_cycles}')
        if pose_flow not in ('network', 'ground_truth'):
            raise ValueError("pose_flow must be 'network' or 'ground_truth', "
                             f'got {pose_flow!r}')
        if sketch_source not in ('refined', 'ground_truth'):
            raise ValueError("sketch_source must be 'refined' or "
                             f"'ground_truth', got {sketch_source!r}")
        if flow_max_side is not None and int(flow_max_side) < 16:
            raise ValueError('flow_max_side must be None or >= 16 px, got '
                             f'{flow_max_side!r}')
        if not 0 <= float(anchor_anneal) <= 1:
            raise ValueError('anchor_anneal must be in [0, 1], got '
                             f'{anchor_anneal!r}')
        self.warm_start = bool(warm_start)
        self.anchor_anneal = float(anchor_anneal)
        self.backward_flow = bool(backward_flow)
        self.flow_step = None if flow_step is None else dict(flow_step)
        self.flow_guard = None
        if self.flow_step is not None:
            guard_cfg = self.flow_step.pop('guard', {})
            if guard_cfg is not None:
                self.flow_guard = FlowGuard(**guard_cfg)
        unknown = set(finetune_crop or {}) - {'margin', 'min_side'}
        if unknown:
            raise ValueError(f'finetune_crop keys are margin and min_side, '
                             f'got {sorted(unknown)}')
        self.pose_flow = pose_flow
        self.sketch_source = sketch_source
        self.flow_max_side = None if flow_max_side is None else int(
            flow_max_side)
        if flow_output_size not in ('original', 'working'):
            raise ValueError("flow_output_size must be 'original' or "
                             f"'working', got {flow_output_size!r}")
        self.flow_output_size = flow_output_size
        self.finetune_crop = None if finetune_crop is None else dict(
            finetune_crop)
        # seconds per stage of the last clips (read by the cost report)
        self.timer = StageTimer()
        flow_cfgs = _as_list(flow_networks)
        if not flow_cfgs:
            raise ValueError('flow_networks must name at least one mmflow '
                             'network (config, checkpoint)')
        self.skeleton = load_skeleton(skeleton)
        tuner_cfg = dict(lr=1e-5, passes=3)
        tuner_cfg.update(flow_finetuner or {})
        tuner_cfg['carry_over'] = True  # across the cycles of one clip
        # passes=0: the cycles keep the pretrained flow (a cost cap)
        self.finetune_passes = int(tuner_cfg['passes'])
        if self.finetune_passes < 0:
            raise ValueError('flow_finetuner.passes must be >= 0, got '
                             f'{self.finetune_passes}')
        tuner_cfg['passes'] = max(self.finetune_passes, 1)
        from ..builder import init_model
        self.finetuners = nn.ModuleList()
        for cfg in flow_cfgs:
            cfg = dict(cfg)
            cfg.setdefault('scope', 'mmflow')
            net = init_model(**cfg)
            self.finetuners.append(FlowFinetuner(net, **tuner_cfg))
        # 2D-to-3D lifters (nn.Modules, e.g. MMPoseLifter) and estimators
        # that read frames (e.g. MediaPipePoseEstimator, with .estimate)
        self.pose_estimators = nn.ModuleList()
        self.frame_estimators = []
        for cfg in _as_list(pose_estimators):
            estimator = MODELS.build(cfg)
            if isinstance(estimator, nn.Module):
                self.pose_estimators.append(estimator)
            elif hasattr(estimator, 'estimate'):
                self.frame_estimators.append(estimator)
            else:
                raise TypeError(f'{type(estimator).__name__} is neither a '
                                '2D-to-3D lifter module nor a frame '
                                'estimator with estimate(frames)')
        for estimator in self.pose_estimators:
            num = getattr(estimator, 'num_keypoints', self.skeleton.num_joints)
            self.skeleton.check_joints(num, f'{type(estimator).__name__}')
        self.sketch_head = MODELS.build(sketch_head)
        self.pose_optimizer = MODELS.build(pose_optimizer)
        self.num_cycles = int(num_cycles)
        self.keep_dense_flow = keep_dense_flow

    # ----------------------------------------------------------------- parts
    @property
    def device(self) -> torch.device:
        """Device of the flow networks; every tensor of a clip lives here."""
        return next(self.finetuners.parameters()).device

    def detect(self, frames: np.ndarray) -> List[Dict]:
        """Run the frame estimators: dicts with ``keypoints_2d`` (T, J, 2),
        ``keypoint_scores`` (T, J) and ``pose3d`` (T, J, 3)."""
        detections = []
        for estimator in self.frame_estimators:
            if hasattr(estimator, 'reset'):
                estimator.reset()  # a new clip: no tracking from the last
            detections.append(estimator.estimate(frames))
        return detections

    def estimate_pose(self,
                      keypoints_2d,
                      keypoint_scores,
                      image_size,
                      pose3d_init=None,
                      detections: Sequence[Dict] = ()) -> Tensor:
        """Averaged root-relative 3D estimate (T, J, 3) in metres on
        :attr:`device`: the lifters on the 2D keypoints and the frame
        estimators' own 3D (both numpy libraries: their arrays are the
        file-like edge), else ``pose3d_init``."""
        device = self.device
        estimates = []
        if len(self.pose_estimators):
            kp = _to_numpy(keypoints_2d)
            sc = _to_numpy(keypoint_scores)
            estimates += [
                _to_tensor(est(kp, sc, image_size), device)
                for est in self.pose_estimators
            ]
        estimates += [_to_tensor(d['pose3d'], device) for d in detections]
        if not estimates:
            if pose3d_init is None:
                raise ValueError(
                    'no pose_estimators configured and the clip has no '
                    'precomputed pose3d_init')
            estimates = [_to_tensor(pose3d_init, device)]
        pose = torch.stack(estimates).mean(0)
        return pose - pose[:, :1]

    def predict_flow(self, frames: Tensor) -> List[Tensor]:
        """Each network's flow (P, 2, h, w) px for (T, 3, h, w) frames.

        Raises:
            FloatingPointError: a network predicted NaN/inf flow (e.g.
                NaN weights, or diverged fine-tuning); the clip's
                refinement stops instead of propagating NaN into the pose.
        """
        flows = []
        for tuner in self.finetuners:
            tuner.net.eval()
            # RAFT: each frame encoded once, not once per pair it is in
            flows.append(clip_flow(tuner.net, frames, tuner.batch_size))
        for index, flow in enumerate(flows):
            bad = ~torch.isfinite(flow)
            if bad.any():
                pairs = bad.flatten(1).any(1).nonzero().flatten().tolist()
                raise FloatingPointError(
                    f'flow network {index} predicted {int(bad.sum())} '
                    f'non-finite values (frame pairs {pairs}); refinement '
                    'of this clip stopped (check the network weights)')
        return flows

    def _pose_size(self, flow: Tensor, image_size) -> Tensor:
        """The flow the pose step reads: at the original size, or kept at
        the working size with ``flow_output_size='working'`` (the pose
        optimiser samples it at rescaled points and rescales its values,
        so no full-size copy of a window's flows is made)."""
        if self.flow_output_size == 'working':
            return flow
        return resize_flow(flow, image_size)

    def _backward(self, frames: Tensor, image_size) -> Optional[Tensor]:
        """Averaged backward flow (P, 2, H, W) px (pair p: frame p+1 -> p)
        at the original size, or None when not configured."""
        if not self.backward_flow:
            return None
        # the reversed clip's pairs are the backward pairs in reverse order
        # (each frame still encoded once)
        flows = [f.flip(0) for f in self.predict_flow(frames.flip(0))]
        return self._pose_size(torch.stack(flows).mean(0), image_size)

    def _finetune(self, frames: Tensor, flows: List[Tensor], sketch: Tensor,
                  mask: Tensor) -> None:
        """Fine-tune each network towards its flow with the sketch drawn
        over it, on whole working frames or on the person crop."""
        if self.finetune_passes == 0:
            return
        box = None
        if self.finetune_crop is not None:
            box = person_box(mask, **self.finetune_crop)
            if box is None:
                return  # no confident joint: the sketch adds nothing
        y0, y1, x0, x1 = box or (0, frames.shape[-2], 0, frames.shape[-1])
        crop = frames[..., y0:y1, x0:x1]
        for tuner, own_flow in zip(self.finetuners, flows):
            target = self.sketch_head.compose(own_flow, sketch, mask)
            with torch.enable_grad():
                tuner.finetune(crop[:-1], crop[1:],
                               target[..., y0:y1, x0:x1].contiguous())

    def _guarded_step(self, frames: Tensor, joints: Tensor, scores: Tensor,
                      pair_flows: List) -> Dict:
        """:func:`guarded_flow_step` for each network, on the person crop
        when ``finetune_crop`` is set (outside it the flow is unchanged).

        Args:
            frames (Tensor): (T, 3, h, w) working frames, 0-255.
            joints (Tensor): (T, J, 2) working-size joints, px.
            scores (Tensor): (T, J) confidences.
            pair_flows (list): per network, (forward, backward) working
                flows (P, 2, h, w) or None (computed).

        Returns:
            dict: ``pair_flows`` after the step, ``mask`` (P, 1, h, w) the
            first network's gated sketch, ``accepted`` and ``reasons`` per
            network.
        """
        box = (0, frames.shape[-2], 0, frames.shape[-1])
        if self.finetune_crop is not None:
            body = self.sketch_head.paint(joints[:-1], joints[1:],
                                          tuple(frames.shape[-2:]),
                                          (scores[:-1], scores[1:]))[1]
            box = person_box(body, **self.finetune_crop) or box
        y0, y1, x0, x1 = box
        crop = frames[..., y0:y1, x0:x1]
        shift = joints.new_tensor([x0, y0])
        out = dict(pair_flows=[], accepted=[], reasons=[], mask=None)
        for tuner, flows in zip(self.finetuners, pair_flows):
            if flows is None:
                flows = (tuner.predict(frames[:-1], frames[1:]),
                         tuner.predict(frames[1:], frames[:-1]))
            step = guarded_flow_step(
                tuner, self.sketch_head, crop, joints - shift, scores,
                guard=self.flow_guard,
                flows=tuple(f[..., y0:y1, x0:x1] for f in flows),
                **self.flow_step)
            pasted = []
            for full, part in zip(flows, (step['flow'],
                                          step['backward_flow'])):
                full = full.clone()
                full[..., y0:y1, x0:x1] = part.to(full)
                pasted.append(full)
            out['pair_flows'].append(tuple(pasted))
            out['accepted'].append(bool(step['accepted']))
            out['reasons'].append(step['reason'])
            if out['mask'] is None:
                mask = torch.zeros_like(flows[0][:, :1], dtype=torch.bool)
                mask[..., y0:y1, x0:x1] = step['sketch_mask']
                out['mask'] = mask
        return out

    # ------------------------------------------------------------ the cycles
    def refine_clip(self,
                    frames,
                    keypoints_2d,
                    keypoint_scores,
                    pose3d=None,
                    pose_flow=None,
                    sketch_keypoints=None,
                    camera: Optional[dict] = None) -> Dict:
        """Refine one clip.

        Inputs may be numpy arrays or tensors (on any device; they are
        moved to :attr:`device` once). With a tensor ``frames`` the results
        stay tensors on :attr:`device`; with a numpy ``frames`` they are
        returned as numpy (the only device-to-host copy, at the end).

        Args:
            frames (np.ndarray | Tensor): (T, H, W, 3) uint8 RGB.
            keypoints_2d (np.ndarray | Tensor, optional): (T, J, 2)
                detections in px; None takes those of the first frame
                estimator (e.g. ``MediaPipePoseEstimator`` in
                ``pose_estimators``).
            keypoint_scores (np.ndarray | Tensor, optional): (T, J) scores;
                0 = missing. None with ``keypoints_2d``.
            pose3d (np.ndarray | Tensor, optional): (T, J, 3) initial 3D
                estimate in metres; required when no pose estimator is
                configured (otherwise it is ignored and the estimators run).
            pose_flow (np.ndarray | Tensor, optional): (T-1, H, W, 2) px
                flow the pose step follows instead of the networks'
                (oracle).
            sketch_keypoints (np.ndarray | Tensor, optional): (T, J, 2) px
                joints the sketch is drawn from instead of the refined
                projections (oracle sketch).
            camera (dict, optional): intrinsics for a ``'perspective'`` pose
                optimiser: ``f`` and ``c`` (2,) px, optional ``k`` radial
                and ``p`` tangential distortion (H36M camera fields).
                Ignored by the weak-perspective camera.

        Returns:
            dict: ``keypoints_2d`` (T, J, 2) and ``keypoint_scores`` (T, J)
            (the detections used; missing ones zeroed with score 0),
            ``pose3d_init`` (T, J, 3), ``pose3d`` (T, J, 3) refined
            (root-relative), ``camera`` (T, 3) weak camera,
            ``keypoints_2d_refined`` (T, J, 2) projections, ``flow_init`` /
            ``flow`` (T-1, H, W, 2) px, ``sketch_mask`` (T-1, H, W) bool,
            and ``cycles``: one dict per cycle with ``pose3d``, ``camera``,
            ``flow``, ``sketch_mask`` and the optimiser's ``steps``. Flows
            and masks are at the original (H, W) whatever
            ``flow_max_side``, unless ``flow_output_size='working'``.
        """
        as_numpy = not isinstance(frames, Tensor)
        if as_numpy:
            frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError('frames must be (T, H, W, 3) RGB, got shape '
                             f'{tuple(frames.shape)}')
        num_frames, height, width = frames.shape[:3]
        if num_frames < 2:
            raise ValueError(f'a clip needs >= 2 frames, got {num_frames}')
        device, timer = self.device, self.timer
        detections = []
        if self.frame_estimators:
            with timer('detect'):
                # third-party estimators read host images: an input edge
                detections = self.detect(_to_numpy(frames))
        if keypoints_2d is None:
            if not detections:
                raise ValueError(
                    'the clip has no 2D keypoints and no frame estimator '
                    '(e.g. MediaPipePoseEstimator) is configured')
            keypoints_2d = detections[0]['keypoints_2d']
            keypoint_scores = detections[0]['keypoint_scores']
        kp = _to_tensor(keypoints_2d, device)
        scores = _to_tensor(keypoint_scores, device)
        if kp.shape[:1] != (num_frames, ) or \
                scores.shape != kp.shape[:2]:
            raise ValueError(
                f'keypoints_2d {tuple(kp.shape)} and keypoint_scores '
                f'{tuple(scores.shape)} must be (T, J, 2) and (T, J) with '
                f'T = {num_frames} frames')
        self.skeleton.check_joints(kp.shape[1], 'keypoints_2d')
        # joints the detector missed (NaN; a frame with nobody): score 0 and
        # filled over time before any lifter sees them (never NaN, never a
        # (0, 0) joint lifted as a real position)
        missing = ~torch.isfinite(kp).all(-1)
        scores = torch.where(missing, torch.zeros_like(scores), scores)
        kp = fill_missing_over_time(kp, missing)

        image_size = (height, width)
        work_size = working_size(image_size, self.flow_max_side)
        with timer('lift', device):
            pose_init = self.estimate_pose(kp, scores, image_size, pose3d,
                                           detections)
        with timer('resize', device):
            frames = frames if not as_numpy else torch.from_numpy(
                np.ascontiguousarray(frames))
            frame_tensor = resize_frames(
                frames.to(device).permute(0, 3, 1, 2), work_size)
        for tuner in self.finetuners:
            tuner.restore()  # every clip starts from the pretrained nets
        with timer('flow', device):
            flows = self.predict_flow(frame_tensor)
            flow_work = torch.stack(flows).mean(0)
            backward = self._backward(frame_tensor, image_size)
        with timer('resize', device):
            flow_init = self._pose_size(flow_work, image_size)

        def _pick(original, working):
            """What the results hold: original or working size."""
            return working if self.flow_output_size == 'working' else \
                original

        kp, scores, init = kp[None], scores[None], pose_init[None]
        pair_flows = [None] * len(self.finetuners)  # guarded flow step
        cycles = []
        current, current_work = flow_init, flow_work
        oracle_flow = None if pose_flow is None else _to_tensor(
            pose_flow, device).permute(0, 3, 1, 2)
        result = None
        for cycle in range(self.num_cycles):
            with timer('pose', device):
                # mmengine's test loop runs under no_grad; refinement
                # optimises
                with torch.enable_grad():
                    result = self._optimize_pose(
                        init,
                        kp,
                        scores,
                        current if oracle_flow is None else oracle_flow,
                        image_size,
                        camera,
                        backward=None if oracle_flow is not None else
                        backward,
                        previous=result if self.warm_start else None,
                        anchor_scale=self.anchor_anneal**cycle)
                pose = result['pose']
                projected = self._project(result, camera)  # (T, J, 2)
            camera_values = result['camera'] if isinstance(
                result['camera'],
                Tensor) else result['camera']['translation']
            drawn = projected if sketch_keypoints is None else _to_tensor(
                sketch_keypoints, device, projected.dtype)
            drawn = scale_points(drawn, image_size, work_size)
            flow_step = {}
            if self.flow_step is not None and self.finetune_passes:
                with timer('finetune', device):
                    step = self._guarded_step(frame_tensor, drawn, scores[0],
                                              pair_flows)
                pair_flows, mask = step['pair_flows'], step['mask']
                flow_step = dict(flow_accepted=all(step['accepted']),
                                 flow_step_reasons=step['reasons'])
                flows = [pair[0] for pair in pair_flows]
                current_work = torch.stack(flows).mean(0)
                if self.backward_flow:
                    backward = self._pose_size(
                        torch.stack([pair[1] for pair in pair_flows]).mean(0),
                        image_size)
                current = self._pose_size(current_work, image_size)
            else:
                with timer('sketch', device):
                    sketch, mask = self.sketch_head(
                        drawn[:-1],
                        drawn[1:],
                        work_size,
                        scores=(scores[0, :-1], scores[0, 1:]),
                        base_flow=current_work)
                with timer('finetune', device):
                    self._finetune(frame_tensor, flows, sketch, mask)
            if self.finetune_passes and self.flow_step is None:
                with timer('flow', device):
                    flows = self.predict_flow(frame_tensor)
                    current_work = torch.stack(flows).mean(0)
                    backward = self._backward(frame_tensor, image_size)
                with timer('resize', device):
                    current = self._pose_size(current_work, image_size)
            cycles.append(
                dict(
                    pose3d=pose[0].detach(),
                    camera=camera_values[0].detach(),
                    keypoints_2d_refined=projected.detach(),
                    flow=_pick(current, current_work).permute(0, 2, 3, 1),
                    sketch_mask=_pick(resize_mask(mask, image_size),
                                      mask)[:, 0],
                    steps=list(result['steps']),
                    **flow_step))
        last = cycles[-1] if cycles else dict(
            pose3d=pose_init,
            camera=torch.zeros((num_frames, 3), device=device),
            keypoints_2d_refined=kp[0],
            flow=_pick(flow_init, flow_work).permute(0, 2, 3, 1),
            sketch_mask=torch.zeros((num_frames - 1,
                                     *_pick(image_size, work_size)),
                                    dtype=torch.bool,
                                    device=device))
        output = dict(
            keypoints_2d=kp[0],
            keypoint_scores=scores[0],
            pose3d_init=pose_init,
            pose3d=last['pose3d'],
            camera=last['camera'],
            keypoints_2d_refined=last['keypoints_2d_refined'],
            flow_init=_pick(flow_init, flow_work).permute(0, 2, 3, 1),
            flow=last['flow'],
            sketch_mask=last['sketch_mask'],
            cycles=cycles)
        return _to_numpy(output) if as_numpy else output

    def _perspective_camera(self, camera: Optional[dict]) -> dict:
        if not camera or 'f' not in camera or 'c' not in camera:
            raise ValueError(
                "a 'perspective' pose optimiser needs the clip's camera "
                'intrinsics (camera f and c); use camera="weak" for clips '
                'without calibration')
        device = self.device
        fields = dict(
            focal=_to_tensor(camera['f'], device).reshape(2),
            center=_to_tensor(camera['c'], device).reshape(2))
        if camera.get('k') is not None:
            fields['radial'] = _to_tensor(camera['k'], device).reshape(-1)
        if camera.get('p') is not None:
            fields['tangential'] = _to_tensor(camera['p'],
                                              device).reshape(2)
        return fields

    def _optimize_pose(self,
                       init,
                       keypoints_2d,
                       scores,
                       flow,
                       image_size,
                       camera,
                       backward=None,
                       previous=None,
                       anchor_scale=1.0):
        """One pose step; ``previous`` (the last cycle's result) warm-starts
        the joints and the camera."""
        cam = None
        if self.pose_optimizer.camera == 'perspective':
            cam = self._perspective_camera(camera)
            if previous is not None:
                cam['translation'] = previous['camera']['translation']
        elif previous is not None:
            cam = previous['camera']
        return self.pose_optimizer.optimize(
            init,
            keypoints_2d,
            scores,
            flow=flow[None],
            camera=cam,
            image_size=image_size,
            backward_flow=None if backward is None else backward[None],
            start_pose=None if previous is None else previous['pose'],
            anchor_scale=anchor_scale)

    def _project(self, result: dict, camera: Optional[dict]) -> Tensor:
        """(T, J, 2) px projections of the optimised joints."""
        if self.pose_optimizer.camera == 'weak':
            return project_weak_perspective(result['pose'],
                                            result['camera'])[0]
        fields = self._perspective_camera(camera)
        return project_perspective(result['pose_camera'], fields['focal'],
                                   fields['center'], fields.get('radial'),
                                   fields.get('tangential'))[0]

    # --------------------------------------------------- mmengine interface
    def forward(self, inputs, data_samples=None, mode: str = 'predict'):
        if mode != 'predict':
            raise ValueError(
                'FlowPoseRefiner is a test-time method: only mode="predict" '
                f'is supported, got {mode!r}')
        return self.predict(inputs, data_samples)

    def predict(self, inputs: Sequence[dict],
                data_samples: Sequence[dict]) -> List[dict]:
        """Refine each clip of a batch and attach what metrics read.

        Each output dict holds the clip's ground-truth fields plus
        ``pred_pose3d`` (T, J, 3) (final cycle), ``pred_joint_flow``
        (T-1, J, 2) (final flow sampled at the ground-truth joints of frame
        t) and optionally ``pred_flow`` (T-1, H, W, 2); ``cycles`` repeats
        these for cycle 0 (the initial estimates) to ``num_cycles``.
        """
        if isinstance(inputs, dict):
            inputs, data_samples = [inputs], [data_samples]
        outputs = []
        for clip_inputs, sample in zip(inputs, data_samples):
            if 'frames' not in clip_inputs:
                raise KeyError('FlowPoseRefiner needs inputs["frames"]; '
                               'set load_frames=True in the dataset')
            oracle = dict()
            if self.pose_flow == 'ground_truth':
                oracle['pose_flow'] = self._require(sample, 'gt_flow')
            if self.sketch_source == 'ground_truth':
                oracle['sketch_keypoints'] = self._require(
                    sample, 'gt_keypoints_2d')
            result = self.refine_clip(clip_inputs['frames'],
                                      sample.get('keypoints_2d'),
                                      sample.get('keypoint_scores'),
                                      sample.get('pose3d_init'),
                                      camera=sample.get('camera'), **oracle)
            outputs.append(self._pack(result, sample))
        return outputs

    @staticmethod
    def _require(sample: dict, key: str):
        if sample.get(key) is None:
            raise KeyError(f'the oracle setting needs the clip field {key!r}, '
                           f'which clip {sample.get("clip_id")!r} lacks')
        return sample[key]

    def _cycle_view(self, pose3d, flow, sample) -> dict:
        """Metric fields of one cycle, numpy or tensors like ``flow``."""
        view = dict(pred_pose3d=pose3d)
        if 'gt_keypoints_2d' in sample:
            points = _to_tensor(sample['gt_keypoints_2d'], self.device)[:-1]
            dense = _to_tensor(flow, self.device).permute(0, 3, 1, 2)
            joint_flow = sample_at_points(dense, points)[0]
            view['pred_joint_flow'] = joint_flow if isinstance(
                flow, Tensor) else _to_numpy(joint_flow)
        if self.keep_dense_flow:
            view['pred_flow'] = flow
        return view

    def _pack(self, result: dict, sample: dict) -> dict:
        output = {
            key: value
            for key, value in sample.items() if not key.startswith('pred_')
        }
        views = [
            self._cycle_view(result['pose3d_init'], result['flow_init'],
                             sample)
        ]
        views += [
            self._cycle_view(c['pose3d'], c['flow'], sample)
            for c in result['cycles']
        ]
        output.update(views[-1])
        output['cycles'] = views
        output['refinement'] = result
        return output

    def loss(self, *args, **kwargs):
        raise NotImplementedError('FlowPoseRefiner has no training loss; use '
                                  'tools/test.py')
