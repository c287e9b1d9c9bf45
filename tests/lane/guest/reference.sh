# Reference mode of the lane (RTRACE_LANE_TOOL=trace-cmd): the rtrace-cmd scenarios run with
# Debian 12's trace-cmd 3.1.6 instead, so that the scenarios and their assertions are checked
# against the kernel and the reference before rtrace-cmd has the commands. Where rtrace-cmd
# goes beyond trace-cmd (kprobe, dyndbg, --kprobe), the kernel's own interface stands in:
# writes to kprobe_events and dynamic_debug/control. lane.sh sources it in reference mode.

ref_rt() {
	case $1 in
	kprobe) shift; ref_kprobe "$@" ;;
	dyndbg) shift; ref_dyndbg "$@" ;;
	start | record) ref_with_kprobes "$@" ;;
	report)
		shift
		[ "$1" = --compat ] && shift 2
		trace-cmd report "$@"
		;;
	*) trace-cmd "$@" ;;
	esac
}

ref_kprobe() {
	case $1 in
	-l) cat $T/kprobe_events ;;
	-r)
		if [ "$2" = all ]; then
			echo >$T/kprobe_events
		else
			echo "-:$2" >>$T/kprobe_events
		fi
		;;
	*) echo "$1" >>$T/kprobe_events || { cat $T/error_log >&2; return 1; } ;;
	esac
}

ref_dyndbg() {
	case $1 in
	-l) if [ -n "${2:-}" ]; then grep -F -- "$2" $DD; else cat $DD; fi ;;
	*) echo "$1" >$DD ;;
	esac
}

# start/record --kprobe DEF: define the probe, put `-e GROUP:NAME` where the option was;
# after a record, remove the probes again (trace-cmd's reset removes every dynamic event).
ref_with_kprobes() {
	local sub="$1" want='' defined='' a name group rc n
	shift
	for a do
		shift
		if [ -n "$want" ]; then
			want=
			name=${a#*:}
			name=${name%% *}
			group=kprobes
			case $name in */*) group=${name%%/*} name=${name#*/} ;; esac
			echo "$a" >>$T/kprobe_events || { cat $T/error_log >&2; return 1; }
			defined="$defined $name"
			set -- "$@" -e "$group:$name"
			continue
		fi
		case $a in
		--kprobe) want=1 ;;
		*) set -- "$@" "$a" ;;
		esac
	done
	trace-cmd "$sub" "$@"
	rc=$?
	if [ "$sub" = record ]; then
		for n in $defined; do echo "-:$n" >>$T/kprobe_events; done
	fi
	return $rc
}
