# shellcheck shell=bash
# Save and restore the tracefs settings the capture scripts change (sourced by
# tools/capture-fixtures.sh and tools/make-large-trace.sh).
#
# tracefs is one state shared by the whole machine, so a script that changes it must leave it
# as it found it, also when it fails half-way: tfs_save records every setting the scripts
# may touch, tfs_restore (run from an EXIT trap) writes back what differs and then compares a
# fresh snapshot with the saved one, printing any setting it could not put back.
#
# Settings covered (top buffer unless said): tracing_on, trace_clock, buffer_size_kb,
# buffer_subbuf_size_kb, tracing_cpumask, saved_cmdlines_size, set_event, set_event_pid,
# set_event_notrace_pid, options/*, every events/*/*/filter that is set, dynamic_events and
# the list of instances (instances created meanwhile are removed). Buffer contents are not
# state: they are cleared at the end.

T=${TRACEFS:-/sys/kernel/tracing}
TFS_STATE=""

tfs_die() { echo "tracefs-state: $*" >&2; exit 1; }

# Write VALUE into tracefs FILE, failing loudly with the file's name.
tfs_w() {
    local file=$1 value=$2
    printf '%s\n' "$value" > "$T/$file" 2>/dev/null || tfs_die "writing '$value' to $T/$file failed"
}

tfs_selected_clock() { sed -n 's/.*\[\(.*\)\].*/\1/p' "$T/trace_clock"; }

# buffer_size_kb reads "7 (expanded: 1408)" while the ring buffer has never been used; it
# cannot be shrunk back to unexpanded, so the value to restore is the expanded size, the one
# the kernel would have switched to on first use anyway.
tfs_buffer_kb() {
    local v
    v=$(cat "$T/buffer_size_kb")
    case $v in
        *expanded:*) v=${v#*expanded: }; v=${v%)} ;;
    esac
    echo "$v"
}

# One line per setting, "name<TAB>value", in a stable order: used both to save and to check.
tfs_snapshot() {
    local f
    printf 'tracing_on\t%s\n' "$(cat "$T/tracing_on")"
    printf 'trace_clock\t%s\n' "$(tfs_selected_clock)"
    printf 'buffer_size_kb\t%s\n' "$(tfs_buffer_kb)"
    [ -e "$T/buffer_subbuf_size_kb" ] && printf 'buffer_subbuf_size_kb\t%s\n' "$(cat "$T/buffer_subbuf_size_kb")"
    printf 'tracing_cpumask\t%s\n' "$(cat "$T/tracing_cpumask")"
    printf 'saved_cmdlines_size\t%s\n' "$(cat "$T/saved_cmdlines_size")"
    printf 'set_event\t%s\n' "$(sort "$T/set_event" | tr '\n' ' ')"
    printf 'set_event_pid\t%s\n' "$(sort -n "$T/set_event_pid" | tr '\n' ' ')"
    printf 'set_event_notrace_pid\t%s\n' "$(sort -n "$T/set_event_notrace_pid" | tr '\n' ' ')"
    for f in "$T"/options/*; do
        printf 'options/%s\t%s\n' "${f##*/}" "$(cat "$f")"
    done
    for f in "$T"/events/*/*/filter; do
        read -r first < "$f" || true
        [ "$first" = none ] || printf 'filter:%s\t%s\n' "${f#"$T"/}" "$(tr '\n' ' ' < "$f")"
    done
    printf 'dynamic_events\t%s\n' "$(tr '\n' '|' < "$T/dynamic_events")"
    printf 'instances\t%s\n' "$(ls "$T/instances" | tr '\n' ' ')"
}

tfs_save() {
    [ -w "$T/tracing_on" ] || tfs_die "$T is not a writable tracefs (mount it, run as root)"
    TFS_STATE=$(mktemp -d /var/tmp/rtrace-tracefs-state.XXXXXX)
    tfs_snapshot > "$TFS_STATE/saved"
    cp "$T/set_event" "$TFS_STATE/set_event"
    cp "$T/set_event_pid" "$TFS_STATE/set_event_pid"
    cp "$T/set_event_notrace_pid" "$TFS_STATE/set_event_notrace_pid"
    cp "$T/dynamic_events" "$TFS_STATE/dynamic_events"
    ls "$T/instances" > "$TFS_STATE/instances"
    local f
    for f in "$T"/events/*/*/filter; do
        read -r first < "$f" || true
        [ "$first" = none ] || printf '%s\t%s\n' "${f#"$T"/}" "$(cat "$f")" >> "$TFS_STATE/filters"
    done
    touch "$TFS_STATE/filters"
}

