# fp8forge: `make test` and `make demo` bootstrap their own virtual environment.
# A failing command in a pipe (fp8forge demo | tee) fails the target.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
# The suite starts hundreds of Python processes (simulators, tools, CLI runs): each would
# compile every module it imports again if bytecode could not be cached.
unexport PYTHONDONTWRITEBYTECODE
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
# Reinstall when the project metadata changes.
DEV_STAMP   := $(VENV)/.dev-installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: test test-long prepare lint kernels kernels-float64 kernels-float32 pytest demo bench experiments clean distclean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fp8forge needs Python 3.11+, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# --no-compile: byte-compiling every dependency costs half a minute; Python compiles what
# is imported on first use.
$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --no-compile -e '.[dev]'
	@touch $@

$(BENCH_STAMP): pyproject.toml $(DEV_STAMP)
	$(PY) -m pip install --quiet --no-compile -e '.[dev,bench]'
	@touch $@

## test: lint, type check and the whole test suite (both cores)
test: prepare pytest

# The lint and the golden kernels' compile (in two halves), three jobs on the two cores.
prepare:
	@$(MAKE) --no-print-directory -j3 lint kernels

# --dist loadgroup for its scheduling, not its groups (which pytest 9.2 ignores: pytest-xdist
# issue 1386): it hands every test out on its own, when a worker is free; the default "load"
# hands out batches, and left the workers idle 23 % of a run here (7 min 20 s against 6 min 23).
pytest: $(DEV_STAMP)
	$(PY) -m pytest -n auto --dist loadgroup

## test-long: the suite with its long checks and ten times the random volumes (about 45 min)
test-long: prepare
	$(PY) -m pytest -n auto --dist loadgroup --long

## kernels: compile the golden model's numba kernels into their on-disk cache, once
# (the test workers and the processes they start then load them instead of compiling them)
kernels: kernels-float64 kernels-float32

# two halves of 6-8 s each (the kernels have their own cache files: no write races)
kernels-float64: $(DEV_STAMP)
	$(PY) -c 'from fp8forge.golden.compiled import compile_kernels as c; c(["gemm_float64", "sum_rows_sr"])'

kernels-float32: $(DEV_STAMP)
	$(PY) -c 'from fp8forge.golden.compiled import compile_kernels as c; c(["gemm_float32", "fma"])'

## lint: ruff and mypy on everything but the tests
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy golden hdl sim model fp8forge scripts experiments

## demo: format table and the swamping example (written to build/demo.txt as well)
demo: $(DEV_STAMP)
	@mkdir -p build
	$(BIN)/fp8forge demo | tee build/demo.txt.tmp
	@mv build/demo.txt.tmp build/demo.txt

## experiments: the paper's experiments in full (about 35 minutes) -> build/experiments/
experiments: $(DEV_STAMP)
	$(BIN)/fp8forge experiment all -o build/experiments

## bench: golden-model speed figures quoted in the README
bench: $(BENCH_STAMP)
	$(BIN)/fp8forge bench

clean:
	rm -rf build .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
