#!/usr/bin/env bash
# Open-loop timing (bench/RESULTS.md): how late llmload sends each request after its
# intended time (send lag, DESIGN.md §4) at a fixed arrival rate, against the built-in
# simulator. Constant and Poisson arrivals at $RATE requests/s for $DURATION; the simulator
# has room for every request (slots 1024, base latency 20 ms), so lag is llmload's own:
# its timer and its loop. Simulator on CPU $SIM_CPU, client on CPU $CLIENT_CPU; median of
# $RUNS runs per arrival process. DESIGN.md §5 asks for timers "precise to well under 1 ms".
# Usage: bench/bench_openloop.sh   (env: LLMLOAD, RUNS (3), RATE (500), DURATION (20s),
#        SIM_CPU, CLIENT_CPU). Prints one "FIGURE" line per arrival process on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
LLMLOAD=${LLMLOAD:-$root/build/llmload}
RUNS=${RUNS:-3}
RATE=${RATE:-500}
DURATION=${DURATION:-20s}
SIM_CPU=${SIM_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

# need, median, start_sim, stop_sim, sim_cpu_s, timed_run; $tmp; cleanup on exit.
. "$root/bench/lib.sh"

need jq jq
need taskset util-linux
[ -x /usr/bin/time ] || need /usr/bin/time time
[ -x "$LLMLOAD" ] || { echo "bench: no binary at $LLMLOAD (make build, or set LLMLOAD)" >&2; exit 2; }

sim_args=(--slots 1024 --base-latency 20ms --decode-rate 200 --batch-penalty 0 --max-tokens 8)
echo "bench_openloop: $(date -u +%Y-%m-%dT%H:%M:%SZ) $LLMLOAD ($("$LLMLOAD" --version 2>/dev/null | head -1))" >&2
echo "== sim ${sim_args[*]}" >&2
for arrivals in constant poisson; do
    p50s=() p99s=() rates=()
    echo "   llmload run --url URL --rate $RATE --arrivals $arrivals --duration $DURATION --max-tokens 8 --no-tui --autosave 0 --json FILE" >&2
    for i in $(seq "$RUNS"); do
        start_sim "${sim_args[@]}"
        timed_run "$tmp/time" 300 run --url "http://127.0.0.1:$port/v1" --rate "$RATE" \
            --arrivals "$arrivals" --duration "$DURATION" --max-tokens 8 --no-tui --autosave 0 \
            --json "$tmp/r.json" >"$tmp/out" 2>"$tmp/err" || { tail -5 "$tmp/err" >&2; exit 1; }
        stop_sim
        read -r user sys rss wall <"$tmp/time"
        p50=$(jq '.totals.send_lag_ms.p50' "$tmp/r.json")
        p99=$(jq '.totals.send_lag_ms.p99' "$tmp/r.json")
        mx=$(jq '.totals.send_lag_ms.max' "$tmp/r.json")
        ok=$(jq '.totals.requests.ok' "$tmp/r.json")
        achieved=$(jq '.steps[0].achieved.rate' "$tmp/r.json")
        printf '   run %d (%s): %s ok, achieved %s req/s; send lag p50 %s ms, p99 %s ms, max %s ms (llmload user %ss sys %ss)\n' \
            "$i" "$arrivals" "$ok" "$achieved" "$p50" "$p99" "$mx" "$user" "$sys" >&2
        p50s+=("$p50")
        p99s+=("$p99")
        rates+=("$achieved")
    done
    echo "FIGURE openloop-send-lag-$arrivals-$RATE: p50 $(median "${p50s[@]}") ms, p99 $(median "${p99s[@]}") ms (median of $RUNS; runs p99: ${p99s[*]}); achieved $(median "${rates[@]}") req/s of $RATE; goal well under 1 ms"
done
