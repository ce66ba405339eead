#!/usr/bin/env bash
# sim_bench: how many SSE token events per second `llmload sim` sends on ONE core while
# 1,000 concurrent streams are open. The simulator runs pinned to core 0; h2load (from
# nghttp2-client), an independent HTTP/1.1 client, runs pinned to core 1.
#
# usage: bench/sim_bench.sh [BUILD_DIR] [RUNS]     (default: build, 3)
# env:   CONNS (1000), TOKENS per stream (2000), REQS per connection (3), DECODE tok/s per
#        stream (1000; raise it to find the ceiling), PORT (18431)
#
# Builds nothing: expects BUILD_DIR/llmload (a RelWithDebInfo build). Prints one line per
# run and the median. Token events = the delta of llmload_sim:generation_tokens_total on
# /metrics over h2load's wall time; CPU = the sim's utime+stime over the same span.
set -euo pipefail

BUILD=${1:-build}
RUNS=${2:-3}
CONNS=${CONNS:-1000}
TOKENS=${TOKENS:-2000}
REQS=${REQS:-3}
PORT=${PORT:-18431}
DECODE=${DECODE:-1000}
BIN="$BUILD/llmload"

[ -x "$BIN" ] || { echo "sim_bench: $BIN not found: build first (cmake --build $BUILD)" >&2; exit 2; }
command -v h2load >/dev/null || { echo "sim_bench: h2load missing: apt-get install nghttp2-client" >&2; exit 2; }
command -v taskset >/dev/null || { echo "sim_bench: taskset missing (util-linux)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK=$(mktemp -d)
SIM_PID=
cleanup() {
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

printf '{"model":"llmload-sim","messages":[{"role":"user","content":"Write a long story."}],"max_tokens":%d,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}' \
    "$TOKENS" >"$WORK/body.json"

metric() { # the value of one counter on /metrics
    curl -s "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
cpu_ticks() { # utime + stime of the sim, in clock ticks
    awk '{ print $14 + $15 }' "/proc/$SIM_PID/stat"
}

taskset -c 0 "$BIN" sim --port "$PORT" --slots "$CONNS" --decode-rate "$DECODE" --base-latency 0 \
    --batch-penalty 0 --max-tokens "$TOKENS" --quiet >"$WORK/sim.out" 2>&1 &
SIM_PID=$!
for _ in $(seq 50); do grep -q listening "$WORK/sim.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$WORK/sim.out" || { cat "$WORK/sim.out" >&2; exit 1; }

HZ=$(getconf CLK_TCK)
N=$((CONNS * REQS))
rates=()
for run in $(seq "$RUNS"); do
    tok0=$(metric llmload_sim:generation_tokens_total)
    cpu0=$(cpu_ticks)
    t0=$(date +%s.%N)
    taskset -c 1 h2load --h1 -c "$CONNS" -n "$N" -d "$WORK/body.json" \
        -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/v1/chat/completions" \
        >"$WORK/h2load.$run" 2>&1
    t1=$(date +%s.%N)
    cpu1=$(cpu_ticks)
    tok1=$(metric llmload_sim:generation_tokens_total)
    ok=$(awk '/^requests:/ { print $8 }' "$WORK/h2load.$run")
    line=$(awk -v t0="$t0" -v t1="$t1" -v a="$tok0" -v b="$tok1" -v c0="$cpu0" -v c1="$cpu1" \
        -v hz="$HZ" -v ok="$ok" 'BEGIN {
            s = t1 - t0; printf "%.0f %.2f %d %.0f %s", (b - a) / s, s, b - a,
                100 * (c1 - c0) / hz / s, ok }')
    read -r rate secs toks cpu okreq <<<"$line"
    echo "run $run: $rate token events/s  ($toks tokens in $secs s, $okreq/$N streams ok, sim CPU $cpu %)"
    rates+=("$rate")
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "median: $median token events/s with $CONNS concurrent streams, sim on one core"
