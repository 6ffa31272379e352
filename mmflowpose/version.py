__version__ = '0.1.0'


def _parse(version: str):
    return tuple(int(part) for part in version.split('.') if part.isdigit())


version_info = _parse(__version__)
