# Flyrecord captures from Debian's amd64 kernel: a shallow function_graph, and an events
# capture with an instance beside the top-level buffer (CPUSTAT options for both).
. "$RTRACE_IN/lib.sh"

rec fg_depth2 "trace-cmd record -p function_graph --max-graph-depth 2 -g do_sys_openat2 -o fg_depth2.dat sh -c 'sleep 0.3; cat /proc/version > /dev/null'"
rec events_instance "trace-cmd record -e sched -e irq -e timer -B foo -e sched_switch -o events_instance.dat sh -c 'sleep 0.3; ls / > /dev/null; sleep 0.1'"
rec_end
