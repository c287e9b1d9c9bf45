#!/bin/bash
# Makes the benchmark input: a real trace of a few hundred MB from this machine's kernel.
#
# The per-CPU ring buffers are made large (buffer_size_kb) with overwrite off, sched, irq,
# timer, raw_syscalls, kmem and block events are enabled system-wide, and a busy workload runs
# on every CPU (forks and execs, file reads, direct-I/O writes, short sleeps) until each
# CPU's buffer is full. Debian 12's trace-cmd 3.1.6 then writes it with `extract` (v7, zstd)
# and the 3.3 reference converts that to uncompressed v7:
#
#   OUT/large.dat        v7 zstd, as extract writes it
#   OUT/large.none.dat   v7 uncompressed (`convert --compression none`)
#   OUT/large.cmd        how it was made, sizes, and what extract printed
#
# The files are written outside the repository (default OUT=/var/tmp/rtrace-bench): they are
# far too big to commit, and re-made on demand. tracefs settings are saved first and restored
# on exit (tools/lib/tracefs-state.sh).
#
# usage: tools/make-large-trace.sh [OUT]
# env:   RTRACE_BENCH_MB  ring-buffer data to fill, in MB over all CPUs (default 400)
#        RTRACE_BENCH_MAX_SECS  stop the workload after this long even if not full (default 180)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
# shellcheck source=lib/tracefs-state.sh
. "$REPO/tools/lib/tracefs-state.sh"
OUT=${1:-/var/tmp/rtrace-bench}
MB=${RTRACE_BENCH_MB:-400}
MAX_SECS=${RTRACE_BENCH_MAX_SECS:-180}
REF31=${RTRACE_REF_3_1:-$HOME/.local/trace-cmd-3.3/trace-cmd-deb12}
[ -x "$REF31" ] || REF31=trace-cmd
REF33=${RTRACE_REF_3_3:-$HOME/.local/trace-cmd-3.3/trace-cmd-deb13}
NCPU=$(nproc)
PER_CPU_KB=$((MB * 1024 / NCPU))
WORK=""
PIDS=""

cleanup() {
    local p
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    tfs_restore
    [ -n "$WORK" ] && rm -rf "$WORK"
}

# One busy loop per CPU, each mixing what the enabled events see.
workload() {
    local cpu=$1
    local w=$WORK/cpu$cpu
    mkdir -p "$w"
    exec taskset -c "$cpu" bash -c '
        w=$1; i=0
        while :; do
            i=$((i + 1))
            cat /etc/services /etc/passwd > /dev/null
            ls -l /usr/bin > /dev/null
            dd if=/dev/zero of="$w/f" bs=64k count=8 oflag=direct status=none
            dd if="$w/f" of=/dev/null bs=64k iflag=direct status=none
            sh -c "echo \$\$ $i" > "$w/pid"
            sleep 0.001
        done' sh "$w"
}

cpu_stat() { awk -v k="$2:" '$1 " " $2 == k || $1 == k { print $NF; exit }' "$T/per_cpu/cpu$1/stats"; }

main() {
    [ "$(id -u)" = 0 ] || tfs_die "run as root"
    mkdir -p "$OUT"
    WORK=$(mktemp -d /var/tmp/rtrace-large.XXXXXX)
    tfs_save
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    tfs_clean
    tfs_w trace_clock local
    tfs_w options/overwrite 0
    [ -e "$T/buffer_subbuf_size_kb" ] && tfs_w buffer_subbuf_size_kb 4
    tfs_w buffer_size_kb "$PER_CPU_KB"
    local e
    for e in 'sched:*' 'irq:*' 'timer:*' 'raw_syscalls:*' 'kmem:*' 'block:*'; do
        echo "$e" >> "$T/set_event"
    done
    echo > "$T/trace"
    tfs_w tracing_on 1
    local cpu start full
    for cpu in $(seq 0 $((NCPU - 1))); do
        workload "$cpu" &
        PIDS="$PIDS $!"
    done
    start=$SECONDS
    # overwrite is off, so a full buffer starts dropping new events: stop once all are full
    while :; do
        sleep 1
        full=0
        for cpu in $(seq 0 $((NCPU - 1))); do
            [ "$(cpu_stat "$cpu" 'dropped events')" -gt 0 ] && full=$((full + 1))
        done
        [ "$full" = "$NCPU" ] && break
        [ $((SECONDS - start)) -ge "$MAX_SECS" ] && break
    done
    tfs_w tracing_on 0
    local secs=$((SECONDS - start)) p
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    PIDS=""
    echo "workload ran ${secs}s; extracting" >&2
    rm -f "$OUT/large.dat" "$OUT/large.none.dat"
    (cd "$OUT" && "$REF31" extract -k -o large.dat) > "$WORK/extract.log" 2>&1 ||
        { cat "$WORK/extract.log" >&2; tfs_die "extract failed"; }
    "$REF33" convert -i "$OUT/large.dat" -o "$OUT/large.none.dat" --compression none > "$WORK/convert.log" 2>&1 ||
        { cat "$WORK/convert.log" >&2; tfs_die "convert failed"; }
    {
        echo "# $OUT/large.dat: made $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm) ($NCPU CPUs) by tools/make-large-trace.sh"
        echo "# buffer_size_kb=$PER_CPU_KB per CPU, overwrite=0, trace_clock=local; events: sched irq timer raw_syscalls kmem block"
        echo "# workload (one per CPU, pinned) ran ${secs}s, until every CPU's buffer was full:"
        declare -f workload | sed 's/^/#   /'
        echo "# trace-cmd extract -k -o large.dat printed:"
        sed 's/^/#   /' "$WORK/extract.log"
        echo "# then: trace-cmd (3.3) convert -i large.dat -o large.none.dat --compression none"
        echo "# sizes: large.dat $(stat -c %s "$OUT/large.dat") bytes, large.none.dat $(stat -c %s "$OUT/large.none.dat") bytes"
    } > "$OUT/large.cmd"
    cat "$OUT/large.cmd" >&2
}

main "$@"
