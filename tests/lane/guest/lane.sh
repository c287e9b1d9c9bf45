# Sourced by the qemu lane's guest scripts (tests/lane/guest/*.sh; busybox sh in the guest that
# tools/qemu/run.sh boots). tests/lane/mod.rs generates the top script: it sets LANE_TOOL,
# sources this file and calls `scenario` once per scenario. Functions keep their variables
# `local` (busybox ash has it): the scenario scripts call them with names of their own.
T=/sys/kernel/tracing
DD=/sys/kernel/debug/dynamic_debug/control

# rt ARGS...: the tool under test. LANE_TOOL=trace-cmd is the reference mode
# (RTRACE_LANE_TOOL=trace-cmd on the host): reference.sh stands in for rtrace-cmd.
rt() {
	if [ "${LANE_TOOL:-rtrace-cmd}" = trace-cmd ]; then
		ref_rt "$@"
	else
		rtrace-cmd "$@"
	fi
}
if [ "${LANE_TOOL:-rtrace-cmd}" = trace-cmd ]; then
	. "$RTRACE_IN/reference.sh"
fi

# scenario NAME LIMIT SCRIPT: runs $RTRACE_IN/SCRIPT with cwd /out/NAME, killed after LIMIT
# seconds; leaves /out/NAME/.status (its exit status), .log (what it printed) and .seconds.
# A scenario that failed may have left tracing switched on: scrub puts tracefs back to the
# boot state, so that the next scenario does not inherit it.
scenario() {
	local name=$1 limit=$2 script=$3 start end status
	mkdir -p "/out/$name"
	start=$(cut -d' ' -f1 /proc/uptime)
	echo "== scenario $name ($script, limit ${limit}s)"
	(cd "/out/$name" && exec timeout -s KILL "$limit" sh "$RTRACE_IN/$script") >"/out/$name/.log" 2>&1 </dev/null
	status=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	echo "$status" >"/out/$name/.status"
	echo "$start $end" | awk '{printf "%.2f\n", $2 - $1}' >"/out/$name/.seconds"
	echo "== scenario $name: exit $status after $(cat "/out/$name/.seconds") s"
	if [ "$status" -ne 0 ]; then
		tail -n 30 "/out/$name/.log"
		scrub
	fi
}

scrub() {
	local p f
	for p in $(pidof trace-cmd rtrace-cmd); do kill -9 "$p" 2>/dev/null; done
	echo 0 >$T/tracing_on
	echo nop >$T/current_tracer
	echo >$T/set_event
	for f in set_ftrace_filter set_ftrace_notrace set_graph_function set_graph_notrace set_ftrace_pid set_event_pid; do
		echo >"$T/$f"
	done
	echo >$T/kprobe_events
	echo >$T/trace
	echo 1 >$T/tracing_on
}

# step NAME CMD [ARGS...]: runs CMD, keeps its command line, stdout, stderr and exit status as
# NAME.cmd, NAME.out, NAME.err, NAME.rc, then the tracefs state as NAME.state/ (snap). The
# assertions are on the host (tests/qemu_lane.rs), which reads these files.
step() {
	local name=$1
	shift
	printf "'%s' " "$@" | sed "s/^'rt' /${LANE_TOOL:-rtrace-cmd} /" >"$name.cmd"
	"$@" >"$name.out" 2>"$name.err"
	echo $? >"$name.rc"
	snap "$name"
}

# snap NAME: what the kernel reads back, in NAME.state/: the tracer, tracing_on, the function
# and pid filters, the enabled events (set_event), the probes (kprobe_events and the event
# directories they make), and with SNAP_DD=1 the dynamic_debug control file.
snap() {
	local f
	mkdir -p "$1.state"
	for f in current_tracer tracing_on set_ftrace_filter set_ftrace_notrace set_graph_function \
		set_graph_notrace set_ftrace_pid set_event_pid set_event kprobe_events max_graph_depth; do
		cat "$T/$f" >"$1.state/$f" 2>&1
	done
	ls $T/events/kprobes >"$1.state/kprobe_event_dirs" 2>/dev/null
	if [ -n "${SNAP_DD:-}" ]; then
		cat $DD >"$1.state/dynamic_debug_control"
	fi
}
