#!/usr/bin/env bash
# Runs each libFuzzer target for N seconds on its seed corpus.
# usage: scripts/run-fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail
build=$1
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
for target in fuzz_record_reader fuzz_checkpoint_reader fuzz_frame_decoder fuzz_content_decoder \
  fuzz_stream_ack fuzz_dispatch fuzz_dispatch_downstream; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  cp -n "$root/tests/fuzz/corpus/$target"/* "$corpus/" 2>/dev/null || true
  echo "== $target for ${seconds}s"
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$build/" "$corpus" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss|==[0-9]+==ERROR|SUMMARY)|Done" || true
  ls "$build"/crash-* "$build"/leak-* 2>/dev/null && { echo "finding in $target"; exit 1; }
done
echo "fuzzers: no findings"
