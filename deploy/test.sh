#!/usr/bin/env bash
# Installs what the tests need and runs them all, against real nats-server
# and redis-server processes that each test starts on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
# The dashboard: its unit tests and size budget, and the build the api's
# browser tests load.
deploy/build-dashboard.sh --test
export PATH="$PWD/.venv/bin:$PATH"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --all-targets
# The parsers' fuzz targets, a short bounded run each (fuzz/README.md).
fuzz/run.sh 20
