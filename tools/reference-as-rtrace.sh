#!/bin/sh
# Stands in for rtrace-cmd in the golden tests, to check the harness and the references'
# determinism: `report --compat 3.1 ARGS` runs trace-cmd 3.1.6, `report ARGS` the 3.3 reference.
#   RTRACE_GOLDEN_BIN=tools/reference-as-rtrace.sh cargo test --test golden     (should pass)
[ "$1" = report ] || { echo "reference-as-rtrace: only report" >&2; exit 2; }
shift
if [ "$1" = --compat ] && [ "$2" = 3.1 ]; then
    shift 2
    R=${RTRACE_REF_3_1:-$HOME/.local/trace-cmd-3.3/trace-cmd-deb12}
    [ -x "$R" ] || R=trace-cmd
    exec "$R" report "$@"
fi
exec "${RTRACE_REF_3_3:-$HOME/.local/trace-cmd-3.3/trace-cmd-deb13}" report "$@"
