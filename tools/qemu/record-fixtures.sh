#!/bin/sh
# Records the qemu fixtures (latency-format and flyrecord trace.dat files made by trace-cmd
# 3.1.6 inside Debian's kernels). Their expected report outputs are golden files, made from the
# references afterwards with RTRACE_UPDATE_GOLDEN=1 cargo test --test golden.
#
# usage: tools/qemu/record-fixtures.sh [-C REPO] [GROUP...]
#   GROUP: a guest script in tools/qemu/capture/ (default: all of them), one boot each:
#     latency    lat_wakeup, lat_wakeup_v6, lat_wakeup_rt         (rt-amd64 kernel)
#     flyrecord  fg_depth2, events_instance                       (amd64)
#     options    opt_date, opt_offset                             (amd64)
#     function   func_glob, fg_full, kprobe_args                  (amd64)
#   -C REPO: the checkout to write into (default this one)
# writes: REPO/fixtures/NAME.dat, REPO/fixtures/NAME.cmd, REPO/fixtures/qemu-captures/NAME.record.log
#
# Each run records new data (the kernel's trace differs every boot), so every file of a group
# is replaced together; regenerate their goldens afterwards
# (RTRACE_UPDATE_GOLDEN=1 RTRACE_GOLDEN_FILTER=NAME/,... cargo test --release --test golden).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
while getopts C: opt; do
	case $opt in
	C) REPO=$OPTARG ;;
	*) sed -n '/^# usage:/,/^# writes:/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- latency flyrecord options function
FIX=$REPO/fixtures
CAP=$FIX/qemu-captures

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rtrace-fixtures.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

for group in "$@"; do
	[ -f "$HERE/capture/$group.sh" ] || { echo "record-fixtures: no capture script $group.sh" >&2; exit 2; }
	case $group in
	# Debian's amd64 kernel has no latency tracer; its rt-amd64 flavour has wakeup and wakeup_rt.
	latency) flavour=rt-amd64 ;;
	*) flavour=amd64 ;;
	esac
	"$HERE/run.sh" -k "$flavour" -o "$WORK" "$HERE/capture/$group.sh" "$HERE/capture/lib.sh"
done

mkdir -p "$CAP"
for dat in "$WORK"/*.dat; do
	name=$(basename "$dat" .dat)
	cp "$dat" "$WORK/$name.cmd" "$FIX/"
	cp "$WORK/$name.record.log" "$CAP/"
	printf '%-20s %9d bytes\n' "$name" "$(wc -c <"$dat")"
done
