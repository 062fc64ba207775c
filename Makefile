# tryon3d: `make demo` sets up and runs the main job; `make test` sets up and runs the tests.
# Both work on a fresh machine with only Python 3.11+: they create .venv, install the project,
# install Debian's libllvm19 when missing (Mitsuba's CPU backend) and warm the caches once
# under $(TRYON3D_CACHE) (anny model data, Warp kernels), which later clones reuse.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export TRYON3D_CACHE ?= $(HOME)/.cache/tryon3d
export PYTHONUNBUFFERED := 1
STAMP := $(VENV)/.tryon3d-installed

.PHONY: setup sysdeps warmup demo demo-study test lint bench clean

setup: sysdeps $(STAMP) warmup

sysdeps:
	@bash scripts/install_sysdeps.sh

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned, so nothing pulls the multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,study]'
	touch $(STAMP)

warmup: $(STAMP)
	$(PY) -m tryon3d.warmup

demo: setup
	$(PY) -m tryon3d demo -o out/demo

# a small fit study on a local Ray (2 garments x 2 sizes x 4 bodies, coarse meshes); opens nothing
demo-study: setup
	$(PY) -m tryon3d study --garment tshirt --garment skirt --sizes S,M --population ansur --count 4 \
		--edge-length 5 --max-seconds-simulated 1 -o out/demo-study

test: setup
	@bash scripts/install_test_deps.sh
	$(PY) -m pytest -q tests

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	PY=$(PY) bash scripts/typecheck.sh

bench: setup
	$(PY) benchmarks/body_accuracy.py --json

clean:
	rm -rf $(VENV) out .pytest_cache
