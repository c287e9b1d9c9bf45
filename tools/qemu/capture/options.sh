# Captures whose options change timestamps: DATE (record --date), OFFSET (record --ts-offset)
# and, where the guest exposes the TSC conversion, TSC2NSEC (record --tsc2nsec).
. "$RTRACE_IN/lib.sh"

rec opt_date "trace-cmd record --date -e sched:sched_switch -e sched:sched_wakeup -o opt_date.dat sh -c 'sleep 0.2; ls / > /dev/null'"
rec opt_offset "trace-cmd record --ts-offset 1234567890123 -e sched:sched_switch -e sched:sched_wakeup -o opt_offset.dat sh -c 'sleep 0.2; ls / > /dev/null'"
# Not fatal: TCG may give no usable TSC clocksource data (the note says why it is missing).
if trace-cmd record --tsc2nsec -e sched:sched_switch -o opt_tsc2nsec.dat sh -c 'sleep 0.2; ls / > /dev/null' > opt_tsc2nsec.record.log 2>&1; then
	echo "trace-cmd record --tsc2nsec -e sched:sched_switch -o opt_tsc2nsec.dat sh -c 'sleep 0.2; ls / > /dev/null'" > opt_tsc2nsec.cmd
else
	echo "== opt_tsc2nsec not recorded:"; cat opt_tsc2nsec.record.log; rm -f opt_tsc2nsec.dat
fi
rec_end
