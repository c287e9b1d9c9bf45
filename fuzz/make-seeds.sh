#!/bin/sh
# Small seed files for the trace_file target: each real file given (default: the shared
# fixtures) is made uncompressed with trace-cmd convert when needed, shrunk to a small v6
# file (tracedat/examples/shrink.rs: no kallsyms, only the formats its first pages use), then
# converted back to v7 zstd, zlib and uncompressed with trace-cmd 3.3.1.
#
#   fuzz/make-seeds.sh [FILE.dat ...]      -> fuzz/corpus/trace_file_small/
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
shared=${RTRACE_SHARED:-$repo/../shared}
[ -d "$shared/fixtures" ] || shared=/work/shared
tc=${RTRACE_TRACE_CMD_33:-$HOME/.local/trace-cmd-3.3/trace-cmd}
out=$here/corpus/trace_file_small
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
[ $# -gt 0 ] || set -- "$shared"/fixtures/*/*.dat
(cd "$repo" && cargo build -q --example shrink -p tracedat)
shrink=$repo/target/debug/examples/shrink
for f in "$@"; do
    n=$(basename "$f" .dat)
    src=$f
    if ! "$shrink" "$src" "$tmp/$n.v6.dat" 2 2>/dev/null; then
        "$tc" convert -i "$f" -o "$tmp/$n.none.dat" --compression none >/dev/null 2>&1 || continue
        "$shrink" "$tmp/$n.none.dat" "$tmp/$n.v6.dat" 2 2>/dev/null || continue
    fi
    cp "$tmp/$n.v6.dat" "$out/"
    for z in zstd zlib none; do
        "$tc" convert -i "$tmp/$n.v6.dat" -o "$out/$n.$z.dat" --compression $z >/dev/null 2>&1 || true
    done
done
ls -la "$out" | tail -n +2 | wc -l
