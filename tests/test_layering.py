"""Package layering: dependencies point down (models never import the API
layer), and the API layer registers nothing."""
import os
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGE = osp.join(REPO, 'mmflowpose')


def _python_files(folder):
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith('.py'):
                yield osp.join(root, name)


def _matches(folder, pattern):
    hits = []
    for path in _python_files(folder):
        with open(path) as file:
            for number, line in enumerate(file, 1):
                if re.search(pattern, line):
                    hits.append(f'{osp.relpath(path, REPO)}:{number}: '
                                f'{line.strip()}')
    return hits


def test_models_never_import_the_api_layer():
    # nor mmpose's: the estimators compose registry-built parts (issue #12:
    # `grep -rn apis mmflowpose/models` is empty)
    assert _matches(osp.join(PACKAGE, 'models'), r'apis') == []


def test_the_api_layer_registers_no_model_part():
    # only the inferencer itself is registered there (INFERENCERS)
    assert _matches(
        osp.join(PACKAGE, 'apis'),
        r'(MODELS|DATASETS|METRICS|HOOKS|TRANSFORMS)\.register_module') == []


def test_lower_layers_never_import_the_api_layer():
    for layer in ('datasets', 'evaluation', 'engine', 'utils', 'compat'):
        assert _matches(osp.join(PACKAGE, layer),
                        r'(from|import) mmflowpose\.apis|from \.\.apis') == []
