#!/bin/sh
# Installs the two reference trace-cmds the golden tests compare against, on Debian 12 (root):
#
#   trace-cmd 3.1.6 + libtraceevent 1.7.1     Debian 12's own package      (dialect --compat 3.1)
#   trace-cmd 3.3.1 + libtraceevent 1.8.4     Debian 13's, beside it       (default dialect)
#
# Debian 13's trace-cmd is unpacked under DIR (default ~/.local/trace-cmd-3.3) by the shared
# installer ../shared/tools/install-trace-cmd-3.3.sh. That installer leaves out Debian 13's
# libtraceevent1-plugin, so its trace-cmd loads the *system's* 1.7.1 plugins from
# /usr/lib/x86_64-linux-gnu/traceevent/plugins and prints e.g. Debian 12's sched_switch
# state letters. Here the 1.8.4 plugin package of the same version as DIR's libtraceevent1
# is unpacked into DIR/p13 and DIR/trace-cmd-deb13 runs the 3.3.1 binary in a private mount
# namespace where that directory is bind-mounted over the system plugin directory, so only
# the 1.8.4 plugins load, as on Debian 13. (Loading both sets is not the same: the second
# plugin_function.so's options resolve to the first one's through RTLD_GLOBAL, so each
# `-O parent` toggles the same flag twice and has no effect.)
#
# The 3.1.6 reference is wrapped too (DIR/trace-cmd-deb12): the system's loader searches
# /usr/local/lib before /lib, so a libtraceevent built and installed from source there (as a
# developer working on the event printer may well do) would silently turn /usr/bin/trace-cmd
# into 3.1.6 + that library. The wrapper pins Debian 12's own /lib/x86_64-linux-gnu.
# Both wrappers are checked to load the libtraceevent they should (LD_DEBUG=libs).
#
# Idempotent: a second run only checks and prints the two paths.
# usage: tools/install-references.sh [DIR]
# env:   RTRACE_SHARED  the shared directory (else <repo>/../shared, else /work/shared)
set -eu

