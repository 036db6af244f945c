#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs
# each for SECONDS (default 60) from its seed corpus in tests/fuzz/corpus/.
# For a long run:  scripts/fuzz.sh 36000   (ten hours each), or one target:
#   build-fuzz/tests/fuzz/fuzz_changeset_binary -rss_limit_mb=512 NEW_DIR tests/fuzz/corpus/changeset_binary
# A finding stops the run, leaves crash-* in build-fuzz/findings/ and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
scripts/setup-deps.sh --tests
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DOCOP_FUZZ=ON -DOCOP_BUILD_TESTS=OFF -DOCOP_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-fuzz -j "$(nproc)"
mkdir -p build-fuzz/findings
# The 512 MB limit is for the decoder under test; ASan's quarantine of freed
# memory (256 MB by default) counted against it made fuzz_units_csv cross it
# now and then (487 MB and 525 MB at peak in two runs, no leak: 25 MB live).
# 64 MB of quarantine still catches use-after-free of recent frees.
export ASAN_OPTIONS="quarantine_size_mb=64${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
for corpus in tests/fuzz/corpus/*/; do
  name=$(basename "$corpus")
  work=$(mktemp -d)
  echo "fuzz_$name: ${SECONDS_EACH}s"
  # New inputs go to a scratch directory; the seeds in the repository stay as they are.
  status=0
  build-fuzz/tests/fuzz/"fuzz_$name" -max_total_time="$SECONDS_EACH" -rss_limit_mb=512 -malloc_limit_mb=512 \
    -timeout=10 -print_final_stats=1 -artifact_prefix=build-fuzz/findings/"$name"- "$work" "$corpus" \
    > build-fuzz/findings/"$name".log 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|runtime error|ERROR|SUMMARY" build-fuzz/findings/"$name".log || true
  rm -rf "$work"
  if [[ $status -ne 0 ]] || grep -q "runtime error" build-fuzz/findings/"$name".log; then
    echo "fuzz_$name found a problem (exit $status): see build-fuzz/findings/$name.log"
    exit 1
  fi
done
echo "fuzzing: no findings"
