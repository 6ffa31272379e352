"""Benchmark clips from a folder of motion capture: the test/validation
split of the motions, evenly spaced clip starts, rendered clips, the same
clips unrendered (poses and detections only) and clips shrunk for the flow
step.

Test and validation clips are sampled by one rule (:func:`clip_starts`,
the seed of a clip cycling the camera over :data:`VIEWPOINTS`), so the
smoothers and noise levels tuned on validation clips meet test clips of
the same kind.
"""
import glob
import os.path as osp
import re
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

#: frame rate of every benchmark clip (mocap is subsampled to it)
FPS = 30.0
# motions that need no files, used when the training configs are unreadable
PROCEDURAL = ['procedural:walk', 'procedural:jumping_jacks']


def mocap_files(root: str) -> List[str]:
    """Paths, relative to ``root``, of the mocap clips (``.amc``/``.bvh``)
    anywhere below it, sorted."""
    files = glob.glob(osp.join(root, '**', '*.amc'), recursive=True)
    files += glob.glob(osp.join(root, '**', '*.bvh'), recursive=True)
    return sorted(osp.relpath(f, root) for f in files)


def training_motions(configs: Sequence[str]) -> set:
    """Mocap files a training config trains on: quoted ``.amc``/``.bvh``
    names in its text, its ``train_clips`` and its flow cache's train split,
    less its validation clips."""
    from mmengine import Config
    train = set()
    for path in configs:
        with open(path) as file:
            text = file.read()
        train.update(re.findall(r"'([\w./-]+\.(?:amc|bvh))'", text))
        cfg = Config.fromfile(path)
        train.update(c for c in cfg.get('train_clips', []))
        cache = cfg.get('flow_cache', {})
        train.update(cache.get('splits', {}).get('train', []))
        held = set(cfg.get('val_clips', [])) | set(
            cache.get('splits', {}).get('val', []))
        train -= held
    return train


def split_motions(root: str,
                  configs: Sequence[str]) -> Tuple[list, list, str]:
    """(held-out test motions, training motions, source of the split).

    Held out = mocap files under ``root`` that no training config in
    ``configs`` uses (:func:`training_motions`); if those cannot be read,
    every motion is a test motion and validation uses procedural motions
    (the source string says why).
    """
    files = mocap_files(root)
    try:
        train = training_motions(configs)
    except Exception as err:  # noqa: BLE001 - fall back, said in the source
        return (files + PROCEDURAL, list(PROCEDURAL),
                f'all motions (training configs unreadable: {err})')
    test = [f for f in files if f not in train]
    val = [f for f in files if f in train]
    return test, val, 'held out by configs/training/*.py'


def motion_step(motion: str, fps: float = FPS) -> int:
    """Every n-th mocap frame that brings ``motion`` to ``fps``."""
    if motion.startswith('procedural'):
        return 1
    from .mocap import load_mocap
    return max(1, int(round(load_mocap(motion)['fps'] / fps)))


def clip_starts(total: int, need: int, per_motion: int) -> np.ndarray:
    """``per_motion`` evenly spaced first frames of clips ``need`` mocap
    frames long in a motion of ``total`` frames (first and last possible
    start included)."""
    return np.linspace(0, total - need, per_motion).astype(int)


def person_height(human_mask) -> float:
    """Mean height (px) of the person over the frames it is seen in: per
    frame, the image rows from the person mask's top to its bottom,
    inclusive.

    Args:
        human_mask (array): (T, H, W) bool person mask.

    Returns:
        float: mean over the frames with any person pixel; NaN if none.
    """
    mask = np.asarray(human_mask, bool)
    if mask.ndim != 3:
        raise ValueError('human_mask must be (T, H, W), got shape '
                         f'{mask.shape}')
    rows = mask.any(2)  # (T, H): image rows the person covers
    seen = rows.any(1)
    if not seen.any():
        return float('nan')
    ids = np.arange(mask.shape[1])[None]
    bottom = np.where(rows, ids, -1).max(1)
    top = np.where(rows, ids, mask.shape[1]).min(1)
    return float(np.mean((bottom - top + 1)[seen]))


