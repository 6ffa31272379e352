"""A default that tells "left out" from an explicit None."""


class _NotGiven:
    """Default of a ``checkpoint`` argument: none was named, so random
    weights come with a warning; an explicit None asks for random weights
    on purpose (e.g. in tests) and stays quiet."""

    def __repr__(self) -> str:
        return 'NOT_GIVEN'

    def __deepcopy__(self, memo):
        return self  # one instance, so ``is NOT_GIVEN`` survives copies


NOT_GIVEN = _NotGiven()
