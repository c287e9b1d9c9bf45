#!/bin/sh
# Records the qemu fixtures (latency-format and flyrecord trace.dat files made by trace-cmd
# 3.1.6 inside Debian's kernels). Their expected report outputs are golden files, made from the
# references afterwards with RTRACE_UPDATE_GOLDEN=1 cargo test --test golden.
#
# usage: tools/qemu/record-fixtures.sh [REPO]       (REPO defaults to this checkout)
# writes: REPO/fixtures/NAME.dat, REPO/fixtures/NAME.cmd, REPO/fixtures/qemu-captures/NAME.record.log
#
# Each run records new data (the kernel's trace differs every boot), so every file listed
# above is replaced together. Guest scripts: tools/qemu/capture/*.sh.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=${1:-$(cd "$HERE/../.." && pwd)}
FIX=$REPO/fixtures
CAP=$FIX/qemu-captures

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rtrace-fixtures.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Debian's amd64 kernel has no latency tracer; its rt-amd64 flavour has wakeup and wakeup_rt.
"$HERE/run.sh" -k rt-amd64 -o "$WORK" "$HERE/capture/latency.sh" "$HERE/capture/lib.sh"
"$HERE/run.sh" -k amd64 -o "$WORK" "$HERE/capture/flyrecord.sh" "$HERE/capture/lib.sh"
"$HERE/run.sh" -k amd64 -o "$WORK" "$HERE/capture/options.sh" "$HERE/capture/lib.sh"

mkdir -p "$CAP"
for dat in "$WORK"/*.dat; do
	name=$(basename "$dat" .dat)
	cp "$dat" "$WORK/$name.cmd" "$FIX/"
	cp "$WORK/$name.record.log" "$CAP/"
	printf '%-20s %9d bytes\n' "$name" "$(wc -c <"$dat")"
done
