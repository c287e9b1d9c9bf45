#!/bin/sh
# Builds the two reference libtraceevent versions the differential harness links against:
#   1.7.1: Debian 12's libtraceevent-dev (apt), used in place under /usr.
#   1.8.4: built from the unpacked upstream source into a private prefix outside the repo.
# Idempotent. Prints the 1.8.4 prefix on stdout.
#
#   TEP_REF_SRC   unpacked libtraceevent-1.8.4 source (default /work/ref/libtraceevent-1.8.4)
#   TEP_REF_PREFIX install prefix (default ~/.cache/rtrace-tep/libtraceevent-1.8.4)
set -eu
SRC=${TEP_REF_SRC:-/work/ref/libtraceevent-1.8.4}
PREFIX=${TEP_REF_PREFIX:-$HOME/.cache/rtrace-tep/libtraceevent-1.8.4}

if ! [ -e /usr/include/traceevent/event-parse.h ]; then
	apt-get install -y libtraceevent-dev >&2
fi

if ! [ -e "$PREFIX/lib/libtraceevent.so" ] && ! [ -e "$PREFIX/lib64/libtraceevent.so" ]; then
	[ -d "$SRC/src" ] || { echo "libtraceevent 1.8.4 source not found at $SRC" >&2; exit 1; }
	BUILD=$(mktemp -d)
	cp -a "$SRC/." "$BUILD/"
	# Its install step would otherwise add the prefix to /etc/ld.so.conf.d and run ldconfig,
	# making every program on the machine (the reference trace-cmd 3.1.6 too) load 1.8.4.
	mkdir -p "$PREFIX/ld.so.conf.d"
	MK="prefix=$PREFIX libdir_relative=lib LDCONFIG=true LD_SO_CONF_PATH=$PREFIX/ld.so.conf.d"
	make -C "$BUILD" -j2 $MK >&2
	make -C "$BUILD" $MK install >&2
	rm -rf "$BUILD"
fi
echo "$PREFIX"
