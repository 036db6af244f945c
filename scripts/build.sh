#!/usr/bin/env bash
# Configures and builds into build/ (or $OCOP_BUILD_DIR), in parallel, through
# ccache when it is installed. OCOP_BUILD_TESTS=OFF / OCOP_BUILD_BENCH=OFF leave
# out the test and benchmark programs (and the packages they need).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${OCOP_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${OCOP_BUILD_TYPE:-RelWithDebInfo}" \
  -DOCOP_WERROR="${OCOP_WERROR:-OFF}" -DOCOP_SANITIZE="${OCOP_SANITIZE:-OFF}" \
  -DOCOP_BUILD_TESTS="${OCOP_BUILD_TESTS:-ON}" -DOCOP_BUILD_BENCH="${OCOP_BUILD_BENCH:-ON}" > /dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" "$@"
