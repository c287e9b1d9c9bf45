#!/bin/bash
# Times `rtrace-cmd report` against `trace-cmd report` on the large real trace that
# tools/make-large-trace.sh makes, for the main options, and prints the table of issue #6:
# file, options, reference, trace-cmd median, rtrace-cmd median, ratio, peak RSS of both.
#
# Each (file, reference, options) row runs A (rtrace-cmd) and B (trace-cmd) in turn,
# A B A B ..., RUNS times each, output thrown away (> /dev/null, as a user piping to a file
# would pay no terminal cost); /usr/bin/time gives each run's wall and CPU seconds and peak
# memory. The ratio is B/A of wall time taken pair by pair (the same round) and its median
# printed, so a drift in the machine's speed during the call does not skew it. The machine's
# other load shows in wall times: the CPU columns are printed too. A run that exits non-zero
# is shown as failed.
#
# References: trace-cmd 3.1.6 (Debian 12, `trace-cmd`; rtrace-cmd runs with `--compat 3.1`)
# and 3.3.1 (Debian 13, ~/.local/trace-cmd-3.3/trace-cmd-deb13; rtrace-cmd's default dialect).
# Last, the start-up on a tiny file (fixtures/markers.dat), 20 runs each.
#
# usage: tools/bench-report.sh [-n RUNS] [-c] [-r 31|33|both] [FILE...]
#   FILE  default /var/tmp/rtrace-bench/large.dat and large.none.dat (v7 zstd, uncompressed)
#   -n    rounds per row (default 3; trace-cmd takes ~15 s per run on the 430 MB file)
#   -c    also check that both print the same bytes (one extra run of each, hashed)
#   -r    which references (default both)
# env: RTRACE_BIN        rtrace-cmd to time (default <repo>/target/release/rtrace-cmd)
#      RTRACE_REF_3_1    the 3.1.6 reference (default trace-cmd)
#      RTRACE_REF_3_3    the 3.3.1 reference (default ~/.local/trace-cmd-3.3/trace-cmd-deb13)
#      RTRACE_BENCH_OPTS option sets, separated by '|' (default "|-R|--cpu 0|-F sched_switch|--stat")
#      RTRACE_BENCH_TIMER  an external paired-timing command (with its own options) to use
#                        instead of the built-in loop, called once per row as
#                        $RTRACE_BENCH_TIMER --vs 'sh -c B-COMMAND' -- sh -c A-COMMAND
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=3
CHECK=0
WHICH=both
while getopts n:cr: opt; do
    case $opt in
        n) RUNS=$OPTARG ;;
        c) CHECK=1 ;;
        r) WHICH=$OPTARG ;;
        *) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -gt 0 ]; then
    FILES=("$@")
else
    FILES=(/var/tmp/rtrace-bench/large.dat /var/tmp/rtrace-bench/large.none.dat)
fi
A=${RTRACE_BIN:-$REPO/target/release/rtrace-cmd}
REF31=${RTRACE_REF_3_1:-trace-cmd}
REF33=${RTRACE_REF_3_3:-$HOME/.local/trace-cmd-3.3/trace-cmd-deb13}
REFS=()
case $WHICH in
    31) REFS=(31) ;;
    33) REFS=(33) ;;
    both) REFS=(31 33) ;;
    *) echo "bench-report: -r takes 31, 33 or both" >&2; exit 2 ;;
esac

for f in "${FILES[@]}"; do
    [ -f "$f" ] || { echo "bench-report: $f missing: make it with tools/make-large-trace.sh" >&2; exit 1; }
done
[ -x "$A" ] || { echo "bench-report: $A missing: cargo build --release (or set RTRACE_BIN)" >&2; exit 1; }
for r in "${REFS[@]}"; do
    ref=REF$r
    command -v "${!ref}" > /dev/null || { echo "bench-report: ${!ref} not found (tools/install-references.sh)" >&2; exit 1; }
done

IFS='|' read -r -a OPTION_SETS <<< "${RTRACE_BENCH_OPTS:-|-R|--cpu 0|-F sched_switch|--stat}"
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

echo "A = rtrace-cmd ($A, $(nproc) CPUs, its default --threads), B = trace-cmd; $RUNS rounds A B alternating;"
echo "medians of wall and CPU (user+sys) seconds and of peak RSS; ratio = median over rounds of B wall / A wall"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for f in "${FILES[@]}"; do
    echo "file: $f ($(stat -c %s "$f") bytes)"
done
echo
printf '| %-16s | %-16s | %-9s | %11s | %11s | %10s | %10s | %7s | %9s | %9s | %s\n' \
    file options reference "B wall s" "A wall s" "B cpu s" "A cpu s" "B/A" "B RSS MB" "A RSS MB" notes
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n' ------------------ ------------------ ----------- \
    ------------- ------------- ------------ ------------ --------- ----------- ----------- ---
