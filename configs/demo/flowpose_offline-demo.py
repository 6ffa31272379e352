# The offline demo (`make demo`): the paper's losses and weights with a
# lighter schedule (one cycle, one fine-tuning pass) so a short clip refines
# in a few minutes on 2 CPU cores, where RAFT itself is the slow part; the
# flow network is the small RAFT trained on rendered clips
# (checkpoints/README.md). The demo reads `model` only and adds its frame
# estimator (mediapipe BlazePose); through tools/test.py the same schedule
# runs on the project's rendered clips with the noise model's estimates.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/synthetic_clips.py',
    '../_base_/models/offline_nets.py', '../_base_/models/flowpose_refiner.py'
]

model = dict(
    num_cycles=1,
    flow_networks=[{{_base_.raft_small}}],
    pose_optimizer=dict(max_steps=300),
    # squares scaled to the person (3% of the box diagonal, >= 3 px): at
    # 256x320 the paper's 31 px squares would cover whole limbs
    sketch_head=dict(square_size=3, square_scale=0.03),
    # fine-tuning memory bounded whatever the person's size: at most 64 k
    # pixels per forward/backward pass (docs/en/demo.md, measured)
    flow_finetuner=dict(passes=1, batch_size=4, max_pixels=65536))
