//! `rtrace-cmd stream`: trace-cmd's stream (tracecmd/trace-record.c `trace_stream`,
//! trace-stream.c): record as `record` does and print the events as they come, in
//! `report`'s format (trace-cmd calls `trace_show_data`, report's line printer).
//!
//! How (our choice): the readers spool sub-buffers as for `record`, and at every wake also
//! the partly filled ones (read(2)), so that events reach the spool within half an interval
//! however slowly they come. Every interval (`-s`, 0.5 s by default as in trace-cmd) the
//! sub-buffers spooled since the last batch are written as a scratch trace.dat (uncompressed v7, on tmpfs when there is one;
//! the spool ranges are copied by the kernel) with the metadata read once at the start and
//! the current saved_cmdlines, and `tracedat::report` prints it; the `cpus=N` line a report
//! starts with is left out. This prints exactly what `report` would for those records. What
//! a batch cannot know: events that reach the kernel's buffer while a batch is being made
//! come in the next one, so across CPUs the order holds within a batch but not always
//! across batches (trace-cmd's stream, which waits for full sub-buffers, has the same
//! limit), and function_graph entries and returns split across two batches are printed
//! unpaired.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::ArgMatches;
use tracedat::report::{self, InputFile, Options};
use tracedat::write::{BufferSpec, Config, CpuSource, FileVersion, Writer};
use tracefs::{Session, Tracefs};

use super::capture::{self, Metadata};
use super::record::{event_globs, Live, LiveOptions};
use super::setup::{self, For};
use super::tracing::{atoi_u64, open_tracefs, restore};
use crate::cli::StreamArgs;

/// trace-cmd stream's default sleep time.
const DEFAULT_INTERVAL: Duration = Duration::from_millis(500);

pub fn run(args: &StreamArgs, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    let plan = setup::plan(&args.setup, !args.command.is_empty(), m, For::Record)?;
    if !plan.does_something() {
        bail!("no event or plugin was specified... aborting");
    }
    let interval = match &args.sleep {
        Some(s) => Duration::from_micros(atoi_u64("sleep interval", s)?.max(1000)),
        None => DEFAULT_INTERVAL,
    };
    let scratch_dir = ["/dev/shm"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let scratch = scratch_dir.join(format!("rtrace-stream.{}.dat", std::process::id()));
    let fs = open_tracefs()?;
    let _interrupt = crate::signals::interrupt_flag();
    let mut session = Session::new(&fs);
    let status = match stream(args, &plan, &fs, &mut session, &scratch, interval) {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&scratch);
            return Err(match restore(session) {
                Ok(()) => e,
                Err(r) => anyhow::anyhow!("{e:#}\nand then {r:#}"),
            });
        }
    };
    restore(session)?;
    Ok(ExitCode::from(status.clamp(0, 255) as u8))
}

fn stream(
    args: &StreamArgs,
    plan: &tracefs::plan::Plan,
    fs: &Tracefs,
    session: &mut Session,
    scratch: &Path,
    interval: Duration,
) -> anyhow::Result<i32> {
    let opts = LiveOptions {
        command: &args.command,
        no_filter: args.no_filter,
        // The status line would mix with the events.
        quiet: true,
        spool_dir: scratch.parent().unwrap_or(Path::new(".")),
        spool_base: scratch,
        wake: interval / 2,
        date: false,
        partial: true,
        one_page_size: false,
        keep_newest: None,
    };
    let mut live = Live::start(plan, session, fs, &opts)?;
    let globs = event_globs(plan, live.probes());
    let first = live.insts.first().cloned().unwrap_or_else(|| fs.top());
    let meta = capture::read_metadata(session, fs, globs.as_deref(), &first)?;
    let mut printer = Printer {
        fs: fs.clone(),
        scratch: scratch.to_path_buf(),
        meta,
        consumed: live.spooled.iter().map(|b| vec![0; b.len()]).collect(),
        last: Instant::now(),
        interval,
    };
    let spools = std::mem::take(&mut live.spools);
    let r = live.wait(|l| printer.tick(l.ncpus, &l.buffers, &l.spooled, &spools, false));
    let stopped = live.stop(session);
    r?;
    let stopped = stopped?;
    let spooled: Vec<Vec<u64>> = stopped
        .buffers
        .iter()
        .map(|b| {
            b.spools
                .iter()
                .map(|s| s.as_ref().map_or(0, |s| s.bytes))
                .collect()
        })
        .collect();
    printer.tick(stopped.ncpus, &stopped.buffers, &spooled, &spools, true)?;
    Ok(stopped.status)
}

/// Prints the records spooled since the last batch.
struct Printer {
    fs: Tracefs,
    scratch: PathBuf,
    meta: Metadata,
    /// Per buffer, per CPU: bytes already printed.
    consumed: Vec<Vec<u64>>,
    last: Instant,
    interval: Duration,
}

