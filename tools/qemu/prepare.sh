#!/bin/sh
# Prepares everything tools/qemu/run.sh needs to boot one of Debian's own kernels under qemu
# (TCG) with a busybox initramfs that holds Debian's trace-cmd 3.1.6.
#
# usage: prepare.sh [--check] [FLAVOUR]   FLAVOUR: amd64 (default) or rt-amd64 (also $RTRACE_QEMU_FLAVOUR)
# prints: the directory holding vmlinux and initramfs.cpio for that flavour
# --check: install and download nothing; exit 0 when everything that needs the network or
#          apt is in place (what is left, the initramfs, is built offline by run.sh), else
#          exit 3 saying what is missing. The lane's tests use it to decide whether to run.
#
# Cache (idempotent; nothing is redone when it is there): ${RTRACE_QEMU_CACHE:-~/.cache/rtrace-qemu}
#   debs/                 Debian packages fetched with apt-get download
#   base/                 guest root without kernel modules: busybox, trace-cmd + its libraries
#   kernel-PKG/           vmlinux (the ELF inside vmlinuz), config, modules/, release, initramfs.cpio
#
# Why these pieces:
# - Debian's linux-image-amd64 has function, function_graph, kprobes and dynamic_debug that the
#   machine's own kernel refuses; linux-image-rt-amd64 additionally has the scheduler latency
#   tracers (wakeup, wakeup_rt, wakeup_dl) plus hwlat/osnoise/timerlat. Neither has
#   irqsoff/preemptoff (checked in their /boot/config-*).
# - Booting the uncompressed vmlinux through its PVH note skips the bzImage decompressor, which
#   is very slow under TCG (/dev/kvm here is a nested kvm_pvm that cannot run a stock kernel).
# - The virtio drivers are modules in Debian's kernels; the guest loads them to reach the
#   in/out disks that run.sh attaches.
# Host packages installed with apt-get when missing: qemu-system-x86, trace-cmd, xz-utils.
set -eu

CHECK=
if [ "${1:-}" = --check ]; then
	CHECK=1
	shift
fi
FLAVOUR=${1:-${RTRACE_QEMU_FLAVOUR:-amd64}}
CACHE=${RTRACE_QEMU_CACHE:-$HOME/.cache/rtrace-qemu}
HERE=$(cd "$(dirname "$0")" && pwd)
MULTIARCH=x86_64-linux-gnu
# load order matters: insmod does not resolve dependencies (the packages ship no modules.dep)
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk"

log() { echo "prepare: $*" >&2; }
die() { echo "prepare: error: $*" >&2; exit 1; }

case $FLAVOUR in
amd64 | rt-amd64 | cloud-amd64) ;;
*) die "unknown kernel flavour '$FLAVOUR' (amd64, rt-amd64 or cloud-amd64)" ;;
esac

apt_updated=
need_pkg() { # PKG [FILE-IT-PROVIDES]
	if dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; then
		return 0
	fi
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		apt-get update >/dev/null
		apt_updated=1
	fi
	log "installing $1"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$1" >/dev/null
}

# apt-get download into debs/ unless a package of that name is already there
fetch_deb() { # PKG -> prints path of the .deb
	mkdir -p "$CACHE/debs"
	set -- "$1" "$(ls "$CACHE/debs/$1"_*.deb 2>/dev/null | tail -n 1)"
	if [ -z "$2" ]; then
		log "downloading $1"
		(cd "$CACHE/debs" && apt-get -o APT::Sandbox::User=root download "$1" >/dev/null) ||
			die "apt-get download $1 failed"
		set -- "$1" "$(ls "$CACHE/debs/$1"_*.deb | tail -n 1)"
	fi
	echo "$2"
}

