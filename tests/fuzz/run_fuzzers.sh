#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang and runs each for a bounded time on a copy of
# its committed seed corpus. A crash fails the test and leaves its input in the work folder
# (crash-*): add it to tests/fuzz/corpus/<harness>/ and as a regression test.
# usage: run_fuzzers.sh BUILD_DIR [SECONDS_EACH]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath -m "$1")
seconds=${2:-60}
command -v clang++ >/dev/null || { echo "SKIP: clang++ is not installed (packaging/quickstart installs it)"; exit 77; }
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
if ! cmake --build "$build" >"$build/build.log" 2>&1; then
  echo "FAILED: the harnesses do not build:"; grep -E "error|undefined" "$build/build.log" | head -20; exit 1
fi
status=0
for harness in fuzz_config fuzz_grid fuzz_run_folder fuzz_run_mutations fuzz_http_request; do
  work="$build/work-$harness"
  rm -rf "$work" && mkdir -p "$work/corpus"
  cp "$here/corpus/${harness#fuzz_}"/* "$work/corpus/"
  # Inputs up to 64 KiB; each run bounded in time and memory.
  if (cd "$work" && "$build/$harness" corpus -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >log.txt 2>&1); then
    echo "$harness: $(grep -E '^stat::number_of_executed_units' "$work/log.txt" | awk '{print $2}') inputs in ${seconds} s, no crash"
  else
    echo "$harness: FAILED"; tail -40 "$work/log.txt"; status=1
  fi
done
exit $status
