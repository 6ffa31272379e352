"""Procedural human motion in H36M-17 that needs no files.

Each joint is placed from its parent plus ``length * unit direction``, so
every H36M bone keeps its length exactly over time. Directions come from
simple periodic joint angles in the body frame (left = +x, up = +y,
forward = +z, yawed by ``heading``). World Y-up, metres, floor at y = 0.
"""
from typing import Dict

import numpy as np

#: Motions :func:`procedural_motion` can make.
KINDS = ('walk', 'jumping_jacks', 'static')

# Bone lengths in metres, near the H36M fixture frames.
_LENGTHS = dict(
    hip=0.12,
    thigh=0.44,
    shin=0.44,
    ankle=0.08,
    spine=0.24,
    chest=0.25,
    neck=0.11,
    head=0.115,
    clavicle=0.17,
    upper_arm=0.28,
    forearm=0.25)


def _unit(down, fwd, side, basis):
    """Direction from weights on (-up, forward, outward side) axes."""
    up, forward, outward = basis
    vec = -down[..., None] * up + fwd[..., None] * forward + \
        side[..., None] * outward
    return vec / np.linalg.norm(vec, axis=-1, keepdims=True)


def _limb_dirs(flex, abduct):
    """(down, forward, outward) weights of a unit vector; angles in rad.

    ``flex`` swings forward in the sagittal plane, ``abduct`` lifts
    sideways; both zero point straight down.
    """
    return (np.cos(abduct) * np.cos(flex), np.cos(abduct) * np.sin(flex),
            np.sin(abduct))


