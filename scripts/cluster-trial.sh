#!/usr/bin/env bash
# A trial of the several-server deployment on one machine (docs/deploy/cluster.md):
# a PostgreSQL cluster, N ocopd on it (default 2), and HAProxy in front on
# :8080 checking every ocopd's /healthz. Prints the admin password the first
# time. Ctrl-C (or SIGTERM) stops everything; the data stays in the trial
# directory for the next start.
#   OCOP_TRIAL_DIR (default ./ocop-cluster), OCOP_REPLICAS (default 2),
#   OCOPD_PORT (the balancer, default 8080; replicas use the next ports),
#   OCOP_ADMIN_PASSWORD (default: a random one, printed once).
#   --smoke: start everything, check a login and a sync through the balancer
#   with one replica killed, stop, and exit (no keyboard needed).
set -euo pipefail
cd "$(dirname "$0")/.."
SMOKE=0
[[ "${1:-}" == "--smoke" ]] && SMOKE=1
scripts/setup-deps.sh --tests
scripts/build.sh >/dev/null
ROOT="$(pwd)"
DIR="$(realpath -m "${OCOP_TRIAL_DIR:-ocop-cluster}")"
N="${OCOP_REPLICAS:-2}"
LB_PORT="${OCOPD_PORT:-8080}"
OCOPD="$ROOT/build/server/ocopd"
OCOP="$ROOT/build/client/ocop"
[[ "$N" =~ ^[1-9]$ ]] || { echo "OCOP_REPLICAS must be 1 to 9" >&2; exit 2; }
mkdir -p "$DIR"
PG="$DIR/pg"  # socket path: keep the directory name short (107 bytes at most)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # Stop PostgreSQL but keep its data for the next trial.
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  as=(); [[ $(id -u) -eq 0 ]] && as=(runuser -u postgres --)
  "${as[@]}" "$bin/pg_ctl" -D "$PG/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as=(); [[ $(id -u) -eq 0 ]] && as=(runuser -u postgres --)
if [[ -f "$PG/data/PG_VERSION" ]]; then
  "${as[@]}" "$bin/pg_ctl" -D "$PG/data" -l "$PG/server.log" -w -o "-k $PG -c listen_addresses=" start >/dev/null
else
  OCOP_PG_DURABLE=1 tests/support/pg_cluster.sh start "$PG"
fi
BASE="host=$PG port=5432 user=ocop"
if ! psql "$BASE dbname=postgres" -Atc "SELECT 1 FROM pg_database WHERE datname='ocop'" | grep -q 1; then
  psql "$BASE dbname=postgres" -qc "CREATE DATABASE ocop"
fi
CONF="$DIR/ocopd.properties"
cat >"$CONF" <<CFG
# Written by scripts/cluster-trial.sh: every replica reads the same file.
store.engine = postgresql
store.postgresql = $BASE dbname=ocop
store.pool_size = 8
files.dir = $DIR/shared
log.level = warning
CFG

if ! psql "$BASE dbname=ocop" -Atc "SELECT 1 FROM users WHERE name='admin'" 2>/dev/null | grep -q 1; then
  PW="${OCOP_ADMIN_PASSWORD:-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')}"
  echo "$PW" | "$OCOPD" --config "$CONF" --add-user admin --role admin --unit 26 >/dev/null
  echo "First user: admin  password: $PW   (province 26, Vĩnh Phúc sample units)"
fi

HAP="$DIR/haproxy.cfg"
{
  echo "global"
  echo "  maxconn 4000"
  echo "defaults"
  echo "  mode http"
  echo "  timeout connect 2s"
  echo "  timeout client 120s"
  echo "  timeout server 120s"
  echo "  retries 3"
  echo "  option redispatch"
  echo "frontend ocop"
  echo "  bind 127.0.0.1:$LB_PORT"
  echo "  default_backend ocopd"
  echo "backend ocopd"
  echo "  balance leastconn"
  echo "  option httpchk GET /healthz"
  echo "  http-check expect status 200"
  echo "  default-server inter 1s fall 2 rise 2"
  for i in $(seq 1 "$N"); do echo "  server ocopd$i 127.0.0.1:$((LB_PORT + i)) check"; done
} >"$HAP"

for i in $(seq 1 "$N"); do
  "$OCOPD" --config "$CONF" --data-dir "$DIR/ocopd$i" --port $((LB_PORT + i)) --log-file "$DIR/ocopd$i.log" \
    >"$DIR/ocopd$i.out" 2>&1 &
  pids+=($!)
done
/usr/sbin/haproxy -f "$HAP" -db >"$DIR/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$LB_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$LB_PORT/healthz" >/dev/null || { echo "the balancer does not answer; see $DIR/*.log" >&2; exit 1; }
echo "ocopd ×$N on PostgreSQL behind HAProxy: http://127.0.0.1:$LB_PORT  (console: /console/)"
echo "replicas: $(for i in $(seq 1 "$N"); do printf '127.0.0.1:%s ' $((LB_PORT + i)); done)  data: $DIR"

if [[ "$SMOKE" == "1" ]]; then
  # An officer's device records forms and syncs through the balancer; one
  # replica dies without a word; the device records and syncs again.
  H="$DIR/smoke-device"
  rm -rf "$H"
  if ! psql "$BASE dbname=ocop" -Atc "SELECT 1 FROM users WHERE name='thu_thu'" | grep -q 1; then
    echo "matkhau123" | "$OCOPD" --config "$CONF" --add-user thu_thu --role officer --unit 08800 >/dev/null
  fi
  idea() {
    "$OCOP" --home "$H" new idea --set subject_name="HTX $1" --set subject_kind=cooperative \
      --set product_name="$1" --set product_group=1 --set description="Sản phẩm của xã" >/dev/null
  }
  "$OCOP" --home "$H" init --commune 08800 --server "http://127.0.0.1:$LB_PORT" >/dev/null
  echo "matkhau123" | "$OCOP" --home "$H" login --user thu_thu --password-stdin >/dev/null
  idea "Ổi Đôn Nhân"
  "$OCOP" --home "$H" sync
  kill -9 "${pids[0]}"
  idea "Mật ong Đôn Nhân"
  "$OCOP" --home "$H" sync
  "$OCOP" --home "$H" status
  n=$(psql "$BASE dbname=ocop" -Atc "SELECT count(*) FROM records WHERE unit = '08800'")
  echo "smoke: replica 1 killed; the device synced through the others; the server holds $n forms of 08800"
  exit 0
fi
echo "Ctrl-C stops the trial."
wait -n "${pids[@]}" || true
echo "a process of the trial stopped; see $DIR/*.log" >&2
