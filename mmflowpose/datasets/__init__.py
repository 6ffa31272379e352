# Real-data dataset classes and file IO here; everything synthesised
# (mocap readers, renderer, noise model, writers, synthetic datasets) in
# the ``synthetic`` subpackage.
from .clip_utils import clip_collate  # noqa: F401
from .flow_io import read_flow, read_pfm, write_flow  # noqa: F401
from .h36m_clips import H36MClipDataset  # noqa: F401
from .pw3d_clips import PW3DClipDataset  # noqa: F401
from .sintel_clips import SintelClipDataset  # noqa: F401
from .sintel_sequence import SintelSequenceDataset  # noqa: F401
from .synthetic import (MocapLiftingDataset, SyntheticClipDataset,  # noqa
                        SyntheticFlowDataset, load_mocap, make_clip,
                        simulate_estimates)
from .transforms import PackClipInputs  # noqa: F401
