# Offline evaluation out of the box: the shipped small VideoPose3D (trained
# on motion capture) and small RAFT (trained on rendered clips) refine each
# other on clips the project renders itself, with exact 3D and dense flow
# ground truth; metrics after every cycle, no download. Two cycles with a
# schedule light enough for a laptop CPU (a few minutes on 2 cores).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/synthetic_clips.py',
    '../_base_/models/offline_nets.py', '../_base_/models/flowpose_refiner.py'
]

model = dict(
    num_cycles=2,
    pose_estimators=[{{_base_.videopose3d_small}}],
    flow_networks=[{{_base_.raft_small}}],
    pose_optimizer=dict(max_steps=300),
    # squares scaled to the person (3% of its box diagonal, >= 3 px): at
    # 128x160 the paper's 31 px squares would cover whole limbs
    sketch_head=dict(square_size=3, square_scale=0.03),
    flow_finetuner=dict(passes=1, batch_size=4))