for FILE in "${FILES[@]}"; do
    for r in "${REFS[@]}"; do
        ref=REF$r
        B=${!ref}
        if [ "$r" = 31 ]; then
            DIALECT=(--compat 3.1)
            refname=3.1.6
        else
            DIALECT=()
            refname=3.3.1
        fi
        for opts in "${OPTION_SETS[@]}"; do
            # shellcheck disable=SC2206
            words=($opts)
            if [ -n "${RTRACE_BENCH_TIMER:-}" ]; then
                echo "== $(basename "$FILE") $refname report ${opts:-(default)}"
                # shellcheck disable=SC2086
                $RTRACE_BENCH_TIMER --vs "sh -c 'exec $B report $opts -i $FILE > /dev/null'" -- \
                    sh -c "exec $A report ${DIALECT[*]} $opts -i $FILE > /dev/null"
                continue
            fi
            : > "$TMP/a"; : > "$TMP/b"; : > "$TMP/r"
            note=""
            ea=0
            for _ in $(seq 1 "$RUNS"); do
                ra=$(timed a "$A" report "${DIALECT[@]}" "${words[@]}" -i "$FILE")
                rb=$(timed b "$B" report "${words[@]}" -i "$FILE")
                read -r ea wa ua sa ma <<< "$ra"
                read -r eb wb ub sb mb <<< "$rb"
                [ "$ea" = 0 ] || note="A exits $ea: $(head -c 80 "$TMP/err.a" | tr '\n' ' ')"
                [ "$eb" = 0 ] || note="${note:+$note; }B exits $eb: $(head -c 80 "$TMP/err.b" | tr '\n' ' ')"
                echo "$wa $ua $sa $ma" | awk '{ print $1, $2 + $3, $4 }' >> "$TMP/a"
                echo "$wb $ub $sb $mb" | awk '{ print $1, $2 + $3, $4 }' >> "$TMP/b"
                # /usr/bin/time counts in 10 ms: a run under that counts as 5 ms
                [ "$ea" = 0 ] && awk -v a="$wa" -v b="$wb" 'BEGIN { if (a < 0.005) a = 0.005; printf "%.4f\n", b / a }' >> "$TMP/r"
            done
            col() { awk -v c="$2" '{ print $c }' "$TMP/$1" | median; }
            ratio=$(median < "$TMP/r" | awk '{ printf "%.1f", $1 }')
            if [ "$CHECK" = 1 ] && [ "$ea" = 0 ]; then
                ha=$("$A" report "${DIALECT[@]}" "${words[@]}" -i "$FILE" 2> /dev/null | md5sum | cut -c1-32)
                hb=$("$B" report "${words[@]}" -i "$FILE" 2> /dev/null | md5sum | cut -c1-32)
                [ "$ha" = "$hb" ] && note="${note:+$note; }same output" || note="${note:+$note; }OUTPUT DIFFERS"
            fi
            printf '| %-16s | %-16s | %-9s | %11s | %11s | %10s | %10s | %7s | %9s | %9s | %s\n' \
                "$(basename "$FILE")" "${opts:-(default)}" "$refname" \
                "$(col b 1)" "$(col a 1)" "$(col b 2)" "$(col a 2)" "${ratio}x" \
                "$(col b 3 | awk '{ printf "%.0f", $1 / 1024 }')" "$(col a 3 | awk '{ printf "%.0f", $1 / 1024 }')" "$note"
        done
    done
done

# Start-up: a tiny file, many runs of each, alternating, timed with the shell's own clock
# (bash's EPOCHREALTIME, in µs: no `date` process around the run, whose start and exit
# added a millisecond or more to every run of both tools).
TINY=$REPO/fixtures/markers.dat
ns_run() {
    local t0 t1
    t0=${EPOCHREALTIME/[.,]/}
    "$@" > /dev/null 2>&1 || true
    t1=${EPOCHREALTIME/[.,]/}
    echo $((t1 - t0))
}
if [ -f "$TINY" ] && [ -z "${RTRACE_BENCH_TIMER:-}" ]; then
    : > "$TMP/a"; : > "$TMP/b"
    for _ in $(seq 1 20); do
        ns_run "$A" report --compat 3.1 -i "$TINY" >> "$TMP/a"
        ns_run "$REF31" report -i "$TINY" >> "$TMP/b"
    done
    echo
    echo "start-up, $(basename "$TINY") ($(stat -c %s "$TINY") bytes), 20 runs each, median wall:" \
        "trace-cmd 3.1.6 $(median < "$TMP/b" | awk '{ printf "%.1f", $1 / 1000 }') ms," \
        "rtrace-cmd $(median < "$TMP/a" | awk '{ printf "%.1f", $1 / 1000 }') ms"
fi
