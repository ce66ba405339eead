#!/usr/bin/env bash
# End-to-end test of the dashboard: runs `llmload --demo` in a private tmux server and
# reads the screen with capture-pane. Usage: tui_test.sh PATH/TO/llmload
# Checks: panels and a non-zero RPS appear; `+` raises the target (gauge within a second);
# `s` writes a snapshot that parses; 80x24 still draws every panel, 60x20 says "too small";
# issue 16: the Steps table's test column and applied load, its key columns at 80x24 and
# 100x30, the remaining time standing still across a 3 s pause, `w` writes the HTML report
# (and says why not when it cannot);
# `q` asks while requests are in flight, `y` quits with exit code 0 and the terminal
# restored (alternate screen off, cursor on, echo and canonical mode back).
set -u

BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SOCK="llmload-test-$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmload-tui.XXXXXX")
OUT="$WORK/out"
T() { tmux -L "$SOCK" -f /dev/null "$@"; }

SOCK_PATH=""
# Kills the tmux server, waits (bounded) for llmload to finish its final snapshot after
# the hang-up, and removes the work directory and the socket.
cleanup() {
    local pane pid
    pane=$(T display-message -p -t tui '#{pane_pid}' 2>/dev/null)
    pid=$([ -n "$pane" ] && pgrep -P "$pane" -x llmload)
    T kill-server >/dev/null 2>&1
    for ((i = 0; i < 50; i++)); do
        if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.2
    done
    rm -rf "$WORK"
    [ -n "$SOCK_PATH" ] && rm -f "$SOCK_PATH"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "---- screen ----" >&2
    T capture-pane -p -t tui >&2 2>/dev/null
    echo "---- stderr ----" >&2
    cat "$WORK/stderr" >&2 2>/dev/null
    exit 1
}
ok() { echo "ok: $*"; }
screen() { T capture-pane -p -t tui; }

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds or time runs out.
wait_for() {
    local limit=$(($1 * 5))
    shift
    for ((i = 0; i < limit; i++)); do
        "$@" && return 0
        sleep 0.2
    done
    return 1
}

# The wrapper records the exit code and the terminal modes after llmload returns.
cat >"$WORK/run.sh" <<WRAP
#!/usr/bin/env bash
cd "$WORK"
"$BIN" --demo --out "$OUT" 2>"$WORK/stderr"
echo \$? >"$WORK/rc"
stty -a >"$WORK/stty" 2>&1
echo "AFTER-EXIT-MARKER"
sleep 120
WRAP
chmod +x "$WORK/run.sh"

T new-session -d -s tui -x 120 -y 40 "$WORK/run.sh" || fail "cannot start tmux"
SOCK_PATH=$(T display-message -p '#{socket_path}')
ok "tmux server $SOCK started (120x40)"

have_panels() {
    local s
    s=$(screen)
    for title in Concurrency Throughput Latency Errors System Steps Log; do
        grep -q "$title" <<<"$s" || return 1
    done
}
wait_for 20 have_panels || fail "panel titles did not appear"
ok "all panel titles drawn"

rps_nonzero() { screen | grep -Eq 'RPS now ([1-9][0-9.]*k?|0\.[0-9]*[1-9])'; }
wait_for 20 rps_nonzero || fail "RPS stayed 0"
ok "non-zero RPS"

# Issue 16: the Steps table at 120x40 has the test column and the applied load beside the
# target: step 1 runs the output test at concurrency 1 and applies a measured load.
# the Steps table's header line (the panel beside it cut off)
steps_header() { screen | grep -E '│ +# ' | head -1 | sed 's/^│//; s/│.*//'; }
step1_applied() { screen | grep -Eq '│ +1 +output +1 +[0-9][0-9.]* +[0-9]'; }
H=$(steps_header)
for col in test conc appl req RPS TPS 'tok/s/str' TTFT50 TTFT99 E2E50 err; do
    grep -q -- "$col" <<<"$H" || fail "Steps header at 120x40 lacks '$col': $H"
done
wait_for 10 step1_applied || fail "no test kind and applied load in step 1's row"
ok "Steps: test column and applied load ($(screen | grep -Eo '│ +1 +output +1 +[0-9][0-9.]*' | head -1 | sed 's/│//g' | tr -s ' '))"

# Issue 13: the demo's simulator exports vLLM's histograms: the Latency panel gains a
# "server" row (the server's own E2E) and says where it comes from.
server_row() { screen | grep -Eq '│server +[0-9.]+ (ms|s) ' && screen | grep -q 'server: buckets'; }
wait_for 20 server_row || fail "no server row in the Latency panel"
ok "server row in the Latency panel"

