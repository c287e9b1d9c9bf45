#!/bin/sh
# Regenerates tracedat/tests/data/filter/*.cases (gen.py) and their *.expected transcripts
# from the real libtraceevent and glibc (oracle.c). Needs gcc and libtraceevent-dev
# (Debian: apt-get install libtraceevent-dev). The transcripts are the only source of the
# expectations of tracedat/tests/filter_oracle.rs; never edit them by hand.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data="$here/../../tracedat/tests/data/filter"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The libtraceevent pkg-config finds, with an rpath so that the headers and the library that
# runs are the same version. It must be >= 1.8: 1.7.1's get_field_str returns a dangling
# stack buffer for the "0x..." text of non-string fields (fixed in 1.8 by making it static),
# so its answers for those comparisons are garbage. Point PKG_CONFIG_PATH at a 1.8 build
# (e.g. make install of /work/ref/libtraceevent-1.8.4) when the system has 1.7.
version=$(pkg-config --modversion libtraceevent)
case "$version" in
1.[0-7].*|0.*) echo "run.sh: libtraceevent $version is too old (need >= 1.8)" >&2; exit 1 ;;
esac
libdir=$(pkg-config --variable=libdir libtraceevent)
cc -O1 -Wall -o "$tmp/oracle" "$here/oracle.c" $(pkg-config --cflags --libs libtraceevent) \
	-Wl,-rpath,"$libdir"
python3 "$here/gen.py"
for c in "$data"/*.cases; do
	# libtraceevent aborts on some rejected filters (double frees in its error paths); the
	# oracle reports those as "= CRASH" and glibc's complaints are noise here.
	"$tmp/oracle" < "$c" > "${c%.cases}.expected" 2>/dev/null
done
echo "libtraceevent $(pkg-config --modversion libtraceevent): $(ls "$data"/*.expected | wc -l) transcripts in $data"
