# The function tracer with filter globs, a '!' exclusion, a notrace glob and a pid filter:
# start/stop/show/reset. The traced task is a subshell that opens and reads /proc/version
# itself (read is a builtin), so do_sys_openat2 and vfs_* run in its pid.
. "$RTRACE_IN/lane.sh"
snap initial
(while :; do read -r x </proc/version; sleep 0.2; done) &
P=$!
echo $P >pid
step start rt start -p function -l 'vfs_*' -l 'do_sys_*' -l '!vfs_read*' -n 'vfs_write*' -P $P
sleep 2
# another task's opens: the pid filter keeps them out
cat /proc/version >/dev/null
step stop rt stop
step show rt show
kill $P
step reset rt reset
