#!/usr/bin/env bash
# UI cost bench: runs `llmload --demo` in a private tmux server (120x40) at --fps 10 for
# DURATION seconds (default 30) and reads the main (UI) thread's CPU time from
# /proc/PID/task/PID/stat (the UI thread is the main thread: TID == PID). Prints the UI
# thread's share of one core, and the whole process's for context.
# Usage: bench/bench_ui.sh [path/to/llmload] [seconds]
set -eu
BIN=${1:-build/llmload}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
DUR=${2:-30}
FPS=${FPS:-10}
SOCK="llmload-bench-$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmload-bench-ui.XXXXXX")
T() { tmux -L "$SOCK" -f /dev/null "$@"; }
SOCK_PATH=""
cleanup() {
    T kill-server >/dev/null 2>&1
    for ((i = 0; i < 50; i++)); do # the final snapshot after the hang-up
        if [ -z "${PID:-}" ] || ! kill -0 "$PID" 2>/dev/null; then
            break
        fi
        sleep 0.2
    done
    rm -rf "$WORK"
    [ -n "$SOCK_PATH" ] && rm -f "$SOCK_PATH"
}
trap cleanup EXIT

T new-session -d -s b -x 120 -y 40 "exec '$BIN' --demo --fps $FPS --out '$WORK/out'"
SOCK_PATH=$(T display-message -p '#{socket_path}')
PID=$(T display-message -p -t b '#{pane_pid}')
sleep 2 # start-up and the first frames
HZ=$(getconf CLK_TCK)
# utime + stime (fields 14 and 15; the comm field has no spaces here)
ticks() { awk '{print $14 + $15}' "$1"; }
now() { date +%s.%N; }
u0=$(ticks "/proc/$PID/task/$PID/stat")
p0=$(ticks "/proc/$PID/stat")
t0=$(now)
sleep "$DUR"
u1=$(ticks "/proc/$PID/task/$PID/stat")
p1=$(ticks "/proc/$PID/stat")
t1=$(now)
T capture-pane -p -t b >"$WORK/screen.txt"
grep -q Throughput "$WORK/screen.txt" || { echo "the dashboard was not on screen" >&2; exit 1; }
awk -v u="$((u1 - u0))" -v p="$((p1 - p0))" -v hz="$HZ" -v t0="$t0" -v t1="$t1" -v fps="$FPS" 'BEGIN {
    wall = t1 - t0
    printf "wall %.1f s at %d fps\n", wall, fps
    printf "UI (main) thread CPU: %.2f %% of one core (%d ticks)\n", 100 * u / hz / wall, u
    printf "whole process CPU:    %.2f %% of one core (engine + in-process simulator)\n", 100 * p / hz / wall
}'
