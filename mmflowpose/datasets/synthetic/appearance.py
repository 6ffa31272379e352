"""Clothes, skin and a face for the rendered capsule body.

A person detector trained on real people (BlazePose) keys on the face and
tells front from back by it; a mannequin textured with random waves alone
has neither cue, so the detector swaps left and right in back views. This
module colours a body surface point from its bone-local coordinates ``q``
(see :mod:`.render`), so a point keeps its colour over time and the
renderer's flow stays exact:

- skin on the head, the neck and the forearms (short sleeves, bare hands),
  a shirt on the torso, shoulders and upper arms, trousers on the hips and
  legs, shoes on the last centimetres of the shins;
- a face on the front of the head (eyes, eyebrows, nose, mouth, ears) and
  hair on its back and top, the front being the body's forward direction
  (cross of the hip axis and the spine) expressed in the head bone's rest
  frame; a round print on the front of the shirt (the back is plain);
- the random-wave texture on top (full contrast on clothes, lower on
  skin), so the flow networks still see texture everywhere.

Measured on the benchmark's validation renders (the project's BlazePose
estimator in video mode, 7 clips of 48 frames at 384x512, faceless ->
this module): frames with a person 87% -> 97%, frames with left and right
swapped 65% -> 18%, mean 2D error 35 -> 18 px (91 px before with one
clip's tracking lost). The face alone gave 32% swaps; the chest print
took them to 18%.

Colours of a clip's skin, shirt and trousers are drawn from small palettes
by the texture seed (deterministic).
"""
from typing import Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

# Palettes (RGB 0-255): drawn per clip by the seed.
SKIN = ((232, 190, 160), (205, 150, 115), (165, 115, 85), (125, 85, 60))
SHIRT = ((45, 80, 160), (170, 40, 45), (40, 120, 70), (210, 200, 190),
         (90, 60, 120), (220, 150, 40))
TROUSERS = ((40, 50, 80), (60, 60, 60), (120, 100, 70), (25, 25, 30))
HAIR = ((35, 25, 20), (60, 40, 25), (15, 15, 15))
SHOES = (30, 30, 35)
EYES = (25, 20, 20)
MOUTH = (150, 55, 60)
# Chest print: (half-width in radians around the chest, centre and
# half-height as shares of the spine -> thorax bone); light on dark shirts,
# dark on light ones.
PRINT = (0.6, 0.55, 0.3)
PRINT_LIGHT = (235, 235, 225)
PRINT_DARK = (30, 30, 60)
# Nose and ears: the skin colour darkened by this factor.
SHADE = 0.75

# Body regions by child joint (H36M-17 names, side removed).
_REGIONS = dict(
    hip='trousers',
    knee='trousers',
    foot='trousers',
    spine='shirt',
    thorax='shirt',
    shoulder='shirt',
    elbow='shirt',
    wrist='skin',
    neck_base='skin',
    head='head')
# Wave-texture contrast per region: full on clothes (as the faceless
# renderer had everywhere: 0.6-0.7 there raised the shipped RAFT-S's
# person EPE on a validation clip 0.69 -> 0.79 px; full: 0.71), weak on
# skin so the face stays readable.
_WAVE_GAIN = dict(shirt=1.0, trousers=1.0, skin=0.5, head=0.3)
# Shoes: the shin's end cap and its last SHOE_LENGTH metres.
SHOE_LENGTH = 0.06
# Face features as (azimuth, elevation, half-width, half-height) in
# radians on the head, seen from its centre; azimuth 0 = forward,
# positive towards the body's left.
_FACE = dict(
    eyes=((0.4, 0.2, 0.2, 0.15), (-0.4, 0.2, 0.2, 0.15)),
    brows=((0.4, 0.46, 0.24, 0.07), (-0.4, 0.46, 0.24, 0.07)),
    nose=((0.0, -0.02, 0.1, 0.16), ),
    mouth=((0.0, -0.3, 0.34, 0.1), ),
    ears=((1.5, 0.05, 0.22, 0.3), (-1.5, 0.05, 0.22, 0.3)))
# The head's centre on its bone (neck_base -> top of the head), as a share
# of the bone length: the shirt's collar hides the head's lower end.
HEAD_CENTRE = 0.8


def rest_frames(joint_names: Sequence[str],
                bones: Sequence[Tuple[int, int]]) -> np.ndarray:
    """(E, 3, 3) rest frame of each bone in the body frame (columns e1, e2,
    rest direction); see :func:`.render.bone_frames`."""
    rows = []
    for p, c in bones:
        name = joint_names[c]
        side = 1.0 if name.startswith('left') else -1.0
        if name.endswith(('hip', 'shoulder', 'elbow', 'wrist')):
            rest = np.array([side, 0, 0])  # hips, clavicles, T-pose arms
        elif name.endswith(('knee', 'foot')):
            rest = np.array([0, -1.0, 0])
        else:
            rest = np.array([0, 1.0, 0])  # spine, neck, head
        # e1: a body axis orthogonal to the rest direction.
        e1 = np.array([1.0, 0, 0]) if abs(rest[1]) > 0.5 else \
            np.array([0, 0, 1.0])
        rows.append(np.stack([e1, np.cross(rest, e1), rest], -1))
    return np.asarray(rows, np.float64)


def _smoothstep(x: Tensor) -> Tensor:
    """0 below 0, 1 above 1, a smooth ramp between (edges less aliased
    than hard ones under point sampling)."""
    x = x.clamp(0, 1)
    return x * x * (3 - 2 * x)


def _smooth_inside(dist: Tensor, soft: float = 0.25) -> Tensor:
    """1 inside the unit ellipse (``dist`` < 1 - soft), 0 outside
    (> 1 + soft)."""
    return _smoothstep((1 + soft - dist) / (2 * soft))


