# function_graph switched on and off three times with start/stop/show/reset; the host checks
# the state after every step, and that the last reset leaves the tracer at nop and every
# filter empty.
. "$RTRACE_IN/lane.sh"
workload() {
	dd if=/proc/version of=/dev/null bs=4096 count=1 2>/dev/null
	cat /proc/version >/dev/null
}
round() { # N FUNC [START-ARGS...]
	n=$1
	f=$2
	shift 2
	step "start$n" rt start -p function_graph -g "$f" "$@"
	workload
	step "stop$n" rt stop
	step "show$n" rt show
	step "reset$n" rt reset
}
snap initial
round 1 do_sys_openat2
# seq_read_iter takes m->lock: without the notrace glob the graph of ksys_read holds mutex_lock
round 2 ksys_read -n 'mutex_*'
round 3 do_sys_openat2
step show_final rt show
