"""Accept a fine-tuned flow network only when a self-supervised check says so.

The flow step fine-tunes a network towards a target that nobody can verify
at test time (the pose sketch). :class:`FlowGuard` compares the network
before and after on what can be measured without ground truth: how well the
forward flow warps frame t+1 onto frame t (photometric error) and how well
the forward and backward flows agree (forward-backward residual), on the
person and on the background separately. The caller rolls the weights back
when the guard refuses.
"""
from typing import Dict, Optional, Tuple

from torch import Tensor

from mmflowpose.models.utils.checks import check_shape
from mmflowpose.registry import MODELS
from .flow_checks import backward_warp, fb_inconsistent, local_mean

Flows = Tuple[Tensor, Tensor]
REGIONS = ('person', 'background')


def _mean(value: Tensor, mask: Tensor) -> float:
    count = float(mask.sum())
    return float((value * mask).sum()) / count if count else 0.


@MODELS.register_module()
class FlowGuard:
    """Decide whether a flow step improved the flow.

    The step is accepted when, on the person, the photometric error falls
    by at least ``min_gain`` (relative) and the share of pixels failing the
    forward-backward check (:func:`fb_inconsistent`) rises by at most
    ``fb_tol``, and on the background neither the photometric error rises
    by more than ``bg_tol`` (relative) nor the failing share by more than
    ``fb_tol``. Both states are scored on the same pixels: those whose flow
    lands inside frame t+1 before and after.

    The forward-backward test is relative to the motion (``alpha``): on a
    person whose limb motion the network first missed in both directions,
    a consistent-but-wrong flow has a small absolute residual, and the
    corrected one a larger, motion-proportional one.

    Args:
        min_gain (float): required relative fall of the person's
            photometric error. Defaults to 0.0 (any fall).
        bg_tol (float): allowed relative rise of the background's
            photometric error. Defaults to 0.01.
        fb_tol (float): allowed rise of the share of pixels failing the
            forward-backward check, on either region. Defaults to 0.02.
        window (int): side of the window the per-pixel colour error is
            averaged over before the region means (odd). Defaults to 1.
        fb_alpha (float): relative tolerance of the check. Defaults to
            0.01.
        fb_beta (float): absolute tolerance of the check, px^2. Defaults to
            0.5.
    """

    def __init__(self,
                 min_gain: float = 0.0,
                 bg_tol: float = 0.01,
                 fb_tol: float = 0.02,
                 window: int = 1,
                 fb_alpha: float = 0.01,
                 fb_beta: float = 0.5) -> None:
        if not 0 <= min_gain < 1:
            raise ValueError(f'min_gain must be in [0, 1), got {min_gain}')
        if bg_tol < 0 or fb_tol < 0:
            raise ValueError('bg_tol and fb_tol must be >= 0, got '
                             f'{bg_tol} and {fb_tol}')
        if int(window) < 1 or int(window) % 2 == 0:
            raise ValueError(f'window must be odd and >= 1, got {window}')
        self.min_gain = float(min_gain)
        self.bg_tol = float(bg_tol)
        self.fb_tol = float(fb_tol)
        self.window = int(window)
        self.fb_alpha = float(fb_alpha)
        self.fb_beta = float(fb_beta)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(min_gain={self.min_gain}, '
                f'bg_tol={self.bg_tol}, fb_tol={self.fb_tol}, '
                f'window={self.window})')

    def _errors(self, frame1, frame2, flows: Flows):
        fwd, bwd = flows
        check_shape(fwd, [frame1.shape[0], 2, *frame1.shape[-2:]],
                    'forward flow')
        warped, inside = backward_warp(frame2.to(fwd.dtype), fwd)
        photo = (frame1.to(fwd.dtype) - warped).abs().mean(1, keepdim=True)
        fails = fb_inconsistent(fwd, bwd.to(fwd), self.fb_alpha,
                                self.fb_beta)
        return local_mean(photo, self.window), fails.to(fwd.dtype), inside

    def scores(self,
               frame1: Tensor,
               frame2: Tensor,
               before: Flows,
               after: Flows,
               person: Tensor,
               ignore: Optional[Tensor] = None,
               after_background: Optional[Flows] = None
               ) -> Dict[str, Dict[str, float]]:
        """Region means of both checks before and after.

        Args:
            frame1 (Tensor): (N, 3, H, W) frames at t, 0-255.
            frame2 (Tensor): (N, 3, H, W) frames at t+1, 0-255.
            before (tuple[Tensor, Tensor]): forward (t -> t+1) and backward
                (t+1 -> t) flows (N, 2, H, W) px of the network before.
            after (tuple[Tensor, Tensor]): the same after the step.
            person (Tensor): (N, 1, H, W) bool, the person's pixels (e.g.
                the sketch's capsules before gating).
            ignore (Tensor, optional): (N, 1, H, W) bool pixels left out
                of both regions (e.g. a band around the person whose
                outline is uncertain). Defaults to None.
            after_background (tuple[Tensor, Tensor], optional): flows
                whose background is scored as "after" instead of
                ``after``'s (e.g. the fused flows a step hands on, while
                the person is judged on the raw fine-tuned network).
                Defaults to None.

        Returns:
            dict: ``before`` and ``after``, each with ``photo_person``,
            ``photo_background`` (0-255 colour units), ``fb_person`` and
            ``fb_background`` (share of pixels failing the check).
        """
        check_shape(frame1, ['N', 3, 'H', 'W'], 'frame1')
        check_shape(frame2, list(frame1.shape), 'frame2')
        check_shape(person, [frame1.shape[0], 1, *frame1.shape[-2:]],
                    'person')
        photo0, fb0, in0 = self._errors(frame1, frame2, before)
        photo1, fb1, in1 = self._errors(frame1, frame2, after)
        if after_background is None:
            photo_bg, fb_bg, in_bg = photo1, fb1, in1
        else:
            photo_bg, fb_bg, in_bg = self._errors(frame1, frame2,
                                                  after_background)
        person = person.bool()
        common = in0 & in1 & in_bg
        if ignore is not None:
            check_shape(ignore, list(person.shape), 'ignore')
            common = common & ~ignore.bool()
        regions = dict(person=(common & person).to(photo0.dtype),
                       background=(common & ~person).to(photo0.dtype))
        fields = dict(
            before=dict(person=(photo0, fb0), background=(photo0, fb0)),
            after=dict(person=(photo1, fb1), background=(photo_bg, fb_bg)))
        out = {}
        for name, by_region in fields.items():
            out[name] = {}
            for region, (photo, fb) in by_region.items():
                out[name][f'photo_{region}'] = _mean(photo, regions[region])
                out[name][f'fb_{region}'] = _mean(fb, regions[region])
        return out

    def decide(self, scores: Dict[str, Dict[str, float]]) -> Tuple[bool, str]:
        """(accepted, reason) from :meth:`scores`' output."""
        b, a = scores['before'], scores['after']
        fails = []
        if not a['photo_person'] < b['photo_person'] * (1 - self.min_gain):
            fails.append(f"person photometric {b['photo_person']:.3f} -> "
                         f"{a['photo_person']:.3f} (needs a "
                         f'{self.min_gain:.0%} fall)')
        if a['photo_background'] > b['photo_background'] * (1 + self.bg_tol):
            fails.append('background photometric '
                         f"{b['photo_background']:.3f} -> "
                         f"{a['photo_background']:.3f}")
        for region in REGIONS:
            key = f'fb_{region}'
            if a[key] > b[key] + self.fb_tol:
                fails.append(f'{region} forward-backward failures '
                             f'{b[key]:.1%} -> {a[key]:.1%}')
        if fails:
            return False, 'rolled back: ' + '; '.join(fails)
        return True, ('accepted: person photometric '
                      f"{b['photo_person']:.3f} -> {a['photo_person']:.3f}")

    def __call__(self,
                 frame1: Tensor,
                 frame2: Tensor,
                 before: Flows,
                 after: Flows,
                 person: Tensor,
                 ignore: Optional[Tensor] = None,
                 after_background: Optional[Flows] = None) -> Dict:
        """Scores and decision: dict with ``accepted``, ``reason``,
        ``before`` and ``after`` (see :meth:`scores`)."""
        scores = self.scores(frame1, frame2, before, after, person, ignore,
                             after_background)
        accepted, reason = self.decide(scores)
        return dict(accepted=accepted, reason=reason, **scores)
