"""Building blocks of the accuracy benchmarks on rendered clips: error
sums, detections, joint-motion errors, noise calibration, the pose step on
fixed flows and the flows of a clip (``benchmarks/accuracy.py`` composes
them)."""
from .calibration import detector_noise, flow_floor_stats
from .clip_flows import clip_flows, dis_flow
from .detections import (DETECTORS, LR_SWAP, MEDIAPIPE, add_mediapipe,
                         lr_swap_ids, mirrored_by_truth, sanitize)
from .error_sums import (EVAL_IDS, Sums, add_flow, add_pose, flow_chw,
                         flow_row, pose_row)
from .joint_motion import (MOTION_KEYS, flow_floor_data, joint_motion_errors,
                           static_floor)
from .label_rows import labelled_inputs
from .pose_step import (AWARE_BATCH, NO_FLOOR_BATCH, LABEL_ROWS,
                        aware_batch, record_terms, run_cycles, visible_at)

__all__ = [
    'detector_noise', 'flow_floor_stats', 'clip_flows', 'dis_flow',
    'DETECTORS', 'LR_SWAP', 'MEDIAPIPE', 'add_mediapipe', 'lr_swap_ids',
    'sanitize', 'EVAL_IDS', 'Sums', 'add_flow', 'add_pose', 'flow_chw',
    'flow_row', 'pose_row', 'MOTION_KEYS', 'flow_floor_data',
    'joint_motion_errors', 'static_floor', 'AWARE_BATCH', 'NO_FLOOR_BATCH',
    'aware_batch', 'record_terms', 'run_cycles', 'visible_at',
    'LABEL_ROWS', 'labelled_inputs', 'mirrored_by_truth'
]
