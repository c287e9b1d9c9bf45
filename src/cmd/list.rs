//! `list`: what the kernel offers (tracecmd/trace-list.c): events (optionally matching a
//! `SYSTEM[:EVENT]` regex, with formats, filters or triggers), tracers, options, functions,
//! instances, clocks, systems, compression algorithms. Regexes are POSIX basic ones matched
//! case-insensitively, as trace-cmd's `regcomp(REG_ICASE)`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use tracedat::filter::posix::PosixRegex;
use tracefs::{io, Instance};

use super::tracing::open_tracefs;
use crate::cli::ListArgs;

pub fn run(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let fs = open_tracefs()?;
    let top = fs.top();
    let mut out = String::new();
    let show_all = args.events.is_none()
        && !args.tracers
        && !args.options
        && args.functions.is_none()
        && !args.plugin_options
        && !args.instances
        && !args.clocks
        && !args.systems
        && !args.compression;
    let result = (|| -> anyhow::Result<()> {
        if let Some(re) = &args.events {
            show_events(&top, re.as_deref(), args, &mut out)?;
        }
        if args.tracers {
            out.push_str(&read_file(&top, "available_tracers")?);
        }
        if args.options {
            super::stat::show_options("", &top, &mut out);
        }
        if args.plugin_options {
            out.push_str(&super::options::render(crate::cli::Compat::V3_3));
        }
        if let Some(re) = &args.functions {
            show_functions(&top, re.as_deref(), &mut out)?;
        }
        if args.instances {
            let names = fs.instance_names()?;
            if names.is_empty() {
                out.push_str("No buffer instances defined\n");
            }
            for n in names {
                let _ = writeln!(out, "{n}");
            }
        }
        if args.clocks {
            let c = read_file(&top, "trace_clock")?;
            let _ = writeln!(out, "{}", c.strip_suffix('\n').unwrap_or(&c));
        }
        if args.systems {
            show_systems(&top, &mut out)?;
        }
        if args.compression {
            show_compression(&mut out);
        }
        if show_all {
            out.push_str("event systems:\n");
            show_systems(&top, &mut out)?;
            out.push_str("events:\n");
            out.push_str(&read_file(&top, "available_events")?);
            out.push_str("\ntracers:\n");
            out.push_str(&read_file(&top, "available_tracers")?);
            out.push_str("\noptions:\n");
            super::stat::show_options("", &top, &mut out);
            show_compression(&mut out);
        }
        Ok(())
    })();
    // What was gathered before a failure is printed, as trace-cmd prints as it goes.
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(out.as_bytes())?;
    lock.flush()?;
    result?;
    Ok(ExitCode::SUCCESS)
}

fn read_file(inst: &Instance, file: &str) -> anyhow::Result<String> {
    Ok(inst.read(file)?)
}

fn regex(re: &str) -> anyhow::Result<PosixRegex> {
    PosixRegex::new(re.as_bytes()).map_err(|e| anyhow::anyhow!("invalid regex '{re}': {e}"))
}

/// What `-F`, `-l`, `-R` add to each listed event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    Name,
    Format { full: bool },
    Filter,
    Trigger,
}