impl Printer {
    fn tick(
        &mut self,
        ncpus: u32,
        buffers: &[capture::Buffer],
        spooled: &[Vec<u64>],
        spools: &[Vec<Option<(std::fs::File, String)>>],
        last: bool,
    ) -> anyhow::Result<()> {
        if !last && self.last.elapsed() < self.interval {
            return Ok(());
        }
        self.last = Instant::now();
        let new: u64 = spooled
            .iter()
            .zip(&self.consumed)
            .flat_map(|(s, c)| s.iter().zip(c).map(|(s, c)| s - c))
            .sum();
        if new == 0 {
            return Ok(());
        }
        let r = self.batch(ncpus, buffers, spooled, spools);
        let _ = std::fs::remove_file(&self.scratch);
        r?;
        for (c, s) in self.consumed.iter_mut().zip(spooled) {
            c.copy_from_slice(s);
        }
        // What was printed is not needed again: give its space back (the spools may be on
        // tmpfs, and a stream can run for days). Best effort: a filesystem without hole
        // punching keeps it.
        for (b, files) in spools.iter().enumerate() {
            for (cpu, f) in files.iter().enumerate() {
                let Some((file, _)) = f else { continue };
                let upto = self.consumed[b][cpu];
                if upto > 0 {
                    use nix::fcntl::FallocateFlags as F;
                    let _ = nix::fcntl::fallocate(
                        file,
                        F::FALLOC_FL_PUNCH_HOLE | F::FALLOC_FL_KEEP_SIZE,
                        0,
                        upto as i64,
                    );
                }
            }
        }
        Ok(())
    }

    fn batch(
        &mut self,
        ncpus: u32,
        buffers: &[capture::Buffer],
        spooled: &[Vec<u64>],
        spools: &[Vec<Option<(std::fs::File, String)>>],
    ) -> anyhow::Result<()> {
        let page_size = buffers.first().map_or(4096, |b| b.subbuf);
        let mut cfg = Config::new(page_size, ncpus);
        cfg.version = FileVersion::V7;
        cfg.compression = None;
        let mut w = Writer::create(&self.scratch, cfg)?;
        w.no_sync();
        let m = &self.meta;
        w.header_info(&m.header_page, &m.header_event)?;
        let ftrace: Vec<&[u8]> = m.ftrace.iter().map(Vec::as_slice).collect();
        w.ftrace_events(&ftrace)?;
        let systems: Vec<tracedat::file::EventSystem<'_>> = m
            .systems
            .iter()
            .map(|s| tracedat::file::EventSystem {
                name: s.name.as_bytes(),
                formats: s.events.iter().map(|(_, f)| f.as_slice()).collect(),
            })
            .collect();
        w.event_systems(&systems)?;
        w.kallsyms(&m.kallsyms)?;
        w.printk_formats(&m.printk)?;
        w.add_option(tracedat::write::TraceOption::TraceClock(&m.trace_clock))?;
        // Tasks started since the last batch are in the kernel's cache now.
        let cmdlines = self.fs.saved_cmdlines().unwrap_or_default();
        w.cmdlines(&cmdlines)?;
        let has_top = buffers.first().is_some_and(|b| b.inst.is_top());
        if !has_top {
            let spec = BufferSpec {
                name: "",
                clock: buffers.first().map_or("local", |b| b.clock.as_str()),
                page_size,
            };
            w.write_buffer(spec, (0..ncpus).map(|_| CpuSource::Empty).collect())?;
        }
        for (bi, b) in buffers.iter().enumerate() {
            let mut srcs: Vec<CpuSource<'_>> = (0..ncpus).map(|_| CpuSource::Empty).collect();
            for (cpu, sp) in spools[bi].iter().enumerate() {
                let Some((file, name)) = sp else { continue };
                let from = self.consumed[bi][cpu];
                let to = spooled[bi][cpu];
                if to > from && cpu < srcs.len() {
                    srcs[cpu] = CpuSource::File {
                        file,
                        offset: from,
                        len: to - from,
                        name,
                    };
                }
            }
            let spec = BufferSpec {
                name: b.name(),
                clock: &b.clock,
                page_size: b.subbuf,
            };
            w.write_buffer(spec, srcs)?;
        }
        w.finish()?;

        let f = std::fs::File::open(&self.scratch)
            .with_context(|| format!("opening {}", self.scratch.display()))?;
        // SAFETY: a private scratch file nothing else writes; removed after the report.
        let map = unsafe { memmap2::Mmap::map(&f) }
            .with_context(|| format!("mapping {}", self.scratch.display()))?;
        let input = InputFile {
            path: String::new(),
            bytes: &map[..],
            ts_offset: 0,
            ts2secs: None,
        };
        let mut text = Vec::new();
        let mut warn = std::io::sink();
        match report::run(&[input], &Options::default(), &mut text, &mut warn) {
            Ok(_) => {}
            Err(report::ReportError::Die { message, .. }) => bail!("{message}"),
            Err(e) => return Err(e.into()),
        }
        // The report's first line is its `cpus=N` header.
        let body = match text.iter().position(|&c| c == b'\n') {
            Some(i) if text.starts_with(b"cpus=") => &text[i + 1..],
            _ => &text[..],
        };
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        out.write_all(body).context("writing the events")?;
        out.flush().context("writing the events")?;
        Ok(())
    }
}
