"""Test-time fine-tuning of any mmflow network towards target flows."""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmflowpose.models.utils.checks import check_shape
from mmflowpose.registry import MODELS
from .flow_forward import flow_forward

BN_MODES = ('eval', 'train', 'frozen')


def weighted_smooth_l1(pred: Tensor,
                       target: Tensor,
                       weight: Optional[Tensor] = None,
                       beta: float = 1.0) -> Tensor:
    """Mean smooth-L1 flow error over weighted pixels.

    .. math::
        L = \\frac{\\sum_p w_p \\sum_c \\mathrm{sl1}(f_{pc} - g_{pc})}
                  {\\max(\\sum_p w_p, \\epsilon)}

    Args:
        pred (Tensor): (N, 2, H, W) flow in px.
        target (Tensor): (N, 2, H, W) target flow in px.
        weight (Tensor, optional): (N, 1, H, W) or (N, H, W) pixel weights
            (bool or float). Defaults to None (all ones).
        beta (float): smooth-L1 transition in px. Defaults to 1.0.

    Returns:
        Tensor: scalar loss.
    """
    per_pixel = F.smooth_l1_loss(
        pred, target, reduction='none', beta=beta).sum(1)  # (N, H, W)
    if weight is None:
        return per_pixel.mean()
    weight = weight.to(per_pixel.dtype).reshape(per_pixel.shape)
    return (per_pixel * weight).sum() / weight.sum().clamp(min=1e-6)


