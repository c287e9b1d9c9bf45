//! `rtrace-cmd record`: trace-cmd's record (tracecmd/trace-record.c `record_trace`) on the
//! tracefs library: the kernel is set up from the options (`setup::plan`, applied through a
//! `tracefs::Session`), one reader thread per CPU and buffer spools `trace_pipe_raw` by
//! splice (`tracefs::recorder`), the command runs (held at a gate until tracing is on) or
//! the recording runs until a signal, then the readers drain, the metadata is read, the
//! kernel is put back, and `capture::write_file` writes the trace.dat.
//!
//! Where trace-cmd's order differs: the kernel is restored before the file is written (not
//! after), so a slow or failing write never leaves tracing set up; the metadata is read
//! before that, while probe events still exist.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::ArgMatches;
use tracefs::plan::{apply_pids, Mode, Plan};
use tracefs::recorder::{Progress, ReaderOptions, Recorder};
use tracefs::{Instance, Session, Tracefs};

use super::capture::{self, Buffer, Output, TimeOption};
use super::gated::Gated;
use super::setup::{self, For};
use super::tracing::{open_tracefs, restore};
use crate::cli::RecordArgs;

/// How long the main loop waits for news before looking at the command and the signals.
const TICK: Duration = Duration::from_millis(100);

/// How often the status line is redrawn.
const STATUS_EVERY: Duration = Duration::from_secs(1);

/// Default longest sleep of the readers.
const DEFAULT_WAKE: Duration = Duration::from_millis(250);

pub fn run(args: &RecordArgs, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    let has_command = !args.command.is_empty();
    let plan = setup::plan(&args.setup, has_command, m, For::Record)?;
    if !plan.does_something() {
        bail!("no event or plugin was specified... aborting");
    }
    let (version, compression) =
        super::convert::output_format(args.file_version.as_deref(), args.compression.as_deref())?;
    let output = PathBuf::from(args.output.as_deref().unwrap_or("trace.dat"));
    let spool_dir = match &args.temp {
        Some(t) => PathBuf::from(t),
        None => match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
    };
    anyhow::ensure!(
        spool_dir.is_dir(),
        "{}: not a directory (for the spool files)",
        spool_dir.display()
    );
    // Found out now, not after the recording.
    let out_dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    anyhow::ensure!(
        out_dir.is_dir(),
        "{}: no such directory for the output file",
        out_dir.display()
    );
    let wake = match &args.sleep {
        Some(s) => Duration::from_micros(super::tracing::atoi_u64("sleep interval", s)?.max(1)),
        None => DEFAULT_WAKE,
    };
    let out = Output {
        path: output,
        version,
        compression,
        quiet: args.setup.quiet > 0,
    };

    let fs = open_tracefs()?;
    // Signals are caught before anything changes: the first one ends the recording.
    let interrupt = crate::signals::interrupt_flag();
    let mut session = Session::new(&fs);
    let rec = match record(args, &plan, &fs, &mut session, &out, &spool_dir, wake) {
        Ok(r) => r,
        Err(e) => return Err(with_restore(e, session)),
    };
    // The kernel first: restored before the (possibly long) write.
    if args.keep > 0 {
        session.keep();
    } else {
        restore(session)?;
    }
    // A signal from now on gives the file up.
    crate::signals::reset();
    capture::write_file(
        &out,
        rec.cpus,
        &rec.meta,
        &rec.buffers,
        rec.time.as_ref(),
        interrupt,
    )
    .map_err(|e| {
        if crate::signals::received().is_some() {
            e.context("interrupted: the trace file was not written")
        } else {
            e
        }
    })?;
    Ok(ExitCode::from(rec.status.clamp(0, 255) as u8))
}

/// What a recording produced, before the file is written.
struct Recorded {
    cpus: u32,
    buffers: Vec<Buffer>,
    meta: capture::Metadata,
    /// The command's exit status (0 without one).
    status: i32,
    /// `--date` or `--ts-offset`.
    time: Option<TimeOption>,
}

