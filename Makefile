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

.PHONY: install install-demo test lint demo benchmark clean

install: $(STAMP)

# The offline demo's pose estimator (mediapipe BlazePose, weights in its wheel).
DEMO_STAMP := $(VENV)/.installed-demo
install-demo: $(DEMO_STAMP)

$(DEMO_STAMP): $(STAMP) requirements/optional.txt requirements/demo-nodeps.txt
	$(PIP) install -c requirements/constraints.txt -r requirements/optional.txt
	$(PIP) install --no-deps -r requirements/demo-nodeps.txt
	touch $(DEMO_STAMP)

$(STAMP): $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c requirements/constraints.txt \
		-r requirements/runtime.txt -r requirements/tests.txt
	$(PIP) install --no-deps -r requirements/nodeps.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	$(PY) -c "import mmflowpose; mmflowpose.utils.register_all_modules()"
	touch $(STAMP)

test: install-demo lint
	$(PY) -m pytest tests -q

lint: install
	$(PY) -m flake8 mmflowpose tools demo benchmarks configs tests

demo: install-demo
	$(PY) demo/flowpose_demo.py --offline --out-dir outputs/demo

# Full benchmarks (about 1 h on 2 cores: accuracy ~30 min, flow step ~10,
# real video ~13); results land in benchmarks/results/ and docs/en/results/.
benchmark: install-demo
	$(PY) benchmarks/pose_optimizer.py
	$(PY) benchmarks/flow_sketch.py
	$(PY) benchmarks/accuracy.py
	$(PY) benchmarks/real_video.py

clean:
	rm -rf $(VENV) mmflowpose/.mim *.egg-info
