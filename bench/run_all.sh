#!/usr/bin/env bash
# Runs every benchmark script in bench/ one after the other (never two at once: they pin
# themselves to the machine's cores) and prints their figures at the end. Known scripts
# run first in a fixed order, then any other bench/*.sh. Each script's details go to
# stderr (and to $BENCH_LOG_DIR/NAME.log when set); its figures (stdout) are collected.
# Usage: bench/run_all.sh   (env: LLMLOAD, default build/llmload under the repo root; RUNS;
#        BENCH_LOG_DIR). Scripts run from the repo root.
# Exit status: 0 when every script succeeded, 1 otherwise (the others still run).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
LLMLOAD=${LLMLOAD:-$root/build/llmload}
case $LLMLOAD in /*) ;; *) LLMLOAD=$PWD/$LLMLOAD ;; esac # made absolute: we cd to the root
export LLMLOAD
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

scripts=()
for name in parser_bench.sh sim_bench.sh bench_engine.sh bench_baseline.sh bench_scale.sh \
    bench_ui.sh; do
    [ -f "$here/$name" ] && scripts+=("$here/$name")
done
for s in "$here"/*.sh; do
    case " ${scripts[*]} " in *" $s "*) continue ;; esac
    case "$(basename "$s")" in run_all.sh | lib.sh) continue ;; esac
    scripts+=("$s")
done

failed=0
echo "run_all: $(date -u +%Y-%m-%dT%H:%M:%SZ), LLMLOAD=$LLMLOAD, $(nproc) CPUs" >&2
for s in "${scripts[@]}"; do
    name=$(basename "$s" .sh)
    echo "=== $name" >&2
    if [ -n "${BENCH_LOG_DIR:-}" ]; then
        mkdir -p "$BENCH_LOG_DIR"
        errlog="$BENCH_LOG_DIR/$name.log"
    else
        errlog=/dev/stderr
    fi
    if [ -x "$s" ]; then cmd=("$s"); else cmd=(sh "$s"); fi
    # Scripts that take the binary as an argument instead of reading $LLMLOAD.
    case $name in
    sim_bench) cmd+=("$(dirname "$LLMLOAD")") ;; # its first argument is the build directory
    bench_ui) cmd+=("$LLMLOAD") ;;               # its first argument is the binary
    esac
    "${cmd[@]}" >"$tmp/$name.out" 2>>"$errlog"
    rc=$?
    cat "$tmp/$name.out" >&2
    [ $rc -eq 0 ] || { echo "run_all: $name exited with status $rc" >&2; failed=1; }
    printf '%s\n' "--- $name (exit $rc)" >>"$tmp/figures"
    cat "$tmp/$name.out" >>"$tmp/figures"
done

echo
echo "=== figures"
cat "$tmp/figures"
exit $failed