fn record(
    args: &RecordArgs,
    plan: &Plan,
    fs: &Tracefs,
    session: &mut Session,
    out: &Output,
    spool_dir: &Path,
    wake: Duration,
) -> anyhow::Result<Recorded> {
    let opts = LiveOptions {
        command: &args.command,
        no_filter: args.no_filter,
        quiet: args.setup.quiet > 0,
        spool_dir,
        spool_base: &out.path,
        wake,
        date: args.ts_offset.is_none() && args.date,
        partial: false,
        one_page_size: out.version == tracedat::write::FileVersion::V6,
        keep_newest: match &args.max_kb {
            Some(m) => Some(super::tracing::atoi_u64("-m size", m)?.max(1) * 1024),
            None => None,
        },
    };
    let mut live = Live::start(plan, session, fs, &opts)?;
    let time = match &args.ts_offset {
        Some(o) => Some(TimeOption::Offset(o.clone())),
        None => live.date.take().map(TimeOption::Date),
    };
    live.wait(|_| Ok(()))?;
    let stopped = live.stop(session)?;

    // Metadata, while the probes still exist: formats of the recorded systems (all with
    // -a or when no event was named).
    let globs = if args.all > 0 {
        None
    } else {
        event_globs(plan, &stopped.probes)
    };
    let first = stopped.insts.first().cloned().unwrap_or_else(|| fs.top());
    let meta = capture::read_metadata(session, fs, globs.as_deref(), &first)?;
    Ok(Recorded {
        cpus: stopped.ncpus,
        buffers: stopped.buffers,
        meta,
        status: stopped.status,
        time,
    })
}

/// The `-e` arguments (and the probes' events) whose systems' formats a file keeps; `None`
/// (all of them) when no event was named, as trace-cmd does.
pub(crate) fn event_globs(plan: &Plan, probes: &[tracefs::DynEvent]) -> Option<Vec<String>> {
    let mut globs: Vec<String> = plan
        .instances
        .iter()
        .flat_map(|p| p.events.iter().map(|e| e.spec.clone()))
        .collect();
    if globs.is_empty() {
        return None;
    }
    for p in probes {
        let id = p.event();
        globs.push(format!("{}:{}", id.system, id.name));
    }
    Some(globs)
}

/// How a live recording runs (shared by `record` and `stream`).
pub(crate) struct LiveOptions<'a> {
    /// The command to run (empty: until a signal).
    pub command: &'a [String],
    /// `--no-filter`: do not leave rtrace-cmd's threads out of the trace.
    pub no_filter: bool,
    pub quiet: bool,
    /// Where the spool files go.
    pub spool_dir: &'a Path,
    /// The file name the spool files are named after.
    pub spool_base: &'a Path,
    /// The readers' longest sleep.
    pub wake: Duration,
    /// `--date`: measure the clock offset before the readers start.
    pub date: bool,
    /// Readers also take partly filled sub-buffers at every wake (`stream`).
    pub partial: bool,
    /// The file will have one page size for all buffers (version 6).
    pub one_page_size: bool,
    /// `-m`: keep about this many of the newest bytes per CPU.
    pub keep_newest: Option<u64>,
}

/// A recording in progress: the kernel set up, one reader per CPU and buffer, the command
/// (if any) running.
pub(crate) struct Live {
    pub insts: Vec<Instance>,
    pub buffers: Vec<Buffer>,
    pub cpus_list: Vec<u32>,
    pub ncpus: u32,
    /// Per buffer, per CPU: bytes spooled so far (whole sub-buffers).
    pub spooled: Vec<Vec<u64>>,
    /// Per buffer, per CPU: the spool file (a second handle, for reading while the reader
    /// writes).
    pub spools: Vec<Vec<Option<(std::fs::File, String)>>>,
    /// The `--date` offset, when measured.
    pub date: Option<i64>,
    probes: Vec<tracefs::DynEvent>,
    recorder: Option<Recorder>,
    child: Option<Gated>,
    /// `-P` without a command: the recording ends when these are all gone (trace-cmd's
    /// `trace_wait_for_processes`).
    wait_pids: Vec<u32>,
    status: i32,
    failure: Option<String>,
    started: Instant,
    quiet: bool,
}