target_now() { screen | grep -Eo 'target [0-9]+' | head -1 | awk '{print $2}'; }
inflight_now() { screen | grep -Eo 'in-flight [0-9]+' | head -1 | awk '{print $2}'; }
T0=$(target_now)
[ -n "$T0" ] || fail "no target on screen"
T send-keys -t tui '+'
target_risen() { local t; t=$(target_now); [ -n "$t" ] && [ "$t" -gt "$T0" ]; }
wait_for 1 target_risen || fail "target did not rise above $T0 within a second"
T1=$(target_now)
ok "'+' raised the target $T0 -> $T1"
inflight_reached() { local f; f=$(inflight_now); [ -n "$f" ] && [ "$f" -ge "$T1" ]; }
wait_for 3 inflight_reached || fail "in-flight did not reach the new target $T1"
ok "in-flight gauge reached $T1"

# A pause stops the plan's clock: "remaining" stands still while paused.
remaining_now() { screen | grep -Eo 'remaining ~[0-9a-z]+' | head -1; }
T send-keys -t tui 'p'
wait_for 3 sh -c "tmux -L $SOCK capture-pane -p -t tui | sed -n 2p | grep -q '^ *paused'" ||
    fail "p did not pause"
sleep 0.5
R0=$(remaining_now)
[ -n "$R0" ] || fail "no remaining time on screen"
sleep 3
R1=$(remaining_now)
[ "$R0" = "$R1" ] || fail "remaining time moved while paused: '$R0' -> '$R1'"
T send-keys -t tui 'p'
wait_for 3 sh -c "! tmux -L $SOCK capture-pane -p -t tui | sed -n 2p | grep -q '^ *paused'" ||
    fail "p did not resume"
