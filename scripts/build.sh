#!/usr/bin/env bash
# Configures and builds into build/ (or $OCOP_BUILD_DIR), in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${OCOP_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${OCOP_BUILD_TYPE:-RelWithDebInfo}" \
  -DOCOP_WERROR="${OCOP_WERROR:-OFF}" -DOCOP_SANITIZE="${OCOP_SANITIZE:-OFF}" > /dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" "$@"
