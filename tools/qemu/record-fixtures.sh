#!/bin/sh
# Records the qemu fixtures (latency-format and flyrecord trace.dat files made by trace-cmd
# 3.1.6 inside Debian's kernels) and the reference reports beside them.
#
# usage: tools/qemu/record-fixtures.sh [REPO]       (REPO defaults to this checkout)
# writes: REPO/fixtures/NAME.dat, REPO/fixtures/NAME.cmd,
#         REPO/fixtures/qemu-captures/NAME.record.log, NAME.report-3.1, NAME.report-3.3
#
# Each run records new data (the kernel's trace differs every boot), so every file listed
# above is replaced together. Guest scripts: tools/qemu/capture/*.sh.
# References on the host: trace-cmd (3.1.6, Debian 12) and trace-cmd 3.3.1 with Debian 13's
# libtraceevent 1.8.4 plugins ($RTRACE_REF33, else the wrapper tools/install-references.sh
# writes, else ~/.local/trace-cmd-3.3/trace-cmd with TRACEEVENT_PLUGIN_DIR set here).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=${1:-$(cd "$HERE/../.." && pwd)}
FIX=$REPO/fixtures
CAP=$FIX/qemu-captures
T33=$HOME/.local/trace-cmd-3.3

trace-cmd --version 2>&1 | grep -q 'version 3\.1\.6' || {
	echo "record-fixtures: trace-cmd on the host is not 3.1.6" >&2
	exit 1
}
if [ -n "${RTRACE_REF33:-}" ]; then
	ref33() { "$RTRACE_REF33" "$@"; }
elif [ -x "$T33/trace-cmd-deb13" ]; then
	ref33() { "$T33/trace-cmd-deb13" "$@"; }
else
	P13=$T33/p13/usr/lib/x86_64-linux-gnu/traceevent/plugins
	if [ ! -x "$T33/trace-cmd" ] || [ ! -f "$P13/plugin_sched_switch.so" ]; then
		echo "record-fixtures: no trace-cmd 3.3.1 with Debian 13's plugins (tools/install-references.sh)" >&2
		exit 1
	fi
	ref33() { TRACEEVENT_PLUGIN_DIR=$P13 "$T33/trace-cmd" "$@"; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rtrace-fixtures.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Debian's amd64 kernel has no latency tracer; its rt-amd64 flavour has wakeup and wakeup_rt.
"$HERE/run.sh" -k rt-amd64 -o "$WORK" "$HERE/capture/latency.sh" "$HERE/capture/lib.sh"
"$HERE/run.sh" -k amd64 -o "$WORK" "$HERE/capture/flyrecord.sh" "$HERE/capture/lib.sh"

# v7 without compression: the only way trace-cmd 3.1.6 writes a latency file that way
(cd "$WORK" && trace-cmd convert -i lat_wakeup.dat -o lat_wakeup_none.dat --compression none \
	>lat_wakeup_none.record.log 2>&1)
echo "trace-cmd convert -i lat_wakeup.dat -o lat_wakeup_none.dat --compression none   # on the host, trace-cmd 3.1.6" \
	>"$WORK/lat_wakeup_none.cmd"

mkdir -p "$CAP"
for dat in "$WORK"/*.dat; do
	name=$(basename "$dat" .dat)
	cp "$dat" "$WORK/$name.cmd" "$FIX/"
	cp "$WORK/$name.record.log" "$CAP/"
	# run in the fixtures directory so the reports name the file as the tests will
	(cd "$FIX" && trace-cmd report -i "$name.dat" >"$CAP/$name.report-3.1" 2>"$WORK/$name.err-3.1")
	(cd "$FIX" && ref33 report -i "$name.dat" >"$CAP/$name.report-3.3" 2>"$WORK/$name.err-3.3")
	for v in 3.1 3.3; do
		if [ -s "$WORK/$name.err-$v" ]; then
			cp "$WORK/$name.err-$v" "$CAP/$name.report-$v.err"
		else
			rm -f "$CAP/$name.report-$v.err"
		fi
	done
	printf '%-20s %9d bytes  %6d lines (3.1)  %6d lines (3.3)\n' "$name" \
		"$(wc -c <"$dat")" "$(wc -l <"$CAP/$name.report-3.1")" "$(wc -l <"$CAP/$name.report-3.3")"
done
