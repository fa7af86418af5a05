# The two README commands: `make lab` (set up, then JupyterLab on the course)
# and `make test` (set up, then every test).  Both are safe to repeat.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2
PYTEST_ARGS ?=
# Test files run in this many processes (pytest-xdist); most tests wait on kernels and
# nbgrader processes, so 2 processes on 2 cores finish sooner than 1.
TEST_WORKERS ?= 2

.PHONY: setup lab test test-fast lint chapters release clean

setup:
	./scripts/setup.sh

lab: setup
	$(VENV)/bin/cnn-course lab $(LAB_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

test: setup lint
	CNN_COURSE_REQUIRE_POSTGRES=1 $(PY) -m pytest -ra -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30 $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -ra -m "not slow and not browser" $(PYTEST_ARGS)

# chapters/*.py (the chapter sources) -> source/*.ipynb -> release/*.ipynb
chapters: setup
	$(PY) -m tools.chapters
	$(VENV)/bin/cnn-course release

release: setup
	$(VENV)/bin/cnn-course release

clean:
	rm -rf .grading autograded feedback submitted gradebook.db grades.csv