ok "paused: '$R0' stood still for 3 s; resumed"
# Issue 16: after the resume the clock runs on from where it stood (not 3 s less).
# secs "remaining ~1m05s" -> 65 (the header's durations: 45s, 1m05s, 2h03m)
secs() {
    local d=${1#remaining ~} h=0 m=0 x=0
    [[ $d =~ ([0-9]+)h ]] && h=${BASH_REMATCH[1]}
    [[ $d =~ ([0-9]+)m ]] && m=${BASH_REMATCH[1]}
    [[ $d =~ ([0-9]+)s ]] && x=${BASH_REMATCH[1]}
    echo $((10#$h * 3600 + 10#$m * 60 + 10#$x))
}
remaining_moved_on() {
    local r
    r=$(remaining_now)
    [ -n "$r" ] && [ "$(secs "$r")" -lt "$(secs "$R0")" ] && [ "$(secs "$r")" -ge $(($(secs "$R0") - 3)) ]
}
wait_for 3 remaining_moved_on || fail "remaining did not run on from '$R0' after the resume: '$(remaining_now)'"
ok "after the resume: '$R0' -> '$(remaining_now)'"

T send-keys -t tui 's'
# first_json KIND: the first snapshot in $OUT, "saved" (by `s`) or "final".
first_json() {
    local f
    for f in "$OUT"/llmload-*.json; do
        [ -e "$f" ] || continue
        case "$f" in
        *-final.json) [ "$1" = final ] && echo "$f" && return 0 ;;
        *) [ "$1" = saved ] && echo "$f" && return 0 ;;
        esac
    done
    return 1
}
snap_written() { first_json saved >/dev/null; }
wait_for 5 snap_written || fail "'s' wrote no snapshot into $OUT"
SNAP=$(first_json saved)
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="llmload.snapshot/1"' \
    "$SNAP" || fail "snapshot $SNAP does not parse"
[ -s "${SNAP%.json}.md" ] || fail "no Markdown summary next to $SNAP"
wait_for 2 sh -c "tmux -L $SOCK capture-pane -p -t tui | grep -q 'snapshot written'" ||
    fail "the Log does not show the snapshot path"
ok "snapshot $SNAP parses (+ .md), path in the Log"

# Issue 16: `w` writes the HTML report of the run so far (and its snapshot) next to the
# snapshots, and says where in the Log; a place it cannot write to is one sentence there.
T send-keys -t tui 'w'
html_written() { ls "$OUT"/llmload-*.html >/dev/null 2>&1; }
wait_for 5 html_written || fail "'w' wrote no HTML report into $OUT"
HTML=$(ls "$OUT"/llmload-*.html | head -1)
grep -q '<h1>llmload report</h1>' "$HTML" && grep -q '<svg' "$HTML" && grep -q '</html>' "$HTML" ||
    fail "$HTML is not the report"
[ -s "${HTML%.html}.json" ] || fail "no snapshot next to $HTML"
wait_for 2 sh -c "tmux -L $SOCK capture-pane -p -t tui | grep -q 'report written: '" ||
    fail "the Log does not show the report's path"
ok "'w' wrote $HTML (+ .json), path in the Log"
mv "$OUT" "$OUT.keep" && : >"$OUT" # the output directory is now a file: nothing can go there
T send-keys -t tui 'w'
wait_for 3 sh -c "tmux -L $SOCK capture-pane -p -t tui | grep -q 'cannot write '" ||
    fail "'w' into an unusable directory did not say why in the Log"
rm -f "$OUT" && mv "$OUT.keep" "$OUT"
wait_for 2 have_panels || fail "the dashboard is gone after a failed 'w'"
ok "'w' that cannot write says so in the Log and the run goes on"

T resize-window -t tui -x 80 -y 24
sane_small() {
    local s
    s=$(screen)
    [ "$(wc -l <<<"$s")" -le 24 ] || return 1
    python3 -c 'import sys; sys.exit(any(len(l) > 80 for l in sys.stdin.read().splitlines()))' \
        <<<"$s" || return 1
    for title in Concurrency Throughput Latency Errors System Steps; do
        grep -q "$title" <<<"$s" || return 1
    done
    grep -q 'target [0-9]' <<<"$s" && ! grep -q 'too small' <<<"$s"
}
wait_for 3 sane_small || fail "80x24 screen is not sane"
ok "80x24 draws every panel within 80 columns"
# Issue 16: the Steps table keeps its key columns at 80x24 (the others give way), and
# 100x30 adds the test kind.
steps_cols_at() {
    local h
    h=$(steps_header)
    for col in '#' conc appl RPS TPS TTFT50 TTFT99 err "$@"; do
        grep -q -- " $col" <<<"$h" || return 1
    done
}
wait_for 3 steps_cols_at || fail "Steps at 80x24 lacks a key column: $(steps_header)"
ok "80x24 Steps columns:$(steps_header | tr -s ' ')"
# ... and the help overlay lists every key there, `w` and the last one (^L) too.
T send-keys -t tui '?'
wait_for 2 sh -c "tmux -L $SOCK capture-pane -p -t tui | grep -q '│ w  *write the HTML report'" ||
    fail "the help at 80x24 does not list w"
screen | grep -q '│ ^L ' || fail "the help at 80x24 does not reach the last key (^L)"
T send-keys -t tui 'x'
wait_for 2 sh -c "! tmux -L $SOCK capture-pane -p -t tui | grep -q 'Keys (any key closes)'" ||
    fail "the help did not close"
ok "80x24 help lists every key, w among them"
T resize-window -t tui -x 100 -y 30
wait_for 3 steps_cols_at test || fail "Steps at 100x30 lacks a column: $(steps_header)"
ok "100x30 Steps columns:$(steps_header | tr -s ' ')"
T resize-window -t tui -x 80 -y 24
wait_for 3 sane_small || fail "80x24 not redrawn after 100x30"


T resize-window -t tui -x 60 -y 20
wait_for 3 sh -c "tmux -L $SOCK capture-pane -p -t tui | grep -q 'terminal too small: need 80x24, have 60x20'" ||
    fail "60x20 does not say the terminal is too small"
ok "60x20 says: terminal too small"
T resize-window -t tui -x 80 -y 24
wait_for 3 sane_small || fail "80x24 not redrawn after growing back"

T send-keys -t tui 'q'
wait_for 2 sh -c "tmux -L $SOCK capture-pane -p -t tui | grep -q 'requests in flight: quit? (y/n)'" ||
    fail "q did not ask while requests were in flight"
ok "q asks: requests in flight: quit? (y/n)"
T send-keys -t tui 'y'
wait_for 20 test -s "$WORK/rc" || fail "llmload did not exit after q, y"
RC=$(cat "$WORK/rc")
[ "$RC" = 0 ] || fail "exit code $RC, expected 0"
ok "exit code 0"
FINAL=$(first_json final) || fail "no final snapshot in $OUT"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$FINAL" || fail "final snapshot does not parse"
ok "final snapshot written"

wait_for 3 sh -c "tmux -L $SOCK capture-pane -p -t tui | grep -q AFTER-EXIT-MARKER" ||
    fail "the shell did not get the terminal back"
[ "$(T display-message -p -t tui '#{alternate_on}')" = 0 ] || fail "alternate screen still on"
[ "$(T display-message -p -t tui '#{cursor_flag}')" = 1 ] || fail "cursor still hidden"
if ! grep -Eq '(^| )icanon( |$)' "$WORK/stty" || ! grep -Eq '(^| )echo( |$)' "$WORK/stty"; then
    fail "terminal modes not restored: $(cat "$WORK/stty")"
fi
ok "terminal restored (normal screen, cursor, echo, icanon)"

# Issue 16: GPU telemetry. A second llmload --demo loads the stub NVML (two GPUs of fixed
# figures, tests/support/nvml_stub.c) through LLMLOAD_NVML_LIB; the System panel shows one
# line per GPU at 120x40 and at 80x24, and the final snapshot has the gpu keys.
gpu_check() {
    local stub=${LLM_NVML_STUB:-$(dirname "$BIN")/tests/libnvml_stub.so} gout="$WORK/gpu-out"
    if [ ! -f "$stub" ]; then
        echo "skip: no NVML stub at $stub (build the nvml_stub target)"
        return 0
    fi
    T new-session -d -s gpu -x 120 -y 40 \
        "cd '$WORK' && LLMLOAD_NVML_LIB='$stub' '$BIN' --demo --out '$gout' 2>'$WORK/gpu-stderr'; sleep 120" ||
        fail "cannot start the GPU session"
    gpu_lines() {
        local s
        s=$(T capture-pane -p -t gpu)
        grep -Eq 'A100-SXM4[-0-9A-Z]* +87% +40/80G +64°C +312W' <<<"$s" &&
            grep -Eq 'L4 +12% +2/22G +41°C +35W' <<<"$s" && grep -Eq 'GPU +50%' <<<"$s"
    }
    wait_for 20 gpu_lines || { T capture-pane -p -t gpu >&2; fail "no GPU lines at 120x40"; }
    ok "120x40: the stub's two GPU lines and the GPU history legend in the System panel"
    T resize-window -t gpu -x 80 -y 24
    gpu_small() {
        local s
        s=$(T capture-pane -p -t gpu)
        grep -Eq 'A100-SXM +87% +40/80G +64°C +312W' <<<"$s" &&
            grep -Eq 'CPU +([0-9]+|-)%?' <<<"$s" &&
            ! python3 -c 'import sys; sys.exit(not any(len(l) > 80 for l in sys.stdin.read().splitlines()))' <<<"$s"
    }
    wait_for 5 gpu_small || { T capture-pane -p -t gpu >&2; fail "no GPU line at 80x24"; }
    ok "80x24: the GPU line fits"
    # the series gets its first row after a second: save once the header says so
    two_seconds() { T capture-pane -p -t gpu | grep -Eq 'elapsed ([2-9]|[1-9][0-9]+)s'; }
    wait_for 10 two_seconds || { T capture-pane -p -t gpu >&2; fail "the demo's clock did not run"; }
    T send-keys -t gpu 's'
    local snap=""
    snap_gpu() { snap=$(ls "$gout"/llmload-*.json 2>/dev/null | head -1); [ -n "$snap" ]; }
    wait_for 5 snap_gpu || fail "'s' wrote no snapshot into $gout"
    python3 - "$snap" <<'PY' || fail "the snapshot's gpu keys are not the stub's"
import json, sys
d = json.load(open(sys.argv[1]))
g = d["gpu"]
assert [x["name"] for x in g["devices"]] == ["NVIDIA A100-SXM4-80GB", "NVIDIA L4"], g
assert g["devices"][1]["vendor"] == "nvidia" and g["max_temp_c"] == 64 and g["throttling_seen"]
row = d["series"][-1]["gpu"][0]
assert (row["util_pct"], row["mem_used_mb"], row["power_w"]) == (87, 40960, 312.5), row
PY
    ok "snapshot $snap has the stub's GPUs"
    # hang up, and wait (bounded) for that llmload's final snapshot before the cleanup
    local pane pid
    pane=$(T display-message -p -t gpu '#{pane_pid}' 2>/dev/null)
    pid=$([ -n "$pane" ] && pgrep -P "$pane" -x llmload)
    T kill-session -t gpu
    for ((i = 0; i < 50; i++)); do
        { [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; } && break
        sleep 0.2
    done
}
gpu_check
echo "PASS"
