from .flow_checks import (backward_warp, fb_inconsistent,
                          forward_backward_error, fuse_flows,
                          photometric_error)
from .flow_finetuner import FlowFinetuner
from .flow_forward import (flow_forward, flow_inputs, flow_pad_multiple,
                           flow_padding)
from .flow_guard import FlowGuard
from .flow_step import guarded_flow_step

__all__ = [
    'FlowFinetuner', 'FlowGuard', 'backward_warp', 'fb_inconsistent',
    'flow_forward', 'flow_inputs', 'flow_pad_multiple', 'flow_padding',
    'forward_backward_error',
    'fuse_flows',
    'guarded_flow_step', 'photometric_error'
]
