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

# ---- helpers (each bench script carries its own copy: they are run one by one) ----
need() { # need COMMAND DEBIAN_PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing $2" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
    fi
    command -v "$1" >/dev/null 2>&1 || { echo "bench: needs $1 (apt-get install $2)" >&2; exit 2; }
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
tmp=$(mktemp -d)
sim_pid=""
stop_sim() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
        sim_pid=""
    fi
}
cleanup() { stop_sim; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
start_sim() { # start_sim SIM_OPTIONS...  -> sets sim_pid, port
    taskset -c "$SIM_CPU" timeout 900 "$LLMLOAD" sim --host 127.0.0.1 --port 0 --quiet "$@" \
        >"$tmp/sim.log" 2>&1 &
    sim_pid=$!
    port=""
    for _ in $(seq 200); do
        port=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\)/v1.*#\1#p' "$tmp/sim.log")
        [ -n "$port" ] && return 0
        kill -0 "$sim_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench: the simulator did not start:" >&2
    cat "$tmp/sim.log" >&2
    exit 1
}
sim_cpu_s() { # CPU seconds of the simulator process so far (the child of timeout)
    local pid
    pid=$(pgrep -P "$sim_pid" | head -1)
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$pid/stat"
}
timed_run() { # timed_run TIME_FILE LIMIT_S LLMLOAD_ARGS... (GNU time: user sys maxrss_kb wall)
    local out=$1 limit=$2
    shift 2
    /usr/bin/time -f '%U %S %M %e' -o "$out" taskset -c "$CLIENT_CPU" timeout "$limit" \
        "$LLMLOAD" "$@"
}

need jq jq
need taskset util-linux
[ -x /usr/bin/time ] || need /usr/bin/time time
[ -x "$LLMLOAD" ] || { echo "bench: no binary at $LLMLOAD (make build, or set LLMLOAD)" >&2; exit 2; }

regime() { # regime NAME BATCH_PENALTY
    local name=$1 penalty=$2 costs=() tpss=() i
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
    done
    local m
    m=$(median "${costs[@]}")
    echo "FIGURE engine-cost-$name: $m s CPU per 1M streamed tokens (median of $RUNS; runs: ${costs[*]}; tok/s median $(median "${tpss[@]}"); goal <= 1)"
}

echo "bench_engine: $(date -u +%Y-%m-%dT%H:%M:%SZ) $LLMLOAD ($("$LLMLOAD" --version 2>/dev/null | head -1))" >&2
case $which_regimes in
paced) regime paced 0.05 ;;
flood) regime flood 0 ;;
all) regime paced 0.05; regime flood 0 ;;
*) echo "usage: $0 [paced|flood|all]" >&2; exit 2 ;;
esac
