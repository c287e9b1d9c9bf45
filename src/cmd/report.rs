//! `rtrace-cmd report`: trace-cmd's report (tracecmd/trace-read.c `trace_report`).
//!
//! Turns the command line into `tracedat::report::Options` — including the order-sensitive
//! parts trace-cmd takes from getopt's order: `-F` after `-v` is negative, `-F` after `-i`
//! belongs to that file, `--ts-offset`/`--ts2secs` after a second `-i` belong to it — maps
//! the files and runs the report into a large stdout buffer.

use std::fs::File;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use tracedat::cnum;
use tracedat::filter::FilterArgs;
use tracedat::report::{self, InputFile, Mode, Options, ReportError};
use tracedat::Dialect;

use crate::cli::{Compat, ReportArgs};

/// One command-line occurrence that trace-cmd interprets in order.
enum Ev<'a> {
    Input(&'a str),
    Filter(&'a str),
    Negate,
    TsOffset(&'a str),
    Ts2Secs(&'a str),
}

struct InputSpec {
    path: String,
    ts_offset: i64,
    ts2secs: Option<u64>,
}

/// `parse_cpulist`: `0,2-3` (also `:` separators).
fn parse_cpulist(s: &str, out: &mut Vec<u32>) -> anyhow::Result<()> {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| -> anyhow::Result<u32> {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
        if *i >= b.len() || !b[*i].is_ascii_digit() {
            let c = b.get(*i).map(|&c| c as char).unwrap_or('\0');
            bail!("invalid character '{c}' in cpu string '{s}'");
        }
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        Ok(s[start..*i].parse::<u64>().unwrap_or(u64::MAX) as u32)
    };
    loop {
        let a = digits(&mut i)?;
        let mut z = a;
        if i < b.len() && b[i] == b'-' {
            i += 1;
            z = digits(&mut i)?;
        }
        if a > z {
            bail!("range of cpu numbers must be lower to greater");
        }
        out.extend(a..=z);
        if i < b.len() && (b[i] == b',' || b[i] == b':') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
    }
    Ok(())
}

pub fn run(args: ReportArgs, m: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    let dialect = match args.compat {
        Compat::V3_1 => Dialect::V3_1,
        Compat::V3_3 => Dialect::V3_3,
    };
    if args.profile {
        bail!("--profile is not supported yet");
    }
    if args.kallsyms.is_some() {
        bail!("--kallsyms is not supported yet");
    }

    // Rebuild getopt's order for the options whose meaning depends on it.
    let mut evs: Vec<(usize, Ev)> = Vec::new();
    fn push<'a>(
        evs: &mut Vec<(usize, Ev<'a>)>,
        m: &clap::ArgMatches,
        id: &str,
        vals: &'a [String],
        mk: impl Fn(&'a str) -> Ev<'a>,
    ) {
        if let Some(idx) = m.indices_of(id) {
            for (i, v) in idx.zip(vals) {
                evs.push((i, mk(v)));
            }
        }
    }
    push(&mut evs, m, "input", &args.input, Ev::Input);
    push(&mut evs, m, "filter", &args.filter, Ev::Filter);
    push(&mut evs, m, "ts_offset", &args.ts_offset, Ev::TsOffset);
    push(&mut evs, m, "ts2secs", &args.ts2secs, Ev::Ts2Secs);
    if let Some(idx) = m.indices_of("negate") {
        for i in idx {
            evs.push((i, Ev::Negate));
        }
    }
    evs.sort_by_key(|e| e.0);

    let mut inputs: Vec<InputSpec> = Vec::new();
    let mut filters = FilterArgs::new();
    let mut ts_offset = 0i64;
    let mut ts2secs: Option<u64> = None;
    for (_, ev) in &evs {
        match ev {
            Ev::Input(p) => {
                inputs.push(InputSpec {
                    path: p.to_string(),
                    ts_offset: if inputs.is_empty() { ts_offset } else { 0 },
                    ts2secs: None,
                });
                filters.input();
            }
            Ev::Filter(f) => filters.filter(f),
            Ev::Negate => {
                if let Err(e) = filters.negate() {
                    bail!("{e}");
                }
            }
            Ev::TsOffset(v) => {
                ts_offset = cnum::atoll(v.as_bytes());
                if inputs.len() > 1 {
                    inputs.last_mut().unwrap().ts_offset = ts_offset;
                }
                if inputs.is_empty() {
                    bail!("--ts-offset must come after -i");
                }
            }
            Ev::Ts2Secs(v) => {
                let hz = cnum::atoll(v.as_bytes()) as u64;
                if inputs.len() > 1 {
                    inputs.last_mut().unwrap().ts2secs = Some(hz);
                } else {
                    ts2secs = Some(hz);
                }
            }
        }
    }
    if !args.files.is_empty() {
        if !inputs.is_empty() {
            eprintln!("rtrace-cmd: input files given both with -i and as arguments");
            return Ok(ExitCode::from(2));
        }
        for p in &args.files {
            inputs.push(InputSpec {
                path: p.clone(),
                ts_offset: if inputs.is_empty() { ts_offset } else { 0 },
                ts2secs: None,
            });
            filters.input();
        }
    }
    if inputs.is_empty() {
        inputs.push(InputSpec {
            path: "trace.dat".into(),
            ts_offset,
            ts2secs: None,
        });
        filters.input();
    }
    let multi = inputs.len() > 1;
    if multi && args.wakeup {
        bail!("Wakeup tracing can only be done on a single input file");
    }

    let mut cpus = None;
    if !args.cpu.is_empty() {
        let mut v = Vec::new();
        for c in &args.cpu {
            parse_cpulist(c, &mut v)?;
        }
        cpus = Some(v);
    }
    let mut pid_list: Vec<String> = Vec::new();
    for p in &args.pid {
        pid_list.extend(p.split(',').filter(|s| !s.is_empty()).map(str::to_string));
    }

    let mode = if args.version {
        Mode::Version
    } else if args.uname {
        Mode::Uname
    } else if args.stat {
        Mode::Stat
    } else {
        Mode::Events
    };
    let opts = Options {
        dialect,
        multi_inputs: multi,
        show_page_size: args.page_size,
        show_endian: args.endian,
        print_events: args.events,
        print_event: args.event.clone(),
        check_events: args.check_events,
        show_funcs: args.functions,
        show_printk: args.printk,
        show_event_list: args.event_list,
        show_cpus: args.cpus || args.first_event || args.last_event,
        show_first: args.first_event,
        show_last: args.last_event,
        mode,
        nanosec: args.nanosec,
        raw: args.raw,
        latency: args.latency,
        raw_events: args.raw_events.clone(),
        no_handler: args.no_handler.clone(),
        no_plugins: args.no_plugins,
        local_plugins_only: args.local_plugins,
        plugin_options: args.plugin_option.clone(),
        cpus,
        filters,
        pids: pid_list,
        comms: args
            .comm
            .iter()
            .flat_map(|c| c.split(',').filter(|s| !s.is_empty()).map(str::to_string))
            .collect(),
        filter_test: args.filter_test,
        no_irqs: args.no_irqs,
        no_softirqs: args.no_softirqs,
        ts_diff: args.ts_diff,
        ts_check: args.ts_check,
        raw_ts: args.raw_ts,
        no_date: args.nodate,
        align_ts: args.align_ts,
        ts2secs,
        wakeup: args.wakeup,
        boundary: args.boundary || args.debug,
        debug: args.debug,
        threads: match args.threads {
            Some(n) => n as usize,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        },
        batch: 0,
    };

    // Map every file first: trace-cmd opens them all before printing anything.
    let mut maps = Vec::with_capacity(inputs.len());
    for inp in &inputs {
        let f = File::open(&inp.path).with_context(|| format!("opening '{}'", inp.path))?;
        // SAFETY: the map is read-only and lives as long as the report; a trace file changed
        // underneath a reader is outside what any trace reader can guard against.
        let map =
            unsafe { memmap2::Mmap::map(&f) }.with_context(|| format!("mapping '{}'", inp.path))?;
        maps.push(map);
    }
    let files: Vec<InputFile> = inputs
        .iter()
        .zip(&maps)
        .map(|(i, m)| InputFile {
            path: i.path.clone(),
            bytes: &m[..],
            ts_offset: i.ts_offset,
            ts2secs: i.ts2secs,
        })
        .collect();

    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut warn: Box<dyn Write> = if args.quiet {
        Box::new(io::sink())
    } else {
        Box::new(io::stderr())
    };
    // SAFETY: every input is a read-only private mapping of its file (made above).
    match unsafe { report::run_mapped(&files, &opts, &mut out, &mut *warn) } {
        Ok(status) => Ok(ExitCode::from(status as u8)),
        Err(ReportError::Io(e)) => Err(e).context("writing the report"),
        Err(ReportError::Die { message, status }) => {
            let _ = out.flush();
            eprintln!("rtrace-cmd: {message}");
            Ok(ExitCode::from(status as u8))
        }
        Err(e @ ReportError::File { .. }) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        let mut v = Vec::new();
        parse_cpulist("0,2-3:5", &mut v).unwrap();
        assert_eq!(v, vec![0, 2, 3, 5]);
        assert!(parse_cpulist("3-1", &mut Vec::new()).is_err());
        assert!(parse_cpulist("x", &mut Vec::new()).is_err());
    }
}
