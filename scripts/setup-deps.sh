#!/usr/bin/env bash
# Installs the Debian 12 packages that are missing, as root or through sudo.
#   scripts/setup-deps.sh           what building ocop/ocopd and running them needs
#   scripts/setup-deps.sh --tests   that, and the tools of the test suite and the
#                                   fuzzers (browsers, PostgreSQL, HAProxy, nginx, clang)
# The test tools stay off a machine that only serves: Debian's postgresql
# package, for one, starts a database server of its own where systemd runs.
set -euo pipefail
# emscripten and node-acorn compile the phone app's rules to WebAssembly
# (scripts/build-app-core.sh, which also fetches Poco's and utf8proc's Debian
# source packages once; bzip2 unpacks Poco's).
BUILD=(build-essential cmake pkg-config ccache libpoco-dev libsqlite3-dev libcurl4-openssl-dev libcereal-dev
       libutf8proc-dev zlib1g-dev libzstd-dev libpq-dev libssl-dev sqlite3 curl openssl ca-certificates
       emscripten node-acorn bzip2)
TESTS=(libgtest-dev libbenchmark-dev clang libclang-rt-14-dev
       chromium chromium-driver python3-selenium fonts-dejavu-core iproute2 util-linux
       firefox-esr python3-websocket postgresql haproxy nginx-light python3-openpyxl tmux)
PKGS=("${BUILD[@]}")
case "${1:-}" in
  "") ;;
  --tests) PKGS+=("${TESTS[@]}") ;;
  *) echo "usage: scripts/setup-deps.sh [--tests]" >&2; exit 2 ;;
esac
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "Installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
