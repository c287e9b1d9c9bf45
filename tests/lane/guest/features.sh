# The guest itself: the kernel, the features the other scenarios need, and both tools running.
. "$RTRACE_IN/lane.sh"
uname -r >kernel_release
nproc >nproc
cat $T/available_tracers >available_tracers
ls $T >tracefs_files
grep -vc '^#' $DD >dynamic_debug_sites
cat /proc/sys/kernel/ftrace_enabled >ftrace_enabled
trace-cmd --version >trace-cmd.version 2>&1
rtrace-cmd --version >rtrace-cmd.version 2>&1
echo $? >rtrace-cmd.rc
