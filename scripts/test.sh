#!/usr/bin/env bash
# Sets up (if needed), builds, and runs every test through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
if [[ "${OCOP_SANITIZE:-OFF}" == "ON" ]]; then export OCOP_BUILD_DIR="${OCOP_BUILD_DIR:-build-asan}"; fi
scripts/build.sh
ctest --test-dir "${OCOP_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" --timeout 600