class BodyAppearance:
    """Colour of body surface points from their bone-local coordinates.

    Args:
        joint_names (sequence[str]): the 17 H36M names.
        bones (sequence[tuple[int, int]]): E (parent, child) pairs.
        ref_len (Tensor): (E,) reference bone lengths (metres) of the clip.
        waves (callable): ``waves(points, group) -> (N, 3)`` zero-mean
            texture (``SolidTexture.waves``).
        seed (int): draws the palette colours.
    """

    def __init__(self, joint_names: Sequence[str],
                 bones: Sequence[Tuple[int, int]], ref_len: Tensor, waves,
                 seed: int):
        rng = np.random.default_rng(seed + 104729)
        colours = dict(
            skin=SKIN[rng.integers(len(SKIN))],
            shirt=SHIRT[rng.integers(len(SHIRT))],
            trousers=TROUSERS[rng.integers(len(TROUSERS))])
        hair = HAIR[rng.integers(len(HAIR))]
        region, names = [], []
        for _, c in bones:
            key = joint_names[c].replace('left_', '').replace('right_', '')
            if key not in _REGIONS:
                raise ValueError(f'no body region for joint {joint_names[c]}')
            region.append(_REGIONS[key])
            names.append(key)
        base = [colours['skin' if r == 'head' else r] for r in region]
        rest = torch.as_tensor(rest_frames(joint_names, bones),
                               dtype=ref_len.dtype, device=ref_len.device)
        self.base = ref_len.new_tensor(base)
        self.gain = ref_len.new_tensor([_WAVE_GAIN[r] for r in region])
        # (E, 3, 3) body <- bone-local rotation of each bone at rest.
        self.rest = rest
        self.is_shin = torch.tensor([n == 'foot' for n in names],
                                    device=ref_len.device)
        self.head = [i for i, r in enumerate(region) if r == 'head']
        self.chest = [i for i, n in enumerate(names) if n == 'thorax']
        # A print on the shirt's front that contrasts with the shirt.
        self.print_rgb = ref_len.new_tensor(
            PRINT_DARK if sum(colours['shirt']) > 500 else PRINT_LIGHT)
        self.ref_len = ref_len
        self.hair = ref_len.new_tensor(hair)
        self.eyes = ref_len.new_tensor(EYES)
        self.shoes = ref_len.new_tensor(SHOES)
        self.mouth = ref_len.new_tensor(MOUTH)
        self.waves = waves

    def __call__(self, q: Tensor, group: Tensor) -> Tensor:
        """Colours (N, 3) in [0, 255] of bone-local points ``q`` (N, 3) (the
        axial coordinate at the reference length) on bones ``group`` (N,).
        """
        colour = self.base[group]
        # Shoes: a 2 cm ramp instead of a hard edge (less aliasing).
        shoe = self.is_shin[group] * _smoothstep(
            (q[:, 2] - self.ref_len[group] + SHOE_LENGTH) / 0.02)
        colour = torch.lerp(colour, self.shoes.expand_as(colour),
                            shoe[:, None])
        for e in self.head:
            on = group == e
            if bool(on.any()):
                colour[on] = self._head(q[on], e, colour[on])
        for e in self.chest:
            on = group == e
            if bool(on.any()):
                colour[on] = self._chest(q[on], e, colour[on])
        colour = colour + self.gain[group, None] * self.waves(q, group)
        return colour.clamp(0, 255)

    def _chest(self, q: Tensor, e: int, shirt: Tensor) -> Tensor:
        """A round print on the front of the chest (bone ``e``, spine ->
        thorax): the back of the shirt stays plain."""
        radial = torch.cat([q[:, :2], torch.zeros_like(q[:, 2:])], -1)
        body = radial @ self.rest[e].T  # (left, up, forward)
        azimuth = torch.atan2(body[:, 0], body[:, 2])
        w = q[:, 2] / float(self.ref_len[e]) - PRINT[1]
        dist = torch.sqrt((azimuth / PRINT[0]).square() +
                          (w / PRINT[2]).square())
        mask = _smooth_inside(dist, 0.15)[:, None]
        return torch.lerp(shirt, self.print_rgb.expand_as(shirt), mask)

    def _head(self, q: Tensor, e: int, skin: Tensor) -> Tensor:
        """Face, hair and skin of points ``q`` (N, 3) on head bone ``e``."""
        centre = q.new_tensor([0, 0, HEAD_CENTRE * float(self.ref_len[e])])
        u = q - centre
        u = u / u.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        # Direction in body axes: left, up, forward.
        left, up, fwd = (u @ self.rest[e].T).unbind(-1)
        azimuth = torch.atan2(left, fwd)
        elevation = torch.asin(up.clamp(-1, 1))
        colour = skin
        # Hair: the back of the head and its top (the face is bare skin).
        hair = _smoothstep(
            torch.maximum((-0.05 - fwd) / 0.2, (up - 0.7) / 0.1))
        colour = torch.lerp(colour, self.hair.expand_as(colour),
                            hair[:, None])
        shade = skin * SHADE
        for kind, rgb in (('eyes', self.eyes), ('brows', self.hair),
                          ('nose', shade), ('mouth', self.mouth),
                          ('ears', shade)):
            for az, el, half_w, half_h in _FACE[kind]:
                dist = torch.sqrt(((azimuth - az) / half_w).square() +
                                  ((elevation - el) / half_h).square())
                mask = _smooth_inside(dist)[:, None]
                if kind != 'ears':
                    mask = mask * (fwd > 0)[:, None]
                colour = torch.lerp(colour, rgb.expand_as(colour), mask)
        return colour