/// A recording once its readers are done.
pub(crate) struct Stopped {
    pub insts: Vec<Instance>,
    pub buffers: Vec<Buffer>,
    pub ncpus: u32,
    pub probes: Vec<tracefs::DynEvent>,
    /// The command's exit status (0 without one).
    pub status: i32,
}

impl Live {
    /// The probe events the recording created (`--kprobe`).
    pub fn probes(&self) -> &[tracefs::DynEvent] {
        &self.probes
    }

    /// Sets the kernel up (through `session`), starts the readers and the command.
    pub fn start(
        plan: &Plan,
        session: &mut Session,
        fs: &Tracefs,
        opts: &LiveOptions<'_>,
    ) -> anyhow::Result<Live> {
        let applied = plan.apply(session, Mode::Record, &setup::compile_regex)?;
        if !opts.quiet {
            for (_, t) in &applied.tracers {
                eprintln!("  plugin '{t}'");
            }
        }
        let insts: Vec<Instance> = applied.instances.clone();
        // Measured before the readers run: it uses (and clears) the top level's buffer.
        let date = if opts.date {
            super::date::offset_usecs(session, fs, &fs.top())?
        } else {
            None
        };
        let cpus_list = fs.cpus()?;
        let ncpus = capture::cpu_count(&cpus_list);

        let mut buffers = Vec::new();
        let mut specs = Vec::new();
        let mut spools = Vec::new();
        for (i, inst) in insts.iter().enumerate() {
            let subbuf = capture::subbuf_size(fs, inst)?;
            let clock = inst.clock()?.current;
            let spooling = capture::Spooling {
                dir: opts.spool_dir,
                output: opts.spool_base,
                snapshot: false,
                keep_newest: opts.keep_newest,
            };
            let sp = capture::reader_specs(i, inst, &cpus_list, subbuf, &spooling)?;
            let mut handles: Vec<Option<(std::fs::File, String)>> =
                (0..ncpus).map(|_| None).collect();
            for s in &sp {
                let f = s
                    .spool
                    .try_clone()
                    .with_context(|| format!("opening {} again", s.spool_name))?;
                handles[s.cpu as usize] = Some((f, s.spool_name.clone()));
            }
            spools.push(handles);
            specs.extend(sp);
            buffers.push(Buffer {
                inst: inst.clone(),
                clock,
                subbuf,
                spools: (0..ncpus).map(|_| None).collect(),
                stats: (0..ncpus).map(|_| None).collect(),
            });
        }
        if opts.one_page_size {
            if let Some(b) = buffers.iter().find(|b| b.subbuf != buffers[0].subbuf) {
                bail!(
                    "file version 6 has one page size for all buffers, but {} has {}-byte \
                     sub-buffers and {} {}-byte ones (use version 7, or the same \
                     --subbuf-size for every buffer)",
                    buffers[0].inst.dir().display(),
                    buffers[0].subbuf,
                    b.inst.dir().display(),
                    b.subbuf
                );
            }
        }
        let mut child = if opts.command.is_empty() {
            None
        } else {
            let argv: Vec<std::ffi::OsString> = opts.command.iter().map(Into::into).collect();
            Some(Gated::fork(&argv)?)
        };

        let recorder = Recorder::start(
            specs,
            ReaderOptions {
                wake_interval: opts.wake,
                partial: opts.partial,
            },
        )?;

        // Pid filters: the command (-F), or else rtrace-cmd's own threads left out.
        let pids_given = plan.instances.iter().any(|p| !p.pids.is_empty());
        if plan.filter_task {
            let pid = child
                .as_ref()
                .map(Gated::pid)
                .context("-F needs a command")?;
            for inst in &insts {
                apply_pids(session, inst, &[pid])?;
            }
        } else if !opts.no_filter && !pids_given {
            let mut own = vec![std::process::id()];
            own.extend_from_slice(recorder.thread_ids());
            for inst in &insts {
                if inst.exists("set_event_notrace_pid") {
                    session.set_pids(inst, "set_event_notrace_pid", &own, false)?;
                }
                if inst.exists("set_ftrace_notrace_pid") {
                    use tracefs::Optional;
                    session
                        .set_pids(inst, "set_ftrace_notrace_pid", &own, false)
                        .optional()?;
                }
            }
        }

        for inst in &insts {
            session.set_tracing_on(inst, true)?;
        }
        if let Some(c) = child.as_mut() {
            c.open()?;
        } else {
            println!("Hit Ctrl^C to stop recording");
            let _ = std::io::stdout().flush();
        }
        Ok(Live {
            spooled: buffers.iter().map(|b| vec![0; b.spools.len()]).collect(),
            insts,
            buffers,
            cpus_list,
            ncpus,
            spools,
            date,
            probes: applied.probes,
            recorder: Some(recorder),
            wait_pids: if opts.command.is_empty() {
                plan.instances.iter().flat_map(|p| p.pids.clone()).collect()
            } else {
                Vec::new()
            },
            child,
            status: 0,
            failure: None,
            started: Instant::now(),
            quiet: opts.quiet,
        })
    }

