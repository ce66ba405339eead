#!/usr/bin/env bash
# Workload bodies under open load (bench/RESULTS.md, issue 14): send lag (DESIGN.md §4) at
# $RATE requests/s when every request gets its own drawn length pair — the prompt from
# --input-tokens uniform:64:4096, the answer from --output-tokens uniform:1:64 — written into
# its slot's buffer at send time (engine/workload.c; no allocation). Against the built-in
# simulator with room for every request; simulator on CPU $SIM_CPU, client on $CLIENT_CPU;
# median of $RUNS runs per arrival process. Goal: send lag p99 < 1 ms.
# Usage: bench/bench_workload.sh   (env: LLMLOAD, RUNS (3), RATE (2000), DURATION (20s),
#        SIM_CPU, CLIENT_CPU). Prints one "FIGURE" line per arrival process on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
LLMLOAD=${LLMLOAD:-$root/build/llmload}
RUNS=${RUNS:-3}
RATE=${RATE:-2000}
DURATION=${DURATION:-20s}
SIM_CPU=${SIM_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

# need, median, start_sim, stop_sim, sim_cpu_s, timed_run; $tmp; cleanup on exit.
. "$root/bench/lib.sh"

need jq jq
need taskset util-linux
[ -x /usr/bin/time ] || need /usr/bin/time time
[ -x "$LLMLOAD" ] || { echo "bench: no binary at $LLMLOAD (make build, or set LLMLOAD)" >&2; exit 2; }

sim_args=(--slots 4096 --base-latency 20ms --decode-rate 2000 --batch-penalty 0 --prefill-rate 10000000)
# WORK=classic: the same load with one fixed body per slot (the baseline to compare with)
if [ "${WORK:-}" = classic ]; then
    work=(--prompt-chars 8256 --max-tokens 32 --ignore-eos --seed 1)
else
    work=(--input-tokens uniform:64:4096 --output-tokens uniform:1:64 --ignore-eos --seed 1)
fi
echo "bench_workload: $(date -u +%Y-%m-%dT%H:%M:%SZ) $LLMLOAD" >&2
echo "== sim ${sim_args[*]}" >&2
for arrivals in constant poisson; do
    p50s=() p99s=() rates=()
    echo "   llmload run --url URL --rate $RATE --arrivals $arrivals --duration $DURATION ${work[*]} --no-tui --autosave 0 --json FILE" >&2
    for i in $(seq "$RUNS"); do
        start_sim "${sim_args[@]}"
        timed_run "$tmp/time" 300 run --url "http://127.0.0.1:$port/v1" --rate "$RATE" \
            --arrivals "$arrivals" --duration "$DURATION" "${work[@]}" --no-tui --autosave 0 \
            --json "$tmp/r.json" >"$tmp/out" 2>"$tmp/err" || { tail -5 "$tmp/err" >&2; exit 1; }
        stop_sim
        read -r user sys rss wall <"$tmp/time"
        p50=$(jq '.totals.send_lag_ms.p50' "$tmp/r.json")
        p99=$(jq '.totals.send_lag_ms.p99' "$tmp/r.json")
        mx=$(jq '.totals.send_lag_ms.max' "$tmp/r.json")
        ok=$(jq '.totals.requests.ok' "$tmp/r.json")
        inp=$(jq -c '[.totals.input_tokens.p50, .totals.input_tokens.max]' "$tmp/r.json")
        achieved=$(jq '.steps[0].achieved.rate' "$tmp/r.json")
        printf '   run %d (%s): %s ok, achieved %s req/s; send lag p50 %s ms, p99 %s ms, max %s ms; input p50/max %s (llmload user %ss sys %ss, RSS %s kB)\n' \
            "$i" "$arrivals" "$ok" "$achieved" "$p50" "$p99" "$mx" "$inp" "$user" "$sys" "$rss" >&2
        p50s+=("$p50")
        p99s+=("$p99")
        rates+=("$achieved")
    done
    echo "FIGURE workload${WORK:+-$WORK}-send-lag-$arrivals-$RATE: p50 $(median "${p50s[@]}") ms, p99 $(median "${p99s[@]}") ms (median of $RUNS; runs p99: ${p99s[*]}); achieved $(median "${rates[@]}") req/s of $RATE; goal p99 < 1 ms"
done
