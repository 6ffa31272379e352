from .heads import *  # noqa: F401,F403
from .flow_tuning import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .pose_optim import *  # noqa: F401,F403
from .pose_estimators import *  # noqa: F401,F403
from .refiners import *  # noqa: F401,F403
