# runtime shared by every flowpose config
default_scope = 'mmflowpose'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1),
)
# per-cycle MPJPE/EPE curves to the logger and every visualisation backend;
# progress inside each clip (cycle, stage) and the cost per frame at the end
custom_hooks = [
    dict(type='CycleMetricsLoggerHook'),
    dict(type='RefinementProgressHook')
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/test.py switches to gloo when no GPU is present
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='Visualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=1, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
test_cfg = dict(type='TestLoop')
