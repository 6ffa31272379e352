"""Read and write optical flow files (.flo, .pfm, KITTI .png, .npz).

Decoding is delegated to mmcv (``flowread``, ``flowwrite``,
``sparse_flow_from_bytes``); this module adds what those lack: a validity
mask for every format, header/size checks that name the file, PFM files
(mmflow's ``read_pfm`` drops the last column of single-channel files), and
atomic writes.

Every reader returns ``(flow, valid)``: flow (H, W, 2) float32 in px with
channel 0 = x, valid (H, W) bool.
"""
import os.path as osp
import re
import zipfile
from typing import Optional, Tuple

import numpy as np

from mmflowpose.utils.io import write_atomic

FLO_MAGIC = 202021.25
# Middlebury/Sintel mark unknown flow with values above 1e9.
UNKNOWN_FLOW = 1e9


def _check_exists(path: str) -> None:
    if not osp.isfile(path):
        raise FileNotFoundError(f'flow file {path!r} does not exist')


def check_flo(path: str) -> Tuple[int, int]:
    """Validate a Middlebury .flo header and size; return (H, W).

    Raises:
        ValueError: bad magic, non-positive size, or a file whose length is
            not ``12 + 8 * H * W`` bytes (the message names the file).
    """
    _check_exists(path)
    size = osp.getsize(path)
    with open(path, 'rb') as f:
        header = f.read(12)
    if len(header) < 12:
        raise ValueError(f'{path}: truncated .flo file ({size} bytes, the '
                         'header alone is 12)')
    magic = np.frombuffer(header[:4], '<f4')[0]
    if magic != np.float32(FLO_MAGIC):
        raise ValueError(f'{path}: not a .flo file (magic {magic!r}, '
                         f'expected {FLO_MAGIC} / "PIEH")')
    width, height = (int(v) for v in np.frombuffer(header[4:], '<i4'))
    if width <= 0 or height <= 0:
        raise ValueError(f'{path}: corrupt .flo header, size {width}x'
                         f'{height}')
    expected = 12 + 8 * width * height
    if size != expected:
        raise ValueError(f'{path}: .flo of {width}x{height} needs {expected} '
                         f'bytes, the file has {size} (truncated or corrupt)')
    return height, width


def read_pfm(path: str) -> np.ndarray:
    """Read a PFM file, top row first.

    Returns:
        np.ndarray: (H, W) float32 for ``Pf`` files, (H, W, 3) for ``PF``.
    """
    _check_exists(path)
    with open(path, 'rb') as f:
        kind = f.readline().rstrip()
        dims = f.readline().decode('ascii', 'replace')
        scale_line = f.readline().decode('ascii', 'replace')
        data = f.read()
    if kind not in (b'PF', b'Pf'):
        raise ValueError(f'{path}: not a PFM file (header {kind[:8]!r})')
    match = re.match(r'^\s*(\d+)\s+(\d+)\s*$', dims)
    try:
        scale = float(scale_line)
    except ValueError:
        scale = None
    if match is None or scale is None:
        raise ValueError(f'{path}: malformed PFM header')
    if not np.isfinite(scale) or scale == 0:
        # the sign of the scale gives the byte order; nan/inf/0 give none
        raise ValueError(f'{path}: PFM scale must be a finite non-zero '
                         f'number, got {scale_line.strip()!r}')
    width, height = int(match.group(1)), int(match.group(2))
    channels = 3 if kind == b'PF' else 1
    endian = '<' if scale < 0 else '>'
    count = width * height * channels
    if len(data) != 4 * count:
        raise ValueError(f'{path}: PFM of {width}x{height}x{channels} needs '
                         f'{4 * count} data bytes, got {len(data)}')
    array = np.frombuffer(data, endian + 'f4').astype(np.float32)
    shape = (height, width, 3) if channels == 3 else (height, width)
    return np.ascontiguousarray(np.flipud(array.reshape(shape)))


def _finite_valid(flow: np.ndarray) -> np.ndarray:
    return np.isfinite(flow).all(-1) & (np.abs(flow) < UNKNOWN_FLOW).all(-1)


