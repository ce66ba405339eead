#!/usr/bin/env bash
# Figure 2 (bench/RESULTS.md): 5,000 concurrent streams from one llmload process
# against the built-in simulator. Reports the TTFT overhead over the TTFT the simulator
# injects (base latency + prompt_tokens / prefill rate; the sim's slots >= concurrency, so
# no queueing), p50 and p99; llmload's peak RSS (GNU time, max RSS of the llmload process);
# and the snapshot's lost_events. Simulator on CPU $SIM_CPU, client on CPU $CLIENT_CPU,
# median of $RUNS runs per decode rate.
# Streams are desynchronised: the sim draws each output length from a geometric
# distribution with mean 5 s of decoding (--mean-output = 5 x rate, no --ignore-eos), so
# requests end and restart at random times instead of 5,000 at once; the first 5,000
# requests (the connection wave) are a --warmup and are left out of the percentiles (WARMUP
# sets another count: step 1's first requests start once the warm-up's are all sent, so
# with 10,000 streams and a warm-up of 10,000 they start inside the connection wave, whose
# turbulence lasts ~2 s; WARMUP=20000 measures the steady state only).
# CPU per token = llmload's user + sys over the tokens the simulator generated (its /metrics
# counter, warm-up included, read before it stops), to compare the cost at CONC streams
# with the cost at 256. Two shares of the overhead are printed as well: the simulator's own
# lateness (the p99 of the prefill it reports with --timings, less the injected TTFT) and
# llmload's own overhead per request (its TTFT minus that prefill: what is left is the client
# and the loopback).
# Usage: bench/bench_scale.sh [RATE...]   (decode rates in tok/s per stream; default "20 5")
#        env: LLMLOAD, RUNS, CONC (5000), DURATION (40s), BASE_MS (50), PREFILL (5000),
#        SIM_CPU, CLIENT_CPU (a taskset list: "1", or "0,1" for THREADS > 1),
#        THREADS (--threads; default 1), FD_SLACK (open files beyond CONC; default 1024:
#        lower it to run near a hard `ulimit -n`), MEAN (the sim's mean output; default
#        5 s of tokens at RATE), MAXT (--max-tokens; default 40 s of tokens), EXTRA (more
#        options for llmload run, split at spaces), WARMUP (default CONC). Prints one
#        "FIGURE" line per rate.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
LLMLOAD=${LLMLOAD:-$root/build/llmload}
RUNS=${RUNS:-3}
CONC=${CONC:-5000}
WARMUP=${WARMUP:-$CONC}
DURATION=${DURATION:-40s}
BASE_MS=${BASE_MS:-50}
PREFILL=${PREFILL:-5000}
SIM_CPU=${SIM_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
THREADS=${THREADS:-1}
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(20 5)

# need, median, start_sim, stop_sim, sim_cpu_s, timed_run; $tmp; cleanup on exit.
. "$root/bench/lib.sh"

need jq jq
need taskset util-linux
need curl curl
[ -x /usr/bin/time ] || need /usr/bin/time time
[ -x "$LLMLOAD" ] || { echo "bench: no binary at $LLMLOAD (make build, or set LLMLOAD)" >&2; exit 2; }

# Both the simulator and llmload need one descriptor per connection, plus slack.
want=$((CONC + ${FD_SLACK:-1024}))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
    ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$want" ] ||
    { echo "bench: ulimit -n is $(ulimit -n), need $want (raise the hard limit)" >&2; exit 2; }

scale() { # scale RATE
    local rate=$1 i p50s=() p99s=() own99s=() rsss=() losts=() cpus=() uspt=()
    local mean=${MEAN:-$((rate * 5))} maxt=${MAXT:-$((rate * 40))}
    # --timings: the simulator reports each request's actual prefill (llama.cpp's `timings`),
    # so llmload's per-request client overhead leaves out the simulator's own lateness.
    local sim_args=(--slots "$CONC" --decode-rate "$rate" --batch-penalty 0
        --base-latency "${BASE_MS}ms" --prefill-rate "$PREFILL" --mean-output "$mean" --timings)
    echo "== figure 2, $CONC streams at $rate tok/s: sim ${sim_args[*]}" >&2
    echo "   llmload run --url http://127.0.0.1:PORT/v1 -c $CONC --duration $DURATION --warmup $WARMUP --max-tokens $maxt --threads $THREADS --no-tui --autosave 0 --json FILE" >&2
    for i in $(seq "$RUNS"); do
        start_sim "${sim_args[@]}"
        timed_run "$tmp/time" 300 run --url "http://127.0.0.1:$port/v1" -c "$CONC" \
            --duration "$DURATION" --warmup "$WARMUP" --max-tokens "$maxt" --threads "$THREADS" \
            --no-tui --autosave 0 --json "$tmp/r.json" ${EXTRA:-} >"$tmp/out" 2>"$tmp/err" ||
            { tail -5 "$tmp/err" >&2; exit 1; }
        local simcpu gen
        simcpu=$(sim_cpu_s)
        gen=$(curl -s "http://127.0.0.1:$port/metrics" |
            awk '$1 == "llmload_sim:generation_tokens_total" {print $2}')
        stop_sim
        read -r user sys rss wall <"$tmp/time"
        local ok failed prompt lost t50 t99 injected o50 o99 tps
        ok=$(jq '.totals.requests.ok' "$tmp/r.json")
        failed=$(jq '.totals.requests.failed' "$tmp/r.json")
        prompt=$(jq '.totals.tokens.prompt' "$tmp/r.json")
        lost=$(jq '.lost_events' "$tmp/r.json")
        tps=$(jq '.totals.tps' "$tmp/r.json")
        t50=$(jq '.totals.ttft_ms.p50' "$tmp/r.json")
        t99=$(jq '.totals.ttft_ms.p99' "$tmp/r.json")
        # every request carries the same prompt length, so the injected TTFT is one number
        injected=$(awk -v b="$BASE_MS" -v p="$prompt" -v n="$ok" -v r="$PREFILL" \
            'BEGIN {printf "%.3f", b + (p / n) / r * 1000}')
        o50=$(awk -v t="$t50" -v j="$injected" 'BEGIN {printf "%.2f", t - j}')
        o99=$(awk -v t="$t99" -v j="$injected" 'BEGIN {printf "%.2f", t - j}')
        # llmload's own share: per request, its TTFT minus the simulator's actual prefill
        local own50 own99
        own50=$(jq '.totals.client_overhead_ms.ttft.p50 // "n/a"' "$tmp/r.json")
        own99=$(jq '.totals.client_overhead_ms.ttft.p99 // "n/a"' "$tmp/r.json")
        # The simulator's own lateness in the step window: its reported prefill (--timings,
        # from its slot to its first token) over the injected TTFT, at p99.
        local simlate
        simlate=$(jq -r --argjson j "$injected" \
            '.totals.server_prefill_ms.p99 // empty | . - $j | "\(. * 100 | round / 100) ms"' \
            "$tmp/r.json")
        simlate=${simlate:-n/a}
        local cpu
        cpu=$(awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN {printf "%.0f", (u + s) / w * 100}')
        printf '   run %d: %s ok, %s failed, %s tok/s; prompt %s tok/request -> injected TTFT %s ms; ' \
            "$i" "$ok" "$failed" "$tps" "$((prompt / ok))" "$injected" >&2
        printf 'TTFT p50 %s p99 %s ms -> overhead p50 %s p99 %s ms (simulator late at p99: %s; llmload own p50 %s p99 %s ms); max RSS %s kB; lost %s; ' \
            "$t50" "$t99" "$o50" "$o99" "$simlate" "$own50" "$own99" "$rss" "$lost" >&2
        local us
        us=$(awk -v u="$user" -v s="$sys" -v g="$gen" 'BEGIN {printf "%.2f", (u + s) * 1e6 / g}')
        printf 'llmload CPU %s%% of a core (user %s sys %s wall %s), %s us per token (%s tokens), sim CPU %ss\n' \
            "$cpu" "$user" "$sys" "$wall" "$us" "$gen" "$simcpu" >&2
        p50s+=("$o50")
        p99s+=("$o99")
        own99s+=("$own99")
        rsss+=("$rss")
        losts+=("$lost")
        cpus+=("$cpu")
        uspt+=("$us")
    done
    local rss_mb
    rss_mb=$(awk -v k="$(median "${rsss[@]}")" 'BEGIN {printf "%.0f", k / 1024}')
    echo "FIGURE scale-$CONC-streams-${rate}tps: TTFT overhead p50 $(median "${p50s[@]}") ms, p99 $(median "${p99s[@]}") ms (goal p99 < 5; runs p99: ${p99s[*]}; llmload's own p99 $(median "${own99s[@]}"), runs ${own99s[*]}); peak RSS $rss_mb MB (goal < 500); lost events ${losts[*]} (goal 0); llmload CPU $(median "${cpus[@]}")% of a core, $(median "${uspt[@]}") us per token, --threads $THREADS"
}

echo "bench_scale: $(date -u +%Y-%m-%dT%H:%M:%SZ) load $(cut -d' ' -f1-3 /proc/loadavg) $LLMLOAD ($("$LLMLOAD" --version 2>/dev/null | head -1)), ulimit -n $(ulimit -n)" >&2
for r in "${rates[@]}"; do scale "$r"; done
