#!/bin/bash
# shellcheck disable=SC2016  # the workloads are sh -c scripts: single quotes on purpose
# Captures the project's real trace.dat fixtures on this machine's kernel.
#
# Each fixture NAME is made by the function cap_NAME below: it configures tracefs directly,
# runs a small workload with tracing on, and has Debian 12's trace-cmd 3.1.6 write
# fixtures/NAME.dat with `extract` (file version 7, zstd). `trace-cmd record` cannot be used
# on this kernel: it writes /proc/sys/kernel/ftrace_enabled unconditionally and dies on EPERM
# (../shared/docs/real-kernel-lane.md); `extract` only reads the ring buffers. `extract -k`
# keeps extract from resetting tracefs: the settings are put back by tools/lib/tracefs-state.sh,
# which saves every setting first and restores it on exit, also on failure.
#
# Beside each file, fixtures/NAME.cmd records how it was made: the cap_NAME function and the
# helpers it used (their exact text, taken from this script), the extract command and what
# extract printed, and the report line counts of both references.
#
# usage: tools/capture-fixtures.sh [--list] [NAME...]     (default: every fixture)
# env:   RTRACE_FIXTURES  output directory (default <repo>/fixtures)
#        RTRACE_REF_3_1 / RTRACE_REF_3_3  the references (default: tools/install-references.sh's)
# Root only; it is the only thing allowed to use tracefs while it runs.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
# Workloads run with the system's tools only, whatever the caller's PATH holds.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
# shellcheck source=lib/tracefs-state.sh
. "$REPO/tools/lib/tracefs-state.sh"
OUT=${RTRACE_FIXTURES:-$REPO/fixtures}
REF31=${RTRACE_REF_3_1:-$HOME/.local/trace-cmd-3.3/trace-cmd-deb12}
[ -x "$REF31" ] || REF31=trace-cmd
REF33=${RTRACE_REF_3_3:-$HOME/.local/trace-cmd-3.3/trace-cmd-deb13}
WORK=""

FIXTURES="sched irq_timer_wq syscalls block_ext4 kmem net markers stacktrace instances
clock_local clock_global clock_counter clock_uptime clock_perf clock_mono clock_mono_raw
clock_boot clock_tai clock_x86-tsc overflow_overwrite overflow_nooverwrite overflow_nocount all_events
subbuf_16k onecpu"

# ---------------------------------------------------------------------------------------------
# Helpers the cap_* functions use.

# The ground every capture starts from: no events, no filters, top buffer only, defaults.
fx_begin() {
    tfs_clean
    tfs_w options/overwrite 1
    tfs_w options/event-fork 0
    tfs_w options/stacktrace 0
    tfs_w options/userstacktrace 0
    tfs_w trace_clock local
    tfs_w tracing_cpumask "$(tfs_saved tracing_cpumask)"
    [ -e "$T/buffer_subbuf_size_kb" ] && tfs_w buffer_subbuf_size_kb 4
    tfs_w buffer_size_kb 1408
    echo > "$T/trace"
}

# Enable events (set_event syntax: "sys:event", "sys:*") in the top buffer or instance $FX_IN.
fx_events() {
    local e dir=$T${FX_IN:+/instances/$FX_IN}
    for e in "$@"; do
        echo "$e" >> "$dir/set_event" || tfs_die "cannot enable $e"
    done
}

# Run a command with the top buffer's tracing on, and off again after it.
fx_trace() {
    echo > "$T/trace"
    tfs_w tracing_on 1
    "$@"
    tfs_w tracing_on 0
}

# Like fx_trace but events are recorded only for the command and its children
# (set_event_pid + options/event-fork): the command's shell puts its own pid into the
# filter before it turns tracing on, so nothing from before the filter gets in.
fx_trace_pid() {
    echo > "$T/trace"
    tfs_w options/event-fork 1
    sh -c 'echo $$ > "$1/set_event_pid"; echo 1 > "$1/tracing_on"; shift; exec "$@"' sh "$T" "$@"
    tfs_w tracing_on 0
}

