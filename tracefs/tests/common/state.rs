//! A text fingerprint of every tracefs setting the tests may change, to prove that a test
//! left the kernel as it found it: for the top level and every instance, tracing_on, tracer,
//! clock, buffer sizes, cpumask, options, pid filters, event enables (per system, and per
//! event in mixed systems), filters and triggers; globally, saved_cmdlines_size, the dynamic
//! event lists, the instance list and ftrace_enabled. Buffer contents and error logs are
//! not settings and are left out.

use std::fmt::Write as _;
use std::path::Path;

use tracefs::{Instance, Tracefs};

fn read(p: &Path) -> String {
    match std::fs::read_to_string(p) {
        Ok(s) => s.trim_end().to_string(),
        Err(e) => format!("<{}>", e.kind()),
    }
}

fn instance_state(inst: &Instance, out: &mut String) {
    let name = inst.name().unwrap_or("<top>");
    for f in [
        "tracing_on",
        "current_tracer",
        "trace_clock",
        "buffer_size_kb",
        "buffer_subbuf_size_kb",
        "buffer_percent",
        "tracing_cpumask",
        "set_event_pid",
        "set_event_notrace_pid",
        "set_ftrace_pid",
        "set_ftrace_filter",
        "set_ftrace_notrace",
        "set_graph_function",
        "set_graph_notrace",
        "tracing_max_latency",
        "tracing_thresh",
        "max_graph_depth",
    ] {
        if inst.exists(f) {
            let _ = writeln!(out, "{name} {f}: {}", read(&inst.path(f)));
        }
    }
    for cpu in inst.cpus().unwrap_or_default() {
        let f = format!("per_cpu/cpu{cpu}/buffer_size_kb");
        let _ = writeln!(out, "{name} {f}: {}", read(&inst.path(&f)));
    }
    for (o, v) in inst.options().unwrap_or_default() {
        let _ = writeln!(out, "{name} options/{o}: {v}");
    }
    let _ = writeln!(
        out,
        "{name} events/enable: {}",
        read(&inst.path("events/enable"))
    );
    for sys in inst.event_systems().unwrap_or_default() {
        let en = read(&inst.path(&format!("events/{sys}/enable")));
        let _ = writeln!(out, "{name} events/{sys}/enable: {en}");
        for ev in inst.system_events(&sys).unwrap_or_default() {
            let dir = format!("events/{sys}/{ev}");
            if en.starts_with('X') {
                let _ = writeln!(
                    out,
                    "{name} {dir}/enable: {}",
                    read(&inst.path(&format!("{dir}/enable")))
                );
            }
            let filter = inst.path(&format!("{dir}/filter"));
            if filter.exists() {
                let t = read(&filter);
                if t != "none" {
                    let _ = writeln!(out, "{name} {dir}/filter: {t}");
                }
            }
            let trigger = inst.path(&format!("{dir}/trigger"));
            if trigger.exists() {
                let t = read(&trigger);
                if !t.starts_with('#') {
                    let _ = writeln!(out, "{name} {dir}/trigger: {t}");
                }
            }
        }
    }
}

/// The fingerprint of everything.
pub fn fingerprint(fs: &Tracefs) -> String {
    let mut out = String::new();
    for f in [
        "saved_cmdlines_size",
        "kprobe_events",
        "uprobe_events",
        "dynamic_events",
    ] {
        let p = fs.path(f);
        if p.exists() {
            let _ = writeln!(out, "{f}: {}", read(&p));
        }
    }
    let _ = writeln!(
        out,
        "ftrace_enabled: {}",
        read(Path::new("/proc/sys/kernel/ftrace_enabled"))
    );
    let _ = writeln!(
        out,
        "instances: {:?}",
        fs.instance_names().unwrap_or_default()
    );
    for inst in fs.all_instances().unwrap_or_default() {
        instance_state(&inst, &mut out);
    }
    out
}

/// Line differences, for assertion messages.
pub fn diff(a: &str, b: &str) -> String {
    let sa: std::collections::HashSet<&str> = a.lines().collect();
    let sb: std::collections::HashSet<&str> = b.lines().collect();
    let mut d = String::new();
    for l in a.lines().filter(|l| !sb.contains(l)) {
        let _ = writeln!(d, "- {l}");
    }
    for l in b.lines().filter(|l| !sa.contains(l)) {
        let _ = writeln!(d, "+ {l}");
    }
    d
}
