#!/usr/bin/env bash
# Sets up (once) a Python virtual environment with the official Kubernetes
# Python client for the end-to-end test in tests/python, and prints the path
# of that environment's python. A second run only checks that the package
# imports and is in the pinned range, so it takes well under a second.
set -euo pipefail

venv="${SKIFF_PYTHON_VENV:-$HOME/.cache/skiff-python-venv}"
# The versions the end-to-end test has been run with.
requirement='kubernetes>=31,<38'
python="$venv/bin/python"

ready() {
  [ -x "$python" ] && "$python" - <<'PY' >/dev/null 2>&1
import kubernetes
major = int(kubernetes.__version__.split(".")[0])
raise SystemExit(0 if 31 <= major < 38 else 1)
PY
}

if ! ready; then
  if ! command -v python3 >/dev/null 2>&1; then
    echo "python-client-env: python3 is not installed" >&2
    exit 1
  fi
  if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ] && [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
    echo "python-client-env: $venv exists and is not a venv; not replacing it" >&2
    exit 1
  fi
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! python3 -m venv "$venv" >&2; then
    echo "python-client-env: 'python3 -m venv $venv' failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
  if ! "$python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2; then
    echo "python-client-env: could not install '$requirement' into $venv (is PyPI reachable?)" >&2
    exit 1
  fi
  if ! ready; then
    echo "python-client-env: '$requirement' was installed into $venv but does not import" >&2
    exit 1
  fi
fi
echo "$python"
