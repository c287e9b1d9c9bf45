# Latency-tracer captures (needs the rt-amd64 kernel: Debian's amd64 one has no latency
# tracers). trace-cmd writes these as latency-format files: the kernel's `trace` text in a
# v7 BUFFER_TEXT section or after the v6 "latency  " tag.
. "$RTRACE_IN/lib.sh"
T=/sys/kernel/tracing
echo "tracers: $(cat $T/available_tracers)"

rec lat_wakeup "trace-cmd record -p wakeup -o lat_wakeup.dat sh -c 'sleep 0.2; ls / > /dev/null'"
rec lat_wakeup_v6 "trace-cmd record -p wakeup --file-version 6 -o lat_wakeup_v6.dat sh -c 'sleep 0.2; ls / > /dev/null'"
rec lat_wakeup_rt "trace-cmd record -p wakeup_rt -o lat_wakeup_rt.dat sh -c 'sleep 0.2; ls / > /dev/null'"
rec_end
