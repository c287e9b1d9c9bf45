#!/bin/bash
# Load benchmark of `rtrace-cmd record` (issue #5): every sched and syscalls event enabled
# while both CPUs run a syscall-heavy workload for SECS seconds (default 10), compared with a
# baseline of one `cat per_cpu/cpuN/trace_pipe_raw > file` per CPU with the same buffer size.
#
# For each run it prints: events written to the file per second (the kernel's per-CPU
# "read events": what the readers took, which is what the file holds, see tests/record.rs),
# events the kernel lost (overrun + dropped, per_cpu/cpuN/stats), bytes written, and the
# readers' CPU time during the recording (rtrace-cmd: its rtrace-cpuN threads, read from
# /proc when the workload ends, before the final drain and the file write; cat: the cat
# processes). rtrace-cmd's own whole CPU time (readers, drain, metadata, file write) is
# given too, once uncompressed (the kernel copies the spools into the file) and once with
# zstd. Both run beside the same workload; rtrace-cmd records until SIGINT.
#
# tracefs is shared: the script holds the project's tracefs lock (flock on
# /tmp/rtrace-tracefs.lock) throughout, saves every setting first and restores it on exit
# (tools/lib/tracefs-state.sh; rtrace-cmd record restores its own changes too).
#
# usage: tools/bench-record.sh [-s SECS] [-b KB] [OUTDIR]
#   OUTDIR  where files go (default /var/tmp/rtrace-bench/record; removed afterwards)
#   -b      per-CPU ring buffer size in KB for both (default: the current buffer_size_kb)
# env: RTRACE_BIN  rtrace-cmd to measure (default <repo>/target/release/rtrace-cmd)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
SECS=10
KB=""
while getopts s:b: opt; do
    case $opt in
        s) SECS=$OPTARG ;;
        b) KB=$OPTARG ;;
        *) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
OUT=${1:-/var/tmp/rtrace-bench/record}
BIN=${RTRACE_BIN:-$REPO/target/release/rtrace-cmd}
[ -x "$BIN" ] || { echo "bench-record: $BIN missing: cargo build --release" >&2; exit 1; }

if [ -z "${RTRACE_BENCH_LOCKED:-}" ]; then
    export RTRACE_BENCH_LOCKED=1
    exec flock /tmp/rtrace-tracefs.lock "$0" "$@"
fi

# shellcheck source=lib/tracefs-state.sh
. "$REPO/tools/lib/tracefs-state.sh"
NCPU=$(nproc)
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/run.XXXXXX")
PIDS=""
cleanup() {
    local p
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    tfs_restore
    rm -rf "$WORK"
}
tfs_save
trap cleanup EXIT
[ -n "$KB" ] || KB=$(tfs_buffer_kb)

# The workload: one process per CPU making small syscalls as fast as it can.
workload() {
    local c w=""
    for c in $(seq 0 $((NCPU - 1))); do
        taskset -c "$c" timeout "$SECS" dd if=/dev/zero of=/dev/null bs=1 status=none &
        w="$w $!"
    done
    # shellcheck disable=SC2086
    wait $w || true
}

# Sum of "KEY: N" over the CPUs' stats.
stat_sum() {
    local key=$1 c s=0 v
    for c in $(seq 0 $((NCPU - 1))); do
        v=$(awk -v k="$key:" '$0 ~ "^"k { print $NF }' "$T/per_cpu/cpu$c/stats")
        s=$((s + ${v%.*}))
    done
    echo "$s"
}

