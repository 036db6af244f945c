#!/usr/bin/env bash
# ocop and Yjs side by side in one run, on the same 10,000 forms: sync_bench
# pushes and pulls them through ocopd (durable), then writes them out
# (--dump-forms) and bench/peers/yjs/yjs_sync.js sends them through Yjs 13 and
# y-websocket's in-memory server (not durable). Needs Node.js and npm (the
# npm registry, once, for Yjs). Prints both sets of figures.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "bench-peers: needs node and npm (apt-get install nodejs npm)" >&2
    exit 1
  fi
fi
(cd bench/peers/yjs && npm ci --no-audit --no-fund --silent)
OCOP_BUILD_TYPE=Release OCOP_BUILD_DIR=build-release scripts/build.sh --target sync_bench ocop ocopd
forms="$(mktemp /tmp/ocop-forms-XXXXXX.jsonl)"
trap 'rm -f "$forms"' EXIT
runs="${RUNS:-3}"
for ((i = 1; i <= runs; i++)); do
  echo "== run $i: ocop (sync_bench, SQLite, synchronous=FULL)"
  build-release/bench/sync_bench --forms 10000 --clients 2 --per-client 10 --big 0 --dump-forms "$forms" |
    grep -E -A2 '^(push|pull) 10000'
  echo "== run $i: Yjs 13 + y-websocket 1.5 (in memory), the same forms"
  node bench/peers/yjs/yjs_sync.js "$forms"
done
