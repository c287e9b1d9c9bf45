//! `show`: prints a tracing file (tracecmd/trace-show.c). `trace` by default, `trace_pipe`
//! with `-p`, `snapshot` with `-s`, one CPU's with `-c`, an instance's with `-B`; the
//! `--tracing_on`-style options print that file of the instance named before them and exit.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::ArgMatches;
use tracefs::{Instance, Tracefs};

use super::tracing::{in_order, open_tracefs};
use crate::cli::ShowArgs;

/// The `--NAME` options and the files they print.
const FILE_OPTIONS: &[(&str, &str)] = &[
    ("tracing_on", "tracing_on"),
    ("current_tracer", "current_tracer"),
    ("buffer_size", "buffer_size_kb"),
    ("buffer_total_size", "buffer_total_size_kb"),
    ("buffer_subbuf_size", "buffer_subbuf_size_kb"),
    ("buffer_percent", "buffer_percent"),
    ("ftrace_filter", "set_ftrace_filter"),
    ("ftrace_notrace", "set_ftrace_notrace"),
    ("ftrace_pid", "set_ftrace_pid"),
    ("graph_function", "set_graph_function"),
    ("graph_notrace", "set_graph_notrace"),
    ("cpumask", "tracing_cpumask"),
];

pub fn run(args: &ShowArgs, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    let fs = open_tracefs()?;
    let mut ids: Vec<&'static str> = vec!["instance"];
    ids.extend(FILE_OPTIONS.iter().map(|(id, _)| *id));
    let mut inst = fs.top();
    let mut stop = false;
    let out = std::io::stdout();
    let mut out = out.lock();
    for o in in_order(m, &ids) {
        if o.id == "instance" {
            inst = fs.instance(Some(&o.value))?;
            continue;
        }
        let file = FILE_OPTIONS
            .iter()
            .find(|(id, _)| *id == o.id)
            .map(|(_, f)| *f)
            .unwrap_or(o.id);
        copy_file(&inst.path(file), &mut out)?;
        stop = true;
    }
    if stop {
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(ev) = args.hist.as_deref().or(args.trigger.as_deref()) {
        let file = if args.hist.is_some() {
            "hist"
        } else {
            "trigger"
        };
        let path = event_file(&fs, &inst, ev, file)?;
        let text = tracefs::io::read(&path)?;
        writeln!(out, "{text}")?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut file = if args.pipe {
        "trace_pipe".to_string()
    } else if args.snapshot {
        "snapshot".to_string()
    } else {
        "trace".to_string()
    };
    if let Some(c) = &args.cpu {
        let cpu = parse_cpu(c)?;
        file = format!("per_cpu/cpu{cpu}/{file}");
    }
    let path = inst.path(&file);
    if args.snapshot && !tracefs::io::exists(&path) {
        anyhow::bail!(
            "the snapshot buffer is not supported by this kernel ({} is missing; it needs \
             CONFIG_TRACER_SNAPSHOT)",
            path.display()
        );
    }
    if args.show_name {
        writeln!(out, "{}", path.display())?;
        out.flush()?;
    }
    copy_file(&path, &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A CPU number as strtol(s, 0) reads it (decimal, 0x hex, 0 octal).
pub fn parse_cpu(s: &str) -> anyhow::Result<u32> {
    let t = s.trim();
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (h, 16)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    u32::from_str_radix(digits, radix).map_err(|_| anyhow::anyhow!("invalid CPU index '{s}'"))
}

/// The file of `[SYSTEM:]EVENT`; without a system, the first system that has the event.
fn event_file(
    fs: &Tracefs,
    inst: &Instance,
    ev: &str,
    file: &str,
) -> anyhow::Result<std::path::PathBuf> {
    let (system, event) = match ev.split_once(':') {
        Some((s, e)) => (Some(s.to_string()), e),
        None => (None, ev),
    };
    let system = match system {
        Some(s) => s,
        None => fs
            .top()
            .event_systems()?
            .into_iter()
            .find(|s| inst.exists(&format!("events/{s}/{event}/{file}")))
            .ok_or_else(|| match inst.resolve_events(event) {
                Err(e) => anyhow::Error::from(e),
                Ok(_) => anyhow::anyhow!("event {event} has no {file} file"),
            })?,
    };
    let rel = format!("events/{system}/{event}/{file}");
    if !inst.exists(&rel) {
        inst.resolve_events(&format!("{system}:{event}"))?;
        anyhow::bail!(
            "{system}:{event} has no {file} file{}",
            if file == "hist" {
                " (hist triggers need CONFIG_HIST_TRIGGERS)"
            } else {
                ""
            }
        );
    }
    Ok(inst.path(&rel))
}

/// Copies a tracing file to stdout as it is read (trace_pipe never ends; each chunk is
/// passed on at once).
fn copy_file(path: &std::path::Path, out: &mut impl Write) -> anyhow::Result<()> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| tracefs::io::open_error(path, e))
        .map_err(anyhow::Error::from)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(tracefs::Error::Read {
                    path: path.to_path_buf(),
                    errno: e,
                })
                .context("showing the file")
            }
        };
        out.write_all(&buf[..n])?;
        out.flush()?;
    }
    Ok(())
}
