# Sourced by the guest capture scripts in this directory (runs in the qemu guest, busybox sh,
# cwd /out). rec NAME 'COMMAND' runs COMMAND with sh -c semantics, and leaves in /out:
#   NAME.cmd         the exact command
#   NAME.record.log  what it printed (stdout and stderr)
# It stops the whole script on the first failure so a broken capture is never returned as
# good. A command still running after $REC_TIMEOUT seconds (default 120) is killed after
# the kernel's task states are dumped to the console, to see where it hung.
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
	if [ "$status" -ne 0 ]; then
		cat "$name.record.log"
		echo "== $name FAILED ($status)"
		exit 1
	fi
	ls -l "$name.dat"
}
