"""Test-time fine-tuning of any mmflow network towards target flows."""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from mmflowpose.models.utils.checks import check_shape
from mmflowpose.registry import MODELS, OPTIM_WRAPPERS, OPTIMIZERS
from .finetune_loss import build_flow_loss, sketch_loss
from .flow_forward import flow_forward
from .pixel_budget import fit_pairs, fit_size, loss_totals, pairs_per_pass

BN_MODES = ('eval', 'train', 'frozen')


@MODELS.register_module()
class FlowFinetuner(nn.Module):
    """Fine-tune an mmflow network on (frame pair, target flow) batches.

    The pretrained weights are snapshotted when the finetuner is built;
    :meth:`finetune` starts from them on every call (so each clip starts
    from the pretrained network) unless ``carry_over=True``, in which case
    weights and optimiser state carry on from the previous call.
    :meth:`restore` brings the snapshot back at any time.

    Args:
        net (nn.Module | dict): an mmflow flow estimator, or the arguments of
            :func:`mmflowpose.models.builder.init_model` (``config``,
            ``checkpoint``,
            ``cfg_options``...).
        lr (float, optional): learning rate; sets
            ``optim_wrapper.optimizer.lr`` (the shorthand the refiner
            configs use). Defaults to None (the optimiser's own: 1e-5 for
            the default Adam).
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
        grad_clip (float, optional): max gradient norm; sets the
            wrapper's ``clip_grad``. Defaults to None.
        seed (int): seed of the pair shuffling (a generator on the frames'
            device). Defaults to 0.
        max_pixels (int, optional): pixel budget of one forward/backward
            pass (pairs x H x W): a step's ``batch_size`` pairs run in
            passes of at most this many pixels with their gradients
            summed (the same step), and pairs larger than the budget are
            resized to fit (see ``pixel_budget.py``), so fine-tuning
            memory does not follow the crop size. Defaults to None (one
            pass per step, no resizing).
        loss (dict, optional): a loss from mmflow's MODELS registry
            instead, e.g. ``dict(type='SequenceLoss', gamma=0.8)`` (L1 over
            all RAFT iterations, mean over all pixels), called with every
            prediction, the target and ``weight`` as its ``valid`` mask (a
            sketch ``mask`` adds no second term: off the sketch the target
            is the network's own flow; ``beta``, ``distill_*`` and
            ``sequence_gamma`` do not apply). Defaults to None: the
            smooth-L1, closer to the sketch in the same steps
            (``docs/en/data_flow.md``).
        optim_wrapper (dict, optional): mmengine ``OptimWrapper`` config
            with its ``optimizer`` (built from the OPTIMIZERS registry over
            :meth:`trainable_parameters`). Defaults to None
            (``dict(type='OptimWrapper', optimizer=dict(type='Adam',
            lr=1e-5))``).
    """

    def __init__(self,
                 net: Union[nn.Module, dict],
                 lr: Optional[float] = None,
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
                 distill_beta: float = 0.01,
                 max_pixels: Optional[int] = None,
                 loss: Optional[dict] = None,
                 optim_wrapper: Optional[dict] = None) -> None:
        super().__init__()
        optim_wrapper = copy.deepcopy(optim_wrapper or dict(
            type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-5)))
        if 'optimizer' not in optim_wrapper:
            raise ValueError('optim_wrapper needs an `optimizer` config, '
                             f'got keys {sorted(optim_wrapper)}')
        optim_wrapper.setdefault('type', 'OptimWrapper')
        if lr is not None:
            optim_wrapper['optimizer']['lr'] = lr
        lr = optim_wrapper['optimizer'].get('lr')
        if lr is None or not lr > 0:
            raise ValueError(f'lr must be > 0, got {lr}')
        if max_pixels is not None and int(max_pixels) < 4096:
            # RAFT's correlation pyramid needs about 64 x 64 px
            raise ValueError('max_pixels must be None or >= 4096 (a 64 x 64 '
                             f'pair), got {max_pixels}')
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
        if loss is not None and sequence_gamma is not None:
            raise ValueError('set sequence_gamma or loss, not both (give '
                             'the config loss its own gamma)')
        self.loss_fn = None if loss is None else build_flow_loss(loss)
        if isinstance(net, dict):
            from ..builder import init_model
            net = init_model(**copy.deepcopy(net))
        if not isinstance(net, nn.Module):
            raise TypeError('net must be an nn.Module or init_model kwargs, '
                            f'got {type(net).__name__}')
        self.net = net
        self.lr = float(lr)
        if grad_clip is not None:
            optim_wrapper['clip_grad'] = dict(max_norm=float(grad_clip))
        self.optim_wrapper_cfg = optim_wrapper
        self.max_pixels = None if max_pixels is None else int(max_pixels)
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
        self._optim_wrapper = None
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
        self._optim_wrapper = None

    def restore(self) -> None:
        """Load the snapshotted weights back and reset the optimiser."""
        self.net.load_state_dict(self._snapshot)
        self._optim_wrapper = None

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
        self._optim_wrapper = None

    # -------------------------------------------------------------- running
    def forward_chunk(self, height: int, width: int) -> int:
        """Pairs per inference forward of ``height`` x ``width`` frames:
        ``batch_size``, fewer when ``max_pixels`` allows fewer (a window's
        flow then runs in chunks whose size does not follow its length)."""
        per_pass = pairs_per_pass(height, width, self.max_pixels)
        return self.batch_size if per_pass is None else min(
            self.batch_size, per_pass)

    @torch.no_grad()
    def predict(self, frame1: Tensor, frame2: Tensor,
                batch_size: Optional[int] = None) -> Tensor:
        """Final flow (N, 2, H, W) px of (N, 3, H, W) 0-255 RGB pairs, in
        chunks of ``batch_size`` pairs (default :meth:`forward_chunk`)."""
        self.net.eval()
        size = batch_size or self.forward_chunk(*frame1.shape[-2:])
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

    def _build_optim_wrapper(self):
        """mmengine OptimWrapper over the trainable parameters."""
        cfg = copy.deepcopy(self.optim_wrapper_cfg)
        optimizer = OPTIMIZERS.build(
            dict(cfg.pop('optimizer'), params=self.trainable_parameters()))
        return OPTIM_WRAPPERS.build(dict(cfg, optimizer=optimizer))

    def loss(self, frame1: Tensor, frame2: Tensor, target: Tensor,
             weight: Optional[Tensor] = None,
             mask: Optional[Tensor] = None,
             totals: Optional[tuple] = None) -> Tensor:
        """The loss of one batch; keeps the graph.

        :func:`sketch_loss` (of each RAFT iteration with
        ``sequence_gamma``), or the config ``loss`` of all predictions.
        ``totals`` (from :func:`loss_totals`) are the smooth-L1 terms'
        denominators when the batch is one pass of a larger step.
        """
        flows = flow_forward(self.net, frame1, frame2, return_all=True)
        target = target.to(flows[-1])
        if weight is not None:
            weight = weight.to(flows[-1].device)
        if self.loss_fn is not None:
            valid = None if weight is None else weight.reshape(
                target[:, 0].shape)
            return self.loss_fn(flows, target, valid)
        if mask is not None:
            mask = mask.to(flows[-1].device)
        terms = [
            sketch_loss(f, target, weight, mask, self.beta,
                        self.distill_weight, self.distill_beta, totals)
            for f in (flows if self.sequence_gamma else flows[-1:])
        ]
        gamma = self.sequence_gamma or 1.
        return sum(gamma**(len(terms) - 1 - i) * term
                   for i, term in enumerate(terms))

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
            during the pass), ``steps`` (int), ``pair_size`` ((h, w) the
            pairs were trained at: (H, W) unless ``max_pixels`` resized
            them) and ``pairs_per_pass`` (int).
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
        if self._optim_wrapper is None:
            self._optim_wrapper = self._build_optim_wrapper()
        # everything on the network's device, the shuffling included
        device = next(self.net.parameters()).device
        size = fit_size(height, width, self.max_pixels)
        frame1, frame2, target, weight, mask = (
            None if x is None else x.to(device)
            for x in (frame1, frame2, target, weight, mask))
        per_pass = pairs_per_pass(*size, self.max_pixels) or self.batch_size
        gen = torch.Generator(device).manual_seed(self.seed)
        losses, steps = [], 0
        self._set_train_mode()
        try:
            for _ in range(self.passes):
                order = torch.randperm(num, generator=gen, device=device)
                total = torch.zeros((), device=device)
                for start in range(0, num, self.batch_size):
                    idx = order[start:start + self.batch_size]
                    # resized per step (each pair on its own: the same
                    # numbers as resizing all), so a window's length does
                    # not add resized copies of all its pairs
                    total = total + self._step(*fit_pairs(
                        size, frame1[idx], frame2[idx], target[idx],
                        None if weight is None else weight[idx],
                        None if mask is None else mask[idx]),
                        per_pass) * len(idx)
                    steps += 1
                losses.append(float(total) / num)  # one read per pass
        finally:
            self.net.zero_grad(set_to_none=True)
            self.net.eval()
        return dict(losses=losses, steps=steps, pair_size=size,
                    pairs_per_pass=min(per_pass, self.batch_size))

    def _step(self, frame1: Tensor, frame2: Tensor, target: Tensor,
              weight: Optional[Tensor], mask: Optional[Tensor],
              per_pass: int) -> Tensor:
        """One optimiser step on a batch, in passes of ``per_pass`` pairs;
        returns the batch's loss (detached)."""
        self.net.zero_grad(set_to_none=True)
        totals = None
        if per_pass < len(frame1) and self.loss_fn is None:
            # each pass divides by the whole batch's normalisers, so the
            # summed gradients are those of the whole batch
            totals = loss_totals(target[:, 0].numel(), weight, mask)
        loss = target.new_zeros(())
        for part in torch.arange(len(frame1), device=target.device).split(
                per_pass):
            part_loss = self.loss(frame1[part], frame2[part], target[part],
                                  None if weight is None else weight[part],
                                  None if mask is None else mask[part],
                                  totals)
            if self.loss_fn is not None:
                # a config loss is a mean over its pass: weigh the passes
                part_loss = part_loss * (len(part) / len(frame1))
            self._optim_wrapper.backward(part_loss)
            loss = loss + part_loss.detach()
        self._optim_wrapper.step()
        return loss
