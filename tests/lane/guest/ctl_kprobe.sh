# kprobes: define (kprobe and kretprobe with fetch arguments), list, refuse a bad one, remove
# one and all; record them with start/stop/show; then start --kprobe, which defines the probe
# and enables its event, and reset, which removes it again.
. "$RTRACE_IN/lane.sh"
P1='p:lane_open do_sys_openat2 dfd=%di:s32 path=+0(%si):string flags=+0(%dx):x64 comm=$comm'
P2='r:lane_read_ret ksys_read ret=$retval:s64'
workload() { dd if=/proc/version of=/dev/null bs=4096 count=1 2>/dev/null; }
snap initial
step add_p rt kprobe "$P1"
step add_r rt kprobe "$P2"
step list rt kprobe -l
step bad rt kprobe 'p:lane_bad no_such_function_in_this_kernel'
step remove_one rt kprobe -r lane_open
step remove_all rt kprobe -r all
step readd_p rt kprobe "$P1"
step readd_r rt kprobe "$P2"
step start rt start -e kprobes:lane_open -e kprobes:lane_read_ret
workload
step stop rt stop
step show rt show
step reset rt reset
step cleanup rt kprobe -r all
step start_k rt start --kprobe 'p:lane_vfs_read vfs_read count=%dx:u64'
workload
step stop_k rt stop
step show_k rt show
step reset_k rt reset
