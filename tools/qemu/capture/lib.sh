# Sourced by the guest capture scripts in this directory (runs in the qemu guest, busybox sh,
# cwd /out). rec NAME 'COMMAND' runs COMMAND with sh -c semantics, and leaves in /out:
#   NAME.cmd         the exact command
#   NAME.record.log  what it printed (stdout and stderr)
# A failed command leaves NAME.failed (and no NAME.dat), and the script goes on with the next
# capture, so that one broken capture does not hide the others; rec_end, the last line of every
# capture script, then exits 1, so a broken capture is never returned as good. A command
# still running after $REC_TIMEOUT seconds (default 120) is killed after the kernel's task
# states are dumped to the console, to see where it hung.
REC_FAILED=
rec() {
	name=$1
	cmd=$2
	echo "$cmd" >"$name.cmd"
	echo "== $name: $cmd"
	eval "$cmd" >"$name.record.log" 2>&1 &
	pid=$!
	(
		trap 'kill $s 2>/dev/null; exit 0' TERM
		sleep "${REC_TIMEOUT:-120}" &
		s=$!
		wait $s
		echo "== $name: timed out; task states:"
		ps
		echo t >/proc/sysrq-trigger
		dmesg | tail -n 600
		kill "$pid"
	) >/dev/console 2>&1 &
	watchdog=$!
	status=0
	wait "$pid" || status=$?
	kill "$watchdog" 2>/dev/null
	if [ "$status" -eq 0 ] && [ ! -s "$name.dat" ]; then
		echo "== $name: the command succeeded but left no $name.dat"
		status=1
	fi
	if [ "$status" -ne 0 ]; then
		cat "$name.record.log"
		echo "== $name FAILED ($status)"
		echo "$status" >"$name.failed"
		rm -f "$name.dat"
		REC_FAILED="$REC_FAILED $name"
		return 1
	fi
	ls -l "$name.dat"
}

rec_end() {
	if [ -n "$REC_FAILED" ]; then
		echo "== failed:$REC_FAILED"
		exit 1
	fi
	exit 0
}
