//! `rtrace-cmd extract`: trace-cmd's extract (tracecmd/trace-record.c `trace_extract`,
//! 3.3.1's instance rules): what the selected ring buffers hold now is drained, without
//! waiting, into spool files (`tracefs::recorder::drain`: splice for full sub-buffers, read
//! for the rest), the kernel's stats are read, and the trace.dat is written with every event
//! format, as trace-cmd's extract saves them all. Unless `-k`, tracing is then disabled and
//! the buffers cleared (trace-cmd's `tracecmd_disable_all_tracing(0)`): extract is the end of
//! a `start`. The snapshot buffer is read with `-s`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::ArgMatches;
use tracefs::Session;

use super::capture::{self, Buffer, Output, TimeOption};
use super::tracing::{in_order, open_tracefs, restore, Selection};
use crate::cli::ExtractArgs;

pub fn run(args: &ExtractArgs, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    let (version, compression) =
        super::convert::output_format(args.file_version.as_deref(), args.compression.as_deref())?;
    let output = PathBuf::from(args.output.as_deref().unwrap_or("trace.dat"));
    let spool_dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let out = Output {
        path: output,
        version,
        compression,
        quiet: args.quiet > 0,
    };
    let fs = open_tracefs()?;
    let interrupt = crate::signals::interrupt_flag();
    let sel = Selection::from(&fs, &in_order(m, &["instance", "all", "top"]))?;
    let insts = sel.instances(&fs);
    anyhow::ensure!(!insts.is_empty(), "no buffer to extract");
    let cpus = fs.cpus()?;
    let ncpus = capture::cpu_count(&cpus);

    if version == tracedat::write::FileVersion::V6 {
        let sizes: Vec<u32> = insts
            .iter()
            .map(|i| capture::subbuf_size(&fs, i))
            .collect::<anyhow::Result<_>>()?;
        anyhow::ensure!(
            sizes.windows(2).all(|w| w[0] == w[1]),
            "file version 6 has one page size for all buffers, but the buffers' sub-buffer \
             sizes differ ({sizes:?}): use version 7"
        );
    }
    let mut buffers = Vec::new();
    for (i, inst) in insts.iter().enumerate() {
        if args.snapshot > 0 && !inst.has_snapshot() {
            anyhow::bail!(
                "{}: no snapshot buffer (CONFIG_TRACER_SNAPSHOT)",
                inst.dir().display()
            );
        }
        let subbuf = capture::subbuf_size(&fs, inst)?;
        // Never more than the buffer can hold: a buffer still being written to would keep
        // the drain going forever.
        let limit = match inst.buffer_size_kb()? {
            tracefs::BufferSize::Uniform { kb, .. } => kb.saturating_mul(1024) * 2,
            _ => u64::MAX / 4,
        } + 16 * subbuf as u64;
        let spooling = capture::Spooling {
            dir: &spool_dir,
            output: &out.path,
            snapshot: args.snapshot > 0,
            keep_newest: None,
        };
        let specs = capture::reader_specs(i, inst, &cpus, subbuf, &spooling)?;
        let mut spools: Vec<Option<tracefs::recorder::CpuSpool>> =
            (0..ncpus).map(|_| None).collect();
        for spec in specs {
            let cpu = spec.cpu as usize;
            let s = tracefs::recorder::drain(spec, limit)
                .with_context(|| format!("reading the buffer of {}", inst.dir().display()))?;
            spools[cpu] = Some(s);
        }
        let mut stats: Vec<Option<tracefs::CpuStats>> = (0..ncpus).map(|_| None).collect();
        for &cpu in &cpus {
            stats[cpu as usize] = inst.per_cpu(cpu).stats().ok();
        }
        buffers.push(Buffer {
            inst: inst.clone(),
            clock: inst.clock()?.current,
            subbuf,
            spools,
            stats,
        });
    }

    // extract's own changes (kptr_restrict for kallsyms, the date measurement's tracing_on)
    // are put back; disabling the tracing afterwards (without -k) is meant to stay.
    let mut session = Session::new(&fs);
    let meta = capture::read_metadata(&mut session, &fs, None, &insts[0])?;
    let time = if args.date {
        super::date::offset_usecs(&mut session, &fs, &fs.top())?.map(TimeOption::Date)
    } else {
        None
    };
    restore(session)?;
    if args.keep == 0 {
        let mut off = Session::new(&fs);
        for inst in &insts {
            tracefs::plan::disable_all(&mut off, inst)?;
        }
        off.keep();
    }
    capture::write_file(&out, ncpus, &meta, &buffers, time.as_ref(), interrupt)?;
    Ok(ExitCode::SUCCESS)
}
