#!/bin/sh
# Boots one of Debian's kernels under qemu (TCG), runs SCRIPT in it with busybox sh and
# trace-cmd 3.1.6, prints what the script printed, copies what it left in /out to the host
# and exits with the script's exit status.
#
# usage: run.sh [-o OUTDIR] [-k FLAVOUR] [-t SECONDS] [-c CPUS] [-m MEM] SCRIPT [FILES...]
#   -o OUTDIR   where the guest's /out lands (default ./qemu-out; created, existing files
#               of the same name are overwritten)
#   -k FLAVOUR  Debian kernel flavour: amd64 (default) or rt-amd64 (latency tracers)
#   -t SECONDS  time limit for the whole guest run (default 600); a hung guest is killed
#   -c CPUS     virtual CPUs (default 2)     -m MEM   guest memory (default 1G)
# In the guest: FILES are in /in/ under their base names ($RTRACE_IN), cwd is /out, tracefs
# is mounted at /sys/kernel/tracing and debugfs at /sys/kernel/debug, the host name is
# rtrace-qemu. The guest is discarded after each run.
# Exit status: the script's; 124 when the time limit killed the guest; 125 when the guest
# gave no result (boot failure, crash) - the console log is printed to stderr then.
# Environment: RTRACE_QEMU_CACHE (see prepare.sh), RTRACE_QEMU_APPEND (extra kernel
# command line), RTRACE_QEMU_CONSOLE=1 (stream the guest console to stderr while it runs),
# RTRACE_QEMU_OUTSIZE (size of the output disk, default 512M), RTRACE_QEMU_MONITOR=PATH
# (a qemu monitor on that unix socket, to look into a hung guest).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
OUTDIR=./qemu-out
FLAVOUR=${RTRACE_QEMU_FLAVOUR:-amd64}
LIMIT=600
CPUS=2
MEM=1G

usage() {
	sed -n '/^# usage:/,/^# Environment/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
while getopts o:k:t:c:m:h opt; do
	case $opt in
	o) OUTDIR=$OPTARG ;;
	k) FLAVOUR=$OPTARG ;;
	t) LIMIT=$OPTARG ;;
	c) CPUS=$OPTARG ;;
	m) MEM=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
SCRIPT=$1
shift
[ -f "$SCRIPT" ] || { echo "run.sh: no script $SCRIPT" >&2; exit 2; }
for f in "$@"; do
	[ -e "$f" ] || { echo "run.sh: no file $f" >&2; exit 2; }
done

KDIR=$("$HERE/prepare.sh" "$FLAVOUR")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rtrace-qemu.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK/in/in"
cp "$SCRIPT" "$WORK/in/script"
for f in "$@"; do
	cp -R "$f" "$WORK/in/in/"
done
tar -cf "$WORK/in.tar" -C "$WORK/in" script in
truncate -s "${RTRACE_QEMU_OUTSIZE:-512M}" "$WORK/out.img"

# panic=-1 + -no-reboot: a panic ends qemu instead of hanging until the time limit
APPEND="console=ttyS0 panic=-1 loglevel=4 ${RTRACE_QEMU_APPEND:-}"
: >"$WORK/console.log"
if [ "${RTRACE_QEMU_CONSOLE:-}" = 1 ]; then
	tail -n +1 -f "$WORK/console.log" >&2 &
	tailpid=$!
else
	tailpid=
fi

TCG_THREAD=${RTRACE_QEMU_TCG_THREAD:-single}
# a monitor socket lets one look into a hung guest (info cpus, info registers)
if [ -n "${RTRACE_QEMU_MONITOR:-}" ]; then
	MONITOR="unix:$RTRACE_QEMU_MONITOR,server,nowait"
else
	MONITOR=none
fi

start=$(date +%s)
rc=0
timeout -k 10 "$LIMIT" qemu-system-x86_64 \
	-accel "tcg,thread=$TCG_THREAD" -cpu max -smp "$CPUS" -m "$MEM" \
	-kernel "$KDIR/vmlinux" -initrd "$KDIR/initramfs.cpio" -append "$APPEND" \
	-drive "file=$WORK/in.tar,format=raw,if=virtio,readonly=on" \
	-drive "file=$WORK/out.img,format=raw,if=virtio" \
	-display none -monitor "$MONITOR" -serial "file:$WORK/console.log" \
	-no-reboot </dev/null >"$WORK/qemu.log" 2>&1 || rc=$?
elapsed=$(($(date +%s) - start))
if [ -n "$tailpid" ]; then
	sleep 0.2
	kill "$tailpid" 2>/dev/null || true
fi

if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "run.sh: guest killed after the ${LIMIT}s time limit; console log:" >&2
	tail -n 50 "$WORK/console.log" >&2
	exit 124
fi
if [ $rc -ne 0 ]; then
	echo "run.sh: qemu exited $rc:" >&2
	cat "$WORK/qemu.log" >&2
fi

mkdir -p "$WORK/result"
if ! tar -xf "$WORK/out.img" -C "$WORK/result" 2>/dev/null || [ ! -f "$WORK/result/status" ]; then
	echo "run.sh: the guest returned no result (after ${elapsed}s); console log:" >&2
	tail -n 80 "$WORK/console.log" >&2
	exit 125
fi
[ -f "$WORK/result/output.log" ] && cat "$WORK/result/output.log"
mkdir -p "$OUTDIR"
if [ -d "$WORK/result/out" ]; then
	cp -R "$WORK/result/out/." "$OUTDIR/"
fi
status=$(cat "$WORK/result/status")
echo "run.sh: $(cat "$KDIR/release"), script exited $status after ${elapsed}s of guest time" >&2
case $status in
'' | *[!0-9]*) exit 125 ;;
esac
exit "$status"
