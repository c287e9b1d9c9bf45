# record -p function_graph, with and without --max-graph-depth; the host compares rtrace-cmd's
# report of the files with both references' and checks what record left in tracefs.
. "$RTRACE_IN/lane.sh"
snap initial
step record rt record -p function_graph -g ksys_read -o rec_fg.dat sh -c 'sleep 0.2; dd if=/proc/version of=/dev/null bs=4096 count=1'
step record_depth rt record -p function_graph -g do_sys_openat2 --max-graph-depth 2 -o rec_fg_depth.dat sh -c 'sleep 0.2; cat /proc/version > /dev/null'
