# Two entry points: `make demo` and `make test`. Both build .venv first.
# The install runs in the order that works here (docs/en/get_started.md):
# plain dependencies with a constraints file, then the OpenMMLab packages
# whose declared dependencies cannot resolve beside the CPU torch (--no-deps),
# then mmflowpose itself in editable mode.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed
REQS := requirements/constraints.txt requirements/runtime.txt \
        requirements/nodeps.txt requirements/tests.txt setup.py

.PHONY: install test test-quick demo benchmark clean

install: $(STAMP)

$(STAMP): $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c requirements/constraints.txt \
		-r requirements/runtime.txt -r requirements/tests.txt
	$(PIP) install --no-deps -r requirements/nodeps.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	$(PY) -c "import mmflowpose; mmflowpose.utils.register_all_modules()"
	touch $(STAMP)

test: install
	$(PY) -m pytest tests -q

demo: install
	$(PY) demo/flowpose_demo.py --offline --out-dir outputs/demo

benchmark: install
	$(PY) benchmarks/pose_optimizer.py --quick
	$(PY) benchmarks/flow_sketch.py --quick

clean:
	rm -rf $(VENV) mmflowpose/.mim *.egg-info
