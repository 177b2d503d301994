#!/usr/bin/env bash
# Builds the fuzz targets and runs each one for a bounded time. Exits
# non-zero as soon as a target finds an input that breaks one of its
# properties; the input is saved under fuzz/artifacts/<target>/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 25); TARGET defaults to all of them. Seeds are
# read from fuzz/corpus/<target>/ (committed, never written); what the run
# learns goes to fuzz/work/<target>/ (ignored by git), which later runs
# start from. Needs cargo-fuzz (deploy/install-deps.sh) and the nightly
# toolchain. fuzz/README.md tells how to run longer.
set -euo pipefail
fuzz="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz"

secs="${1:-25}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=(sse_framing replay_roundtrip feed_event workflows)
fi

# The code is safe Rust (unsafe_code is forbidden): no sanitizer, so the
# build is cheaper and each run faster; panics and failed assertions are
# what the targets report. Debug assertions and overflow checks stay on.
build=(--sanitizer none --debug-assertions)

start=$SECONDS
cargo +nightly fuzz build "${build[@]}"
echo "fuzz: built ${#targets[@]} targets in $((SECONDS - start)) s"

for t in "${targets[@]}"; do
    mkdir -p "work/$t" "artifacts/$t"
    dict=()
    [ -f "dict/$t.dict" ] && dict=("-dict=dict/$t.dict")
    echo "fuzz: $t for $secs s"
    # grep only hides libFuzzer's progress lines; the fuzzer's status decides.
    set +e
    cargo +nightly fuzz run "${build[@]}" "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -print_final_stats=1 "${dict[@]}" 2>&1 |
        grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|INFO: seed corpus|==[0-9]+== ERROR|SUMMARY|thread .* panicked|artifact_prefix|Test unit written)|^ *(left|right):|assertion'
    status="${PIPESTATUS[0]}"
    set -e
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $t FAILED (exit $status); the input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
echo "fuzz: ${#targets[@]} targets passed, $secs s each, $((SECONDS - start)) s in all"
