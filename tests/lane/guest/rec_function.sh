# record -p function with filter globs, a '!' exclusion, a notrace glob and -F (only the
# command's own task).
. "$RTRACE_IN/lane.sh"
snap initial
step record rt record -p function -l 'vfs_*' -l 'do_sys_*' -l '!vfs_read*' -n 'vfs_write*' -F -o rec_func.dat sh -c 'read -r x < /proc/version; sleep 0.2; read -r x < /proc/version'