tfs_saved() { awk -F'\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print; exit }' "$TFS_STATE/saved"; }

# Remove the instances and dynamic events this script created, disable events, clear every
# event filter set meanwhile: the clean ground each capture starts from, and the first half
# of tfs_restore.
tfs_clean() {
    local f name
    tfs_w tracing_on 0
    : > "$T/set_event"
    [ -e "$T/events/enable" ] && tfs_w events/enable 0
    for f in "$T"/instances/*; do
        [ -d "$f" ] || continue
        name=${f##*/}
        grep -qxF "$name" "$TFS_STATE/instances" && continue
        echo 0 > "$f/tracing_on"
        echo 0 > "$f/events/enable"
        rmdir "$f" 2>/dev/null || tfs_die "cannot remove instance $name"
    done
    for f in "$T"/events/*/*/filter; do
        read -r first < "$f" || true
        [ "$first" = none ] || echo 0 > "$f"
    done
    # dynamic events created here: every line not in the saved list, removed by name
    while IFS= read -r line; do
        grep -qxF "$line" "$TFS_STATE/dynamic_events" && continue
        name=${line%% *}; name=${name#*:}
        echo "-:$name" >> "$T/dynamic_events" || tfs_die "cannot remove dynamic event $name"
    done < <(cat "$T/dynamic_events")
    : > "$T/set_event_pid"
    : > "$T/set_event_notrace_pid"
    echo > "$T/trace"
}

tfs_restore() {
    [ -n "$TFS_STATE" ] || return 0
    local key value f pid
    tfs_clean
    # options first: some (overwrite, event-fork) matter for what follows
    while IFS=$'\t' read -r key value; do
        case $key in
            options/*)
                [ "$(cat "$T/$key")" = "$value" ] || echo "$value" > "$T/$key" 2>/dev/null || true ;;
        esac
    done < "$TFS_STATE/saved"
    [ -e "$T/buffer_subbuf_size_kb" ] && tfs_w buffer_subbuf_size_kb "$(tfs_saved buffer_subbuf_size_kb)"
    [ "$(tfs_buffer_kb)" = "$(tfs_saved buffer_size_kb)" ] || tfs_w buffer_size_kb "$(tfs_saved buffer_size_kb)"
    tfs_w trace_clock "$(tfs_saved trace_clock)"
    tfs_w tracing_cpumask "$(tfs_saved tracing_cpumask)"
    [ "$(cat "$T/saved_cmdlines_size")" = "$(tfs_saved saved_cmdlines_size)" ] ||
        tfs_w saved_cmdlines_size "$(tfs_saved saved_cmdlines_size)"
    while IFS=$'\t' read -r f value; do
        printf '%s\n' "$value" > "$T/$f"
    done < "$TFS_STATE/filters"
    while IFS= read -r value; do
        [ -n "$value" ] && printf '%s\n' "$value" >> "$T/set_event"
    done < "$TFS_STATE/set_event"
    for pid in $(cat "$TFS_STATE/set_event_pid"); do echo "$pid" >> "$T/set_event_pid" 2>/dev/null || true; done
    for pid in $(cat "$TFS_STATE/set_event_notrace_pid"); do echo "$pid" >> "$T/set_event_notrace_pid" 2>/dev/null || true; done
    echo > "$T/trace"
    tfs_w tracing_on "$(tfs_saved tracing_on)"
    # Writing buffer_size_kb N reads back N rounded up to whole sub-buffers (1408 -> 1410),
    # so that one is compared with a sub-buffer of slack.
    local want have
    want=$(tfs_saved buffer_size_kb); have=$(tfs_buffer_kb)
    if [ $((have - want)) -ge 0 ] && [ $((have - want)) -lt "$(cat "$T/buffer_subbuf_size_kb" 2>/dev/null || echo 4)" ]; then
        sed -i "s/^buffer_size_kb\t.*/buffer_size_kb\t$have/" "$TFS_STATE/saved"
    fi
    if ! tfs_snapshot | diff "$TFS_STATE/saved" - > "$TFS_STATE/diff"; then
        echo "tracefs-state: could not restore everything (saved state in $TFS_STATE):" >&2
        cat "$TFS_STATE/diff" >&2
        TFS_STATE=""
        return 1
    fi
    rm -rf "$TFS_STATE"
    TFS_STATE=""
}
