# record --kprobe: a kprobe and a kretprobe defined for the recording only.
. "$RTRACE_IN/lane.sh"
snap initial
step record rt record --kprobe 'p:lane_rec_open do_sys_openat2 dfd=%di:s32 path=+0(%si):string' --kprobe 'r:lane_rec_read ksys_read ret=$retval:s64' -o rec_kprobe.dat sh -c 'sleep 0.2; dd if=/proc/version of=/dev/null bs=4096 count=1'