DIR=${1:-$HOME/.local/trace-cmd-3.3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${RTRACE_SHARED:-}
if [ -z "$SHARED" ]; then
    if [ -d "$REPO/../shared/tools" ]; then SHARED=$REPO/../shared; else SHARED=/work/shared; fi
fi
[ -x "$SHARED/tools/install-trace-cmd-3.3.sh" ] || {
    echo "install-references: $SHARED/tools/install-trace-cmd-3.3.sh not found (set RTRACE_SHARED)" >&2
    exit 1
}

# 1. trace-cmd 3.1.6 (Debian 12).
if ! trace-cmd --version 2>&1 | grep -q 'version 3\.1\.6'; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >/dev/null
    apt-get install -y trace-cmd >/dev/null
fi
REF31=$(command -v trace-cmd)
"$REF31" --version 2>&1 | grep -q 'version 3\.1\.6' || {
    echo "install-references: $REF31 is not trace-cmd 3.1.6" >&2
    exit 1
}

# 2. trace-cmd 3.3.1 (Debian 13) unpacked under DIR.
"$SHARED/tools/install-trace-cmd-3.3.sh" "$DIR" >/dev/null
[ -x "$DIR/trace-cmd" ] || { echo "install-references: $DIR/trace-cmd missing" >&2; exit 1; }

# 3. Debian 13's libtraceevent1-plugin, same version as the libtraceevent1 unpacked in DIR.
PLUGINS=$DIR/p13/usr/lib/x86_64-linux-gnu/traceevent/plugins
if [ ! -f "$PLUGINS/plugin_sched_switch.so" ]; then
    LIB_DEB=$(ls "$DIR"/debs/libtraceevent1_*.deb | head -n 1)
    VER=$(dpkg-deb -f "$LIB_DEB" Version)
    # The same apt options as the shared installer: its trixie sources and list directory.
    A="-o Dir::Etc::SourceList=$DIR/trixie.sources -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$DIR/lists -o APT::Sandbox::User=root"
    mkdir -p "$DIR/plugin-deb"
    # shellcheck disable=SC2086
    if ! (cd "$DIR/plugin-deb" && apt-get $A download "libtraceevent1-plugin=$VER" >/dev/null 2>&1); then
        # The lists are only refreshed by the shared installer's first run: refresh and retry.
        # shellcheck disable=SC2086
        apt-get $A update >/dev/null
        # shellcheck disable=SC2086
        (cd "$DIR/plugin-deb" && apt-get $A download "libtraceevent1-plugin=$VER" >/dev/null)
    fi
    dpkg -x "$DIR"/plugin-deb/libtraceevent1-plugin_*.deb "$DIR/p13"
fi
[ -f "$PLUGINS/plugin_sched_switch.so" ] || {
    echo "install-references: no plugins in $PLUGINS" >&2
    exit 1
}

# 4. The wrappers: Debian 12's trace-cmd pinned to its own libraries, and the faithful
#    Debian 13 reference.
REF31W=$DIR/trace-cmd-deb12
LOADER=$(readlink -f /lib64/ld-linux-x86-64.so.2)
cat > "$REF31W.tmp" <<WRAP
#!/bin/sh
# Debian 12's trace-cmd 3.1.6 with Debian 12's libtraceevent 1.7.1 and plugins, whatever is in
# /usr/local/lib (written by rtrace-cmd's tools/install-references.sh).
unset TRACEEVENT_PLUGIN_DIR
exec $LOADER --library-path /lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu $REF31 "\$@"
WRAP
chmod +x "$REF31W.tmp"
mv "$REF31W.tmp" "$REF31W"

REF33=$DIR/trace-cmd-deb13
SYSPLUGINS=/usr/lib/x86_64-linux-gnu/traceevent/plugins
cat > "$REF33.tmp" <<WRAP
#!/bin/sh
# trace-cmd 3.3.1 + libtraceevent 1.8.4 with Debian 13's 1.8.4 plugins and no others (written
# by rtrace-cmd's tools/install-references.sh): the system's Debian 12 plugin directory is
# replaced by Debian 13's in a private mount namespace.
unset TRACEEVENT_PLUGIN_DIR
if [ -d $SYSPLUGINS ]; then
    exec unshare -m --propagation private sh -c 'mount --bind $PLUGINS $SYSPLUGINS && exec $DIR/trace-cmd "\$@"' sh "\$@"
fi
TRACEEVENT_PLUGIN_DIR=$PLUGINS
export TRACEEVENT_PLUGIN_DIR
exec $DIR/trace-cmd "\$@"
WRAP
chmod +x "$REF33.tmp"
mv "$REF33.tmp" "$REF33"

# The plugins must really be the ones loaded, and only those: with the bind mount they show
# under the system path, but are Debian 13's files (the plugin directory's inode differs).
"$REF33" list -P 2>&1 | grep -q "plugin_sched_switch.so" || {
    echo "install-references: $REF33 loads no sched_switch plugin" >&2
    exit 1
}
if [ -d $SYSPLUGINS ]; then
    want=$(stat -c %i "$PLUGINS/plugin_sched_switch.so")
    seen=$(unshare -m --propagation private sh -c "mount --bind $PLUGINS $SYSPLUGINS && stat -c %i $SYSPLUGINS/plugin_sched_switch.so")
    [ "$want" = "$seen" ] || { echo "install-references: cannot mount $PLUGINS over $SYSPLUGINS" >&2; exit 1; }
fi
"$REF33" --version 2>&1 | grep -q 'version 3\.3' || { echo "install-references: $REF33 is not 3.3" >&2; exit 1; }

# The libtraceevent each one really loads.
loaded() { LD_DEBUG=libs "$1" --version 2>&1 | sed -n 's/.*calling init: \(.*libtraceevent\.so[^ ]*\).*/\1/p' | head -n 1 | xargs -r readlink -f; }
case $(loaded "$REF31W") in
    */libtraceevent.so.1.7.1) ;;
    *) echo "install-references: $REF31W loads $(loaded "$REF31W"), not libtraceevent 1.7.1" >&2; exit 1 ;;
esac
case $(loaded "$REF33") in
    */libtraceevent.so.1.8.4) ;;
    *) echo "install-references: $REF33 loads $(loaded "$REF33"), not libtraceevent 1.8.4" >&2; exit 1 ;;
esac

echo "RTRACE_REF_3_1=$REF31W"
echo "RTRACE_REF_3_3=$REF33"
