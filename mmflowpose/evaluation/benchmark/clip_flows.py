"""Every flow a benchmark's pose step may follow on a rendered clip,
computed once per clip at the image size."""
import numpy as np
import torch

from .error_sums import flow_chw


def dis_flow(frames):
    """OpenCV DIS (medium preset) forward and backward flow of (T, H, W, 3)
    uint8 RGB frames: two (P, 2, H, W) px tensors."""
    import cv2
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    fwd = [dis.calc(a, b, None) for a, b in zip(gray[:-1], gray[1:])]
    bwd = [dis.calc(b, a, None) for a, b in zip(gray[:-1], gray[1:])]
    return (torch.from_numpy(np.stack(fwd)).permute(0, 3, 1, 2),
            torch.from_numpy(np.stack(bwd)).permute(0, 3, 1, 2))


def clip_flows(tuner, item: dict, flow_max_side=None) -> dict:
    """The network's, zero, exact and DIS flows of one rendered clip.

    Args:
        tuner: a ``FlowFinetuner`` (its ``predict``) around the network.
        item (dict): a rendered clip (``inputs.frames`` (T, H, W, 3) uint8,
            ``data_samples`` with ``image_size``, ``gt_flow``,
            ``gt_flow_valid``).
        flow_max_side (int, optional): the network runs with its longer
            side at most this (``working_size``); its flows are resized
            back, so every row samples flows at the image size.

    Returns:
        dict: name -> (forward, backward or None), (P, 2, H, W) px, for
        ``network``, ``zero``, ``gt`` and ``dis``; ``gt_valid`` (P, H, W)
        bool.
    """
    from mmflowpose.models.refiners.working_resolution import (
        resize_flow, resize_frames, working_size)
    frames = item['inputs']['frames']
    size = tuple(item['data_samples']['image_size'])
    work = working_size(size, flow_max_side)
    x = resize_frames(
        torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2),
        work)
    with torch.no_grad():
        fwd = tuner.predict(x[:-1], x[1:])
        bwd = tuner.predict(x[1:], x[:-1])
    gt = flow_chw(item['data_samples']['gt_flow']).float()
    fwd, bwd = resize_flow(fwd, size), resize_flow(bwd, size)
    return dict(
        network=(fwd, bwd),
        zero=(torch.zeros_like(fwd), torch.zeros_like(fwd)),
        gt=(gt, None),
        gt_valid=torch.as_tensor(
            np.asarray(item['data_samples']['gt_flow_valid'], bool)),
        dis=tuple(f.float() for f in dis_flow(frames)))
