#!/usr/bin/env bash
# Soak memory: llmload's RSS sampled every 10 s through a steady closed-loop run against the
# simulator; flat RSS after the first samples means memory is bounded (DESIGN §1: an 8-hour
# soak keeps memory flat). Usage: bench/bench_soak.sh [SECONDS (120)]  (env: LLMLOAD,
# SIM_CPU, CLIENT_CPU). Prints the samples and one FIGURE line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
LLMLOAD=${LLMLOAD:-$root/build/llmload}
SIM_CPU=${SIM_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SECONDS_RUN=${1:-120}
# need, median, start_sim, stop_sim, sim_cpu_s, timed_run; $tmp; cleanup on exit.
. "$root/bench/lib.sh"
[ -x "$LLMLOAD" ] || { echo "bench: no binary at $LLMLOAD (make build, or set LLMLOAD)" >&2; exit 2; }

start_sim --slots 128 --decode-rate 1000 --batch-penalty 0 --base-latency 5ms --max-tokens 64
taskset -c "$CLIENT_CPU" "$LLMLOAD" run --url "http://127.0.0.1:$port/v1" -c 64 \
    --duration "${SECONDS_RUN}s" --max-tokens 64 --no-tui --autosave 30s --out "$tmp" \
    >"$tmp/summary.txt" 2>"$tmp/progress.txt" &
pid=$!
samples=()
for _ in $(seq $((SECONDS_RUN / 10 - 1))); do
    sleep 10
    kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    samples+=("$kb")
    echo "  t+${#samples[@]}0s RSS ${kb} kB"
done
wait "$pid"
ok=$(sed -n 's/^requests *\([0-9]*\) ok.*/\1/p' "$tmp/summary.txt")
first=${samples[1]:-0}
last=${samples[-1]}
echo "FIGURE soak-rss: ${#samples[@]} samples over ${SECONDS_RUN}s, $ok requests; RSS at 20 s ${first} kB, at end ${last} kB (growth $((last - first)) kB)"
