#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR` runs initdb and
# pg_ctl from Debian's packages in DIR, listening only on a Unix socket in DIR
# (no TCP port at all), and writes DIR/conninfo; `stop DIR` stops it and
# removes DIR. Where PostgreSQL is not installed, `start` says so, writes no
# conninfo, and the PostgreSQL tests skip with that message.
# As root (CI), the server runs as the `postgres` account, which initdb needs.
# OCOP_PG_DURABLE=1 keeps fsync on (benchmarks, trials); tests turn it off.
set -euo pipefail
cmd="${1:?start|stop}" dir="${2:?directory}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
as=()
if [[ $(id -u) -eq 0 ]]; then as=(runuser -u postgres --); fi

stop() {
  if [[ -n "$bin" && -f "$dir/data/postmaster.pid" ]]; then
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "$cmd" in
  start)
    stop
    if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
      echo "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): the PostgreSQL tests will be skipped"
      exit 0
    fi
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U ocop -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log"; exit 1; }
    # fsync off: a test cluster is thrown away; durability is PostgreSQL's own
    # business and not what these tests check. The benchmark runs with it on.
    durability="-c fsync=off -c full_page_writes=off"
    if [[ "${OCOP_PG_DURABLE:-0}" == "1" ]]; then durability=""; fi
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -c listen_addresses= -c max_connections=300 $durability" start >/dev/null ||
      { cat "$dir/server.log"; exit 1; }
    echo "host=$dir port=5432 user=ocop" >"$dir/conninfo"
    chmod 644 "$dir/conninfo"
    echo "PostgreSQL for the tests: $(cat "$dir/conninfo")"
    ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
