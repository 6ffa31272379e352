"""Shape checks for public entry points (kornia-style, with clear messages)."""
from typing import Sequence, Union

from torch import Tensor


def check_shape(tensor: Tensor, shape: Sequence[Union[int, str]],
                name: str) -> None:
    """Raise ``ValueError`` unless ``tensor`` matches ``shape``.

    Args:
        tensor (Tensor): the value to check.
        shape (sequence): expected sizes; an int must match exactly, a str
            (a letter such as ``'N'``) matches any size, and a leading
            ``'*'`` matches any number of leading dimensions.
        name (str): the argument's name, used in the message.

    Example:
        >>> import torch
        >>> check_shape(torch.zeros(2, 5, 3), ['*', 'J', 3], 'pose')
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f'{name} must be a Tensor, got {type(tensor)}')
    actual = tuple(tensor.shape)
    expected = list(shape)
    ok = True
    if expected and expected[0] == '*':
        expected = expected[1:]
        if len(actual) < len(expected):
            ok = False
        actual_tail = actual[len(actual) - len(expected):]
    else:
        ok = len(actual) == len(expected)
        actual_tail = actual
    if ok:
        ok = all(
            isinstance(want, str) or want == got
            for want, got in zip(expected, actual_tail))
    if not ok:
        wanted = '(' + ', '.join(str(s) for s in shape) + ')'
        raise ValueError(f'{name} must have shape {wanted}, got {actual}')
