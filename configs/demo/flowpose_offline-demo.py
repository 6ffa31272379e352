# The offline demo (`make demo`): the paper's losses and weights with a
# lighter schedule (one cycle, one fine-tuning pass) so a short clip refines
# in a few minutes on 2 CPU cores, where RAFT itself is the slow part; the
# flow network is the small RAFT trained on rendered clips
# (checkpoints/README.md), the 3D estimates come from mediapipe BlazePose.
_base_ = ['../_base_/models/flowpose_refiner.py']

model = dict(
    num_cycles=1,
    flow_networks=[
        dict(
            config='configs/training/raft-small_synthetic.py',
            checkpoint='checkpoints/raft-small_synthetic.pth')
    ],
    pose_optimizer=dict(max_steps=300),
    # squares scaled to the person (3% of the box diagonal, >= 3 px): at
    # 256x320 the paper's 31 px squares would cover whole limbs
    sketch_head=dict(square_size=3, square_scale=0.03),
    flow_finetuner=dict(passes=1, batch_size=4))