def procedural_motion(kind: str = 'walk',
                      num_frames: int = 32,
                      fps: float = 30.0,
                      seed: int = 0) -> Dict:
    """Make a periodic motion with constant bone lengths.

    Args:
        kind (str): one of :data:`KINDS`. ``'static'`` holds one pose.
            Defaults to ``'walk'``.
        num_frames (int): T. Defaults to 32.
        fps (float): frame rate. Defaults to 30.0.
        seed (int): draws body size (x0.9-1.1), cadence, amplitudes, phase
            and heading; the same seed gives the same motion. Defaults to 0.

    Returns:
        dict: ``joints`` (T, 17, 3) float32 metres (H36M-17, Y-up), ``fps``
        (float), ``source`` (str, ``'procedural:<kind>'``), ``lengths``
        (dict of the bone lengths used, metres).
    """
    if kind not in KINDS:
        raise ValueError(f'kind must be one of {KINDS}, got {kind!r}')
    if int(num_frames) < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}')
    if not fps > 0:
        raise ValueError(f'fps must be positive, got {fps}')
    rng = np.random.default_rng(seed)
    size = rng.uniform(0.9, 1.1)
    lengths = {k: v * size for k, v in _LENGTHS.items()}
    heading = rng.uniform(-np.pi, np.pi)
    phase0 = rng.uniform(0, 2 * np.pi)
    time = np.arange(int(num_frames)) / float(fps)
    zeros = np.zeros_like(time)
    if kind == 'walk':
        cadence = rng.uniform(0.8, 1.1)  # strides per second
        amp = rng.uniform(0.35, 0.5)
        phase = phase0 + 2 * np.pi * cadence * time
        speed = 2 * cadence * 2 * lengths['thigh'] * np.sin(amp) * 0.9
    elif kind == 'jumping_jacks':
        cadence = rng.uniform(0.8, 1.2)
        amp = rng.uniform(0.25, 0.4)
        phase = phase0 + 2 * np.pi * cadence * time
        speed = 0.0
    else:
        phase, amp, speed = phase0 + zeros, 0.3, 0.0
    # Body frame (yawed): left, up, forward.
    left = np.array([np.cos(heading), 0.0, -np.sin(heading)])
    up = np.array([0.0, 1.0, 0.0])
    forward = np.cross(left, up)
    leg_len = lengths['thigh'] + lengths['shin'] + lengths['ankle']
    joints = np.zeros((len(time), 17, 3))
    if kind == 'jumping_jacks':
        spread = 0.5 - 0.5 * np.cos(phase)  # 0 closed .. 1 open
        hop = 0.08 * np.abs(np.sin(phase))
        leg_flex = [zeros, zeros]
        knee = [0.15 * spread, 0.15 * spread]
        leg_abd = [amp * spread, amp * spread]
        arm_flex = [zeros, zeros]
        arm_abd = [0.2 + 2.6 * spread, 0.2 + 2.6 * spread]
        elbow = [0.2 + zeros, 0.2 + zeros]
        root_y = leg_len * np.cos(amp * spread) - 0.02 + hop
        travel = zeros
    else:
        swing = amp * np.sin(phase)
        leg_flex = [swing, -swing]  # left, right
        knee = [
            0.6 * np.clip(np.sin(phase + 2.0), 0, None) + 0.05,
            0.6 * np.clip(np.sin(phase + 2.0 + np.pi), 0, None) + 0.05
        ]
        leg_abd = [0.04 + zeros, 0.04 + zeros]
        arm_flex = [-0.8 * swing, 0.8 * swing]
        arm_abd = [0.12 + zeros, 0.12 + zeros]
        elbow = [0.3 + 0.2 * np.sin(phase), 0.3 - 0.2 * np.sin(phase)]
        root_y = leg_len * np.cos(amp) - 0.02 + 0.02 * np.cos(2 * phase)
        travel = speed * time
    root = travel[:, None] * forward + root_y[:, None] * up
    joints[:, 0] = root
    # Legs: root -> hip -> knee -> ankle (knee flexes backwards).
    for side, (hip_j, knee_j, foot_j), sign in ((0, (4, 5, 6), 1.0),
                                                (1, (1, 2, 3), -1.0)):
        outward = sign * left
        basis = (up, forward, outward)
        hip = root + lengths['hip'] * outward
        thigh = _unit(*_limb_dirs(leg_flex[side], leg_abd[side]), basis)
        knee_p = hip + lengths['thigh'] * thigh
        shin = _unit(*_limb_dirs(leg_flex[side] - knee[side], leg_abd[side]),
                     basis)
        joints[:, hip_j], joints[:, knee_j] = hip, knee_p
        joints[:, foot_j] = knee_p + lengths['shin'] * shin
    # Torso with a small forward lean and bounce-free head nod.
    lean = 0.05 + 0.03 * np.sin(2 * phase)
    trunk = _unit(-np.cos(lean), np.sin(lean), zeros, (up, forward, left))
    joints[:, 7] = root + lengths['spine'] * trunk
    joints[:, 8] = joints[:, 7] + lengths['chest'] * trunk
    joints[:, 9] = joints[:, 8] + lengths['neck'] * trunk
    nod = 0.1 + 0.05 * np.sin(phase)
    head = _unit(-np.cos(nod), np.sin(nod), zeros, (up, forward, left))
    joints[:, 10] = joints[:, 9] + lengths['head'] * head
    # Arms: thorax -> shoulder -> elbow -> wrist (elbow flexes forwards).
    for side, (sh_j, el_j, wr_j), sign in ((0, (11, 12, 13), 1.0),
                                           (1, (14, 15, 16), -1.0)):
        outward = sign * left
        basis = (up, forward, outward)
        shoulder = joints[:, 8] + lengths['clavicle'] * outward
        upper = _unit(*_limb_dirs(arm_flex[side], arm_abd[side]), basis)
        elbow_p = shoulder + lengths['upper_arm'] * upper
        fore = _unit(*_limb_dirs(arm_flex[side] + elbow[side], arm_abd[side]),
                     basis)
        joints[:, sh_j], joints[:, el_j] = shoulder, elbow_p
        joints[:, wr_j] = elbow_p + lengths['forearm'] * fore
    return dict(
        joints=joints.astype(np.float32),
        fps=float(fps),
        source=f'procedural:{kind}',
        lengths=lengths)
