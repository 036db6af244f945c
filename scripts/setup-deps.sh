#!/usr/bin/env bash
# Installs the Debian 12 packages the build needs, if any is missing.
set -euo pipefail
PKGS=(build-essential cmake pkg-config libpoco-dev libsqlite3-dev libcurl4-openssl-dev libcereal-dev
      libgtest-dev libbenchmark-dev libutf8proc-dev zlib1g-dev libzstd-dev libpq-dev libssl-dev sqlite3 curl openssl
      clang libclang-rt-14-dev
      chromium chromium-driver python3-selenium fonts-dejavu-core iproute2 util-linux
      firefox-esr python3-websocket postgresql haproxy)
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
