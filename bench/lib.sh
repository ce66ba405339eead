# Helpers the engine benchmarks share; sourced by bench_engine.sh, bench_scale.sh and
# bench_baseline.sh after they set LLMLOAD, SIM_CPU and CLIENT_CPU.
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
