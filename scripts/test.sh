#!/usr/bin/env bash
# Sets up (if needed), builds, and runs every test through CTest.
# Under CI (CI=true) warnings are errors and the tests run with ASan and UBSan;
# set OCOP_WERROR / OCOP_SANITIZE to choose yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh --tests
if [[ "${CI:-}" == "true" ]]; then
  export OCOP_WERROR="${OCOP_WERROR:-ON}" OCOP_SANITIZE="${OCOP_SANITIZE:-ON}"
fi
if [[ "${OCOP_SANITIZE:-OFF}" == "ON" ]]; then export OCOP_BUILD_DIR="${OCOP_BUILD_DIR:-build-asan}"; fi
build_start=$SECONDS
scripts/build.sh
echo "test.sh: built in $((SECONDS - build_start)) s"
ctest --test-dir "${OCOP_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" --timeout 600