def _read_kitti_png(path: str) -> Tuple[np.ndarray, np.ndarray]:
    import cv2
    import mmcv
    with open(path, 'rb') as f:
        content = f.read()
    image = cv2.imdecode(
        np.frombuffer(content, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f'{path}: not a readable PNG image')
    # An 8-bit or single-channel PNG decodes "fine" into a flow with every
    # pixel valid; KITTI flow is always 16-bit with 3 channels (u, v, valid).
    channels = 1 if image.ndim == 2 else image.shape[2]
    if image.dtype != np.uint16 or channels != 3:
        raise ValueError(
            f'{path}: not a KITTI flow png ({image.dtype.itemsize * 8}-bit '
            f'{channels}-channel image; KITTI flow is 16-bit with 3 '
            'channels u, v, valid)')
    try:
        flow, valid = mmcv.sparse_flow_from_bytes(content)
    except Exception as error:
        raise ValueError(f'{path}: not a KITTI flow png ({error})') \
            from error
    flow = flow.astype(np.float32)
    return flow, (valid > 0) & _finite_valid(flow)


def _read_npz(path: str) -> Tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            if 'flow' not in data:
                raise ValueError(f'{path}: .npz has no "flow" array '
                                 f'(keys {sorted(data.files)})')
            flow = data['flow']
            valid = data['valid'] if 'valid' in data else None
    except ValueError as error:
        if 'Object arrays' in str(error):
            raise ValueError(f'{path}: .npz holds pickled objects, which '
                             'are never loaded (flow and valid must be '
                             'numeric arrays)') from None
        if 'pickled data' in str(error):  # not a zip: numpy tried pickle
            raise ValueError(f'{path}: not an .npz archive') from None
        raise
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f'{path}: not a readable .npz file ({error})') \
            from error
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(f'{path}: flow must be (H, W, 2), got '
                         f'{flow.shape}')
    flow = flow.astype(np.float32)
    if valid is None:
        return flow, _finite_valid(flow)
    if valid.shape != flow.shape[:2]:
        raise ValueError(f'{path}: valid has shape {valid.shape}, the flow '
                         f'{flow.shape} needs {flow.shape[:2]}')
    # a stored mask cannot make non-finite flow valid
    return flow, valid.astype(bool) & np.isfinite(flow).all(-1)


def read_flow(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read a flow file by extension.

    Formats: ``.flo`` (Middlebury/Sintel; unknown flow > 1e9 is invalid),
    ``.pfm`` (3 channels, FlyingThings3D; the third is dropped), ``.png``
    (KITTI 16-bit, validity from the third channel), ``.npz`` (``flow`` and
    optional ``valid`` arrays, as written by :func:`write_flow`).

    Args:
        path (str): file path.

    Returns:
        tuple[np.ndarray, np.ndarray]: flow (H, W, 2) float32 px, channel
        0 = x, and valid (H, W) bool.
    """
    _check_exists(path)
    ext = osp.splitext(path)[1].lower()
    if ext == '.flo':
        import mmcv
        check_flo(path)
        flow = mmcv.flowread(path).astype(np.float32)
        return flow, _finite_valid(flow)
    if ext == '.pfm':
        data = read_pfm(path)
        if data.ndim != 3:
            raise ValueError(f'{path}: single-channel PFM is not a flow '
                             '(read it with read_pfm)')
        flow = np.ascontiguousarray(data[..., :2])
        return flow, _finite_valid(flow)
    if ext == '.png':
        return _read_kitti_png(path)
    if ext == '.npz':
        return _read_npz(path)
    raise ValueError(f'{path}: unknown flow format {ext!r} (expected .flo, '
                     '.pfm, .png or .npz)')


def write_flow(path: str,
               flow: np.ndarray,
               valid: Optional[np.ndarray] = None) -> None:
    """Write flow atomically (temporary file + rename) as .flo or .npz.

    Args:
        path (str): ``.flo`` (via ``mmcv.flowwrite``; ``valid`` must be None)
            or ``.npz`` (``flow`` and optional ``valid`` arrays).
        flow (np.ndarray): (H, W, 2) flow in px, channel 0 = x.
        valid (np.ndarray, optional): (H, W) bool. Defaults to None.
    """
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(f'flow must be (H, W, 2), got {flow.shape}')
    if valid is not None and np.shape(valid) != flow.shape[:2]:
        raise ValueError(f'valid must be {flow.shape[:2]}, got '
                         f'{np.shape(valid)}')
    ext = osp.splitext(path)[1].lower()
    if ext not in ('.flo', '.npz'):
        raise ValueError(f'{path}: can write .flo or .npz, not {ext!r}')
    if ext == '.flo' and valid is not None:
        raise ValueError(f'{path}: .flo cannot store a valid mask; use .npz')

    def write(tmp):
        if ext == '.flo':
            import mmcv
            mmcv.flowwrite(flow.astype(np.float32), tmp)
            return
        arrays = dict(flow=flow.astype(np.float32))
        if valid is not None:
            arrays['valid'] = np.asarray(valid, dtype=bool)
        with open(tmp, 'wb') as f:
            np.savez(f, **arrays)

    write_atomic(path, write)
