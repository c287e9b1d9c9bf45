//! `stat`: what the kernel's tracing is set up to do, printed as trace-cmd 3.3.1 prints it
//! (tracecmd/trace-stat.c): tracer, events, filters, triggers, function filters, buffer
//! sizes, clock, cpumask, probes, pid filters, options (`-o`), tracing_on, error log,
//! instances. Anything at its default is left out. Files the kernel lacks or refuses are
//! left out too.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use clap::ArgMatches;
use tracefs::{io, CpuMask, Instance, Tracefs};

use super::tracing::{in_order, open_tracefs, Selection};
use crate::cli::StatArgs;

pub fn run(args: &StatArgs, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    let fs = open_tracefs()?;
    let sel = Selection::from(&fs, &in_order(m, &["instance", "top"]))?;
    let mut out = String::new();
    let insts = sel.instances(&fs);
    for (i, inst) in insts.iter().enumerate() {
        stat_instance(&fs, inst, i == 0, args.options, &mut out);
    }
    match stack_tracer_status() {
        Some(s) if s > 0 => out.push_str("Stack tracing is enabled\n\n"),
        Some(_) => {}
        None => out.push_str("Error reading stack tracer status\n\n"),
    }
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(out.as_bytes())?;
    lock.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A file's content, or `None` when it is missing, unreadable or empty (libtracefs's
/// `tracefs_instance_file_read` returns NULL for all three).
fn read(inst: &Instance, file: &str) -> Option<String> {
    inst.read(file).ok().filter(|s| !s.is_empty())
}

fn stat_instance(fs: &Tracefs, inst: &Instance, first: bool, options: bool, out: &mut String) {
    if let Some(name) = inst.name() {
        if !first {
            out.push_str("---------------\n");
        }
        let _ = writeln!(out, "Instance: {name}");
    }
    report_file(inst, "current_tracer", "nop", "Tracer: ", out);
    report_events(inst, out);
    report_event_files(inst, "filter", "Filters", |c| c == "none", out);
    report_event_files(inst, "trigger", "Triggers", |c| c.starts_with('#'), out);
    list_functions(inst, "set_ftrace_filter", "Function Filter", out);
    list_functions(inst, "set_ftrace_notrace", "Function No Trace", out);
    list_functions(inst, "set_graph_function", "Function Graph Filter", out);
    list_functions(inst, "set_graph_notrace", "Function Graph No Trace", out);
    report_buffers(inst, out);
    if let Ok(c) = inst.clock() {
        if c.current != "local" {
            let _ = writeln!(out, "\nClock: {}", c.current);
        }
    }
    report_cpumask(inst, out);
    report_file(inst, "tracing_max_latency", "0", "Max Latency: ", out);
    report_probes(inst, "kprobe_events", "Kprobe events", out);
    report_probes(inst, "uprobe_events", "Uprobe events", out);
    report_probes(inst, "synthetic_events", "Synthetic events", out);
    report_file(inst, "set_event_pid", "", "Filtered event PIDs:\n", out);
    report_file(
        inst,
        "set_event_notrace_pid",
        "",
        "Filtered notrace event PIDs:\n",
        out,
    );
    report_file(
        inst,
        "set_ftrace_pid",
        "no pid",
        "Filtered function tracer PIDs:\n",
        out,
    );
    report_file(
        inst,
        "set_ftrace_notrace_pid",
        "no pid",
        "Filtered function tracer notrace PIDs:\n",
        out,
    );
    if options {
        out.push_str("\nOptions:\n");
        show_options("   ", inst, out);
    }
    if let Some(s) = read(inst, "tracing_on") {
        if s.trim() == "0" {
            out.push_str("\nTracing is disabled\n\n");
        } else {
            out.push_str("\nTracing is enabled\n\n");
        }
    }
    report_file(inst, "error_log", "", "Error log:\n", out);
    if inst.is_top() {
        let names = fs.instance_names().unwrap_or_default();
        if !names.is_empty() {
            out.push_str("\nInstances:\n");
            for n in names {
                let _ = writeln!(out, " {n}");
            }
        }
    }
}

/// Prints `\n` + description + content when the file holds something other than `def`.
fn report_file(inst: &Instance, file: &str, def: &str, desc: &str, out: &mut String) {
    let Some(s) = read(inst, file) else { return };
    let c = s.trim();
    if !c.is_empty() && c != def {
        let _ = writeln!(out, "\n{desc}{c}");
    }
}

fn is_dir(p: &std::path::Path) -> bool {
    p.is_dir()
}

fn report_events(inst: &Instance, out: &mut String) {
    let Some(s) = read(inst, "events/enable") else {
        return;
    };
    out.push_str("\nEvents:\n");
    match s.trim().chars().next() {
        Some('1') => {
            out.push_str(" All enabled\n");
            return;
        }
        Some('0') => {
            out.push_str(" All disabled\n");
            return;
        }
        _ => {}
    }
    let events = inst.path("events");
    let entries = io::list_dir(&events, false).unwrap_or_default();
    let first_char = |p: std::path::PathBuf| io::read(&p).ok().and_then(|s| s.chars().next());
    let mut systems_shown = false;
    for sys in &entries {
        if !is_dir(&events.join(sys)) {
            continue;
        }
        if first_char(events.join(sys).join("enable")) == Some('1') {
            if !systems_shown {
                out.push_str(" Individual systems:\n");
            }
            let _ = writeln!(out, "   {sys}");
            systems_shown = true;
        }
    }
    // Systems whose events differ ('X'), and their enabled events.
    let mut events_header = false;
    for sys in &entries {
        let sdir = events.join(sys);
        if !is_dir(&sdir) {
            continue;
        }
        match first_char(sdir.join("enable")) {
            Some('1') | Some('0') | None => continue,
            _ => {}
        }
        let mut system_header = false;
        for ev in io::list_dir(&sdir, false).unwrap_or_default() {
            if !is_dir(&sdir.join(&ev)) {
                continue;
            }
            if first_char(sdir.join(&ev).join("enable")) != Some('1') {
                continue;
            }
            if !events_header {
                out.push_str(" Individual events:\n");
                events_header = true;
            }
            if !system_header {
                let _ = writeln!(out, "    {sys}");
                system_header = true;
            }
            let _ = writeln!(out, "        {ev}");
        }
    }
    if !systems_shown && !events_header {
        out.push_str("  (none enabled)\n");
    }
}

/// Filters or triggers of every event, skipping the kernel's "nothing" text.
fn report_event_files(
    inst: &Instance,
    file: &str,
    title: &str,
    nothing: impl Fn(&str) -> bool,
    out: &mut String,
) {
    let events = inst.path("events");
    let mut shown = false;
    for sys in io::list_dir(&events, false).unwrap_or_default() {
        let sdir = events.join(&sys);
        if !is_dir(&sdir) {
            continue;
        }
        for ev in io::list_dir(&sdir, false).unwrap_or_default() {
            if !is_dir(&sdir.join(&ev)) {
                continue;
            }
            let Ok(s) = io::read(&sdir.join(&ev).join(file)) else {
                continue;
            };
            let c = s.trim();
            if nothing(c) {
                continue;
            }
            if !shown {
                let _ = writeln!(out, "\n{title}:");
                shown = true;
            }
            let _ = writeln!(out, "  {sys}:{ev} \"{c}\"");
        }
    }
}

/// The lines of a function filter file that do not start with `#`, each indented, under a
/// title (trace-stat.c `list_functions`).
fn list_functions(inst: &Instance, file: &str, title: &str, out: &mut String) {
    let Ok(s) = inst.read(file) else { return };
    let mut first = true;
    for line in s.split_inclusive('\n') {
        if line.starts_with('#') || line == "\n" {
            continue;
        }
        if first {
            let _ = writeln!(out, "\n{title}:");
            first = false;
        }
        out.push_str("   ");
        out.push_str(line);
    }
}

fn report_buffers(inst: &Instance, out: &mut String) {
    let Some(s) = read(inst, "buffer_size_kb") else {
        return;
    };
    let c = s.trim();
    // Not expanded yet: trace-cmd shows nothing about buffers.
    if c.contains("expanded") {
        return;
    }
    if c != "X" {
        let _ = writeln!(out, "\nBuffer size in kilobytes (per cpu):\n   {c}");
    } else {
        for cpu in 0.. {
            let Some(v) = read(inst, &format!("per_cpu/cpu{cpu}/buffer_size_kb")) else {
                break;
            };
            if cpu == 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "CPU {cpu} buffer size (kb): {}", v.trim());
        }
    }
    let Some(t) = read(inst, "buffer_total_size_kb") else {
        return;
    };
    let _ = writeln!(out, "\nBuffer total size in kilobytes:\n   {}", t.trim());
    if let Ok(kb) = inst.subbuf_size_kb() {
        if kb > 0 && kb * 1024 != page_size() {
            let _ = writeln!(out, "\nSub-buffer size in kilobytes:\n   {kb}");
        }
    }
}

