#!/bin/bash
# Times `rtrace-cmd report` against `trace-cmd report` on the large real trace that
# tools/make-large-trace.sh makes, for the main options, and prints medians and ratios.
#
# Each option set runs A (rtrace-cmd) and B (trace-cmd) in turn, A B A B ..., RUNS times each,
# output thrown away (> /dev/null, as a user piping to a file would pay no terminal cost);
# /usr/bin/time gives each run's wall and CPU seconds and peak memory. The ratio is taken pair
# by pair (A/B of the same round) and its median printed, so a drift in the machine's speed
# during the call does not skew it. A run that exits non-zero is shown as failed.
#
# usage: tools/bench-report.sh [-n RUNS] [-c] [FILE]
#   FILE  default /var/tmp/rtrace-bench/large.dat (large.none.dat: the uncompressed copy)
#   -n    rounds per option set (default 3; trace-cmd takes ~40 s per run on the 400 MB file)
#   -c    also check that both print the same bytes (one extra run of each, hashed)
# env: RTRACE_BIN        rtrace-cmd to time (default <repo>/target/release/rtrace-cmd)
#      RTRACE_BENCH_REF  the baseline (default trace-cmd, i.e. 3.1.6; or the 3.3 wrapper)
#      RTRACE_BENCH_TIMER  an external paired-timing command (with its own options) to use
#                        instead of the built-in loop, called once per option set as
#                        $RTRACE_BENCH_TIMER --vs 'sh -c B-COMMAND' -- sh -c A-COMMAND
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=3
CHECK=0
while getopts n:c opt; do
    case $opt in
        n) RUNS=$OPTARG ;;
        c) CHECK=1 ;;
        *) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
FILE=${1:-/var/tmp/rtrace-bench/large.dat}
A=${RTRACE_BIN:-$REPO/target/release/rtrace-cmd}
B=${RTRACE_BENCH_REF:-trace-cmd}

[ -f "$FILE" ] || { echo "bench-report: $FILE missing: make it with tools/make-large-trace.sh" >&2; exit 1; }
[ -x "$A" ] || { echo "bench-report: $A missing: cargo build --release (or set RTRACE_BIN)" >&2; exit 1; }
command -v "$B" > /dev/null || { echo "bench-report: $B not found (tools/install-references.sh)" >&2; exit 1; }

OPTION_SETS=("" "-R" "--cpu 0" "-F sched_switch" "--stat")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# one timed run: prints "exit wall user sys maxrss_kb"; its stderr is kept in $TMP/err.$1
timed() {
    local rc=0 who=$1
    shift
    /usr/bin/time -f '%e %U %S %M' -o "$TMP/t" "$@" > /dev/null 2> "$TMP/err.$who" || rc=$?
    # time appends "Command exited with non-zero status N" before the figures on failure
    echo "$rc $(tail -n 1 "$TMP/t")"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "file: $FILE ($(stat -c %s "$FILE") bytes)"
echo "A: $A report   B: $B report   ($RUNS rounds, A B alternating, medians; ratio = median of A/B per round)"
printf '%-18s %10s %10s %10s %10s %8s %9s %9s  %s\n' options "B wall s" "A wall s" "B cpu s" "A cpu s" "A/B" "B MB" "A MB" notes
for opts in "${OPTION_SETS[@]}"; do
    # shellcheck disable=SC2206
    words=($opts)
    if [ -n "${RTRACE_BENCH_TIMER:-}" ]; then
        echo "== report ${opts:-(default)}"
        # shellcheck disable=SC2086
        $RTRACE_BENCH_TIMER --vs "sh -c 'exec $B report $opts -i $FILE > /dev/null'" -- \
            sh -c "exec $A report $opts -i $FILE > /dev/null"
        continue
    fi
    : > "$TMP/a"; : > "$TMP/b"; : > "$TMP/r"
    note=""
    for _ in $(seq 1 "$RUNS"); do
        ra=$(timed a "$A" report "${words[@]}" -i "$FILE")
        rb=$(timed b "$B" report "${words[@]}" -i "$FILE")
        read -r ea wa ua sa ma <<< "$ra"
        read -r eb wb ub sb mb <<< "$rb"
        [ "$ea" = 0 ] || note="A exits $ea: $(head -c 80 "$TMP/err.a" | tr '\n' ' ')"
        [ "$eb" = 0 ] || note="${note:+$note; }B exits $eb: $(head -c 80 "$TMP/err.b" | tr '\n' ' ')"
        echo "$wa $ua $sa $ma" | awk '{ print $1, $2 + $3, $4 }' >> "$TMP/a"
        echo "$wb $ub $sb $mb" | awk '{ print $1, $2 + $3, $4 }' >> "$TMP/b"
        [ "$ea" = 0 ] && awk -v a="$wa" -v b="$wb" 'BEGIN { if (b > 0) printf "%.4f\n", a / b }' >> "$TMP/r"
    done
    col() { awk -v c="$2" '{ print $c }' "$TMP/$1" | median; }
    ratio=$(median < "$TMP/r")
    if [ "$CHECK" = 1 ] && [ "$ea" = 0 ]; then
        ha=$("$A" report "${words[@]}" -i "$FILE" 2> /dev/null | md5sum | cut -c1-32)
        hb=$("$B" report "${words[@]}" -i "$FILE" 2> /dev/null | md5sum | cut -c1-32)
        [ "$ha" = "$hb" ] && note="${note:+$note; }same output" || note="${note:+$note; }OUTPUT DIFFERS"
    fi
    printf '%-18s %10s %10s %10s %10s %8s %9s %9s  %s\n' "${opts:-(default)}" \
        "$(col b 1)" "$(col a 1)" "$(col b 2)" "$(col a 2)" "$ratio" \
        "$(col b 3 | awk '{ printf "%.0f", $1 / 1024 }')" "$(col a 3 | awk '{ printf "%.0f", $1 / 1024 }')" "$note"
done
