"""Run staging: every output file is written under a staging folder
inside ``out_dir`` and moved to its place with ``os.replace`` only after
the whole input was processed; on any error the staging folder is removed
and nothing is left half-written. Also the per-frame file formats (mmpose
instance lists, flow files), numpy from here on."""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, List

import numpy as np


class StagedOutput:
    """Write files under a staging folder; :meth:`commit` moves them.

    Args:
        out_dir (str): the final folder (created if missing).
    """

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.created = not osp.isdir(out_dir)
        try:
            os.makedirs(out_dir, exist_ok=True)
            self.stage = tempfile.mkdtemp(prefix='.flowpose-tmp-',
                                          dir=out_dir)
        except OSError as error:
            raise PermissionError(
                f'out_dir {out_dir!r} is not a writable folder: '
                f'{error.strerror or error}') from error
        self.files: List[str] = []

    def path(self, relative: str) -> str:
        """Staging path of ``relative`` (parents created)."""
        path = osp.join(self.stage, relative)
        os.makedirs(osp.dirname(path), exist_ok=True)
        if relative not in self.files:
            self.files.append(relative)
        return path

    def dump_json(self, relative: str, obj) -> None:
        """Strict JSON: NaN/inf become null (never bare ``NaN`` tokens)."""
        from mmflowpose.utils.io import to_json_safe
        with open(self.path(relative), 'w') as file:
            json.dump(to_json_safe(obj), file, indent=1, allow_nan=False)

    def commit(self) -> Dict[str, str]:
        """Move every staged file into ``out_dir``; return their paths."""
        final = {}
        for relative in self.files:
            target = osp.join(self.out_dir, relative)
            os.makedirs(osp.dirname(target), exist_ok=True)
            os.replace(osp.join(self.stage, relative), target)
            final[relative] = target
        shutil.rmtree(self.stage, ignore_errors=True)
        return final

    def abort(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)
        if self.created:
            try:
                os.rmdir(self.out_dir)
            except OSError:
                pass


def instances(kpt3d, scores, kpt2d) -> list:
    """mmpose-style instance list of one frame ([] without a person)."""
    scores = np.asarray(scores, np.float64)
    if not np.any(scores > 0):
        return []
    seen = kpt2d[scores > 0]
    bbox = [float(v) for v in (*seen.min(0), *seen.max(0))]
    return [
        dict(
            keypoints=np.round(np.asarray(kpt3d, np.float64), 5).tolist(),
            keypoint_scores=np.round(scores, 4).tolist(),
            keypoints_2d=np.round(np.asarray(kpt2d, np.float64), 2).tolist(),
            bbox=[bbox],
            bbox_score=round(float(scores.mean()), 4),
            track_id=0)
    ]


def save_flow(output: StagedOutput, name: str, t: int, record: Dict,
              flow_format: str) -> None:
    """Write the base and refined flow of pair ``t`` (``npz`` or ``flo``)."""
    if flow_format == 'npz':
        np.savez(
            output.path(f'flows/{name}/{t:06d}.npz'),
            flow_init=np.asarray(record['flow_init'], np.float32),
            flow=np.asarray(record['flow'], np.float32),
            sketch_mask=np.asarray(record['sketch_mask'], bool))
    else:
        import mmcv
        mmcv.flowwrite(
            np.asarray(record['flow_init'], np.float32),
            output.path(f'flows/{name}/{t:06d}_base.flo'))
        mmcv.flowwrite(
            np.asarray(record['flow'], np.float32),
            output.path(f'flows/{name}/{t:06d}_refined.flo'))
