# mmflow networks: any mmflow config + its model-zoo weights (URL or path).
# Swap one in a leaf config, or on the command line:
#   --cfg-options model.flow_networks.0.config=mmflow::gma/... \
#                 model.flow_networks.0.checkpoint=/path/to/gma.pth
_flow_zoo = 'https://download.openmmlab.com/mmflow/'
raft_mixed = dict(
    config='mmflow::raft/raft_8xb2_100k_mixed-368x768.py',
    checkpoint=_flow_zoo + 'raft/raft_8x2_100k_mixed_368x768.pth')
gma_mixed = dict(
    config='mmflow::gma/gma_8xb2_120k_mixed-368x768.py',
    checkpoint=_flow_zoo + 'gma/gma_8x2_120k_mixed_368x768.pth')
pwcnet_sintel = dict(
    config='mmflow::pwcnet/pwcnet-ft_4xb1_300k_sintel-final-384x768.py',
    checkpoint=_flow_zoo +
    'pwcnet/pwcnet_ft_4x1_300k_sintel_final_384x768.pth')
