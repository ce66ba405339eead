#!/usr/bin/env bash
# End-to-end test of `llmload watch`: one `llmload sim`, three `llmload run --no-tui --listen
# 127.0.0.1:0` workers (each prints the port it bound), and watch in a private tmux server.
# Usage: watch_test.sh PATH/TO/llmload
# Checks: the screen shows the three workers running and the fleet's target equals the sum
# of the workers' own llmload_target; `+` raises every worker's target by one (read from each
# worker's /metrics); a watch with a wrong token shows the 401 refusal and changes nothing;
# one without a token (and with --theme mono: no colours) refuses to send; 80x24 still
# draws; `q` quits with 0 and the workers keep running; `--no-tui` prints one line a second.
set -u

BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SOCK="llmload-watch-$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmload-watch.XXXXXX")
TOKEN="watch-e2e-token-0123456789"
T() { tmux -L "$SOCK" -f /dev/null "$@"; }
PIDS=()

cleanup() {
    local p i
    T kill-server >/dev/null 2>&1
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        for ((i = 0; i < 50; i++)); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for s in watch bad none; do
        echo "---- screen $s ----" >&2
        T capture-pane -p -t "$s" >&2 2>/dev/null
    done
    echo "---- stderr ----" >&2
    tail -n 5 "$WORK"/*.err >&2 2>/dev/null
    exit 1
}
ok() { echo "ok: $*"; }

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds or time runs out.
wait_for() {
    local limit=$(($1 * 5)) i
    shift
    for ((i = 0; i < limit; i++)); do
        "$@" && return 0
        sleep 0.2
    done
    return 1
}

"$BIN" sim --port 0 -q >"$WORK/sim.out" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q 'listening on' "$WORK/sim.out" || fail "the simulator did not start"
SIM=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/v1' "$WORK/sim.out" | head -1)

PORTS=()
for i in 1 2 3; do
    "$BIN" run --no-tui --url "$SIM" -c "$i" --max-tokens 32 --duration 90s --autosave 0 \
        --listen 127.0.0.1:0 --control-token "$TOKEN" >/dev/null 2>"$WORK/w$i.err" &
    PIDS+=($!)
done
for i in 1 2 3; do
    wait_for 15 grep -q 'live figures at' "$WORK/w$i.err" || fail "worker $i printed no address"
    PORTS+=("$(grep -Eo '127\.0\.0\.1:[0-9]+/metrics' "$WORK/w$i.err" | head -1 | cut -d: -f2 |
        cut -d/ -f1)")
done
ok "sim at $SIM, workers on ports ${PORTS[*]}"

target_of() { curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk '$1 == "llmload_target" {print $2}'; }
targets_sum() {
    local s=0 t
    for p in "${PORTS[@]}"; do
        t=$(target_of "$p")
        [ -n "$t" ] || return 1
        s=$((s + t))
    done
    echo "$s"
}
URLS="http://127.0.0.1:${PORTS[0]} http://127.0.0.1:${PORTS[1]}/metrics 127.0.0.1:${PORTS[2]}"

# watch SESSION ARGS...: llmload watch in its own 120x40 session; the exit code goes to
# $WORK/SESSION.rc.
watch_in() {
    local s=$1
    shift
    T new-session -d -s "$s" -x 120 -y 40 \
        "$BIN watch $URLS $* 2>$WORK/$s.err; echo \$? >$WORK/$s.rc; sleep 60" ||
        fail "cannot start tmux"
}
screen() { T capture-pane -p -t "$1"; }
fleet_target() { screen watch | grep -Eo '│target [0-9]+' | head -1 | grep -Eo '[0-9]+'; }
running_rows() { [ "$(screen "$1" | grep -Ec '127\.0\.0\.1:[0-9]+ +running')" = 3 ]; }

watch_in watch --control-token "$TOKEN"
wait_for 15 running_rows watch || fail "three running workers did not appear"
sum_matches() {
    local a b
    a=$(targets_sum) && b=$(fleet_target) && [ -n "$b" ] && [ "$a" = "$b" ]
}
wait_for 5 sum_matches || fail "fleet target $(fleet_target) is not the workers' sum $(targets_sum)"
SUM0=$(targets_sum)
ok "watch shows 3 workers running, fleet target $SUM0 = the workers' sum"
live_rps() { screen watch | grep -Eq '│target [0-9]+ +in-flight [0-9]+ +RPS [0-9.]*[1-9]'; }
wait_for 10 live_rps || fail "the fleet's RPS stayed 0"
ok "fleet RPS is live"

declare -A BEFORE
for p in "${PORTS[@]}"; do BEFORE[$p]=$(target_of "$p"); done
T send-keys -t watch '+'
all_raised() {
    for p in "${PORTS[@]}"; do
        [ "$(target_of "$p")" = $((BEFORE[$p] + 1)) ] || return 1
    done
}
wait_for 5 all_raised || fail "'+' did not raise every worker's target by 1"
wait_for 3 sh -c "tmux -L $SOCK capture-pane -p -t watch | grep -q 'target +1: 3 of 3 accepted'" ||
    fail "the accepted note is not on screen"
SUM1=$((SUM0 + 3))
wait_for 3 sh -c "[ \"\$(tmux -L $SOCK capture-pane -p -t watch | grep -Eo '│target [0-9]+' | head -1)\" = '│target $SUM1' ]" ||
    fail "fleet target did not become $SUM1"
ok "'+' raised each worker's target by 1 (fleet $SUM0 -> $SUM1), 3 of 3 accepted"

watch_in bad --control-token "wrong-token-0123456789"
wait_for 15 running_rows bad || fail "the wrong-token watch shows no workers"
T send-keys -t bad '+'
wait_for 5 sh -c "tmux -L $SOCK capture-pane -p -t bad | grep -q 'target +1: 0 of 3 accepted; 3 refused the token (401)'" ||
    fail "a wrong token was not shown as refused"
sleep 0.5
[ "$(targets_sum)" = "$SUM1" ] || fail "a wrong token changed the targets: $(targets_sum)"
ok "a wrong token is refused (401) on screen and changes nothing"
T send-keys -t bad 'q'

watch_in none --theme mono
wait_for 15 running_rows none || fail "the token-less watch shows no workers"
# --theme as for run: mono leaves the terminal's colours (no colour in any SGR sequence),
# the default colours the screen
coloured() { T capture-pane -e -p -t "$1" | grep -Eq $'\e\\[([0-9]+;)*(3[0-7]|38|4[0-7]|48|9[0-7])[;m]'; }
coloured none && fail "--theme mono still draws colours"
coloured watch || fail "the default theme draws no colours"
ok "--theme mono draws no colours, the default does"
T send-keys -t none '+'
wait_for 3 sh -c "tmux -L $SOCK capture-pane -p -t none | grep -q 'not sent: watch has no --control-token'" ||
    fail "no refusal without a token"
ok "without a token, '+' is refused with a sentence"
T send-keys -t none 'q'

T resize-window -t watch -x 80 -y 24
sane_small() {
    local s
    s=$(screen watch)
    [ "$(wc -l <<<"$s")" -le 24 ] || return 1
    python3 -c 'import sys; sys.exit(any(len(l) > 80 for l in sys.stdin.read().splitlines()))' \
        <<<"$s" || return 1
    for title in Fleet Latency Requests Workers; do grep -q "$title" <<<"$s" || return 1; done
    [ "$(grep -Ec '127\.0\.0\.1:[0-9]+ +running' <<<"$s")" = 3 ]
}
wait_for 3 sane_small || fail "80x24 screen is not sane"
ok "80x24 draws the fleet, latency, requests and the three workers"

T send-keys -t watch 'q'
wait_for 5 test -s "$WORK/watch.rc" || fail "watch did not quit on q"
[ "$(cat "$WORK/watch.rc")" = 0 ] || fail "watch exit code $(cat "$WORK/watch.rc"), expected 0"
for p in "${PORTS[@]}"; do
    [ -n "$(target_of "$p")" ] || fail "worker on $p stopped with watch"
done
ok "q quits with 0; the workers keep running"

timeout 15 "$BIN" watch $URLS --no-tui --duration 2.5s >"$WORK/lines" 2>"$WORK/headless.err" ||
    fail "--no-tui exited $?"
grep -Eq "^t=[0-9]+ up=3/3 step=1 target=$SUM1 inflight=[0-9]+ ok=[0-9]+ failed=0 rps=" \
    "$WORK/lines" || fail "--no-tui lines: $(cat "$WORK/lines")"
ok "--no-tui prints '$(head -c 60 "$WORK/lines")...'"
echo "PASS"
