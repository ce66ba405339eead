#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that read server bytes (DESIGN §11): the SSE
# parser, the chunk decoder and the /metrics reader, each a libFuzzer target built with
# clang and ASan + UBSan, seeded with the recorded streams. Not part of `make test` (it
# needs clang and minutes); results go in bench/RESULTS.md.
# Usage: tests/fuzz/run.sh [SECONDS per target (60)] [TARGET...]   env: FUZZ_DIR (corpus +
# artifacts; default a temporary directory). Exit 1 when a target finds a failure; the input
# that shows it is left in FUZZ_DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sse chunk prom)
command -v clang >/dev/null || { echo "fuzz: needs clang (apt-get install clang)" >&2; exit 2; }
dir=${FUZZ_DIR:-$(mktemp -d /tmp/llmload-fuzz.XXXXXX)}
mkdir -p "$dir"
jsmn=$(dirname "$(find /usr/include /usr/local/include -name jsmn.h 2>/dev/null | head -1)")
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I"$root/src" -I"$jsmn")
declare -A src=([sse]=src/proto/sse.c [chunk]=src/proto/chunk.c [prom]=src/proto/prom.c)
declare -A seeds=([sse]="tests/data/llama.cpp/*.sse tests/data/streams/*"
                  [chunk]="tests/data/llama.cpp/*.json"
                  [prom]="tests/data/llama.cpp/metrics.prom")
status=0
for t in "${targets[@]}"; do
    bin="$dir/fuzz_$t"
    clang "${flags[@]}" -o "$bin" "$root/tests/fuzz/fuzz_$t.c" "$root/${src[$t]}" -lm
    corpus="$dir/corpus_$t"
    mkdir -p "$corpus"
    for f in ${seeds[$t]}; do [ -f "$root/$f" ] && cp "$root/$f" "$corpus/"; done
    log="$dir/fuzz_$t.log"
    if "$bin" "$corpus" -max_total_time="$secs" -max_len=65536 -artifact_prefix="$dir/$t-" \
        -print_final_stats=1 >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "FUZZ $t: $runs runs in ${secs}s, $cov, corpus $(ls "$corpus" | wc -l) inputs, no failure"
    else
        echo "FUZZ $t: FAILED — see $log and $dir/$t-*" >&2
        status=1
    fi
done
exit $status
