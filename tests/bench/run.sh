#!/usr/bin/env bash
# Runs patrolchat's benchmarks: installs what they need, builds the release
# `patrolchat` binary they drive and the benchmark itself, then runs it.
#
#   tests/bench/run.sh                 # every benchmark, one table
#   tests/bench/run.sh ingest          # one benchmark
#   tests/bench/run.sh ingest --seconds 20 --in-flight 1024
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

deploy/install-deps.sh
# Both binaries, each named with its package (a bare --bin would look in the
# bench package only).
cargo build --release -p patrolchat --bin patrolchat -p patrolchat-bench --bin patrolchat-bench
exec target/release/patrolchat-bench "${@:-all}"
