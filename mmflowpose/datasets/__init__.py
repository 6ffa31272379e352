from .mocap import load_mocap  # noqa: F401
from .synthetic import make_clip  # noqa: F401
from .flow_io import read_flow, read_pfm, write_flow  # noqa: F401,E402
from .sintel_sequence import SintelSequenceDataset  # noqa: F401,E402
from .h36m_clips import H36MClipDataset  # noqa: F401,E402
from .clip_utils import clip_collate  # noqa: F401,E402
from .estimate_noise import simulate_estimates  # noqa: F401,E402
from .synthetic_clips import SyntheticClipDataset  # noqa: F401,E402
from .mocap_lifting import MocapLiftingDataset  # noqa: F401,E402
from .synthetic_flow import SyntheticFlowDataset  # noqa: F401,E402
from .pw3d_clips import PW3DClipDataset  # noqa: F401,E402
from .sintel_clips import SintelClipDataset  # noqa: F401,E402
from .transforms import PackClipInputs  # noqa: F401,E402
