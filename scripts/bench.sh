#!/usr/bin/env bash
# Runs every benchmark: the micro benchmarks (Google Benchmark) and the
# end-to-end sync benchmark (real ocopd on loopback, real clients). Prints the
# figures the README's table is made from, on both store engines. Takes a few
# minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh --tests
OCOP_BUILD_TYPE=Release OCOP_BUILD_DIR=build-release scripts/build.sh --target micro_bench compression_bench sync_bench ocop ocopd
echo "== micro benchmarks"
build-release/bench/micro_bench --benchmark_min_time=0.2
echo
echo "== compression of 10,000 forms (compression_bench)"
build-release/bench/compression_bench
echo
echo "== end to end on the embedded SQLite store (sync_bench $*)"
build-release/bench/sync_bench "$@"
# The same on PostgreSQL (store.engine = postgresql): a throwaway cluster with
# fsync on, on a Unix socket, removed afterwards.
PG_DIR="/tmp/ocop-bench-pg-$$"
trap 'tests/support/pg_cluster.sh stop "$PG_DIR"' EXIT
OCOP_PG_DURABLE=1 tests/support/pg_cluster.sh start "$PG_DIR" >/dev/null
if [[ -f "$PG_DIR/conninfo" ]]; then
  psql "$(cat "$PG_DIR/conninfo") dbname=postgres" -qc "CREATE DATABASE bench"
  echo
  echo "== end to end on PostgreSQL (sync_bench $* --postgresql ...)"
  build-release/bench/sync_bench "$@" --postgresql "$(cat "$PG_DIR/conninfo") dbname=bench"
else
  echo "PostgreSQL is not installed: no PostgreSQL column"
fi