missing() { echo "prepare: not ready: $*; run tools/qemu/prepare.sh $FLAVOUR (root, apt)" >&2; exit 3; }
if [ -n "$CHECK" ]; then
	command -v qemu-system-x86_64 >/dev/null || missing "qemu-system-x86_64 is not installed"
	[ -f "$CACHE/base/.done" ] || missing "no guest root in $CACHE/base"
	KPKG=${RTRACE_QEMU_KERNEL_PKG:-$(apt-cache depends "linux-image-$FLAVOUR" 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')}
	[ -n "$KPKG" ] || missing "apt does not know linux-image-$FLAVOUR (no apt lists?)"
	[ -f "$CACHE/kernel-$KPKG/.done" ] || missing "kernel $KPKG is not in $CACHE"
	echo "$CACHE/kernel-$KPKG"
	exit 0
fi

need_pkg qemu-system-x86
need_pkg xz-utils
need_pkg trace-cmd
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found after installing qemu-system-x86"

# ---- the kernel package that the flavour's meta package depends on
KPKG=${RTRACE_QEMU_KERNEL_PKG:-}
if [ -z "$KPKG" ]; then
	KPKG=$(apt-cache depends "linux-image-$FLAVOUR" 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$KPKG" ] && [ -z "$apt_updated" ]; then
		apt-get update >/dev/null
		apt_updated=1
		KPKG=$(apt-cache depends "linux-image-$FLAVOUR" |
			awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	fi
	[ -n "$KPKG" ] || die "cannot resolve the package behind linux-image-$FLAVOUR"
fi
KDIR=$CACHE/kernel-$KPKG

if [ ! -f "$KDIR/.done" ]; then
	deb=$(fetch_deb "$KPKG")
	rm -rf "$KDIR"
	mkdir -p "$KDIR/x" "$KDIR/modules"
	log "unpacking $(basename "$deb")"
	dpkg -x "$deb" "$KDIR/x"
	release=$(ls "$KDIR/x/lib/modules" | head -n 1)
	[ -n "$release" ] || die "$deb has no lib/modules/RELEASE"
	echo "$release" >"$KDIR/release"
	cp "$KDIR/x/boot/config-$release" "$KDIR/config"
	# vmlinuz is a bzImage whose payload is an xz stream holding the ELF vmlinux
	# (CONFIG_KERNEL_XZ); try each xz magic until one decompresses to an ELF file.
	vmlinuz=$KDIR/x/boot/vmlinuz-$release
	ok=
	for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
		tail -c +$((off + 1)) "$vmlinuz" | xz -dc --single-stream >"$KDIR/vmlinux.tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$KDIR/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			ok=1
			break
		fi
	done
	[ -n "$ok" ] || die "no xz-compressed ELF found in $vmlinuz"
	mv "$KDIR/vmlinux.tmp" "$KDIR/vmlinux"
	for m in $MODULES; do
		f=$(find "$KDIR/x/lib/modules/$release/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -n 1)
		[ -n "$f" ] || die "module $m not in $KPKG"
		case $f in
		*.xz) xz -dc "$f" >"$KDIR/modules/$m.ko" ;;
		*) cp "$f" "$KDIR/modules/$m.ko" ;;
		esac
	done
	rm -rf "$KDIR/x"
	touch "$KDIR/.done"
	log "kernel $release ready in $KDIR"
fi

# ---- guest root: busybox-static and trace-cmd with the libraries and loader it runs with
BASE=$CACHE/base
if [ ! -f "$BASE/.done" ]; then
	deb=$(fetch_deb busybox-static)
	rm -rf "$BASE" "$CACHE/busybox-x"
	mkdir -p "$BASE/bin" "$BASE/usr/bin" "$CACHE/busybox-x"
	dpkg -x "$deb" "$CACHE/busybox-x"
	cp "$CACHE/busybox-x/bin/busybox" "$BASE/bin/busybox"
	rm -rf "$CACHE/busybox-x"
	for applet in $("$BASE/bin/busybox" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$BASE/bin/$applet"
	done

	cp /usr/bin/trace-cmd "$BASE/usr/bin/trace-cmd"
	# plugins are dlopen()ed, so ldd of the binary alone does not see their needs
	plugdir=/usr/lib/$MULTIARCH/traceevent/plugins
	elves=/usr/bin/trace-cmd
	if [ -d "$plugdir" ]; then
		mkdir -p "$BASE$plugdir"
		cp "$plugdir"/*.so "$BASE$plugdir/"
		elves="$elves $(ls "$plugdir"/*.so)"
	fi
	for e in $elves; do
		ldd "$e" | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}'
	done | sort -u | while read -r lib; do
		[ -f "$lib" ] || continue
		mkdir -p "$BASE$(dirname "$lib")"
		cp -L "$lib" "$BASE$lib"
	done
	ver=$(trace-cmd --version 2>&1 | awk '/version/ {print $3; exit}')
	echo "$ver" >"$BASE/trace-cmd-version"
	case $ver in 3.1.6) ;; *) log "warning: host trace-cmd is $ver, not Debian 12's 3.1.6" ;; esac
	touch "$BASE/.done"
	log "guest root ready in $BASE"
fi

# ---- initramfs = base + this flavour's modules + /init (rebuilt when any of them changes)
CPIO=$KDIR/initramfs.cpio
key="$(cksum <"$HERE/init") $(cat "$BASE/trace-cmd-version") $MODULES"
if [ ! -f "$CPIO" ] || [ "$(cat "$CPIO.key" 2>/dev/null)" != "$key" ]; then
	stage=$KDIR/stage
	rm -rf "$stage"
	mkdir -p "$stage"
	cp -a "$BASE/." "$stage/"
	rm -f "$stage/.done"
	mkdir -p "$stage/proc" "$stage/sys" "$stage/dev" "$stage/tmp" "$stage/etc" \
		"$stage/lib/modules" "$stage/usr/sbin" "$stage/sbin"
	cp "$KDIR/modules/"*.ko "$stage/lib/modules/"
	echo "$MODULES" >"$stage/etc/rtrace-modules"
	cp "$KDIR/release" "$stage/etc/rtrace-kernel-release"
	echo "$KPKG" >"$stage/etc/rtrace-kernel-package"
	cp "$HERE/init" "$stage/init"
	chmod 755 "$stage/init"
	# uncompressed: unpacking under TCG is faster than inflating
	(cd "$stage" && find . | LC_ALL=C sort | "$BASE/bin/busybox" cpio -o -H newc 2>/dev/null) >"$CPIO.tmp"
	mv "$CPIO.tmp" "$CPIO"
	echo "$key" >"$CPIO.key"
	rm -rf "$stage"
fi

echo "$KDIR"
