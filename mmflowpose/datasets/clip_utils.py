"""Small helpers shared by the clip datasets."""
from typing import Sequence, Tuple

import cv2
import mmcv
import numpy as np

from mmflowpose.registry import FUNCTIONS
from .input_checks import check_frames, fill_missing_keypoints


def load_frames(paths: Sequence[str]) -> np.ndarray:
    """Read frames as one (T, H, W, 3) uint8 RGB array.

    Raises:
        FileNotFoundError: a frame is missing (named).
        ValueError: a frame is unreadable or frames differ in size.
    """
    frames = []
    for path in paths:
        try:
            image = mmcv.imread(path, channel_order='rgb')
        except FileNotFoundError:
            raise FileNotFoundError(f'frame {path!r} not found') from None
        except (cv2.error, OSError, ValueError) as error:
            # a corrupt file fails inside the decoder without a path
            raise ValueError(f'frame {path!r} could not be decoded: '
                             f"{' '.join(str(error).split())}") from None
        if image is None:
            raise ValueError(f'frame {path!r} could not be decoded')
        if frames and image.shape != frames[0].shape:
            raise ValueError(
                f'frame {path!r} is {image.shape[1]}x{image.shape[0]} but '
                f'the clip started at {frames[0].shape[1]}x'
                f'{frames[0].shape[0]}; frames of a clip must share a size')
        frames.append(image)
    return np.stack(frames)


def joint_flow_from_keypoints(
        keypoints: np.ndarray,
        visible: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Ground-truth flow at joints: where each joint of frame t moves.

    Args:
        keypoints (np.ndarray): (T, J, 2) px.
        visible (np.ndarray): (T, J) visibility / validity.

    Returns:
        tuple: flow (T-1, J, 2) px sampled at the joints of frame t, and
        validity (T-1, J) bool (joint visible in both frames).
    """
    flow = keypoints[1:] - keypoints[:-1]
    valid = (visible[1:] > 0) & (visible[:-1] > 0) & np.isfinite(flow).all(-1)
    return np.nan_to_num(flow).astype(np.float32), valid


@FUNCTIONS.register_module()
def clip_collate(batch: Sequence[dict]) -> dict:
    """Batch clips as lists: ``dict(inputs=[...], data_samples=[...])``.

    Clips differ in length and size, and their arrays must reach the
    refiner untouched (mmengine's ``pseudo_collate`` would stack equal-sized
    numpy arrays into one).
    """
    return dict(
        inputs=[item['inputs'] for item in batch],
        data_samples=[item['data_samples'] for item in batch])


def pack_clip(info: dict, read_frames: bool) -> dict:
    """One dataset item from a clip's annotation ``info``.

    Adds the sparse flow ground truth (``gt_joint_flow``,
    ``gt_joint_flow_valid``) from ``gt_keypoints_2d``/``gt_visible`` and,
    with ``read_frames``, the frames and their ``image_size``; without
    frames the size comes from ``info['camera']`` (``h``, ``w``) if known.

    Missing detections (NaN, or far outside the image) are filled over time
    with score 0 before any lifter sees them (see
    :func:`~mmflowpose.datasets.input_checks.fill_missing_keypoints`; a
    warning gives the counts).
    """
    flow, valid = joint_flow_from_keypoints(info['gt_keypoints_2d'],
                                            info['gt_visible'])
    samples = dict(info, gt_joint_flow=flow, gt_joint_flow_valid=valid)
    inputs = dict()
    if read_frames:
        inputs['frames'] = check_frames(
            load_frames(info['img_paths']),
            f"frames of clip {info.get('clip_id')}")
        samples['image_size'] = tuple(inputs['frames'].shape[1:3])
    elif 'h' in info.get('camera', {}):
        samples['image_size'] = (info['camera']['h'], info['camera']['w'])
    if 'keypoints_2d' in info:
        keypoints, scores, _ = fill_missing_keypoints(
            info['keypoints_2d'], info['keypoint_scores'],
            samples.get('image_size'),
            f"keypoints_2d of clip {info.get('clip_id')}")
        samples.update(keypoints_2d=keypoints, keypoint_scores=scores)
    return dict(inputs=inputs, data_samples=samples)
