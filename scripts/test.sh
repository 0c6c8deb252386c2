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

cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
# Doc tests are not run by nextest; they run first so nextest's summary closes the log.
cargo test --workspace --doc --quiet
cargo nextest run --workspace --no-fail-fast "$@"
