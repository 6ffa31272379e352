"""Pack a loaded clip into the model's input and one ClipDataSample."""
from typing import Dict

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmflowpose.registry import TRANSFORMS
from mmflowpose.structures import FIELDS, ClipDataSample

#: entries of a clip that describe it rather than hold per-frame values
META_KEYS = ('clip_id', 'img_paths', 'image_size', 'camera', 'seq_name',
             'frame_ids', 'motion', 'seed')
#: fields read from files channel-last (H, W, 2) per pair
CHANNEL_LAST = ('gt_flow', )


def _tensor(value, name: str, clip: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    array = np.asarray(value)
    if array.dtype == object:
        raise ValueError(f'clip {clip!r}: field {name!r} is not a numeric '
                         f'array (got {type(value).__name__})')
    return torch.from_numpy(np.ascontiguousarray(array))


@TRANSFORMS.register_module()
class PackClipInputs(BaseTransform):
    """Turn a clip dataset item into ``dict(inputs, data_samples)``.

    ``inputs`` becomes the frames as one (T, 3, H, W) uint8 tensor (what the
    model's data preprocessor moves to the device); ``data_samples`` a
    :class:`ClipDataSample` with the clip's descriptive entries
    (:data:`META_KEYS`) as metainfo and every array as a tensor field. The
    one layout change between files and metrics happens here: ground-truth
    flow read as (P, H, W, 2) becomes (P, 2, H, W).

    Input: ``dict(inputs=dict(frames=(T, H, W, 3)), data_samples=dict)``
    as the clip datasets load it (``frames`` may be absent when the dataset
    reads no images).
    """

    def transform(self, results: Dict) -> Dict:
        if 'data_samples' not in results or not isinstance(
                results['data_samples'], dict):
            raise ValueError('PackClipInputs needs a clip dataset item '
                             'dict(inputs=..., data_samples=dict(...)), got '
                             f'keys {sorted(results)}')
        fields = results['data_samples']
        clip = str(fields.get('clip_id', ''))
        meta = {k: fields[k] for k in META_KEYS if k in fields}
        if 'camera' in meta:
            meta['camera'] = self._camera(meta['camera'])
        sample = ClipDataSample(metainfo=meta)
        for name, value in fields.items():
            if name in META_KEYS or value is None:
                continue
            tensor = _tensor(value, name, clip)
            if name in CHANNEL_LAST:
                if tensor.ndim != 4 or tensor.shape[-1] != 2:
                    raise ValueError(f'clip {clip!r}: {name} must be '
                                     '(P, H, W, 2) px as read from flow '
                                     f'files, got {tuple(tensor.shape)}')
                tensor = tensor.permute(0, 3, 1, 2).contiguous()
            if name in FIELDS:
                setattr(sample, name, tensor)
            else:
                sample.set_field(tensor, name)
        frames = (results.get('inputs') or {}).get('frames')
        packed = dict(data_samples=sample)
        if frames is not None:
            frames = _tensor(frames, 'frames', clip)
            if frames.ndim != 4 or frames.shape[-1] != 3:
                raise ValueError(f'clip {clip!r}: frames must be (T, H, W, '
                                 f'3) RGB, got {tuple(frames.shape)}')
            packed['inputs'] = frames.permute(0, 3, 1, 2).contiguous()
        return packed

    @staticmethod
    def _camera(camera: Dict) -> Dict:
        """Arrays as float32 tensors, ``w``/``h`` as ints."""
        out = {}
        for key, value in camera.items():
            if key in ('w', 'h'):
                out[key] = int(value)
            elif value is not None:
                out[key] = torch.as_tensor(
                    np.asarray(value, np.float32))
        return out
