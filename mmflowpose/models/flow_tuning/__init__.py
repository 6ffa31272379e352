from .flow_finetuner import FlowFinetuner
from .flow_forward import flow_forward, flow_pad_multiple

__all__ = ['FlowFinetuner', 'flow_forward', 'flow_pad_multiple']
