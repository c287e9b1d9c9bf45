# rtrace-cmd report --compat 3.1 against the guest's trace-cmd 3.1.6 on the captures this boot
# made (scenarios flyrecord and function ran before): it runs the freshly built binary inside
# the guest. Leaves results: one line "NAME STATUS" per file, STATUS `same` or what differed.
. "$RTRACE_IN/lane.sh"
: >results
for f in ../function/func_glob.dat ../function/fg_full.dat ../function/kprobe_args.dat ../flyrecord/events_instance.dat; do
	n=$(basename "$f" .dat)
	if [ ! -f "$f" ]; then
		echo "$n missing" >>results
		continue
	fi
	trace-cmd report -i "$f" >"$n.tc" 2>"$n.tc.err"
	tc=$?
	rtrace-cmd report --compat 3.1 -i "$f" >"$n.rt" 2>"$n.rt.err"
	rtc=$?
	if [ $tc -ne $rtc ]; then
		echo "$n exit-status-$tc-vs-$rtc" >>results
	elif cmp -s "$n.tc" "$n.rt"; then
		echo "$n same" >>results
		rm -f "$n.tc" "$n.rt"
	else
		echo "$n output-differs" >>results
	fi
done
cat results
