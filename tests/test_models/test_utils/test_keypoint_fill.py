"""fill_missing_over_time against the datasets' numpy rule."""
import warnings

import numpy as np
import pytest
import torch

from mmflowpose.datasets.input_checks import fill_missing_keypoints
from mmflowpose.models.utils.keypoint_fill import fill_missing_over_time


def _numpy_reference(keypoints, missing):
    scores = np.where(missing, 0.5, 1.0).astype(np.float32)
    kp = np.where(missing[..., None], np.nan, keypoints)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        filled, _, _ = fill_missing_keypoints(kp, scores)
    return filled


def test_interpolates_between_and_holds_at_the_ends():
    kp = torch.tensor([[[1., 1.]], [[9., 9.]], [[3., 5.]], [[9., 9.]],
                       [[9., 9.]], [[6., 8.]], [[9., 9.]]])
    missing = torch.tensor([[1], [1], [0], [1], [1], [0], [1]], dtype=bool)
    out = fill_missing_over_time(kp, missing)[:, 0]
    expected = torch.tensor([[3., 5.], [3., 5.], [3., 5.], [4., 6.],
                             [5., 7.], [6., 8.], [6., 8.]])
    torch.testing.assert_close(out, expected)


def test_matches_the_dataset_rule_with_nan_and_never_seen_joints(dtype):
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(0, 100, (9, 5, 2)).astype(np.float32)
    missing = rng.uniform(size=(9, 5)) < 0.3
    missing[:, 3] = True  # never seen: the body centre
    missing[4] = True  # nobody in frame 4
    expected = _numpy_reference(keypoints, missing)
    inputs = torch.as_tensor(np.where(missing[..., None], np.nan, keypoints),
                             dtype=dtype)
    out = fill_missing_over_time(inputs, torch.as_tensor(missing))
    assert torch.isfinite(out).all()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-4)
    # present joints are untouched
    present = ~missing
    np.testing.assert_array_equal(out.numpy()[present],
                                  inputs.numpy()[present])


def test_nothing_present_gives_zeros_not_nan():
    kp = torch.full((3, 2, 2), float('nan'))
    out = fill_missing_over_time(kp, torch.ones(3, 2, dtype=bool))
    assert torch.equal(out, torch.zeros(3, 2, 2))


def test_shapes_are_checked():
    with pytest.raises(ValueError, match='missing'):
        fill_missing_over_time(torch.zeros(3, 2, 2), torch.zeros(3, 3) > 0)
