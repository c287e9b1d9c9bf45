#!/bin/sh
# Builds the two reference libtraceevent versions the differential harness links against:
#   1.7.1: Debian 12's libtraceevent-dev (apt), used in place under /usr.
#   1.8.4: built from source into a private prefix outside the repo. The source is the unpacked
#          upstream tree when there is one ($TEP_REF_SRC), else the upstream tarball of Debian
#          13's source package (libtraceevent 1:1.8.4-2, apt from the trixie sources that
#          tools/install-references.sh sets up) — the code the Debian 13 reference runs.
# Idempotent. Prints the 1.8.4 prefix on stdout.
#
#   TEP_REF_SRC    unpacked libtraceevent-1.8.4 source (default /work/ref/libtraceevent-1.8.4)
#   TEP_REF_PREFIX install prefix (default ~/.cache/rtrace-tep/libtraceevent-1.8.4)
set -eu
SRC=${TEP_REF_SRC:-/work/ref/libtraceevent-1.8.4}
PREFIX=${TEP_REF_PREFIX:-$HOME/.cache/rtrace-tep/libtraceevent-1.8.4}

if ! [ -e /usr/include/traceevent/event-parse.h ]; then
	apt-get install -y libtraceevent-dev >&2
fi

fetch_source() {
	T33=${RTRACE_TRACE_CMD_33_DIR:-$HOME/.local/trace-cmd-3.3}
	[ -f "$T33/trixie.sources" ] || { echo "no $T33/trixie.sources: run tools/install-references.sh" >&2; exit 1; }
	W=$HOME/.cache/rtrace-tep/src
	mkdir -p "$W/lists/partial" "$W/dl"
	sed 's/^Types: deb$/Types: deb-src/' "$T33/trixie.sources" > "$W/trixie-src.sources"
	A="-o Dir::Etc::SourceList=$W/trixie-src.sources -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$W/lists -o APT::Sandbox::User=root"
	if ! ls "$W"/dl/libtraceevent_1.8.4.orig.tar.* >/dev/null 2>&1; then
		# shellcheck disable=SC2086
		apt-get $A update >&2
		# Only the upstream tarball is needed; the Debian patch tarball may be gone already.
		# shellcheck disable=SC2086
		(cd "$W/dl" && apt-get $A source --download-only libtraceevent=1:1.8.4-2 >&2) || true
	fi
	TARBALL=$(ls "$W"/dl/libtraceevent_1.8.4.orig.tar.* 2>/dev/null | head -n 1)
	[ -n "$TARBALL" ] || { echo "could not download libtraceevent 1.8.4's source" >&2; exit 1; }
	rm -rf "$W/libtraceevent-1.8.4"
	mkdir -p "$W/libtraceevent-1.8.4"
	tar -xf "$TARBALL" -C "$W/libtraceevent-1.8.4" --strip-components=1
	SRC=$W/libtraceevent-1.8.4
}

if ! [ -e "$PREFIX/lib/libtraceevent.so" ] && ! [ -e "$PREFIX/lib64/libtraceevent.so" ]; then
	[ -d "$SRC/src" ] || fetch_source
	BUILD=$(mktemp -d)
	cp -a "$SRC/." "$BUILD/"
	# Its install step would otherwise add the prefix to /etc/ld.so.conf.d and run ldconfig,
	# making every program on the machine (the reference trace-cmd 3.1.6 too) load 1.8.4.
	mkdir -p "$PREFIX/ld.so.conf.d"
	MK="prefix=$PREFIX libdir_relative=lib LDCONFIG=true LD_SO_CONF_PATH=$PREFIX/ld.so.conf.d"
	# shellcheck disable=SC2086
	make -C "$BUILD" -j2 $MK >&2
	# shellcheck disable=SC2086
	make -C "$BUILD" $MK install >&2
	rm -rf "$BUILD"
fi
echo "$PREFIX"
