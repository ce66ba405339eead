#!/bin/sh
# SSE parsing + chunk decoding throughput on one core (bench/RESULTS.md).
# Usage: bench/parser_bench.sh [runs] [feed_bytes]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-proto-rel"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLM_WERROR=OFF >/dev/null
cmake --build "$build" -j2 --target parser_bench >/dev/null
exec taskset -c 0 "$build/parser_bench" "${1:-5}" "${2:-4096}"
