#!/usr/bin/env bash
# Figure 1 (bench/RESULTS.md): llmload's own CPU seconds (user + sys of the llmload
# process only, from wait4 rusage via GNU time) per 1,000,000 streamed tokens against the
# built-in simulator. Simulator pinned to CPU $SIM_CPU, client to CPU $CLIENT_CPU; median of
# $RUNS runs per regime. Two regimes, because the cost per token depends on how many tokens
# arrive per read():
#   paced  sim --batch-penalty 0.05 (the default): 256 streams at ~145 tok/s each, one token
#          per TCP segment and per read() (what a real GPU server's stream looks like)
#   flood  sim --batch-penalty 0: 256 streams at up to 2000 tok/s each; the client falls
#          behind and reads several tokens per read()
# Each run is followed by h2load (nghttp2, C, HTTP/1.1) fetching the same streams from a fresh
# simulator: it reads the bytes and parses nothing, so its CPU per 1M tokens is the floor any
# client pays on this machine (mostly the kernel's loopback receive path).
# Usage: bench/bench_engine.sh [paced|flood|all]   (env: LLMLOAD, RUNS, REQUESTS, SIM_CPU,
#        CLIENT_CPU). Prints one "FIGURE" line per regime on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
LLMLOAD=${LLMLOAD:-$root/build/llmload}
RUNS=${RUNS:-3}
REQUESTS=${REQUESTS:-2048} # x 1000 tokens = 2.048 M tokens per run
SIM_CPU=${SIM_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
which_regimes=${1:-all}

# need, median, start_sim, stop_sim, sim_cpu_s, timed_run; $tmp; cleanup on exit.
. "$root/bench/lib.sh"

need jq jq
need taskset util-linux
need h2load nghttp2-client
[ -x /usr/bin/time ] || need /usr/bin/time time
[ -x "$LLMLOAD" ] || { echo "bench: no binary at $LLMLOAD (make build, or set LLMLOAD)" >&2; exit 2; }

# The body llmload sends in this benchmark (src/engine/prompt.c), for h2load.
prompt=$(printf 'the quick brown fox jumps over the lazy dog %.0s' $(seq 8) | cut -c1-256)
printf '{"model":"llmload-sim","messages":[{"role":"user","content":"%s"}],"max_tokens":1000,"stream":true,"stream_options":{"include_usage":true},"ignore_eos":true,"min_tokens":1000}' \
    "$prompt" >"$tmp/body.json"

floor_run() { # floor_run SIM_ARGS... -> prints h2load's CPU s per 1M tokens
    start_sim "$@"
    /usr/bin/time -f '%U %S %M %e' -o "$tmp/htime" taskset -c "$CLIENT_CPU" timeout 600 \
        h2load --h1 -c 256 -n "$REQUESTS" -d "$tmp/body.json" -H 'Content-Type: application/json' \
        "http://127.0.0.1:$port/v1/chat/completions" >"$tmp/h2" 2>&1 || { tail -5 "$tmp/h2" >&2; exit 1; }
    stop_sim
    local ok user sys rest
    ok=$(awk '/^requests:/ { print $8 }' "$tmp/h2")
    [ "$ok" = "$REQUESTS" ] || { echo "bench: h2load: only $ok of $REQUESTS streams succeeded" >&2; exit 1; }
    read -r user sys rest <"$tmp/htime"
    # Every stream is exactly 1000 tokens (ignore_eos + min_tokens, as llmload's runs show).
    awk -v u="$user" -v s="$sys" -v t="$((REQUESTS * 1000))" 'BEGIN {printf "%.3f %s %s\n", (u + s) / t * 1e6, u, s}'
}

regime() { # regime NAME BATCH_PENALTY
    local name=$1 penalty=$2 costs=() tpss=() floors=() i
    local sim_args=(--slots 512 --decode-rate 2000 --batch-penalty "$penalty" --base-latency 0
        --prefill-rate 1e9)
    local run_args=(run --url "http://127.0.0.1:PORT/v1" -c 256 -n "$REQUESTS" --max-tokens 1000
        --ignore-eos --no-tui --autosave 0)
    echo "== figure 1, regime $name: sim ${sim_args[*]}" >&2
    echo "   llmload ${run_args[*]}" >&2
    for i in $(seq "$RUNS"); do
        start_sim "${sim_args[@]}"
        local url="http://127.0.0.1:$port/v1"
        timed_run "$tmp/time" 600 run --url "$url" -c 256 -n "$REQUESTS" --max-tokens 1000 \
            --ignore-eos --no-tui --autosave 0 --json "$tmp/r.json" >"$tmp/out" 2>"$tmp/err" ||
            { cat "$tmp/err" >&2; exit 1; }
        local simcpu
        simcpu=$(sim_cpu_s)
        stop_sim
        read -r user sys rss wall <"$tmp/time"
        local tokens failed lost tps
        tokens=$(jq '.totals.tokens.output' "$tmp/r.json")
        failed=$(jq '.totals.requests.failed' "$tmp/r.json")
        lost=$(jq '.lost_events' "$tmp/r.json")
        tps=$(jq '.totals.tps' "$tmp/r.json")
        local cost
        cost=$(awk -v u="$user" -v s="$sys" -v t="$tokens" 'BEGIN {printf "%.3f", (u + s) / t * 1e6}')
        printf '   run %d: %s tokens, %s tok/s, llmload user %ss sys %ss (wall %ss, max RSS %s kB), ' \
            "$i" "$tokens" "$tps" "$user" "$sys" "$wall" "$rss" >&2
        printf 'sim CPU %ss, failed %s, lost events %s -> %s s per 1M tokens\n' \
            "$simcpu" "$failed" "$lost" "$cost" >&2
        [ "$failed" = 0 ] && [ "$lost" = 0 ] || echo "   WARNING: failures or lost events" >&2
        costs+=("$cost")
        tpss+=("$tps")
        local floor fuser fsys
        read -r floor fuser fsys < <(floor_run "${sim_args[@]}")
        printf '   run %d: h2load, same streams: user %ss sys %ss -> %s s per 1M tokens\n' \
            "$i" "$fuser" "$fsys" "$floor" >&2
        floors+=("$floor")
    done
    local m f
    m=$(median "${costs[@]}")
    f=$(median "${floors[@]}")
    echo "FIGURE engine-cost-$name: $m s CPU per 1M streamed tokens (median of $RUNS; runs: ${costs[*]}; tok/s median $(median "${tpss[@]}"); goal <= 1); h2load reading the same streams: $f s (runs: ${floors[*]}); llmload/h2load $(awk -v a="$m" -v b="$f" 'BEGIN {printf "%.2f", a / b}')"
}

echo "bench_engine: $(date -u +%Y-%m-%dT%H:%M:%SZ) $LLMLOAD ($("$LLMLOAD" --version 2>/dev/null | head -1))" >&2
case $which_regimes in
paced) regime paced 0.05 ;;
flood) regime flood 0 ;;
all) regime paced 0.05; regime flood 0 ;;
*) echo "usage: $0 [paced|flood|all]" >&2; exit 2 ;;
esac
