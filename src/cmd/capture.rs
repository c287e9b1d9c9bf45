//! What `record` and `extract` share once the ring buffers are in spool files: reading the
//! metadata trace-cmd stores beside the pages (tracecmd/trace-record.c `record_data`,
//! lib/trace-cmd/trace-output.c), and writing the trace.dat with `tracedat::write` in
//! trace-cmd's order: metadata, options (DATE/OFFSET, TRACECLOCK, UNAME, VERSION, TRACEID,
//! the top buffer's CPUSTATs, then each instance's CPUSTATs after a "Buffer: NAME"
//! separator), saved cmdlines, the top buffer's data, each instance's data.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use tracedat::file::compress::Codec;
use tracedat::file::EventSystem;
use tracedat::write::{BufferSpec, Config, CpuSource, FilePart, FileVersion, TraceOption, Writer};
use tracefs::metadata::SystemFormats;
use tracefs::recorder::{CpuSpool, ReaderSpec};
use tracefs::{CpuStats, Instance, Session, Tracefs};

/// One ring buffer (the top level or an instance) and where its CPUs' data went.
pub struct Buffer {
    /// The instance.
    pub inst: Instance,
    /// Its current trace clock.
    pub clock: String,
    /// Its sub-buffer size in bytes.
    pub subbuf: u32,
    /// Per CPU (index = CPU): the spool, once read.
    pub spools: Vec<Option<CpuSpool>>,
    /// Per CPU: `per_cpu/cpuN/stats` after the data was read.
    pub stats: Vec<Option<CpuStats>>,
}

impl Buffer {
    /// The buffer's name in the file: `""` for the top level.
    pub fn name(&self) -> &str {
        self.inst.name().unwrap_or("")
    }
}

/// The sub-buffer size of an instance: `buffer_subbuf_size_kb` (Linux 6.8+), else what
/// `header_page` says a page holds (its `data` field's offset + size).
pub fn subbuf_size(fs: &Tracefs, inst: &Instance) -> anyhow::Result<u32> {
    if inst.exists("buffer_subbuf_size_kb") {
        let kb = inst.subbuf_size_kb()?;
        return Ok((kb * 1024) as u32);
    }
    let text = fs.header_page()?;
    let long = std::mem::size_of::<std::ffi::c_long>() as u8;
    let hp = tracedat::ring_buffer::HeaderPage::parse(&text, long, 4096);
    Ok(hp.sub_buffer_size())
}

/// The CPUs a buffer has (`per_cpu/cpuN`), as a count covering the highest.
pub fn cpu_count(cpus: &[u32]) -> u32 {
    cpus.iter().max().map_or(0, |m| m + 1)
}

/// Where and how the readers spool.
pub struct Spooling<'a> {
    /// The directory of the spool files.
    pub dir: &'a Path,
    /// The file name they are named after (the output file).
    pub output: &'a Path,
    /// Read the snapshot buffer (`snapshot_raw`).
    pub snapshot: bool,
    /// `-m`: keep about this many of the newest bytes per CPU.
    pub keep_newest: Option<u64>,
}

/// One spool file per CPU of `inst`, in `sp.dir`, named after the output file.
pub fn reader_specs(
    buffer: usize,
    inst: &Instance,
    cpus: &[u32],
    subbuf: u32,
    sp: &Spooling<'_>,
) -> anyhow::Result<Vec<ReaderSpec>> {
    let (dir, snapshot, keep_newest) = (sp.dir, sp.snapshot, sp.keep_newest);
    let base = sp
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trace.dat".into());
    let mut v = Vec::new();
    for &cpu in cpus {
        let tag = match inst.name() {
            Some(n) => format!("{base}.{n}.cpu{cpu}"),
            None => format!("{base}.cpu{cpu}"),
        };
        let (spool, spool_name) = tracefs::recorder::anonymous_spool(dir, &tag)
            .with_context(|| format!("creating a spool file for CPU {cpu} in {}", dir.display()))?;
        let keep_newest = match keep_newest {
            Some(max) => {
                let (f, name) = tracefs::recorder::anonymous_spool(dir, &format!("{tag}.b"))
                    .with_context(|| {
                        format!("creating a spool file for CPU {cpu} in {}", dir.display())
                    })?;
                Some((max, f, name))
            }
            None => None,
        };
        let pc = inst.per_cpu(cpu);
        v.push(ReaderSpec {
            buffer,
            cpu,
            raw: if snapshot {
                pc.snapshot_raw()
            } else {
                pc.trace_pipe_raw()
            },
            spool,
            spool_name,
            subbuf_size: subbuf as usize,
            keep_newest,
        });
    }
    Ok(v)
}

