"""Real mmflow flow files shared by the EPE function and metric tests."""
import pytest

from mmflowpose.datasets import read_flow, read_pfm


@pytest.fixture
def real(fixtures):
    gt, _ = read_flow(fixtures('mmflow', 'tests_data', '00001_flow.flo'))
    pred, _ = read_flow(
        fixtures('mmflow', 'tests_data', '0000000-flow_01.flo'))
    weights = read_pfm(
        fixtures('mmflow', 'tests_data', '0000000-occ_weights_01.pfm'))
    _, kitti_valid = read_flow(
        fixtures('mmflow', 'tests_data', 'sparse_flow.png'))
    return gt, pred, weights, kitti_valid