# Write the top buffer (and the instances given as extract options) to $OUT/$FX_NAME.dat.
fx_extract() {
    FX_EXTRACT="trace-cmd extract -k $* -o $FX_NAME.dat"
    (cd "$OUT" && "$REF31" extract -k "$@" -o "$FX_NAME.dat") > "$WORK/extract.log" 2>&1 ||
        { cat "$WORK/extract.log" >&2; tfs_die "extract of $FX_NAME failed"; }
}

# The file offset of a symbol in an ELF shared object (what a uprobe's place needs).
fx_sym_offset() {
    local vaddr
    vaddr=$(readelf -Ws "$1" | awk -v s="$2" '$8 == s || index($8, s "@") == 1 { print $2; exit }')
    [ -n "$vaddr" ] || tfs_die "no symbol $2 in $1"
    local type off va fsz a=$((16#$vaddr))
    while read -r type off va _ fsz _ _; do
        [ "$type" = LOAD ] || continue
        if [ "$a" -ge $((va)) ] && [ "$a" -lt $((va + fsz)) ]; then
            printf '0x%x\n' $((a - va + off)); return
        fi
    done < <(readelf -Wl "$1")
    tfs_die "symbol $2 of $1 is in no LOAD segment"
}

# A small ext4 filesystem on a loop device, so block/ext4/jbd2 events can be filtered to it.
fx_loop_ext4() {
    truncate -s 64M "$WORK/ext4.img"
    mkfs.ext4 -q -F "$WORK/ext4.img"
    FX_LOOP=$(losetup --find --show "$WORK/ext4.img")
    mkdir -p "$WORK/mnt"
    mount -t ext4 "$FX_LOOP" "$WORK/mnt"
    # tracepoints record dev_t as the kernel's MKDEV: major << 20 | minor
    FX_DEV=$(( $(stat -c '0x%t' "$FX_LOOP") << 20 | $(stat -c '0x%T' "$FX_LOOP") ))
}

fx_loop_ext4_done() {
    mountpoint -q "$WORK/mnt" && umount "$WORK/mnt"
    [ -n "${FX_LOOP:-}" ] && losetup -d "$FX_LOOP"
    FX_LOOP=""
}

# Enable each event of the given systems that has a `dev` field, filtered to dev == $FX_DEV.
fx_events_dev() {
    local sys ev
    for sys in "$@"; do
        for ev in "$T/events/$sys"/*/; do
            grep -q 'field:dev_t dev;' "$ev/format" || continue
            echo "dev == $FX_DEV" > "$ev/filter" || tfs_die "cannot filter $ev"
            echo 1 > "$ev/enable"
        done
    done
}

# Loopback TCP: a server and a client exchanging a few messages, then closing.
wl_tcp() {
    python3 - <<'PY'
import socket, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
port = srv.getsockname()[1]
def serve():
    c, _ = srv.accept()
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d.upper())
    c.close()
t = threading.Thread(target=serve); t.start()
cl = socket.create_connection(("127.0.0.1", port))
for msg in (b"hello", b"x" * 3000, b"world" * 100):
    cl.sendall(msg)
    got = 0
    while got < len(msg): got += len(cl.recv(65536))
cl.shutdown(socket.SHUT_WR); cl.recv(1); cl.close(); t.join(); srv.close()
PY
}

# Text and binary writes into the top buffer's trace_marker / trace_marker_raw.
wl_markers() {
    local i m=$T/trace_marker r=$T/trace_marker_raw
    # Each marker must be exactly one write(2): printf's stdio flushes at a newline, so the
    # bytes go through a file and one dd block.
    one_write() { cat > "$WORK/marker"; dd if="$WORK/marker" of="$1" bs=16k count=1 status=none; }
    echo "rtrace fixture: plain text" | one_write "$m"
    printf 'no trailing newline' | one_write "$m"
    printf '\n' | one_write "$m"
    printf 'tab\there, percent %%s %%d, backslash \\ and quote "q"\n' | one_write "$m"
    printf 'utf-8: gr\xc3\xbc\xc3\x9fe \xe2\x86\x92 \xf0\x9f\x99\x82\n' | one_write "$m"
    printf 'control chars: \x01\x1b[0m bell\x07\n' | one_write "$m"
    printf 'two\nlines in one write\n' | one_write "$m"
    head -c 3000 /dev/zero | tr '\0' 'L' | one_write "$m"
    # longer than a 4 KiB sub-buffer can hold (6.18 splits it into two records)
    head -c 5000 /dev/zero | tr '\0' 'T' | one_write "$m"
    for i in $(seq 1 40); do echo "marker $i of 40" | one_write "$m"; done
    # trace_marker_raw: a 4-byte id (host order) then binary payload
    printf '\x01\x00\x00\x00' | one_write "$r"
    printf '\x02\x00\x00\x00\x00' | one_write "$r"
    printf '\x03\x00\x00\x00\xde\xad\xbe\xef' | one_write "$r"
    printf '\xff\xff\xff\xffraw text payload\x00' | one_write "$r"
    for i in $(seq 1 20); do
        printf "\\x$(printf %02x "$i")\\x10\\x00\\x00payload-$i" | one_write "$r"
    done
    { printf '\x2a\x00\x00\x00'; head -c 100 /dev/zero; } | one_write "$r"
}

# ---------------------------------------------------------------------------------------------
# The fixtures. Each begins with a one-line description (kept in NAME.cmd and the README).

cap_sched() {
    : "all sched events system-wide while a workload forks, execs, pipes, sleeps, migrates, is preempted, stopped and run at RT priority"
    fx_begin
    fx_events 'sched:*'
    fx_trace sh -c '
        for i in 1 2 3; do echo "$i" | cat > /dev/null; done
        taskset -c 0 timeout 0.03 sh -c "while :; do :; done" &
        taskset -c 1 timeout 0.03 sh -c "while :; do :; done" &
        sleep 0.04 & s=$!; kill -STOP $s; sleep 0.005; kill -CONT $s
        sleep 0.02 & m=$!; taskset -p -c 0 $m > /dev/null; taskset -p -c 1 $m > /dev/null
        chrt -f 10 sleep 0.002
        nice -n 10 true
        dd if=/dev/zero of=/var/tmp/rtrace-fx-sched bs=64k count=4 oflag=direct status=none
        rm -f /var/tmp/rtrace-fx-sched
        wait'
    fx_extract
}

cap_irq_timer_wq() {
    : "irq, irq_vectors, timer and workqueue events system-wide while a workload sleeps, does direct I/O and syncs"
    fx_begin
    fx_events 'irq:*' 'irq_vectors:*' 'timer:*' 'workqueue:*'
    fx_trace sh -c '
        sleep 0.05
        dd if=/dev/zero of=/var/tmp/rtrace-fx-irq bs=64k count=2 oflag=direct status=none
        sync /var/tmp/rtrace-fx-irq; rm -f /var/tmp/rtrace-fx-irq
        sleep 0.05'
    fx_extract
}

cap_syscalls() {
    : "every syscalls event, plus uprobes on libc's path-taking functions fetching the path strings, for a small shell workload and its children only"
    fx_begin
    # This kernel has no eprobes (writing an e: line to dynamic_events fails) and its syscall
    # events print pointers only; uprobes at libc's entry points fetch the strings instead.
    local libc
    libc=$(ldd /usr/bin/cat | awk '/libc\.so/ { print $3 }')
    {
        echo "p:rtrace/open64 $libc:$(fx_sym_offset "$libc" open64) path=+0(%di):ustring flags=%si:x32"
        echo "p:rtrace/openat64 $libc:$(fx_sym_offset "$libc" openat64) dfd=%di:s32 path=+0(%si):ustring flags=%dx:x32"
        echo "r:rtrace/open64_ret $libc:$(fx_sym_offset "$libc" open64) fd=\$retval:s32"
        echo "p:rtrace/execve $libc:$(fx_sym_offset "$libc" execve) path=+0(%di):ustring argv0=+0(+0(%si)):ustring"
        echo "p:rtrace/mkdir $libc:$(fx_sym_offset "$libc" mkdir) path=+0(%di):ustring mode=%si:x16"
        echo "p:rtrace/unlinkat $libc:$(fx_sym_offset "$libc" unlinkat) path=+0(%si):ustring flag=%dx:x32"
        echo "p:rtrace/renameat2 $libc:$(fx_sym_offset "$libc" renameat2) old=+0(%si):ustring new=+0(%cx):ustring"
        echo "p:rtrace/rename $libc:$(fx_sym_offset "$libc" rename) old=+0(%di):ustring new=+0(%si):ustring"
        echo "p:rtrace/readlink $libc:$(fx_sym_offset "$libc" readlink) path=+0(%di):ustring size=%dx:u64"
    } > "$WORK/uprobes"
    while IFS= read -r line; do
        echo "$line" >> "$T/uprobe_events" || tfs_die "cannot define uprobe: $line"
    done < "$WORK/uprobes"
    fx_events 'syscalls:*' 'rtrace:*'
    mkdir -p "$WORK/sys"
    fx_trace_pid sh -c '
        cd "$1"
        cat /etc/hostname > a
        mkdir d; mv a d/b; readlink /proc/self/exe > /dev/null
        rm -r d
        ls /nonexistent 2> /dev/null
        true' sh "$WORK/sys"
    fx_extract
}

cap_block_ext4() {
    : "block, ext4 and jbd2 events filtered to a loop-mounted ext4 image while files are written, synced, read back with O_DIRECT and removed"
    fx_begin
    fx_loop_ext4
    sync
    fx_events_dev block ext4 jbd2
    fx_trace sh -c '
        cd "$1"
        for i in 1 2 3; do echo "file $i" > small$i; done
        dd if=/dev/urandom of=big bs=64k count=4 status=none
        sync
        dd if=big of=/dev/null bs=64k iflag=direct status=none
        mv small1 renamed; rm small2; sync' sh "$WORK/mnt"
    fx_extract
    fx_loop_ext4_done
}

cap_kmem() {
    : "kmem events (kmalloc, kfree, kmem_cache_*, mm_page_*, rss_stat) for a small workload and its children only"
    fx_begin
    fx_events 'kmem:*'
    fx_trace_pid sh -c 'echo hello | cat > /dev/null'
    fx_extract
}

cap_net() {
    : "net, sock, tcp, skb and napi events system-wide during a loopback TCP connection exchanging three messages"
    fx_begin
    fx_events 'net:*' 'sock:*' 'tcp:*' 'skb:*' 'napi:*'
    fx_trace wl_tcp
    fx_extract
}

cap_markers() {
    : "trace_marker text (odd characters, multi-line, a 5000-byte write the kernel splits in two) and trace_marker_raw binary writes; no events"
    fx_begin
    fx_trace wl_markers
    fx_extract
}

cap_stacktrace() {
    : "kernel_stack (options/stacktrace) and user_stack (options/userstacktrace) after each sched_switch/sched_process_exec/sys_enter_openat of a small workload"
    fx_begin
    fx_events sched:sched_switch sched:sched_process_exec syscalls:sys_enter_openat
    tfs_w options/stacktrace 1
    tfs_w options/userstacktrace 1
    fx_trace_pid sh -c 'cat /etc/hostname > /dev/null; sleep 0.01'
    tfs_w options/stacktrace 0
    tfs_w options/userstacktrace 0
    fx_extract
}

cap_instances() {
    : "the top buffer (irq, markers) beside two instances, fx (sched_switch/sched_wakeup, markers) and rtrace_second (timer events)"
    fx_begin
    mkdir "$T/instances/fx" "$T/instances/rtrace_second"
    fx_events 'irq:*'
    FX_IN=fx fx_events sched:sched_switch sched:sched_wakeup
    FX_IN=rtrace_second fx_events 'timer:*'
    echo > "$T/instances/fx/trace"; echo > "$T/instances/rtrace_second/trace"
    echo 1 > "$T/instances/fx/tracing_on"
    echo 1 > "$T/instances/rtrace_second/tracing_on"
    fx_trace sh -c '
        echo "top marker 1" > "$1/trace_marker"
        echo "instance marker 1" > "$1/instances/fx/trace_marker"
        sleep 0.005
        echo "top marker 2" > "$1/trace_marker"
        echo "instance marker 2" > "$1/instances/fx/trace_marker"' sh "$T"
    echo 0 > "$T/instances/fx/tracing_on"
    echo 0 > "$T/instances/rtrace_second/tracing_on"
    fx_extract -t -B fx -B rtrace_second
}

# One capture per clock: a small workload's scheduling, syscalls and markers (only its own
# events, so the size does not depend on what else the machine is doing).
fx_clock() {
    fx_begin
    tfs_w trace_clock "$1"
    fx_events sched:sched_switch sched:sched_wakeup sched:sched_process_exec raw_syscalls:sys_enter raw_syscalls:sys_exit
    fx_trace_pid sh -c '
        echo "clock $2 begin" > "$1/trace_marker"
        sleep 0.01; cat /etc/hostname > /dev/null
        echo "clock $2 end" > "$1/trace_marker"' sh "$T" "$1"
    fx_extract
}
cap_clock_local() { : "trace_clock local: sched, raw_syscalls and markers of a small workload"; fx_clock local; }
cap_clock_global() { : "trace_clock global: sched, raw_syscalls and markers of a small workload"; fx_clock global; }
cap_clock_counter() { : "trace_clock counter (report prints raw counts): sched, raw_syscalls and markers of a small workload"; fx_clock counter; }
cap_clock_uptime() { : "trace_clock uptime (jiffies-based): sched, raw_syscalls and markers of a small workload"; fx_clock uptime; }
cap_clock_perf() { : "trace_clock perf: sched, raw_syscalls and markers of a small workload"; fx_clock perf; }
cap_clock_mono() { : "trace_clock mono: sched, raw_syscalls and markers of a small workload"; fx_clock mono; }
cap_clock_mono_raw() { : "trace_clock mono_raw: sched, raw_syscalls and markers of a small workload"; fx_clock mono_raw; }
cap_clock_boot() { : "trace_clock boot: sched, raw_syscalls and markers of a small workload"; fx_clock boot; }
cap_clock_tai() { : "trace_clock tai: sched, raw_syscalls and markers of a small workload"; fx_clock tai; }
cap_clock_x86-tsc() { : "trace_clock x86-tsc (report prints raw TSC values): sched, raw_syscalls and markers of a small workload"; fx_clock x86-tsc; }

# A 16 KiB-per-CPU buffer flooded by busy work on both CPUs, read after the fact.
fx_overflow() {
    fx_begin
    tfs_w options/overwrite "$1"
    tfs_w buffer_size_kb 16
    fx_events 'sched:*' 'timer:*' 'irq:*' 'raw_syscalls:*'
    fx_trace sh -c '
        taskset -c 0 timeout 0.2 sh -c "while :; do echo x > /dev/null; done" &
        taskset -c 1 timeout 0.2 sh -c "while :; do echo y > /dev/null; done" &
        wait'
    fx_extract
}
cap_overflow_overwrite() { : "overwrite=1, 16 KiB per CPU flooded: the oldest pages were overwritten (lost-event markers with counts)"; fx_overflow 1; }
cap_overflow_nooverwrite() { : "overwrite=0, 16 KiB per CPU flooded: new events were dropped once full (counted in the CPU stats only: no lost-event markers in the data)"; fx_overflow 0; }

cap_overflow_nocount() {
    : "overwrite=1, 8 KiB per CPU, equal-sized markers flooding each CPU: on CPU 0 their size leaves no room for the lost-event count (bare [EVENTS DROPPED]), on CPU 1 it does"
    local len
    # A page left with fewer than 8 free bytes gets the missed-events flag but no count. The
    # marker length that fills pages that tightly depends on the kernel's event layout, so it
    # is searched for; CPU 1 gets a length that leaves room, for the counted kind beside it.
    for len in ${FX_LEN:-$(seq 40 64)}; do
        fx_begin
        tfs_w options/overwrite 1
        tfs_w buffer_size_kb 8
        fx_trace sh -c '
            flood() { taskset -c "$1" bash -c "exec 9> $3/trace_marker
                for i in \$(seq 1 400); do printf %s \"$2\" >&9; done"; }
            flood 0 "$(head -c "$2" /dev/zero | tr "\0" m)" "$1" &
            flood 1 "$(head -c 40 /dev/zero | tr "\0" n)" "$1" &
            wait' sh "$T" "$len"
        fx_extract
        "$REF31" report -i "$OUT/$FX_NAME.dat" > "$WORK/report" 2> /dev/null
        grep -q '^CPU:0 \[EVENTS DROPPED\]' "$WORK/report" && return
    done
    tfs_die "no marker length in 40..64 left a page without room for the count"
}

cap_all_events() {
    : "every event of the kernel enabled at once (events/enable), for a few milliseconds"
    fx_begin
    mkfifo "$WORK/fifo"
    tfs_w events/enable 1
    # a builtin read that times out after 1 ms: no process is started while everything is on
    fx_trace read -r -t 0.001 <> "$WORK/fifo" || true
    tfs_w events/enable 0
    fx_extract
}

cap_subbuf_16k() {
    : "buffer_subbuf_size_kb=16 (16 KiB ring-buffer sub-buffers, several per CPU): sched and raw_syscalls events of a small workload"
    fx_begin
    tfs_w buffer_subbuf_size_kb 16
    fx_events 'sched:*' 'raw_syscalls:*'
    fx_trace_pid sh -c 'for i in 1 2 3 4; do echo "$i" | taskset -c $((i % 2)) cat > /dev/null; done'
    fx_extract
}

cap_onecpu() {
    : "tracing_cpumask=2 (CPU 1 only) and a workload pinned to CPU 1: CPU 0 has no data"
    fx_begin
    tfs_w tracing_cpumask 2
    fx_events raw_syscalls:sys_enter raw_syscalls:sys_exit 'sched:*'
    fx_trace_pid taskset -c 1 sh -c 'echo x | cat > /dev/null; sleep 0.005'
    fx_extract
}

# ---------------------------------------------------------------------------------------------

# The helpers a cap_* function calls (directly or through another helper), for NAME.cmd.
fx_helpers_of() {
    local fn=$1 seen=" $1 " queue=$1 body h
    while [ -n "$queue" ]; do
        fn=${queue%% *}; queue=${queue#"$fn"}; queue=${queue# }
        body=$(declare -f "$fn")
        for h in $(grep -oE '\b(fx_[a-z_0-9]+|wl_[a-z_0-9]+|cap_[a-z_0-9-]+)\b' <<< "$body" | sort -u); do
            declare -F "$h" > /dev/null || continue
            case $seen in *" $h "*) continue ;; esac
            seen="$seen$h "
            queue="$queue $h"; queue=${queue# }
        done
    done
    for h in $seen; do [ "$h" = "$1" ] || echo "$h"; done
}

report_lines() { "$1" report -i "$2" 2>/dev/null | wc -l; }

capture_one() {
    local name=$1 fn=cap_$1 desc h
    declare -F "$fn" > /dev/null || tfs_die "no fixture named $name"
    FX_NAME=$name
    echo "capturing $name" >&2
    "$fn"
    desc=$(declare -f "$fn" | sed -n 's/^ *: "\(.*\)";$/\1/p' | head -n 1)
    {
        echo "# fixtures/$name.dat: $desc"
        echo "# captured $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm) by tools/capture-fixtures.sh $name"
        echo "# ($(nproc) CPUs; tracefs settings saved before and restored after by tools/lib/tracefs-state.sh)"
        echo
        declare -f "$fn"
        for h in $(fx_helpers_of "$fn"); do echo; declare -f "$h"; done
        echo
        echo "# then (cwd fixtures/): $FX_EXTRACT"
        sed 's/^/#   /' "$WORK/extract.log"
        echo "# report lines: 3.1.6 $(report_lines "$REF31" "$OUT/$name.dat"), 3.3.1 $(report_lines "$REF33" "$OUT/$name.dat")"
    } > "$OUT/$name.cmd"
    tail -n 1 "$OUT/$name.cmd" >&2
}

cleanup() {
    fx_loop_ext4_done 2>/dev/null || true
    tfs_restore
    [ -n "$WORK" ] && rm -rf "$WORK"
}

main() {
    # shellcheck disable=SC2086  # the list splits into names
    if [ "${1:-}" = --list ]; then printf '%s\n' $FIXTURES; exit 0; fi
    [ "$(id -u)" = 0 ] || tfs_die "run as root"
    command -v "$REF31" > /dev/null || tfs_die "trace-cmd not found (tools/install-references.sh)"
    local names=${*:-$FIXTURES} n
    for n in $names; do declare -F "cap_$n" > /dev/null || tfs_die "no fixture named $n"; done
    mkdir -p "$OUT"
    WORK=$(mktemp -d /var/tmp/rtrace-capture.XXXXXX)
    tfs_save
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    for n in $names; do capture_one "$n"; done
}

main "$@"