@MODELS.register_module()
class FlowFinetuner(nn.Module):
    """Fine-tune an mmflow network on (frame pair, target flow) batches.

    The pretrained weights are snapshotted when the finetuner is built;
    :meth:`finetune` starts from them on every call (so each clip starts
    from the pretrained network) unless ``carry_over=True``, in which case
    weights and Adam state carry on from the previous call. :meth:`restore`
    brings the snapshot back at any time.

    Args:
        net (nn.Module | dict): an mmflow flow estimator, or the arguments of
            :func:`mmflowpose.models.builder.init_model` (``config``,
            ``checkpoint``,
            ``cfg_options``...).
        lr (float): Adam learning rate. Defaults to 1e-5.
        passes (int): passes over the pairs per :meth:`finetune` call.
            Defaults to 3.
        batch_size (int): pairs per step. Defaults to 2.
        beta (float): smooth-L1 transition in px. Defaults to 1.0.
        sequence_gamma (float, optional): if set and the network returns
            one prediction per iteration (RAFT, GMA), the loss is RAFT's
            sequence loss :math:`\\sum_i \\gamma^{n-1-i} L_i`; otherwise only
            the final prediction is used. Defaults to None.
        bn_mode (str): ``'eval'`` keeps batch-norm running stats frozen
            (affine parameters train), ``'train'`` updates them,
            ``'frozen'`` freezes stats and affine parameters. Defaults to
            ``'eval'``.
        frozen (sequence[str]): parameter-name prefixes that are not
            trained (e.g. ``('encoder.', )``). Defaults to ().
        trainable (sequence[str], optional): if set, only parameters whose
            names start with one of these prefixes train (e.g.
            ``('decoder.flow_pred.', )``: RAFT's flow head only); ``frozen``
            still applies. Defaults to None (all).
        distill_weight (float): weight of the distillation term when
            :meth:`finetune` gets a sketch ``mask``: pixels outside it are
            pulled back to the target there (the network's own initial
            flow). Defaults to 1.0.
        distill_beta (float): smooth-L1 transition of the distillation
            term in px; small, so the term is L1 and binds for the small
            drifts that a quadratic term ignores. Defaults to 0.01.
        carry_over (bool): keep weights between :meth:`finetune` calls.
            Defaults to False.
        grad_clip (float, optional): max gradient norm. Defaults to None.
        seed (int): seed of the pair shuffling. Defaults to 0.
    """

    def __init__(self,
                 net: Union[nn.Module, dict],
                 lr: float = 1e-5,
                 passes: int = 3,
                 batch_size: int = 2,
                 beta: float = 1.0,
                 sequence_gamma: Optional[float] = None,
                 bn_mode: str = 'eval',
                 frozen: Sequence[str] = (),
                 carry_over: bool = False,
                 grad_clip: Optional[float] = None,
                 seed: int = 0,
                 trainable: Optional[Sequence[str]] = None,
                 distill_weight: float = 1.0,
                 distill_beta: float = 0.01) -> None:
        super().__init__()
        if not lr > 0:
            raise ValueError(f'lr must be > 0, got {lr}')
        if int(passes) < 1:
            raise ValueError(f'passes must be >= 1, got {passes}')
        if int(batch_size) < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if not beta > 0:
            raise ValueError(f'beta must be > 0, got {beta}')
        if sequence_gamma is not None and not 0 < sequence_gamma <= 1:
            raise ValueError('sequence_gamma must be in (0, 1], got '
                             f'{sequence_gamma}')
        if bn_mode not in BN_MODES:
            raise ValueError(f'bn_mode must be one of {BN_MODES}, got '
                             f'{bn_mode!r}')
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f'grad_clip must be > 0, got {grad_clip}')
        if not distill_weight >= 0:
            raise ValueError('distill_weight must be >= 0, got '
                             f'{distill_weight}')
        if not distill_beta > 0:
            raise ValueError(f'distill_beta must be > 0, got {distill_beta}')
        if trainable is not None and (isinstance(trainable, str)
                                      or not len(trainable)):
            raise ValueError('trainable must be a non-empty sequence of '
                             f'parameter-name prefixes, got {trainable!r}')
        if isinstance(net, dict):
            from ..builder import init_model
            net = init_model(**copy.deepcopy(net))
        if not isinstance(net, nn.Module):
            raise TypeError('net must be an nn.Module or init_model kwargs, '
                            f'got {type(net).__name__}')
        self.net = net
        self.lr = float(lr)
        self.passes = int(passes)
        self.batch_size = int(batch_size)
        self.beta = float(beta)
        self.sequence_gamma = sequence_gamma
        self.bn_mode = bn_mode
        self.frozen = tuple(frozen)
        self.carry_over = bool(carry_over)
        self.grad_clip = grad_clip
        self.seed = int(seed)
        self.trainable = None if trainable is None else tuple(trainable)
        self.distill_weight = float(distill_weight)
        self.distill_beta = float(distill_beta)
        if not self.trainable_parameters():
            raise ValueError(
                f'{type(net).__name__} has no trainable parameters (all '
                'have requires_grad=False or match frozen='
                f'{self.frozen}, trainable={self.trainable}, '
                f'bn_mode={bn_mode!r}); nothing to fine-tune')
        self._optimizer = None
        self._snapshot = None
        self.snapshot()
        self.net.eval()

    # ---------------------------------------------------------------- weights
    def _is_bn(self, module: nn.Module) -> bool:
        return isinstance(module, nn.modules.batchnorm._BatchNorm)

    def trainable_parameters(self) -> List[nn.Parameter]:
        """Parameters :meth:`finetune` updates."""
        skip = set()
        if self.bn_mode == 'frozen':
            for module in self.net.modules():
                if self._is_bn(module):
                    skip.update(id(p) for p in module.parameters(False))
        return [
            p for name, p in self.net.named_parameters()
            if p.requires_grad and id(p) not in skip
            and not name.startswith(self.frozen or ('\0', )) and (
                self.trainable is None or name.startswith(self.trainable))
        ]

    def num_trainable(self) -> int:
        """Number of scalars :meth:`finetune` updates."""
        return sum(p.numel() for p in self.trainable_parameters())

    def snapshot(self) -> None:
        """Remember the current weights (and buffers) as the pretrained."""
        self._snapshot = {
            k: v.detach().clone()
            for k, v in self.net.state_dict().items()
        }
        self._optimizer = None

    def restore(self) -> None:
        """Load the snapshotted weights back and reset the optimiser."""
        self.net.load_state_dict(self._snapshot)
        self._optimizer = None

    reset = restore

    def state(self) -> Dict[str, Tensor]:
        """A copy of the current weights, for :meth:`rollback`."""
        return {
            k: v.detach().clone()
            for k, v in self.net.state_dict().items()
        }

    def rollback(self, state: Dict[str, Tensor]) -> None:
        """Load weights from :meth:`state` and reset the optimiser."""
        self.net.load_state_dict(state)
        self._optimizer = None

    # -------------------------------------------------------------- running
    @torch.no_grad()
    def predict(self, frame1: Tensor, frame2: Tensor,
                batch_size: Optional[int] = None) -> Tensor:
        """Final flow (N, 2, H, W) px of (N, 3, H, W) 0-255 RGB pairs."""
        self.net.eval()
        size = batch_size or self.batch_size
        out = [
            flow_forward(self.net, frame1[i:i + size], frame2[i:i + size])
            for i in range(0, frame1.shape[0], size)
        ]
        return torch.cat(out)

    def _set_train_mode(self) -> None:
        self.net.train()
        if self.bn_mode != 'train':
            for module in self.net.modules():
                if self._is_bn(module):
                    module.eval()

    def _flow_loss(self, flow: Tensor, target: Tensor,
                   weight: Optional[Tensor], mask: Optional[Tensor]) -> Tensor:
        if mask is None:
            return weighted_smooth_l1(flow, target, weight, self.beta)
        # Two terms, each averaged over its own pixels: the sketch is a few
        # percent of the image and would drown in one global mean.
        mask = mask.to(flow.dtype)
        if weight is not None:
            weight = weight.to(flow.dtype).reshape(mask.shape)
        inner = mask if weight is None else mask * weight
        outer = 1 - mask if weight is None else (1 - mask) * weight
        loss = weighted_smooth_l1(flow, target, inner, self.beta)
        if self.distill_weight > 0:
            loss = loss + self.distill_weight * weighted_smooth_l1(
                flow, target, outer, self.distill_beta)
        return loss

    def loss(self, frame1: Tensor, frame2: Tensor, target: Tensor,
             weight: Optional[Tensor] = None,
             mask: Optional[Tensor] = None) -> Tensor:
        """Smooth-L1 (sequence) loss of one batch; keeps the graph.

        Without ``mask`` one term over all (weighted) pixels; with a sketch
        ``mask`` (N, 1, H, W) the mean smooth-L1 (``beta``) on the sketch
        pixels plus ``distill_weight`` times the mean, nearly L1
        (``distill_beta``), on the others.
        """
        flows = flow_forward(self.net, frame1, frame2, return_all=True)
        target = target.to(flows[-1])
        if weight is not None:
            weight = weight.to(flows[-1].device)
        if mask is not None:
            mask = mask.to(flows[-1].device)
        if self.sequence_gamma is None or len(flows) == 1:
            return self._flow_loss(flows[-1], target, weight, mask)
        n = len(flows)
        return sum(self.sequence_gamma**(n - 1 - i) *
                   self._flow_loss(f, target, weight, mask)
                   for i, f in enumerate(flows))

    def finetune(self,
                 frame1: Tensor,
                 frame2: Tensor,
                 target: Tensor,
                 weight: Optional[Tensor] = None,
                 mask: Optional[Tensor] = None) -> Dict[str, list]:
        """Fine-tune on P pairs towards their target flows.

        Args:
            frame1 (Tensor): (P, 3, H, W) RGB frames at t, 0-255.
            frame2 (Tensor): (P, 3, H, W) RGB frames at t+1, 0-255.
            target (Tensor): (P, 2, H, W) target flow in px.
            weight (Tensor, optional): (P, 1, H, W) or (P, H, W) pixel
                weights (e.g. a validity mask). Defaults to None.
            mask (Tensor, optional): (P, 1, H, W) bool sketch pixels; the
                others are distilled towards the target (see :meth:`loss`).
                Defaults to None.

        Returns:
            dict: ``losses`` (list[float], mean loss of each pass, measured
            during the pass) and ``steps`` (int).
        """
        check_shape(frame1, ['P', 3, 'H', 'W'], 'frame1')
        check_shape(frame2, list(frame1.shape), 'frame2')
        num, _, height, width = frame1.shape
        check_shape(target, ['P', 2, 'H', 'W'], 'target')
        if tuple(target.shape) != (num, 2, height, width):
            raise ValueError(f'target must be {(num, 2, height, width)} to '
                             f'match the frames, got {tuple(target.shape)}')
        if weight is not None:
            if weight.dim() == 3:
                weight = weight[:, None]
            check_shape(weight, [num, 1, height, width], 'weight')
        if mask is not None:
            if mask.dim() == 3:
                mask = mask[:, None]
            check_shape(mask, [num, 1, height, width], 'mask')
        if not self.carry_over:
            self.restore()
        params = self.trainable_parameters()
        if self._optimizer is None:
            self._optimizer = torch.optim.Adam(params, lr=self.lr)
        gen = torch.Generator().manual_seed(self.seed)
        losses, steps = [], 0
        self._set_train_mode()
        try:
            for _ in range(self.passes):
                order = torch.randperm(num, generator=gen)
                total = 0.
                for start in range(0, num, self.batch_size):
                    idx = order[start:start + self.batch_size]
                    loss = self.loss(frame1[idx], frame2[idx], target[idx],
                                     None if weight is None else weight[idx],
                                     None if mask is None else mask[idx])
                    self.net.zero_grad(set_to_none=True)
                    loss.backward()
                    if self.grad_clip is not None:
                        nn.utils.clip_grad_norm_(params, self.grad_clip)
                    self._optimizer.step()
                    total += float(loss.detach()) * len(idx)
                    steps += 1
                losses.append(total / num)
        finally:
            self.net.eval()
        return dict(losses=losses, steps=steps)