def _clip_plan(root, motions, per_motion, settings, seed, max_motions):
    """(motion, path, step, start, clip seed, mocap joints) of every clip:
    the one sampling rule of rendered and unrendered clips. Motions
    shorter than a clip are skipped."""
    from .mocap import load_mocap
    for m_id, motion in enumerate(motions[:max_motions]):
        path = osp.join(root, motion)
        step = motion_step(path)
        need = settings['num_frames'] * step
        joints = load_mocap(path)['joints']
        if len(joints) < need:
            continue
        for c_id, start in enumerate(
                clip_starts(len(joints), need, per_motion)):
            yield motion, path, step, int(start), seed + 4 * m_id + c_id, \
                joints


def _noise(settings) -> dict:
    # the detector's white noise is a share of the image height, so it is
    # equally good at any resolution
    return dict(det_std=settings['det_std_rel'] * settings['image_size'][0])


def iter_clips(root: str,
               motions: Sequence[str],
               per_motion: int,
               settings: dict,
               seed: int,
               max_motions: Optional[int] = None) -> Iterator[dict]:
    """Rendered clips of each motion at evenly spaced starts, one at a
    time (a clip at 384x512 holds ~100 MB of frames and flows).

    Args:
        root (str): folder the motion paths are relative to.
        motions (Sequence[str]): mocap files relative to ``root``.
        per_motion (int): clips per motion (:func:`clip_starts`).
        settings (dict): ``num_frames``, ``image_size`` (H, W) and
            ``det_std_rel`` (detector noise std / image height).
        seed (int): base seed; clip c of motion m uses ``seed + 4m + c``
            (the seed also picks the clip's viewpoint).
        max_motions (int, optional): use only the first motions.

    Yields:
        dict: a :class:`SyntheticClipDataset` item with ``name``
        ``'<motion>@<start frame>'``.
    """
    from .clip_dataset import SyntheticClipDataset
    for motion, path, step, start, clip_seed, _ in _clip_plan(
            root, motions, per_motion, settings, seed, max_motions):
        dataset = SyntheticClipDataset(
            motions=[path],
            num_clips=1,
            num_frames=settings['num_frames'],
            image_size=settings['image_size'],
            frame_step=step,
            start_frame=start,
            seed=clip_seed,
            noise=_noise(settings))
        item = dataset[0]
        item['name'] = f'{motion}@{start}'
        yield item


def make_clips(root: str,
               motions: Sequence[str],
               per_motion: int,
               settings: dict,
               seed: int,
               max_motions: Optional[int] = None) -> List[dict]:
    """:func:`iter_clips` as a list."""
    return list(
        iter_clips(root, motions, per_motion, settings, seed, max_motions))


def make_pose_clips(root: str,
                    motions: Sequence[str],
                    per_motion: int,
                    settings: dict,
                    seed: int,
                    max_motions: Optional[int] = None) -> List[dict]:
    """The clips of :func:`iter_clips` without pixels: the same starts,
    cameras, seeds and noise draws, unrendered (rendering is the costly
    part and smoother tuning or 3D noise calibration needs no pixels).

    Returns:
        list[dict]: ``dict(name, data_samples)`` with ``gt_pose3d`` and
        ``pose3d_init`` (T, J, 3) m in the camera frame, ``keypoints_2d``
        (T, J, 2) px, ``keypoint_scores`` (T, J) and ``image_size``.
    """
    from .camera import make_camera, project
    from .clip import VIEWPOINTS
    from .estimate_noise import simulate_estimates
    size = settings['image_size']
    clips = []
    for motion, _, step, start, clip_seed, joints_all in _clip_plan(
            root, motions, per_motion, settings, seed, max_motions):
        joints = np.asarray(
            joints_all[start::step][:settings['num_frames']], np.float64)
        camera = make_camera(joints, size,
                             **VIEWPOINTS[clip_seed % len(VIEWPOINTS)])
        joints_2d, joints_cam = project(joints, camera['K'],
                                        camera['R'][:, None],
                                        camera['t'][:, None])
        est = simulate_estimates(
            joints_cam, joints_2d, seed=clip_seed, **_noise(settings))
        clips.append(
            dict(
                name=f'{motion}@{start}',
                data_samples=dict(
                    gt_pose3d=joints_cam.astype(np.float32),
                    pose3d_init=est['pose3d'],
                    keypoints_2d=est['keypoints_2d'],
                    keypoint_scores=est['keypoint_scores'],
                    image_size=tuple(size))))
    return clips