fn show_events(
    top: &Instance,
    re: Option<&str>,
    args: &ListArgs,
    out: &mut String,
) -> anyhow::Result<()> {
    let detail = if args.format {
        Detail::Format { full: args.full }
    } else if args.filters {
        Detail::Filter
    } else if args.triggers {
        Detail::Trigger
    } else {
        Detail::Name
    };
    let Some(re) = re.filter(|r| !r.is_empty()) else {
        if args.format || args.filters || args.triggers || args.full {
            anyhow::bail!("When specifying event files, an event must be named");
        }
        out.push_str(&read_file(top, "available_events")?);
        return Ok(());
    };
    let systems = top.event_systems()?;
    // strtok(re, ":") then strtok(NULL, ""): leading ':'s are skipped, an empty rest is
    // no event part.
    let trimmed = re.trim_start_matches(':');
    let (system, event) = match trimmed.split_once(':') {
        Some((s, e)) if !e.is_empty() => (s, Some(e)),
        Some((s, _)) => (s, None),
        None => (trimmed, None),
    };
    let system_re = regex(system)?;
    let event_re = event.map(regex).transpose()?;
    // As trace-cmd: with an event part (or a trailing ':') only systems are matched.
    let just_systems = event.is_some() || re.ends_with(':');
    let show = |sys: &str, ev: &str, out: &mut String| -> anyhow::Result<()> {
        event_detail(top, sys, ev, detail, out)
    };
    let show_system = |sys: &str, out: &mut String| -> anyhow::Result<()> {
        for ev in system_events(top, sys) {
            show(sys, &ev, out)?;
        }
        Ok(())
    };
    let match_events = |sys: &str, r: &PosixRegex, out: &mut String| -> anyhow::Result<()> {
        for ev in system_events(top, sys) {
            if r.is_match(ev.as_bytes()) {
                show(sys, &ev, out)?;
            }
        }
        Ok(())
    };
    // ftrace has no enable file, so it is not among the systems; trace-cmd looks at it first.
    if system_re.is_match(b"ftrace") {
        match &event_re {
            None => show_system("ftrace", out)?,
            Some(er) => match_events("ftrace", er, out)?,
        }
    } else if !just_systems {
        match_events("ftrace", &system_re, out)?;
    }
    for s in &systems {
        if system_re.is_match(s.as_bytes()) {
            match &event_re {
                None => show_system(s, out)?,
                Some(er) => match_events(s, er, out)?,
            }
            continue;
        }
        if just_systems {
            continue;
        }
        match_events(s, &system_re, out)?;
    }
    Ok(())
}

fn system_events(top: &Instance, sys: &str) -> Vec<String> {
    top.system_events(sys).unwrap_or_default()
}

fn event_detail(
    top: &Instance,
    sys: &str,
    ev: &str,
    detail: Detail,
    out: &mut String,
) -> anyhow::Result<()> {
    let dir = format!("events/{sys}/{ev}");
    match detail {
        Detail::Name => {
            let _ = writeln!(out, "{sys}:{ev}");
        }
        Detail::Format { full } => {
            let text = top.read(&format!("{dir}/format"))?;
            let _ = writeln!(out, "system: {sys}");
            for line in text.split_inclusive('\n') {
                if !full && line.starts_with("print fmt") {
                    break;
                }
                out.push_str(line);
            }
        }
        Detail::Filter | Detail::Trigger => {
            let file = if detail == Detail::Filter {
                "filter"
            } else {
                "trigger"
            };
            let _ = writeln!(out, "{sys}:{ev}");
            out.push_str(&top.read(&format!("{dir}/{file}"))?);
            out.push('\n');
        }
    }
    Ok(())
}

fn show_functions(top: &Instance, re: Option<&str>, out: &mut String) -> anyhow::Result<()> {
    let text = top.read("available_filter_functions").with_context(|| {
        "listing the functions that can be traced (function tracing may be unavailable)"
    })?;
    let Some(re) = re.filter(|r| !r.is_empty()) else {
        out.push_str(&text);
        return Ok(());
    };
    // trace-cmd lets a '$' at the end match before the line's newline.
    let pattern = match re.strip_suffix('$') {
        Some(head) => format!("{head}\n*$"),
        None => re.to_string(),
    };
    let r = PosixRegex::new(pattern.as_bytes())
        .map_err(|e| anyhow::anyhow!("invalid function regex '{re}': {e}"))?;
    for line in text.split_inclusive('\n') {
        if r.is_match(line.as_bytes()) {
            out.push_str(line);
        }
    }
    Ok(())
}

fn show_systems(top: &Instance, out: &mut String) -> anyhow::Result<()> {
    let events = top.path("events");
    for name in io::list_dir(&events, false)? {
        if events.join(&name).is_dir() {
            let _ = writeln!(out, "{name}");
        }
    }
    out.push('\n');
    Ok(())
}

/// The compression algorithms rtrace-cmd reads, as trace-cmd lists its own.
fn show_compression(out: &mut String) {
    out.push_str("Supported compression algorithms:\n");
    let _ = writeln!(out, "\tzlib, {}", super::options::zlib_version());
    let _ = writeln!(out, "\tzstd, {}", super::options::zstd_version());
}