/// Everything but the pages.
pub struct Metadata {
    pub header_page: Vec<u8>,
    pub header_event: Vec<u8>,
    pub ftrace: Vec<Vec<u8>>,
    pub systems: Vec<SystemFormats>,
    pub kallsyms: Vec<u8>,
    pub printk: Vec<u8>,
    pub cmdlines: Vec<u8>,
    /// The whole `trace_clock` text of the first buffer.
    pub trace_clock: Vec<u8>,
}

const KPTR_RESTRICT: &str = "/proc/sys/kernel/kptr_restrict";

/// Reads the metadata. `globs`: the `-e` arguments (and probe events) whose systems' formats
/// to keep; `None` keeps them all. kallsyms is read with `kptr_restrict` at 0 (through the
/// session, which puts it back), as trace-cmd does, so that addresses are real.
pub fn read_metadata(
    session: &mut Session,
    fs: &Tracefs,
    globs: Option<&[String]>,
    first: &Instance,
) -> anyhow::Result<Metadata> {
    let globs: Vec<&str> = globs
        .map(|g| g.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let kptr = Path::new(KPTR_RESTRICT);
    if kptr.exists() {
        // Best effort: without it kallsyms has zero addresses, as trace-cmd's would.
        let _ = session.set_proc_value(kptr, "0");
    }
    Ok(Metadata {
        header_page: fs.header_page()?,
        header_event: fs.header_event()?,
        ftrace: fs.ftrace_formats()?,
        systems: fs.event_formats(&globs)?,
        kallsyms: tracefs::metadata::kallsyms()?,
        printk: fs.printk_formats()?,
        cmdlines: fs.saved_cmdlines()?,
        trace_clock: first.read("trace_clock")?.into_bytes(),
    })
}

/// The output file and its format.
pub struct Output {
    pub path: PathBuf,
    pub version: FileVersion,
    pub compression: Option<Codec>,
    pub quiet: bool,
}

/// DATE or OFFSET (`--date`, `--ts-offset`).
pub enum TimeOption {
    Date(i64),
    Offset(String),
}

/// Writes the trace.dat. `buffers`: the top level first if it was recorded; without it the
/// file's top buffer is written empty, as trace-cmd does for `-B` only recordings.
pub fn write_file(
    out: &Output,
    cpus: u32,
    meta: &Metadata,
    buffers: &[Buffer],
    time: Option<&TimeOption>,
    cancel: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let has_top = buffers.first().is_some_and(|b| b.inst.is_top());
    let page_size = buffers.first().map_or(4096, |b| b.subbuf);
    let mut cfg = Config::new(page_size, cpus);
    cfg.version = out.version;
    cfg.compression = out.compression;
    cfg.instances = buffers
        .iter()
        .filter(|b| !b.inst.is_top())
        .map(|b| b.name().to_string())
        .collect();
    // The writer's errors name the file and the part being written.
    let mut w = Writer::create(&out.path, cfg)?;
    w.set_cancel(cancel);

    w.header_info(&meta.header_page, &meta.header_event)?;
    let ftrace: Vec<&[u8]> = meta.ftrace.iter().map(Vec::as_slice).collect();
    w.ftrace_events(&ftrace)?;
    let systems: Vec<EventSystem<'_>> = meta
        .systems
        .iter()
        .map(|s| EventSystem {
            name: s.name.as_bytes(),
            formats: s.events.iter().map(|(_, f)| f.as_slice()).collect(),
        })
        .collect();
    w.event_systems(&systems)?;
    w.kallsyms(&meta.kallsyms)?;
    w.printk_formats(&meta.printk)?;

    match time {
        Some(TimeOption::Date(us)) => w.add_option(TraceOption::Date { usecs: *us }),
        Some(TimeOption::Offset(s)) => w.add_option(TraceOption::Offset(s)),
        None => Ok(()),
    }?;
    w.add_option(TraceOption::TraceClock(&meta.trace_clock))?;
    let uname = nix::sys::utsname::uname().ok().map(|u| {
        format!(
            "{} {} {} {}",
            u.sysname().to_string_lossy(),
            u.nodename().to_string_lossy(),
            u.release().to_string_lossy(),
            u.machine().to_string_lossy()
        )
    });
    if let Some(u) = &uname {
        w.add_option(TraceOption::Uname(u))?;
    }
    let version = format!("{} rtrace-cmd", env!("CARGO_PKG_VERSION"));
    w.add_option(TraceOption::Version(&version))?;
    if has_top {
        w.add_option(TraceOption::TraceId(trace_id()))?;
    }
    for b in buffers {
        if !b.inst.is_top() {
            w.add_option(TraceOption::BufferStats { name: b.name() })?;
        }
        for (cpu, st) in b.stats.iter().enumerate() {
            if let Some(st) = st {
                w.add_option(TraceOption::CpuStat {
                    cpu: cpu as u32,
                    stats: st.text.as_bytes(),
                })?;
            }
        }
    }
    w.cmdlines(&meta.cmdlines)?;

    if !has_top {
        let spec = BufferSpec {
            name: "",
            clock: buffers.first().map_or("local", |b| b.clock.as_str()),
            page_size,
        };
        let empty = (0..cpus).map(|_| CpuSource::Empty).collect();
        let written = w.write_buffer(spec, empty)?;
        print_written(out, "", &written);
    }
    for b in buffers {
        let spec = BufferSpec {
            name: b.name(),
            clock: &b.clock,
            page_size: b.subbuf,
        };
        let mut srcs: Vec<CpuSource<'_>> = (0..cpus).map(|_| CpuSource::Empty).collect();
        for s in b.spools.iter().flatten() {
            if (s.cpu as usize) >= srcs.len() {
                continue;
            }
            let newest = FilePart {
                file: &s.spool,
                offset: 0,
                len: s.bytes,
                name: &s.spool_name,
            };
            srcs[s.cpu as usize] = match &s.older {
                // -m: the older file's data, then the newer's.
                Some((f, name, len)) => CpuSource::Parts(vec![
                    FilePart {
                        file: f,
                        offset: 0,
                        len: *len,
                        name,
                    },
                    newest,
                ]),
                None if s.bytes > 0 => CpuSource::File {
                    file: newest.file,
                    offset: 0,
                    len: newest.len,
                    name: newest.name,
                },
                None => CpuSource::Empty,
            };
        }
        if !out.quiet {
            print_lost(b);
        }
        let written = w.write_buffer(spec, srcs)?;
        print_written(out, b.name(), &written);
    }
    w.finish()?;
    Ok(())
}

/// trace-cmd's lines for each CPU written ("CPU0 data recorded at offset=0x...").
fn print_written(out: &Output, name: &str, written: &[tracedat::write::CpuWritten]) {
    if out.quiet {
        return;
    }
    use std::io::Write as _;
    let stderr = std::io::stderr();
    let mut e = stderr.lock();
    if !name.is_empty() {
        let _ = write!(e, "\nBuffer: {name}\n\n");
    }
    for c in written {
        let _ = writeln!(e, "CPU{} data recorded at offset={:#x}", c.cpu, c.offset);
        if out.compression.is_some() {
            let _ = writeln!(
                e,
                "    {} bytes in size ({} uncompressed)",
                c.size, c.uncompressed
            );
        } else {
            let _ = writeln!(e, "    {} bytes in size", c.size);
        }
    }
}

/// trace-cmd's `add_overrun` lines: events the kernel lost, per CPU (and, beyond
/// trace-cmd, those it dropped in no-overwrite mode).
pub fn print_lost(b: &Buffer) {
    for (cpu, st) in b.stats.iter().enumerate() {
        let Some(st) = st else { continue };
        let overrun = st.overrun.unwrap_or(0);
        let commit = st.commit_overrun.unwrap_or(0);
        let dropped = st.dropped_events.unwrap_or(0);
        if overrun == 0 && commit == 0 && dropped == 0 {
            continue;
        }
        let mut line = format!("CPU {cpu}:");
        if overrun != 0 {
            line += &format!(" {overrun} events lost");
        }
        if commit != 0 {
            line += &format!(" {commit} events lost due to commit overrun");
        }
        if dropped != 0 {
            line += &format!(" {dropped} events dropped (buffer full)");
        }
        println!("{line}");
    }
}

/// A random session id (trace-cmd's TRACEID).
fn trace_id() -> u64 {
    let mut b = [0u8; 8];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok()
    {
        return u64::from_ne_bytes(b);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ ((std::process::id() as u64) << 32)
}
