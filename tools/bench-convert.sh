#!/bin/bash
# Times `rtrace-cmd convert` against `trace-cmd convert` on the large real trace that
# tools/make-large-trace.sh makes, for v7 zstd and v7 uncompressed output (and v6 with -6),
# and prints the medians of wall time, CPU time and peak memory.
#
# A and B run in turn, A B A B ..., RUNS times each; each output goes to a fresh file in a
# scratch directory beside the input (same disk) and is removed after the run. rtrace-cmd
# fsyncs its output before renaming it into place; trace-cmd does not sync, so A pays for the
# disk write inside its time and B does not (its data may still be in the page cache).
#
# usage: tools/bench-convert.sh [-n RUNS] [-6] [FILE]
#   FILE  default /var/tmp/rtrace-bench/large.dat (v7 zstd; large.none.dat is uncompressed)
#   -n    rounds per target (default 3)
#   -6    also --file-version 6
# env: RTRACE_BIN        rtrace-cmd to time (default <repo>/target/release/rtrace-cmd)
#      RTRACE_BENCH_REF  the baseline (default trace-cmd, i.e. 3.1.6; or the 3.3 wrapper)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=3
V6=0
while getopts n:6 opt; do
    case $opt in
        n) RUNS=$OPTARG ;;
        6) V6=1 ;;
        *) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
FILE=${1:-/var/tmp/rtrace-bench/large.dat}
A=${RTRACE_BIN:-$REPO/target/release/rtrace-cmd}
B=${RTRACE_BENCH_REF:-trace-cmd}

[ -f "$FILE" ] || { echo "bench-convert: $FILE missing: make it with tools/make-large-trace.sh" >&2; exit 1; }
[ -x "$A" ] || { echo "bench-convert: $A missing: cargo build --release (or set RTRACE_BIN)" >&2; exit 1; }
command -v "$B" > /dev/null || { echo "bench-convert: $B not found (tools/install-references.sh)" >&2; exit 1; }

TARGETS=("--compression zstd" "--compression none")
[ "$V6" = 1 ] && TARGETS+=("--file-version 6")
TMP=$(mktemp -d "$(dirname "$FILE")/bench-convert.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# one timed run: prints "exit wall user sys maxrss_kb size"
timed() {
    local rc=0 who=$1 out="$TMP/out.dat"
    shift
    rm -f "$out"
    /usr/bin/time -f '%e %U %S %M' -o "$TMP/t" "$@" -i "$FILE" -o "$out" > /dev/null 2> "$TMP/err.$who" || rc=$?
    echo "$rc $(tail -n 1 "$TMP/t") $(stat -c %s "$out" 2> /dev/null || echo 0)"
    rm -f "$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "file: $FILE ($(stat -c %s "$FILE") bytes)"
echo "A: $A convert   B: $B convert   ($RUNS rounds, A B alternating, medians)"
printf '%-22s %9s %9s %9s %9s %8s %8s %11s %11s  %s\n' target "B wall s" "A wall s" "B cpu s" "A cpu s" "B MB" "A MB" "B size" "A size" notes
for target in "${TARGETS[@]}"; do
    : > "$TMP/a"
    : > "$TMP/b"
    notes=""
    for _ in $(seq "$RUNS"); do
        # shellcheck disable=SC2086
        timed a "$A" convert $target >> "$TMP/a"
        # shellcheck disable=SC2086
        timed b "$B" convert $target >> "$TMP/b"
    done
    awk '$1 != 0' "$TMP/a" | grep -q . && notes+="A failed: $(head -c 200 "$TMP/err.a") "
    awk '$1 != 0' "$TMP/b" | grep -q . && notes+="B failed: $(head -c 200 "$TMP/err.b") "
    col() { awk -v c="$2" '{ print $c }' "$TMP/$1" | median; }
    cpu() { awk '{ print $3 + $4 }' "$TMP/$1" | median; }
    printf '%-22s %9s %9s %9s %9s %8.0f %8.0f %11s %11s  %s\n' "$target" \
        "$(col b 2)" "$(col a 2)" "$(cpu b)" "$(cpu a)" \
        "$(echo "$(col b 5) / 1024" | bc -l)" "$(echo "$(col a 5) / 1024" | bc -l)" \
        "$(col b 6)" "$(col a 6)" "$notes"
done
