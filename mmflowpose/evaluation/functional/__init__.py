from .pose_errors import (acceleration_errors, mpjpe_errors, n_mpjpe_errors,
                          p_mpjpe_errors)

__all__ = [
    'acceleration_errors', 'mpjpe_errors', 'n_mpjpe_errors', 'p_mpjpe_errors'
]
from .flow_errors import (dense_epe, endpoint_error,  # noqa: F401,E402
                          epe_sum_count, human_epe, sparse_epe)
__all__ += [
    'dense_epe', 'endpoint_error', 'epe_sum_count', 'human_epe', 'sparse_epe'
]
