import pytest
import torch

from mmflowpose.models.flow_tuning import FlowGuard
from mmflowpose.registry import MODELS


def scores(**after):
    before = dict(photo_person=10., photo_background=1., fb_person=0.1,
                  fb_background=0.02)
    return dict(before=before, after=dict(before, **after))


def test_decide_hand_computed():
    guard = FlowGuard(min_gain=0.1, bg_tol=0.01, fb_tol=0.05)
    ok, reason = guard.decide(scores(photo_person=8.9))
    assert ok and reason.startswith('accepted')
    # 9.5 is a fall of 5% < the 10% asked for.
    ok, reason = guard.decide(scores(photo_person=9.5))
    assert not ok and 'person photometric' in reason
    # Background photometric 1.0 -> 1.02 is a 2% rise > 1%.
    ok, reason = guard.decide(scores(photo_person=5., photo_background=1.02))
    assert not ok and 'background photometric' in reason
    # Forward-backward failures 10% -> 16% on the person: +6 points.
    ok, reason = guard.decide(scores(photo_person=5., fb_person=0.16))
    assert not ok and 'person forward-backward' in reason
    ok, _ = guard.decide(scores(photo_person=5., fb_person=0.14))
    assert ok


def test_scores_on_a_shifted_texture():
    gen = torch.Generator().manual_seed(0)
    frame1 = torch.rand(1, 3, 16, 20, generator=gen) * 255
    frame2 = torch.roll(frame1, 2, dims=3)
    person = torch.zeros(1, 1, 16, 20, dtype=torch.bool)
    person[..., 4:12, 4:12] = True
    zero = torch.zeros(1, 2, 16, 20)
    true = zero.clone()
    true[:, 0] = 2.
    guard = FlowGuard()
    # The whole frame moves 2 px; before: zero flow, after: the truth.
    after, after_bwd = true, -true
    out = guard(frame1, frame2, (zero, zero), (after, after_bwd), person)
    assert out['accepted'], out['reason']
    assert out['after']['photo_person'] < 1e-3
    assert out['before']['photo_person'] > 20
    assert out['after']['photo_background'] < 1e-3
    assert out['after']['fb_person'] == 0. == out['after']['fb_background']
    # Swapped: the step would make the person worse -> refused.
    back = guard(frame1, frame2, (after, after_bwd), (zero, zero), person)
    assert not back['accepted'] and back['reason'].startswith('rolled back')
    # Ignored pixels count in neither region.
    ignore = ~person
    only = guard.scores(frame1, frame2, (zero, zero), (after, after_bwd),
                        person, ignore=ignore)
    assert only['before']['photo_background'] == 0.


@pytest.mark.parametrize('kwargs', [
    dict(min_gain=1.), dict(bg_tol=-1), dict(fb_tol=-0.1), dict(window=2)
])
def test_bad_hyper_parameters(kwargs):
    with pytest.raises(ValueError):
        FlowGuard(**kwargs)


def test_build_from_registry():
    guard = MODELS.build(dict(type='FlowGuard', min_gain=0.05))
    assert isinstance(guard, FlowGuard) and 'min_gain=0.05' in repr(guard)
