#!/bin/sh
# Boots one of Debian's kernels under qemu (TCG), runs SCRIPT in it with busybox sh and
# trace-cmd 3.1.6, prints what the script printed, copies what it left in /out to the host
# and exits with the script's exit status.
#
# usage: run.sh [-o OUTDIR] [-k FLAVOUR] [-t SECONDS] [-c CPUS] [-m MEM] [-b BINARY]... SCRIPT [FILES...]
#   -o OUTDIR   where the guest's /out lands (default ./qemu-out; created, existing files
#               of the same name are overwritten)
#   -b BINARY   install BINARY in the guest as /usr/bin/NAME with the shared libraries ldd
#               names (debug info stripped); repeatable. Used for the freshly built rtrace-cmd.
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
BINARIES=

usage() {
	sed -n '/^# usage:/,/^# Environment/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
while getopts o:k:t:c:m:b:h opt; do
	case $opt in
	b)
		[ -f "$OPTARG" ] && [ -x "$OPTARG" ] || { echo "run.sh: -b $OPTARG: not an executable file" >&2; exit 2; }
		# newline-separated: paths with spaces survive
		BINARIES="$BINARIES$(cd "$(dirname "$OPTARG")" && pwd)/$(basename "$OPTARG")
"
		;;
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
BUSYBOX=${RTRACE_QEMU_CACHE:-$HOME/.cache/rtrace-qemu}/base/bin/busybox

# add_binaries STAGE CPIO: a newc archive of $BINARIES under /usr/bin plus every library
# ldd names for them (the loader too), at the host paths the binaries look for them.
add_binaries() {
	stage=$1
	mkdir -p "$stage/usr/bin"
	echo "$BINARIES" | while IFS= read -r bin; do
		[ -n "$bin" ] || continue
		dest=$stage/usr/bin/$(basename "$bin")
		# debug info is most of a release build with debug = 1 (37 MB -> 5 MB for rtrace-cmd);
		# the guest unpacks every byte of the initramfs under TCG
		objcopy --strip-debug "$bin" "$dest" 2>/dev/null || cp "$bin" "$dest"
		chmod 755 "$dest"
		ldd "$bin" 2>/dev/null | awk '/=>/ && $3 ~ /^\// {print $3} !/=>/ && $1 ~ /^\// {print $1}'
	done | sort -u | while IFS= read -r lib; do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
	(cd "$stage" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) >"$2"
}

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
INITRD=$KDIR/initramfs.cpio
if [ -n "$BINARIES" ]; then
	add_binaries "$WORK/extra" "$WORK/extra.cpio"
	# The kernel unpacks concatenated newc archives one after the other, so the cached
	# initramfs stays as it is and each run brings exactly the binaries it was given.
	cat "$KDIR/initramfs.cpio" "$WORK/extra.cpio" >"$WORK/initramfs.cpio"
	INITRD=$WORK/initramfs.cpio
fi
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
	-kernel "$KDIR/vmlinux" -initrd "$INITRD" -append "$APPEND" \
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
