# Captures of what only a full-featured kernel records (Debian's amd64 kernel): the function
# tracer with filter globs, function_graph without a depth limit, and kprobe + kretprobe
# events with fetch arguments of several types. The qemu lane test records them afresh on
# every run and compares rtrace-cmd's report of them with the references'.
. "$RTRACE_IN/lib.sh"
T=/sys/kernel/tracing

# trace-cmd 3.1.6 (libtracefs 1.6) takes '!vfs_read*' for a regular expression (the '!' is no
# glob character), matches it against no function and writes nothing: the exclusion is
# silently lost and vfs_read* stays in set_ftrace_filter. Recorded as trace-cmd does it.
rec func_glob "trace-cmd record -p function -l 'vfs_*' -l 'do_sys_*' -l '!vfs_read*' -n 'vfs_write*' -o func_glob.dat sh -c 'sleep 0.2; cat /proc/version > /dev/null; ls / > /dev/null'"

# ksys_read, no --max-graph-depth: a small graph. dd makes one read(2) for certain (busybox
# cat copies with sendfile(2)); the traced tasks' other reads come on top.
rec fg_full "trace-cmd record -p function_graph -g ksys_read -o fg_full.dat sh -c 'sleep 0.2; dd if=/proc/version of=/dev/null bs=4096 count=1'"

# Probes written to kprobe_events by hand, as trace-cmd has no command for them. The return
# address (+0($stack) at the entry of a function) prints as a symbol; no kretprobe sits on
# do_sys_openat2, which would replace it by the rethook trampoline.
KPROBE='p:open_args do_sys_openat2 dfd=%di:s32 path=+0(%si):string flags=+0(%dx):x64 mode=+8(%dx):u64 caller=+0($stack):symbol comm=$comm'
KRETPROBE='r:read_ret ksys_read ret=$retval:s64 comm=$comm'
if echo "$KPROBE" >>$T/kprobe_events && echo "$KRETPROBE" >>$T/kprobe_events; then
	# dd's reads: 64 bytes twice, then -EISDIR (a negative s64) from reading a directory
	rec kprobe_args "trace-cmd record -e kprobes:open_args -e kprobes:read_ret -o kprobe_args.dat sh -c 'sleep 0.2; cat /proc/version > /dev/null; dd if=/proc/version of=/dev/null bs=64 count=2; dd if=/ of=/dev/null count=1; ls / > /dev/null'"
	printf '# probes defined through tracefs kprobe_events before recording:\n#   %s\n#   %s\n' \
		"$KPROBE" "$KRETPROBE" >>kprobe_args.cmd
else
	echo "== kprobe_args: the kernel refused a probe definition:"
	cat $T/error_log
	REC_FAILED="$REC_FAILED kprobe_args"
fi
echo 0 >$T/events/kprobes/enable 2>/dev/null
echo >$T/kprobe_events
rec_end