# CPU seconds (user+sys) of the threads of PID whose name matches RE, from /proc.
thread_cpu() {
    local pid=$1 re=$2 t total=0 tck
    tck=$(getconf CLK_TCK)
    for t in /proc/"$pid"/task/*; do
        grep -qE "$re" "$t/comm" || continue
        total=$((total + $(awk '{ print $14 + $15 }' "$t/stat")))
    done
    echo "scale=2; $total / $tck" | bc
}

row() { printf '%-34s %12s %10s %10s %9s %9s  %s\n' "$@"; }

echo "bench-record: $NCPU CPUs, ${SECS} s of dd bs=1 per CPU, all sched and syscalls events, buffer_size_kb=$KB"
row run "events/s" "lost" "MB" "reader s" "total s" notes

# --- baseline: cat per CPU -------------------------------------------------------------------
tfs_clean
echo "$KB" > "$T/buffer_size_kb"
echo 1 > "$T/events/sched/enable"
echo 1 > "$T/events/syscalls/enable"
echo > "$T/trace"
CATS=""
for c in $(seq 0 $((NCPU - 1))); do
    /usr/bin/time -f '%U %S' -o "$WORK/cat$c.time" cat "$T/per_cpu/cpu$c/trace_pipe_raw" > "$WORK/cat$c.raw" &
    CATS="$CATS $!"
done
PIDS=$CATS
sleep 0.2
echo 1 > "$T/tracing_on"
workload
echo 0 > "$T/tracing_on"
sleep 1
# cat blocks in read() once the buffer is empty; it is done when its output stops growing.
# /usr/bin/time ignores SIGINT while it waits: the cats (its children, by pid) are told.
for p in $CATS; do
    for c in $(pgrep -P "$p"); do kill -INT "$c" 2>/dev/null || true; done
done
wait $CATS 2>/dev/null || true
PIDS=""
read_ev=$(stat_sum "read events")
lost=$(( $(stat_sum overrun) + $(stat_sum "dropped events") ))
bytes=$(cat "$WORK"/cat*.raw | wc -c)
cpu=$(cat "$WORK"/cat*.time | awk '{ s += $1 + $2 } END { printf "%.2f", s }')
row "cat trace_pipe_raw (baseline)" "$((read_ev / SECS))" "$lost" "$((bytes / 1000000))" "$cpu" "-" "$read_ev events"
tfs_clean
echo "$KB" > "$T/buffer_size_kb"

# --- rtrace-cmd record -----------------------------------------------------------------------
# Run until SIGINT, the workload beside it as for cat, so that /usr/bin/time counts
# rtrace-cmd's own CPU only (readers, drain, metadata, file write).
for comp in none zstd; do
    out=$WORK/rec-$comp.dat
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/rec.time" \
        "$BIN" record -b "$KB" -e 'sched:*' -e 'syscalls:*' --compression "$comp" -o "$out" \
        > "$WORK/rec.out" 2> "$WORK/rec.err" &
    TIMEPID=$!
    PIDS=$TIMEPID
    until grep -q "Hit Ctrl" "$WORK/rec.out" 2>/dev/null; do
        kill -0 "$TIMEPID" 2>/dev/null || { cat "$WORK/rec.err" >&2; exit 1; }
        sleep 0.05
    done
    REC=$(pgrep -P "$TIMEPID")
    workload
    readers=$(thread_cpu "$REC" '^rtrace-cpu')
    kill -INT "$REC"
    wait "$TIMEPID" || { cat "$WORK/rec.err" >&2; exit 1; }
    PIDS=""
    read -r wall user sys rss < <(tail -n 1 "$WORK/rec.time")
    # The file's CPUSTAT options hold the kernel's counts after the readers drained.
    stats=$("$BIN" report --stat -i "$out" 2>/dev/null | awk '
        /^read events:/ { r += $3 } /^overrun:/ { o += $2 } /^dropped events:/ { d += $3 }
        END { print r + 0, o + d }')
    read -r read_ev lost <<< "$stats"
    row "rtrace-cmd record ($comp)" "$((read_ev / SECS))" "$lost" "$(( $(stat -c %s "$out") / 1000000 ))" \
        "$readers" "$(echo "$user + $sys" | bc)" "$read_ev events; wall ${wall}s, peak RSS $((rss / 1024)) MB"
    rm -f "$out"
done
