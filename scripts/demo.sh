#!/usr/bin/env bash
# The main job: set up, build, and run the server on its embedded SQLite store
# with a first administrator account, so a first user can log in.
#   OCOPD_PORT (default 8080), OCOPD_DATA (default ./ocopd-data),
#   OCOP_ADMIN_PASSWORD (default: a random one, printed once).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh            # the build's packages only (no browsers, no database server)
OCOP_BUILD_TESTS=OFF OCOP_BUILD_BENCH=OFF scripts/build.sh --target ocop ocopd
BIN=build/server/ocopd
DATA="${OCOPD_DATA:-ocopd-data}"
if [[ ! -f "$DATA/ocopd.db" ]] || ! sqlite3 "$DATA/ocopd.db" "SELECT 1 FROM users WHERE name='admin'" 2>/dev/null | grep -q 1; then
  PW="${OCOP_ADMIN_PASSWORD:-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')}"
  echo "$PW" | "$BIN" --data-dir "$DATA" --add-user admin --role admin --unit 26
  echo "First user: admin  password: $PW   (province 26, Vĩnh Phúc sample units)"
  echo "Console: http://127.0.0.1:${OCOPD_PORT:-8080}/console/"
fi
exec "$BIN" --data-dir "$DATA" --port "${OCOPD_PORT:-8080}" "$@"
