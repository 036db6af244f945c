#!/usr/bin/env bash
# Runs every benchmark: the micro benchmarks (Google Benchmark) and the
# end-to-end sync benchmark (real ocopd on loopback, real clients). Prints the
# figures the README's table is made from. Takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
OCOP_BUILD_TYPE=Release OCOP_BUILD_DIR=build-release scripts/build.sh --target micro_bench compression_bench sync_bench ocop ocopd
echo "== micro benchmarks"
build-release/bench/micro_bench --benchmark_min_time=0.2
echo
echo "== compression of 10,000 forms (compression_bench)"
build-release/bench/compression_bench
echo
echo "== end to end (sync_bench $*)"
build-release/bench/sync_bench "$@"