fn page_size() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map(|v| v as u64)
        .unwrap_or(4096)
}

fn report_cpumask(inst: &Instance, out: &mut String) {
    let Some(s) = read(inst, "tracing_cpumask") else {
        return;
    };
    let ncpus = inst.cpus().map(|v| v.len() as u32).unwrap_or(0);
    let all = CpuMask::parse(s.trim()).is_some_and(|m| (0..ncpus).all(|c| m.contains(c)));
    if !all {
        let _ = writeln!(out, "\nCPU mask: {}", s.trim());
    }
}

fn report_probes(inst: &Instance, file: &str, title: &str, out: &mut String) {
    let Some(s) = read(inst, file) else { return };
    let c = s.trim();
    if c.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}:");
    for line in c.split('\n') {
        let _ = writeln!(out, "   {line}");
    }
}

/// The trace options as `name`/`noname` lines (trace-list.c `show_options`).
pub fn show_options(prefix: &str, inst: &Instance, out: &mut String) {
    match inst.options() {
        Ok(opts) => {
            for (name, on) in opts {
                let _ = writeln!(out, "{prefix}{}{name}", if on { "" } else { "no" });
            }
        }
        Err(_) => {
            if let Ok(s) = inst.read("trace_options") {
                out.push_str(&s);
            }
        }
    }
}

/// `/proc/sys/kernel/stack_tracer_enabled`: `Some(0)` when the kernel has no stack tracer.
fn stack_tracer_status() -> Option<i64> {
    let p = std::path::Path::new("/proc/sys/kernel/stack_tracer_enabled");
    if !p.exists() {
        return Some(0);
    }
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}
