#!/usr/bin/env bash
# Figure 3 (bench/RESULTS.md): non-streaming requests/s against the built-in
# simulator, llmload (--no-stream -c 64) vs h2load (nghttp2-client, HTTP/1.1, -c 64), same
# endpoint, same body shape (chat, 256-character prompt, max_tokens 16, ignore_eos,
# "stream": false). The simulator decodes at 1e6 tok/s with no base latency, so the client
# is the limit. Simulator on CPU $SIM_CPU; both clients on CPU $CLIENT_CPU; runs are
# interleaved (llmload, h2load) x $RUNS and the medians compared. Goal: llmload/h2load >= 0.8.
# Usage: bench/bench_baseline.sh   (env: LLMLOAD, RUNS, REQUESTS (100000), CONC (64),
#        SIM_CPU, CLIENT_CPU). Prints one "FIGURE" line on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
LLMLOAD=${LLMLOAD:-$root/build/llmload}
RUNS=${RUNS:-3}
REQUESTS=${REQUESTS:-100000}
CONC=${CONC:-64}
MAXTOK=16
SIM_CPU=${SIM_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

# need, median, start_sim, stop_sim, sim_cpu_s, timed_run; $tmp; cleanup on exit.
. "$root/bench/lib.sh"

need jq jq
need taskset util-linux
need h2load nghttp2-client
[ -x /usr/bin/time ] || need /usr/bin/time time
[ -x "$LLMLOAD" ] || { echo "bench: no binary at $LLMLOAD (make build, or set LLMLOAD)" >&2; exit 2; }

# h2load's body: the shape llmload sends with --no-stream --ignore-eos (see
# src/engine/prompt.c), a 256-character prompt like llmload's default --prompt-chars 256.
prompt=$(printf 'the quick brown fox jumps over the lazy dog %.0s' $(seq 8) | cut -c1-256)
printf '{"model":"llmload-sim","messages":[{"role":"user","content":"%s"}],"max_tokens":%d,"stream":false,"ignore_eos":true,"min_tokens":%d}' \
    "$prompt" "$MAXTOK" "$MAXTOK" >"$tmp/body.json"

sim_args=(--slots 256 --decode-rate 1e6 --batch-penalty 0 --base-latency 0 --prefill-rate 1e9
    --max-tokens "$MAXTOK")
echo "bench_baseline: $(date -u +%Y-%m-%dT%H:%M:%SZ) $LLMLOAD ($("$LLMLOAD" --version 2>/dev/null | head -1)), $(h2load --version | head -1)" >&2
echo "== figure 3: sim ${sim_args[*]}" >&2
echo "   llmload run --url URL --no-stream -c $CONC -n $REQUESTS --max-tokens $MAXTOK --ignore-eos --no-tui --autosave 0 --json FILE" >&2
echo "   h2load --h1 -c $CONC -n $REQUESTS -d body.json -H 'Content-Type: application/json' URL/chat/completions" >&2
start_sim "${sim_args[@]}"
url="http://127.0.0.1:$port/v1"
ours=() theirs=()
for i in $(seq "$RUNS"); do
    timed_run "$tmp/time" 300 run --url "$url" --no-stream -c "$CONC" -n "$REQUESTS" \
        --max-tokens "$MAXTOK" --ignore-eos --no-tui --autosave 0 --json "$tmp/r.json" \
        >"$tmp/out" 2>"$tmp/err" || { tail -5 "$tmp/err" >&2; exit 1; }
    read -r user sys rss wall <"$tmp/time"
    rps=$(jq '.totals.rps' "$tmp/r.json")
    ok=$(jq '.totals.requests.ok' "$tmp/r.json")
    failed=$(jq '.totals.requests.failed' "$tmp/r.json")
    printf '   run %d llmload: %s ok, %s failed, %s req/s (process: user %ss sys %ss wall %ss)\n' \
        "$i" "$ok" "$failed" "$rps" "$user" "$sys" "$wall" >&2
    ours+=("$rps")
    /usr/bin/time -f '%U %S %M %e' -o "$tmp/time" taskset -c "$CLIENT_CPU" timeout 300 \
        h2load --h1 -c "$CONC" -n "$REQUESTS" -d "$tmp/body.json" \
        -H 'Content-Type: application/json' "$url/chat/completions" >"$tmp/h2" 2>&1 ||
        { tail -5 "$tmp/h2" >&2; exit 1; }
    read -r user sys rss wall <"$tmp/time"
    hrps=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$tmp/h2")
    hreq=$(grep '^requests:' "$tmp/h2")
    hcodes=$(grep '^status codes:' "$tmp/h2")
    printf '   run %d h2load:  %s req/s (%s; %s; process: user %ss sys %ss wall %ss)\n' \
        "$i" "$hrps" "$hreq" "$hcodes" "$user" "$sys" "$wall" >&2
    theirs+=("$hrps")
done
stop_sim
m_ours=$(median "${ours[@]}")
m_theirs=$(median "${theirs[@]}")
ratio=$(awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN {printf "%.2f", a / b}')
echo "FIGURE baseline-nostream-c$CONC: llmload $m_ours req/s vs h2load $m_theirs req/s -> ratio $ratio (median of $RUNS each; goal >= 0.8)"
