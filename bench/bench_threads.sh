#!/usr/bin/env bash
# Figure 5 (bench/RESULTS.md): CPU-bound paced streaming with --threads 2 against --threads 1.
# The simulator paces CONC streams at RATE tok/s each, one token per read, offering more
# tokens per second than one engine thread can read; llmload's tokens/s with 1 and with 2
# engine threads, runs alternating (A B A B…) so that the machine's other load hits both.
# The simulator and llmload are pinned to the CPU lists SIM_CPU and CLIENT_CPU (default: both
# everywhere — on a 2-core machine the simulator cannot have a core of its own while the two
# engine threads have one each).
# Usage: bench/bench_threads.sh   env: LLMLOAD, RUNS (3), CONC (2000), RATE (100),
#        DURATION (20s), SIM_CPU, CLIENT_CPU, THREADS_A (1), THREADS_B (2).
#        Prints one "FIGURE" line on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
LLMLOAD=${LLMLOAD:-$root/build/llmload}
RUNS=${RUNS:-3}
CONC=${CONC:-2000}
RATE=${RATE:-100}
DURATION=${DURATION:-20s}
all=$(seq -s, 0 $(($(nproc) - 1)))
SIM_CPU=${SIM_CPU:-$all}
CLIENT_CPU=${CLIENT_CPU:-$all}
THREADS_A=${THREADS_A:-1}
THREADS_B=${THREADS_B:-2}

# need, median, start_sim, stop_sim, sim_cpu_s, timed_run; $tmp; cleanup on exit.
. "$root/bench/lib.sh"

need jq jq
need taskset util-linux
[ -x /usr/bin/time ] || need /usr/bin/time time
[ -x "$LLMLOAD" ] || { echo "bench: no binary at $LLMLOAD (make build, or set LLMLOAD)" >&2; exit 2; }
want=$((CONC + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
    ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi

sim_args=(--slots "$CONC" --decode-rate "$RATE" --batch-penalty 0 --base-latency 0
    --prefill-rate 1e9)
one() { # one THREADS -> "tps cpu_pct simcpu_s lost failed"
    start_sim "${sim_args[@]}"
    timed_run "$tmp/time" 300 run --url "http://127.0.0.1:$port/v1" -c "$CONC" \
        --duration "$DURATION" --warmup "$CONC" --max-tokens $((RATE * 5)) --ignore-eos \
        --threads "$1" --no-tui --autosave 0 --json "$tmp/r.json" >"$tmp/out" 2>"$tmp/err" ||
        { tail -5 "$tmp/err" >&2; exit 1; }
    local simcpu
    simcpu=$(sim_cpu_s)
    stop_sim
    read -r user sys rss wall <"$tmp/time"
    local tps lost failed
    tps=$(jq '.totals.tps' "$tmp/r.json")
    lost=$(jq '.lost_events' "$tmp/r.json")
    failed=$(jq '.totals.requests.failed' "$tmp/r.json")
    awk -v t="$tps" -v u="$user" -v s="$sys" -v w="$wall" -v sc="$simcpu" -v l="$lost" -v f="$failed" \
        'BEGIN {printf "%.0f %.0f %s %s %s\n", t, (u + s) / w * 100, sc, l, f}'
}

echo "bench_threads: $(date -u +%Y-%m-%dT%H:%M:%SZ) load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; sim on $SIM_CPU, llmload on $CLIENT_CPU" >&2
echo "   sim ${sim_args[*]}" >&2
echo "   llmload run -c $CONC --duration $DURATION --warmup $CONC --max-tokens $((RATE * 5)) --ignore-eos --threads N --no-tui" >&2
as=() bs=() ratios=()
for i in $(seq "$RUNS"); do
    read -r ta ca sa la fa < <(one "$THREADS_A")
    read -r tb cb sb lb fb < <(one "$THREADS_B")
    echo "   run $i: --threads $THREADS_A $ta tok/s (llmload ${ca}% of a core, sim ${sa} CPU-s, lost $la, failed $fa); --threads $THREADS_B $tb tok/s (llmload ${cb}%, sim ${sb} CPU-s, lost $lb, failed $fb)" >&2
    as+=("$ta")
    bs+=("$tb")
    ratios+=("$(awk -v a="$ta" -v b="$tb" 'BEGIN {printf "%.2f", b / a}')")
done
echo "FIGURE threads-$THREADS_B-vs-$THREADS_A: $(median "${bs[@]}") vs $(median "${as[@]}") tok/s, ratio $(median "${ratios[@]}") (runs ${ratios[*]}; goal >= 1.7), $CONC streams at $RATE tok/s"