    /// Runs until the command ends, a signal comes or a reader fails, calling `on_tick`
    /// after each look at the readers' progress (about every [`TICK`]).
    pub fn wait(
        &mut self,
        mut on_tick: impl FnMut(&Live) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut status_line = Status::new(
            !self.quiet && std::io::stderr().is_terminal(),
            &self.buffers,
        );
        let recorder = self.recorder.take().expect("readers running");
        let r = loop {
            if crate::signals::received().is_some() {
                break Ok(());
            }
            if let Some(c) = self.child.as_mut() {
                match c.try_wait() {
                    Ok(Some(s)) => {
                        self.status = s;
                        break Ok(());
                    }
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            }
            if !self.wait_pids.is_empty()
                && self
                    .wait_pids
                    .iter()
                    .all(|p| !Path::new(&format!("/proc/{p}")).exists())
            {
                break Ok(());
            }
            let mut news = recorder.progress().recv_timeout(TICK).ok();
            while let Some(p) = news {
                match p {
                    Progress::Data { buffer, cpu, bytes } => {
                        status_line.update(buffer, cpu, bytes);
                        if let Some(v) = self
                            .spooled
                            .get_mut(buffer)
                            .and_then(|b| b.get_mut(cpu as usize))
                        {
                            *v = bytes;
                        }
                    }
                    Progress::Failed { buffer, cpu, error } => {
                        self.failure = Some(format!(
                            "buffer {:?} CPU {cpu}: {error}",
                            self.buffers[buffer].name()
                        ));
                    }
                }
                news = recorder.progress().try_recv().ok();
            }
            if self.failure.is_some() {
                break Ok(());
            }
            status_line.draw(self.started, &self.insts);
            if let Err(e) = on_tick(self) {
                break Err(e);
            }
        };
        status_line.clear();
        self.recorder = Some(recorder);
        r
    }

    /// Turns tracing off, lets the readers drain and end, and reads the kernel's stats.
    pub fn stop(mut self, session: &mut Session) -> anyhow::Result<Stopped> {
        for inst in &self.insts {
            session.set_tracing_on(inst, false)?;
        }
        let mut errors = Vec::new();
        if let Some(recorder) = self.recorder.take() {
            for res in recorder.stop() {
                match res {
                    Ok(s) => {
                        let (b, cpu) = (s.buffer, s.cpu as usize);
                        self.spooled[b][cpu] = s.bytes;
                        self.buffers[b].spools[cpu] = Some(s);
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
        if let Some(f) = self.failure.take() {
            errors.insert(0, f);
        }
        if let Some(c) = self.child.as_mut() {
            if let Some(sig) = crate::signals::received() {
                // The command may not have had the signal (SIGTERM sent to rtrace-cmd alone).
                c.kill(sig);
            }
            if let Some(s) = wait_a_while(c, Duration::from_secs(2))? {
                self.status = s;
            }
        }
        if !errors.is_empty() {
            errors.dedup();
            bail!("recording failed: {}", errors.join("; "));
        }
        for b in &mut self.buffers {
            for cpu in &self.cpus_list {
                b.stats[*cpu as usize] = b.inst.per_cpu(*cpu).stats().ok();
            }
        }
        Ok(Stopped {
            insts: self.insts,
            buffers: self.buffers,
            ncpus: self.ncpus,
            probes: self.probes,
            status: self.status,
        })
    }
}

/// The command's status once it ends, waiting at most `limit`.
fn wait_a_while(c: &mut Gated, limit: Duration) -> anyhow::Result<Option<i32>> {
    let end = Instant::now() + limit;
    loop {
        match c.try_wait() {
            Ok(Some(s)) => return Ok(Some(s)),
            Ok(None) if Instant::now() >= end => {
                eprintln!("rtrace-cmd: the command is still running; not waiting for it");
                return Ok(None);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            // Already reaped by the loop above.
            Err(_) => return Ok(None),
        }
    }
}

/// An error, with the settings that could not be put back (if any) added to it.
fn with_restore(e: anyhow::Error, session: Session) -> anyhow::Error {
    match restore(session) {
        Ok(()) => e,
        Err(r) => anyhow::anyhow!("{e:#}\nand then {r:#}"),
    }
}

/// The status line on a terminal: per-CPU throughput and events the kernel lost.
struct Status {
    on: bool,
    /// (buffer, cpu) → bytes so far.
    bytes: Vec<Vec<u64>>,
    last: Option<(Instant, u64)>,
    width: usize,
}

impl Status {
    fn new(on: bool, buffers: &[Buffer]) -> Status {
        Status {
            on,
            bytes: buffers.iter().map(|b| vec![0; b.spools.len()]).collect(),
            last: None,
            width: 0,
        }
    }

    fn update(&mut self, buffer: usize, cpu: u32, bytes: u64) {
        if let Some(v) = self
            .bytes
            .get_mut(buffer)
            .and_then(|b| b.get_mut(cpu as usize))
        {
            *v = bytes;
        }
    }

    fn draw(&mut self, started: Instant, insts: &[Instance]) {
        if !self.on {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|(t, _)| now - t < STATUS_EVERY) {
            return;
        }
        let total: u64 = self.bytes.iter().flatten().sum();
        let (t0, b0) = self.last.unwrap_or((started, 0));
        let rate = (total - b0) as f64 / (now - t0).as_secs_f64().max(1e-3);
        let mut lost = 0u64;
        for inst in insts {
            for cpu in inst.cpus().unwrap_or_default() {
                if let Ok(st) = inst.per_cpu(cpu).stats() {
                    lost += st.overrun.unwrap_or(0) + st.dropped_events.unwrap_or(0);
                }
            }
        }
        let ncpu = self.bytes.iter().map(Vec::len).max().unwrap_or(0);
        let per_cpu: Vec<String> = (0..ncpu)
            .map(|c| {
                let b: u64 = self.bytes.iter().filter_map(|v| v.get(c)).sum();
                format!("cpu{c} {}", human(b))
            })
            .collect();
        let line = format!(
            "recording {:.0}s: {} ({}/s){}{}",
            (now - started).as_secs_f64(),
            human(total),
            human(rate as u64),
            if per_cpu.len() <= 8 {
                format!(" [{}]", per_cpu.join(", "))
            } else {
                String::new()
            },
            if lost > 0 {
                format!(", {lost} events lost")
            } else {
                String::new()
            }
        );
        let pad = self.width.saturating_sub(line.len());
        eprint!("\r{line}{}", " ".repeat(pad));
        self.width = line.len();
        self.last = Some((now, total));
    }

    fn clear(&mut self) {
        if self.on && self.width > 0 {
            eprint!("\r{}\r", " ".repeat(self.width));
        }
    }
}

fn human(b: u64) -> String {
    match b {
        0..=9_999 => format!("{b} B"),
        10_000..=9_999_999 => format!("{:.1} kB", b as f64 / 1e3),
        _ => format!("{:.1} MB", b as f64 / 1e6),
    }
}
