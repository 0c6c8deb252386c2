#!/usr/bin/env bash
# Runs Skiff's whole test suite on a fresh machine: installs what the tests
# need, then runs every workspace test (unit, property, conformance, end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."

# Property tests run a fixed case budget so CI time is predictable.
export PROPTEST_CASES="${PROPTEST_CASES:-64}"

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi

# The end-to-end tests drive the apiserver with kubectl and with the official
# Kubernetes Python client; install kubectl when missing and set up (once) the
# client's venv, whose python the test reads from SKIFF_PYTHON.
if ! command -v kubectl >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null
fi
# When the venv cannot be set up, SKIFF_PYTHON stays unset and the Python
# client's test fails with the reason, while the other tests still run.
if SKIFF_PYTHON="$(scripts/python-client-env.sh)"; then
  export SKIFF_PYTHON
else
  echo "test.sh: the Python client's venv could not be set up; its end-to-end test will fail" >&2
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
# Doc tests are not run by nextest; they run first so nextest's summary closes the log.
cargo test --workspace --doc --quiet
cargo nextest run --workspace --no-fail-fast "$@"
