//! trace-cmd's `report` (tracecmd/trace-read.c `trace_report`, `read_data_info`,
//! `trace_show_data`, and the parts of lib/trace-cmd and libtraceevent they drive).
//!
//! [`run`] takes the mapped input files and the options and writes exactly the bytes
//! `trace-cmd report` writes to stdout (in the chosen [`Dialect`]). Its steps follow
//! `trace_report`:
//! 1. per input file, the "show and exit" modes (`-p`, `-e`, `--events`, `--check-events`,
//!    `-f`, `-P`, `-E`, `--cpus`/`--first-event`/`--last-event`);
//! 2. per top buffer `cpus=N`, then `--stat`/`--uname`/`--version` or a latency file's text;
//! 3. all records of all buffers of all files in timestamp order, each filtered (`-F`,
//!    `--cpu`, `-I`, `-S`) and printed as `trace_show_data` does, with the plugins of
//!    [`plugins`] and the comm learning of [`comm`];
//! 4. the `-w` summary.
//!
//! Step 3 runs in [`Producer::step`], which handles one record; with `threads > 1` the
//! lines whose printing does not depend on order are printed by other threads
//! (`parallel.rs`), with the same bytes in the same order.
//!
//! Output goes through large buffers handed to the writer in big blocks; a write error
//! (a closed pipe) stops the report at once.

pub mod comm;
mod info_cache;
pub mod line;
mod parallel;
pub mod plugins;
pub mod wakeup;

use std::io::{self, Write};
use std::sync::OnceLock;

use crate::error::{LogLevel, Warning};
use crate::file::TraceFile;
use crate::filter::{FilterArgs, FilterEnv, FilterSet};
use crate::merge::{Input, Merge};
use crate::stream::TimeConfig;
use crate::tep::printf::push_hex;
use crate::tep::{Event, PrettyReads, Tep};
use crate::{Dialect, Endian};

use comm::Comms;
use line::{LatencyFields, TimeFmt};
use plugins::{Ctx, Handler, PluginOptions, Rec, State, Symbols};

/// One input file of a report.
pub struct InputFile<'m> {
    /// The path as given (its base name prefixes lines when several files are read).
    pub path: String,
    /// The mapped file.
    pub bytes: &'m [u8],
    /// `--ts-offset` given after this file's `-i`.
    pub ts_offset: i64,
    /// `--ts2secs` given after this file's `-i`.
    pub ts2secs: Option<u64>,
}

/// What `report` prints instead of the events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// The events (the default).
    #[default]
    Events,
    /// `--stat`
    Stat,
    /// `--uname`
    Uname,
    /// `--version`
    Version,
}

/// `report`'s options, as trace-cmd's getopt loop leaves them.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub dialect: Dialect,
    /// Several input files: lines get a file-name prefix.
    pub multi_inputs: bool,
    /// `-p`
    pub show_page_size: bool,
    /// `-e`
    pub show_endian: bool,
    /// `--events`
    pub print_events: bool,
    /// `--event REGEX`
    pub print_event: Option<String>,
    /// `--check-events`
    pub check_events: bool,
    /// `-f`
    pub show_funcs: bool,
    /// `-P`
    pub show_printk: bool,
    /// `-E`
    pub show_event_list: bool,
    /// `--cpus`
    pub show_cpus: bool,
    /// `--first-event`
    pub show_first: bool,
    /// `--last-event`
    pub show_last: bool,
    pub mode: Mode,
    /// `-t`
    pub nanosec: bool,
    /// `-R`
    pub raw: bool,
    /// `-l`
    pub latency: bool,
    /// `-r REGEX` (events printed raw)
    pub raw_events: Vec<String>,
    /// `-n REGEX` (events printed without plugin handler)
    pub no_handler: Vec<String>,
    /// `-N`
    pub no_plugins: bool,
    /// `-L`
    pub local_plugins_only: bool,
    /// `-O` in order.
    pub plugin_options: Vec<String>,
    /// `--cpu` list, `None` for all.
    pub cpus: Option<Vec<u32>>,
    /// `-F`/`-v`/`-i` bookkeeping.
    pub filters: FilterArgs,
    /// `--pid` values in command-line order (each may hold several, comma-separated).
    pub pids: Vec<String>,
    /// `--comm` values in command-line order: the pids of the first file's saved comms.
    pub comms: Vec<String>,
    /// `-T`: print the compiled filters (trace-cmd 3.1.6 then exits).
    pub filter_test: bool,
    /// `-I`
    pub no_irqs: bool,
    /// `-S`
    pub no_softirqs: bool,
    /// `--ts-diff`
    pub ts_diff: bool,
    /// `--ts-check`
    pub ts_check: bool,
    /// `--raw-ts`
    pub raw_ts: bool,
    /// `--nodate`
    pub no_date: bool,
    /// `--align-ts`
    pub align_ts: bool,
    /// `--ts2secs` given before any file.
    pub ts2secs: Option<u64>,
    /// `-w`
    pub wakeup: bool,
    /// `--boundary` (also set by `--debug`): mark the first record of each sub-buffer.
    pub boundary: bool,
    /// `--debug`: page and record details.
    pub debug: bool,
    /// Threads printing lines (1: the report runs on the calling thread alone).
    pub threads: usize,
    /// Lines per batch handed to a printing thread (0: the default).
    pub batch: usize,
}

/// Why a report stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing the output failed (a closed pipe included).
    #[error("writing output: {0}")]
    Io(#[from] io::Error),
    /// An input file cannot be read (the source error names the offset).
    #[error("{path}")]
    File {
        path: String,
        #[source]
        source: crate::error::Error,
    },
    /// A condition under which trace-cmd dies, with its message and exit status.
    #[error("{message}")]
    Die { message: String, status: i32 },
}

/// The output buffer: flushed to the writer in large blocks.
struct Out<'w> {
    buf: Vec<u8>,
    w: &'w mut dyn Write,
}

const FLUSH_AT: usize = 1 << 20;

impl Out<'_> {
    #[inline]
    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.w.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.w.flush()
    }
}

impl Symbols for Tep<'_> {
    #[inline]
    fn find_func(&self, addr: u64) -> Option<(&str, u64)> {
        self.find_function(addr)
    }
}

/// Per-event decisions, made on the first record of each event type.
struct EvInfo {
    handler: Option<Handler>,
    /// `-r`: TEP_EVENT_FL_PRINTRAW
    print_raw: bool,
    /// Its lines can be printed out of order (by a worker of the parallel report).
    order_free: bool,
    /// The event name column (` name: ` padded), made once.
    name_col: Box<[u8]>,
    /// For lines whose info text depends on the record's bytes alone (pretty printed, no
    /// plugin or one that reads the record only): what it reads ([`info_cache`]). Never
    /// with `-r`/`-R`.
    reads: Option<PrettyReads>,
}

impl EvInfo {
    /// What prints a record's text for the hole its event's key leaves, if it leaves one
    /// (see [`info_cache::InfoCache::print`]): `tail` holds the record, `len` bytes long.
    fn hole_text<'x, 'a: 'x>(
        &self,
        tep: &'x Tep<'a>,
        ev: &'x Event<'x, 'a>,
        tail: &'x [u8],
        len: usize,
    ) -> Option<impl Fn(&mut Vec<u8>) + use<'x, 'a>> {
        let h = self.reads.as_ref()?.hole()?;
        Some(move |out: &mut Vec<u8>| tep.print_hole(ev, h, tail, len, out))
    }
}

/// Everything that belongs to one input file.
struct FileState<'t, 'a> {
    tep: &'t Tep<'a>,
    comms: Comms,
    endian: Endian,
    long_size: usize,
    time_fmt: TimeFmt,
    use_trace_clock: bool,
    lat: LatencyFields,
    /// common_type and common_pid, as libtraceevent finds them (on the lowest-id event).
    common: CommonFields,
    plugin_state: State,
    fgraph_exit: Option<(i32, Handler)>,
    /// ftrace:funcgraph_entry's id: its lines look at the record after them, of any CPU.
    fgraph_entry: Option<i32>,
}

/// One handle (a buffer of a file) as the report sees it.
struct HandleState {
    filters: FilterSet,
    /// Base name (or instance name) printed before lines, `None` for a top buffer read alone.
    prefix: Option<String>,
}

struct Env<'x, 'a> {
    comms: &'x mut Comms,
    tep: &'x Tep<'a>,
}

impl FilterEnv for Env<'_, '_> {
    fn comm(&mut self, pid: i32) -> &[u8] {
        self.comms.lookup(pid)
    }
    fn function(&mut self, addr: u64) -> Option<&[u8]> {
        self.tep.find_function(addr).map(|(n, _)| n.as_bytes())
    }
}

/// Reads the metadata of `f` into a printer.
fn build_tep<'a>(
    f: &'a TraceFile<'_>,
    path: &str,
    opts: &Options,
) -> Result<(Tep<'a>, u32), ReportError> {
    let ferr = |e| ReportError::File {
        path: path.to_string(),
        source: e,
    };
    let hdr = f.header();
    let mut tep = Tep::new(f.endian(), hdr.long_size as u32, opts.dialect);
    tep.set_plugin_functions(!opts.no_plugins && !opts.local_plugins_only);
    let mut failures = 0u32;
    // kallsyms is the largest piece of metadata: it is inflated (and, when events will be
    // printed, parsed) on another thread while the formats are read here.
    let parse_now = opts.mode == Mode::Events;
    let (symbols, formats) = std::thread::scope(|s| {
        let symbols = s.spawn(move || {
            if parse_now {
                // one copy of the text, inflated for the table and kept by it
                f.kallsyms_buf()
                    .map(|(buf, range)| crate::tep::SymbolTable::parse_now(buf, range))
            } else {
                f.kallsyms().map(crate::tep::SymbolTable::new)
            }
        });
        let formats = (|| -> Result<(), ReportError> {
            for text in f.ftrace_formats().map_err(ferr)? {
                if tep.add_ftrace_format(text).is_err() {
                    failures += 1;
                }
            }
            for sys in f.event_systems().map_err(ferr)? {
                for text in &sys.formats {
                    if tep
                        .add_event_format(&String::from_utf8_lossy(sys.name), text)
                        .is_err()
                    {
                        failures += 1;
                    }
                }
            }
            Ok(())
        })();
        (symbols.join().expect("kallsyms thread"), formats)
    });
    formats?;
    tep.set_symbol_table(symbols.map_err(ferr)?);
    tep.set_printk_formats(f.printk_formats().map_err(ferr)?);
    Ok((tep, failures))
}

fn print_warnings(warn: &mut dyn Write, path: &str, ws: &[&Warning]) {
    for w in ws {
        if matches!(w.level, LogLevel::Critical | LogLevel::Error) {
            let _ = writeln!(warn, "rtrace-cmd: {path}: {w}");
        }
    }
}

/// `basename` as trace-read.c's `add_handle` computes it.
fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Applies `-O` options to one plugin option the way libtraceevent's `update_option` does,
/// once per input file (each file open loads the plugins again and re-applies the options).
fn apply_plugin_options(opts: &Options, nfiles: usize) -> PluginOptions {
    let mut p = PluginOptions::default();
    // (alias, name, field)
    let mut table: Vec<(&str, &str, &mut bool)> = vec![
        ("ftrace", "parent", &mut p.parent),
        ("ftrace", "indent", &mut p.indent),
        ("ftrace", "offset", &mut p.offset),
        ("fgraph", "tailprint", &mut p.tailprint),
        ("fgraph", "depth", &mut p.depth),
    ];
    let mut extra = [false; 3];
    let [skip, dec, hex] = &mut extra;
    if opts.dialect == Dialect::V3_3 {
        table.push(("fgraph", "retval-skip", skip));
        table.push(("fgraph", "retval-dec", dec));
        table.push(("fgraph", "retval-hex", hex));
    }
    let parsed: Vec<(Option<&str>, &str, Option<&str>)> = opts
        .plugin_options
        .iter()
        .map(|o| {
            let (name, val) = match o.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (o.as_str(), None),
            };
            match name.split_once(':') {
                Some((plugin, opt)) => (Some(plugin), opt, val),
                None => (None, name, val),
            }
        })
        .collect();
    let update = |set: &mut bool, val: Option<&str>| match val {
        None => *set = !*set,
        Some("1") | Some("true") => *set = true,
        Some("0") | Some("false") => *set = false,
        Some(_) => {}
    };
    for _ in 0..nfiles.max(1) {
        for (alias, name, set) in table.iter_mut() {
            // First the options named with this plugin, then the unnamed ones.
            if let Some((_, _, v)) = parsed
                .iter()
                .find(|(pl, n, _)| *pl == Some(*alias) && n == name)
            {
                update(set, *v);
            }
            if let Some((_, _, v)) = parsed.iter().find(|(pl, n, _)| pl.is_none() && n == name) {
                update(set, *v);
            }
        }
    }
    drop(table);
    p.retval_skip = extra[0];
    p.retval_dec = extra[1];
    p.retval_hex = extra[2];
    p
}

/// `set_event_flags`: `^RE$`, case-insensitive basic regex, against name or system.
fn event_flag_matchers(
    res: &[String],
) -> Result<Vec<crate::filter::posix::PosixRegex>, ReportError> {
    res.iter()
        .map(|r| {
            crate::filter::posix::PosixRegex::new(format!("^{r}$").as_bytes()).map_err(|_| {
                ReportError::Die {
                    message: format!("Can't parse '{r}'"),
                    status: 1,
                }
            })
        })
        .collect()
}

fn matches_any(res: &[crate::filter::posix::PosixRegex], ev: &Event<'_, '_>) -> bool {
    res.iter()
        .any(|r| r.is_match(ev.name().as_bytes()) || r.is_match(ev.system().as_bytes()))
}

/// Runs `report` over `inputs`, writing trace-cmd's stdout to `out` and warnings to `warn`.
/// Returns the exit status trace-cmd would have.
pub fn run(
    inputs: &[InputFile<'_>],
    opts: &Options,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<i32, ReportError> {
    run_inner(inputs, opts, out, warn, false)
}

/// [`run`] for inputs that are file mappings: the record data a report is done with is given
/// back to the kernel as it goes (see [`crate::CpuStream::release_consumed_pages`]), so the
/// resident size stays bounded however large the files are.
///
/// # Safety
///
/// Every `inputs[i].bytes` must be a private read-only mapping of a file.
pub unsafe fn run_mapped(
    inputs: &[InputFile<'_>],
    opts: &Options,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<i32, ReportError> {
    run_inner(inputs, opts, out, warn, true)
}

/// How far behind each CPU's current page mapped data is given back: several times what
/// the parallel report's batches in flight hold (under a MB of records), so printing
/// threads do not fault it in again (which would only cost time).
const RELEASE_LAG: usize = 4 << 20;

fn run_inner(
    inputs: &[InputFile<'_>],
    opts: &Options,
    out: &mut dyn Write,
    warn: &mut dyn Write,
    release: bool,
) -> Result<i32, ReportError> {
    let mut files = Vec::with_capacity(inputs.len());
    for inp in inputs {
        let f = TraceFile::parse(inp.bytes).map_err(|e| ReportError::File {
            path: inp.path.clone(),
            source: e,
        })?;
        if release {
            // SAFETY: `release` comes from run_mapped, whose caller promised file mappings.
            unsafe { f.release_walked_pages() };
        }
        files.push(f);
    }
    let mut o = Out {
        buf: Vec::with_capacity(FLUSH_AT + 65536),
        w: out,
    };
    let r = run_files(inputs, &files, opts, &mut o, warn, release);
    let flushed = o.flush();
    let status = r?;
    flushed?;
    Ok(status)
}

fn run_files(
    inputs: &[InputFile<'_>],
    files: &[TraceFile<'_>],
    opts: &Options,
    o: &mut Out<'_>,
    warn: &mut dyn Write,
    release: bool,
) -> Result<i32, ReportError> {
    let dialect = opts.dialect;
    let mut teps = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let path = &inputs[i].path;
        if opts.debug {
            // tracecmd_info() while opening the file; --debug makes trace-cmd print it.
            let _ = writeln!(o.buf, "version = {}", f.header().version_text);
        }
        print_warnings(warn, path, &f.warnings().iter().collect::<Vec<_>>());
        if opts.show_page_size {
            let _ = writeln!(
                o.buf,
                "file page size is {}, and host page size is {}",
                f.header().page_size,
                host_page_size()
            );
            return Ok(0);
        }
        if opts.show_endian {
            let _ = writeln!(
                o.buf,
                "file is {} endian and host is little endian",
                if f.endian() == Endian::Big {
                    "big"
                } else {
                    "little"
                }
            );
            return Ok(0);
        }
        if opts.print_events || opts.print_event.is_some() {
            print_event_formats(f, path, opts.print_event.as_deref().unwrap_or(".*"), o)?;
            return Ok(0);
        }
        let (tep, failures) = build_tep(f, path, opts)?;
        if opts.check_events {
            // libtraceevent's tep_parse_event fails only when it cannot read an event's name
            // or ID; an event whose fields or print format fail is still added (and printed
            // as [FAILED TO PARSE]), so trace-cmd does not count it.
            return Ok(if failures > 0 { 22 } else { 0 });
        }
        if opts.show_funcs {
            for s in tep.symbols() {
                let _ = write!(o.buf, "{:016x} {}", s.addr, s.name);
                match &s.module {
                    Some(m) => {
                        let _ = writeln!(o.buf, " [{m}]");
                    }
                    None => o.buf.push(b'\n'),
                }
                o.maybe_flush()?;
            }
            return Ok(0);
        }
        if opts.show_printk {
            for p in tep.printk_formats() {
                let _ = write!(o.buf, "{:016x} ", p.addr);
                o.buf.extend_from_slice(&p.fmt);
                o.buf.push(b'\n');
            }
            return Ok(0);
        }
        if opts.show_event_list {
            let mut evs: Vec<_> = tep.events().collect();
            evs.sort_by(|a, b| {
                a.system()
                    .cmp(b.system())
                    .then(a.name().cmp(b.name()))
                    .then(a.id().cmp(&b.id()))
            });
            for e in evs {
                let _ = writeln!(o.buf, "{}:{}", e.system(), e.name());
            }
            return Ok(0);
        }
        if opts.show_cpus {
            show_cpus(f, &tep, path, opts, o)?;
            continue;
        }
        let mut tep = tep;
        blk_hack(&mut tep);
        teps.push(tep);
    }
    if opts.show_cpus {
        return Ok(0);
    }
    report_events(inputs, files, &teps, opts, dialect, o, warn, release)
}

fn host_page_size() -> usize {
    4096
}

/// `tracecmd_blk_hack` (lib/trace-cmd/trace-blk-hack.c), run by `tracecmd_init_data`: the
/// block tracer's records have no format file, so trace-cmd makes one up, `ftrace:blktrace`,
/// with the id after `ftrace:power`, `ftrace:kmem_free` or `ftrace:user_stack` (the first that
/// exists), when the common fields sit where the block tracer puts its own.
fn blk_hack(tep: &mut Tep<'_>) {
    let Some(anchor) = ["power", "kmem_free", "user_stack"]
        .into_iter()
        .find_map(|n| tep.find_event(Some("ftrace"), n))
    else {
        return;
    };
    let id = anchor.id() + 1;
    let fmt = anchor.format();
    let at = |n: &str, off: u32, size: u32| {
        fmt.common_field(n)
            .is_some_and(|f| f.offset == off && f.size == size)
    };
    if !(at("common_type", 0, 2)
        && at("common_flags", 2, 1)
        && at("common_preempt_count", 3, 1)
        && at("common_pid", 4, 4))
    {
        return;
    }
    let mut text = format!(
        "name: blktrace\nID: {id}\nformat:\n\
         \tfield:unsigned short common_type;\toffset:0;\tsize:2;\n\
         \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\n\
         \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\n\
         \tfield:int common_pid;\toffset:4;\tsize:4;\n"
    );
    if fmt.common_field("common_lock_depth").is_some() {
        if !at("common_lock_depth", 8, 4) {
            return;
        }
        text.push_str("\tfield:int common_lock_depth;\toffset:8;\tsize:4;\n");
    }
    text.push_str(
        "\n\tfield:u64 sector;\toffset:16;\tsize:8;\n\
         \tfield:int bytes;\toffset:24;\tsize:4;\n\
         \tfield:int action;\toffset:28;\tsize:4;\n\
         \tfield:int pid;\toffset:32;\tsize:4;\n\
         \tfield:int device;\toffset:36;\tsize:4;\n\
         \tfield:int cpu;\toffset:40;\tsize:4;\n\
         \tfield:short error;\toffset:44;\tsize:2;\n\
         \tfield:short pdu_len;\toffset:46;\tsize:2;\n\
         \tfield:void data;\toffset:48;\tsize:0;\n\
         \n\
         print fmt: \"%d\", REC->pid\n",
    );
    let _ = tep.add_event_format_owned("ftrace", text.into_bytes());
}

/// `tracecmd_print_events`: the format texts whose system/name match `regex`.
fn print_event_formats(
    f: &TraceFile<'_>,
    path: &str,
    regex: &str,
    o: &mut Out<'_>,
) -> Result<(), ReportError> {
    use crate::filter::posix::PosixRegex;
    let ferr = |e| ReportError::File {
        path: path.to_string(),
        source: e,
    };
    let (sstr, estr, unique) = {
        let mut parts = regex.split(':').filter(|s| !s.is_empty());
        let s = parts.next().unwrap_or("");
        match parts.next() {
            Some(e) => (s, e, true),
            None => (s, s, false),
        }
    };
    let bad = |r: &str| ReportError::Die {
        message: format!("Bad regular expression '{r}'"),
        status: 1,
    };
    let sreg = PosixRegex::new(sstr.as_bytes()).map_err(|_| bad(sstr))?;
    let ereg = PosixRegex::new(estr.as_bytes()).map_err(|_| bad(estr))?;
    let name_line = |text: &[u8]| -> Vec<u8> {
        // regex_event_buf: the first line, without its "name: " prefix
        let line = text.split(|&b| b == b'\n').next().unwrap_or(b"");
        line.strip_prefix(b"name: ").unwrap_or(line).to_vec()
    };
    // v7 files print nothing: trace-cmd reads their sections without the regex. v6 files
    // print the matching event systems; the ftrace formats are read without it too.
    if f.header().sectioned() {
        return Ok(());
    }
    for sys in f.event_systems().map_err(ferr)? {
        let mut print_all = false;
        let mut reg = Some(&ereg);
        if sreg.is_match(sys.name) {
            if !unique {
                print_all = true;
            }
        } else if unique {
            reg = None;
        }
        let Some(reg) = reg else { continue };
        let mut sys_printed = false;
        for text in &sys.formats {
            if print_all || reg.is_match(&name_line(text)) {
                if !sys_printed {
                    o.buf.extend_from_slice(b"\nsystem: ");
                    o.buf.extend_from_slice(sys.name);
                    o.buf.push(b'\n');
                    sys_printed = true;
                }
                o.buf.extend_from_slice(text);
                o.buf.push(b'\n');
            }
        }
        o.maybe_flush()?;
    }
    Ok(())
}

/// `--cpus`, `--first-event`, `--last-event`.
fn show_cpus(
    f: &TraceFile<'_>,
    _tep: &Tep<'_>,
    path: &str,
    opts: &Options,
    o: &mut Out<'_>,
) -> Result<(), ReportError> {
    let time = TimeConfig {
        raw_ts: opts.raw_ts,
        no_date: opts.no_date,
        ts_offset: 0,
        ts2secs: opts.ts2secs,
        no_tsync: false,
    };
    let ci = f.clock_info(opts.raw_ts, opts.ts2secs.is_some());
    let tf = time_fmt(ci.in_usecs, opts.nanosec);
    let _ = writeln!(o.buf, "List of CPUs in {path} with data:");
    let input = [Input {
        file: f,
        time: &time,
    }];
    let merge = Merge::for_report(&input, false, |info| info.buffer == 0).map_err(|e| {
        ReportError::File {
            path: path.to_string(),
            source: e,
        }
    })?;
    let mut streams: Vec<usize> = (0..merge.len()).collect();
    streams.sort_by_key(|&i| merge.info(i).cpu);
    for i in streams {
        let s = merge.stream(i);
        let Some(first) = s.first_ts() else { continue };
        let _ = write!(o.buf, "  {}", s.cpu());
        if opts.show_first {
            o.buf.extend_from_slice(b"\tFirst event:");
            tf.write(&mut o.buf, first);
        }
        if opts.show_last {
            if let Ok(Some(last)) = s.last_ts() {
                o.buf.extend_from_slice(b"\tLast event:");
                tf.write(&mut o.buf, last);
            }
        }
        o.buf.push(b'\n');
    }
    Ok(())
}

fn time_fmt(in_usecs: bool, nanosec: bool) -> TimeFmt {
    if !in_usecs {
        TimeFmt::Raw
    } else if nanosec {
        TimeFmt::Nsecs
    } else {
        TimeFmt::Usecs
    }
}

fn latency_fields(tep: &Tep<'_>) -> LatencyFields {
    let Some(first) = tep.events().next() else {
        return LatencyFields::default();
    };
    let fmt = first.format();
    let get = |n: &str| {
        fmt.common_field(n)
            .map(|f| (f.offset as usize, f.size as usize))
    };
    LatencyFields::new(
        get("common_flags"),
        get("common_preempt_count"),
        get("common_migrate_disable"),
        get("common_lock_depth"),
    )
}

#[allow(clippy::too_many_arguments)]
fn report_events(
    inputs: &[InputFile<'_>],
    files: &[TraceFile<'_>],
    teps: &[Tep<'_>],
    opts: &Options,
    dialect: Dialect,
    o: &mut Out<'_>,
    warn: &mut dyn Write,
    release: bool,
) -> Result<i32, ReportError> {
    let popts = apply_plugin_options(opts, files.len());
    let raw_res = event_flag_matchers(&opts.raw_events)?;
    let nohandle_res = event_flag_matchers(&opts.no_handler)?;
    let plugins_on = !opts.no_plugins && !opts.local_plugins_only;

    let times: Vec<TimeConfig> = inputs
        .iter()
        .map(|inp| TimeConfig {
            raw_ts: opts.raw_ts,
            no_date: opts.no_date,
            ts_offset: inp.ts_offset,
            ts2secs: inp.ts2secs.or(opts.ts2secs),
            no_tsync: false,
        })
        .collect();

    let mut fstates: Vec<FileState> = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let tep = &teps[i];
        let ci = f.clock_info(opts.raw_ts, times[i].ts2secs.is_some());
        let cmdlines = f.cmdlines().map_err(|e| ReportError::File {
            path: inputs[i].path.clone(),
            source: e,
        })?;
        let fgraph_exit = if plugins_on {
            tep.find_event(Some("ftrace"), "funcgraph_exit")
                .and_then(|e| plugins::handler_for(e.format(), dialect, None).map(|h| (e.id(), h)))
        } else {
            None
        };
        fstates.push(FileState {
            tep,
            comms: Comms::from_saved_cmdlines(cmdlines),
            endian: f.endian(),
            long_size: f.header().long_size as usize,
            time_fmt: time_fmt(ci.in_usecs, opts.nanosec),
            use_trace_clock: ci.use_trace_clock,
            lat: latency_fields(tep),
            common: CommonFields::of(tep),
            plugin_state: State::default(),
            fgraph_exit,
            fgraph_entry: tep
                .find_event(Some("ftrace"), "funcgraph_entry")
                .map(|e| e.id()),
        });
    }

    let multi = opts.multi_inputs;
    let inputs_m: Vec<Input> = files
        .iter()
        .zip(&times)
        .map(|(f, t)| Input { file: f, time: t })
        .collect();
    let mut merge =
        Merge::for_report(&inputs_m, opts.align_ts, |_| true).map_err(|e| ReportError::Die {
            message: format!("failed to init data: {e}"),
            status: 1,
        })?;
    if release {
        // SAFETY: `release` comes from run_mapped, whose caller promised file mappings.
        unsafe { merge.release_consumed_pages(RELEASE_LAG) };
    }

    // read_data_info's first loop: per handle (top buffers in file order, then instances)
    // compile its filters, and for top buffers print "cpus=", then --stat/--uname/--version
    // or a latency file's text.
    let mut max_name = 0usize;
    if multi {
        for inp in inputs {
            max_name = max_name.max(base_name(&inp.path).len());
        }
    }
    let mut filter_args = opts.filters.clone();
    // make_pid_filter: --comm becomes the pids saved_cmdlines gives that comm (newest entry
    // first, as libtraceevent walks its list before the first lookup), appended after --pid;
    // trace-cmd keeps them on a stack, so the filter lists them last first. The list is
    // consumed by the first handle that processes its filters.
    let mut pid_filter = {
        let mut pids: Vec<String> = opts.pids.clone();
        for comm in &opts.comms {
            let found = fstates[0].comms.pids_before_lookup(comm.as_bytes());
            if found.is_empty() {
                let _ = writeln!(warn, "  comm: {comm} not in cmdline list");
            }
            pids.extend(found.iter().map(|p| p.to_string()));
        }
        pids.reverse();
        crate::filter::pid_filter_text(&pids)
    };
    let mut handles: Vec<HandleState> = Vec::new();
    let mut any_instances = false;
    for src in merge.sources() {
        let f = &files[src.input];
        let tep = &teps[src.input];
        if src.buffer != 0 && opts.mode != Mode::Events {
            break;
        }
        let handle_input = if multi { Some(src.input) } else { None };
        // FilterSet only looks for the stack events: the other formats stay unparsed.
        let mut filters = FilterSet::new(
            dialect,
            tep.events()
                .filter(|e| {
                    e.system() == "ftrace" && matches!(e.name(), "kernel_stack" | "user_stack")
                })
                .map(|e| e.format()),
            f.buffers()[src.buffer].nr_cpus.max(f.cpus()) as usize,
        );
        let pf = pid_filter.take();
        for fa in filter_args.filters_for(dialect, handle_input, pf.as_deref()) {
            // -T: libtraceevent prints each compiled event filter as it adds it.
            let mut test_lines = Vec::new();
            let parsed = crate::filter::EventFilter::parse_with_test_output(
                &fa.text,
                tep.events(),
                f.endian(),
                opts.filter_test.then_some(&mut test_lines),
            );
            for l in &test_lines {
                o.buf.extend_from_slice(l.as_bytes());
                o.buf.push(b'\n');
            }
            let filter = parsed.map_err(|e| ReportError::Die {
                message: e.reference_message(),
                status: e.errno().unwrap_or(255),
            })?;
            filters.push(filter, fa.negative);
        }
        if opts.filter_test && FilterArgs::test_mode_exits(dialect, !filters.is_empty()) {
            return Ok(0);
        }
        let prefix = if src.buffer != 0 {
            Some(base_name(&src.name).to_string())
        } else if multi {
            Some(base_name(&inputs[src.input].path).to_string())
        } else {
            None
        };
        handles.push(HandleState { filters, prefix });
        if src.buffer != 0 {
            continue;
        }
        let i = src.input;
        if multi || any_instances {
            let name = if multi {
                base_name(&inputs[i].path)
            } else {
                ""
            };
            write_prefix(&mut o.buf, Some(name).filter(|n| !n.is_empty()), max_name);
        }
        if opts.debug {
            empty_cpus(&mut o.buf, f, 0);
        }
        let _ = writeln!(o.buf, "cpus={}", f.cpus());
        if f.buffers()
            .first()
            .is_some_and(|b| matches!(b.data, crate::file::BufferData::Latency { .. }))
        {
            if multi {
                return Err(ReportError::Die {
                    message: "latency traces do not work with multiple inputs".into(),
                    status: 1,
                });
            }
            for block in f.latency_blocks(0).map_err(|e| ReportError::File {
                path: inputs[i].path.clone(),
                source: e,
            })? {
                let end = memchr::memchr(0, &block).unwrap_or(block.len());
                o.buf.extend_from_slice(&block[..end]);
            }
            o.buf.push(b'\n');
            return Ok(0);
        }
        match opts.mode {
            Mode::Events => {}
            Mode::Stat => {
                o.buf.extend_from_slice(
                    b"\nKernel buffer statistics:\n  Note: \"entries\" are the entries left in the kernel ring buffer and are not\n        recorded in the trace data. They should all be zero.\n\n",
                );
                match f.cpustats() {
                    Some(s) => {
                        o.buf.extend_from_slice(&s);
                        o.buf.push(b'\n');
                    }
                    None => o.buf.extend_from_slice(b" No stats in this file\n"),
                }
                for (cpu, off, size) in f.cpu_data_locations(0) {
                    let _ = write!(
                        o.buf,
                        "CPU{cpu} data recorded at offset=0x{off:x}\n    {} bytes in size\n",
                        size as i64
                    );
                }
                continue;
            }
            Mode::Uname | Mode::Version => {
                if opts.mode == Mode::Uname {
                    match f.uname() {
                        Some(u) => {
                            let _ = writeln!(o.buf, "{u}");
                        }
                        None => o
                            .buf
                            .extend_from_slice(b" uname was not recorded in this file\n"),
                    }
                }
                match f.version() {
                    Some(v) => {
                        let _ = writeln!(o.buf, "{v}");
                    }
                    None => o
                        .buf
                        .extend_from_slice(b" version was not recorded in this file\n"),
                }
                continue;
            }
        }
        if f.buffers().len() > 1 {
            any_instances = true;
            if opts.debug {
                // The instance handles are set up right after the top buffer's line.
                for b in 1..f.buffers().len() {
                    empty_cpus(&mut o.buf, f, b);
                }
            }
        }
    }
    if opts.mode != Mode::Events {
        return Ok(0);
    }
    let instances = any_instances;

    // --cpu: records of other CPUs are only skipped, so they need not be decoded, unless
    // something looks at them first: -F filters (comm and symbol lookups change what later
    // lookups see) or the function_graph leaf check (the next record of the handle,
    // whatever its CPU: 3.1.6 takes it, 3.3.1 rejects the leaf when it is on another CPU).
    // (Every trace.dat has the ftrace formats, so whether a function_graph entry will be
    // printed is only known on meeting one: the streams left out rejoin the merge then, at
    // that point, see Producer::step.)
    if let Some(cpus) = &opts.cpus {
        if handles.iter().all(|h| h.filters.is_empty()) {
            merge.leave_out(|info| cpus.contains(&info.slot(dialect)));
        }
    }
    // -F naming events: the filters reject the records of other events without any effect
    // (FilterSet::type_prefilter), so the streams drop them as they read them instead of
    // merging them in order first. Not where a shown record looks at the records after it
    // (a funcgraph_entry's leaf check) or the page layout is printed.
    if !(opts.debug || opts.boundary) {
        merge.prefilter(|info| {
            let pre = handles[info.source].filters.type_prefilter()?;
            match fstates[info.input].fgraph_entry {
                Some(id) if pre.shows(id as u32) => None,
                _ => Some(pre),
            }
        });
    }
    // Where most records are left out (-F, --cpu), reading is what takes the time: chunks
    // are then inflated ahead on another thread. Where most are printed, the printing
    // threads keep the CPUs busy and inflating on another core costs more than it saves
    // (the reader then meets the chunk's bytes in another core's cache).
    let selective = opts.cpus.is_some() || handles.iter().any(|h| !h.filters.is_empty());
    if opts.threads > 1 && selective {
        merge.inflate_ahead();
    }

    let show_prefix = multi || instances;
    let max_prefix = handles
        .iter()
        .filter_map(|h| h.prefix.as_ref().map(|p| p.len()))
        .max()
        .unwrap_or(0);

    let wakeup = if opts.wakeup {
        let tep = &teps[0];
        wakeup::WakeupEvents::find(|s, n| tep.find_event(Some(s), n).map(|e| e.format()))
            .map(|ev| wakeup::Wakeup::new(ev, files[0].endian()))
    } else {
        None
    };

    let infos: Vec<Vec<OnceLock<EvInfo>>> = teps
        .iter()
        .map(|t| (0..t.event_count()).map(|_| OnceLock::new()).collect())
        .collect();
    let threads = opts.threads.max(1);
    // These print state that only a pass in stream order has (the previous timestamp, the
    // page layout, warnings on stderr, -w's pairing): the report stays on one thread.
    let parallel = threads > 1
        && !(opts.debug || opts.boundary || opts.ts_diff || opts.ts_check || wakeup.is_some());
    let mut p = Producer {
        merge,
        fstates,
        handles,
        infos: &infos,
        opts,
        popts: &popts,
        raw_res,
        nohandle_res,
        plugins_on,
        show_prefix,
        max_prefix,
        wakeup,
        last_ts_check: 0,
        last_ts_diff: 0,
        caches: Default::default(),
        lane_on: false,
        lanes: Vec::new(),
    };
    p.lane_on = opts.cpus.is_none()
        && !(opts.no_irqs || opts.no_softirqs || opts.ts_check)
        && p.handles.iter().all(|h| h.filters.is_empty());
    p.lanes = vec![Vec::new(); p.fstates.len()];
    if parallel {
        let view = parallel::Shared::new(&p);
        let batch = if opts.batch == 0 { 1024 } else { opts.batch };
        let (p2, r) = parallel::run(p, &view, threads, batch, o)?;
        p = p2;
        r?;
    } else {
        let mut sink = Sink::Direct;
        while p.step(&mut o.buf, warn, &mut sink)? {
            o.maybe_flush()?;
        }
    }
    if let Some(w) = &p.wakeup {
        w.finish(&mut o.buf);
    }
    print_warnings(warn, "", &p.merge.warnings());
    Ok(0)
}

/// Where [`Producer::step`] puts a record: printed at once, or (parallel report) as a job
/// for the workers when its printing is a pure function of the record and what the step
/// worked out, else printed at once into the batch.
enum Sink<'b, 'f> {
    Direct,
    Batch(&'b mut parallel::Batch<'f>),
}

/// The pass over all records in trace-cmd's order: filters, comm learning, handler state,
/// function_graph leaf merging; and the printing of each line.
struct Producer<'t, 'a, 'f, 'o> {
    merge: Merge<'f>,
    fstates: Vec<FileState<'t, 'a>>,
    handles: Vec<HandleState>,
    infos: &'o [Vec<OnceLock<EvInfo>>],
    opts: &'o Options,
    popts: &'o PluginOptions,
    raw_res: Vec<crate::filter::posix::PosixRegex>,
    nohandle_res: Vec<crate::filter::posix::PosixRegex>,
    plugins_on: bool,
    show_prefix: bool,
    max_prefix: usize,
    wakeup: Option<wakeup::Wakeup>,
    last_ts_check: u64,
    last_ts_diff: u64,
    caches: LineCaches,
    /// No option looks at every record (`-F`, `--cpu`, `-I`/`-S`, `--ts-check`): records
    /// need no [`Producer::left_out`] and [`Producer::take_jobs`] may run.
    lane_on: bool,
    /// Per file, by event id: what [`Producer::step_job`] does with a record (`LANE_*`, with
    /// the event index above the two low bits), 0 until first seen.
    lanes: Vec<Vec<u32>>,
}

/// What a printing thread keeps from one line to the next.
#[derive(Default)]
struct LineCaches {
    info: info_cache::InfoCache,
    cols: line::CommColumns,
    time: line::TimeColumn,
}

/// A record [`Producer::step`] prints (or skips) itself.
const LANE_STEP: u32 = 1;
/// A record that becomes a job.
const LANE_JOB: u32 = 2;
/// A job whose handler learns comms from it first.
const LANE_LEARN: u32 = 3;

impl<'f> Producer<'_, '_, 'f, '_> {
    /// [`Producer::step_job`] over the next records while they are usual ones, the batch
    /// holds fewer than `jobs` jobs and fewer than `read` records were read: true when it
    /// stopped at those limits, false at a record for [`Producer::step`] (or the end).
    fn take_jobs(&mut self, batch: &mut parallel::Batch<'f>, jobs: usize, read: u64) -> bool {
        if !self.lane_on {
            return false;
        }
        while batch.len() < jobs && self.merge.records_read() < read {
            let Some(i) = self.merge.next_index() else {
                return false;
            };
            if !self.step_job(i, batch) {
                return false;
            }
        }
        true
    }

    /// The parallel report's usual record: one of an event whose lines print out of order
    /// becomes a job, its per-record checks decided once per event. [`Producer::take_jobs`]
    /// calls it where no option looks at every record, [`Producer::step`] after those
    /// options' checks. False leaves the record to be printed by `step`.
    #[inline]
    fn step_job(&mut self, i: usize, batch: &mut parallel::Batch<'f>) -> bool {
        let merge = &mut self.merge;
        let sinfo = *merge.info(i);
        let fi = sinfo.input;
        let st = &mut self.fstates[fi];
        let Some((rec, home, at, head)) = merge.head_with_home(i) else {
            return false;
        };
        // every kernel's layout: a u16 type at 0 and an int pid at 4, read at once
        let (id, pid) = match (st.common.usual, head) {
            (true, Some(w)) => (w as u16 as i32, (w >> 32) as i32),
            _ => match st.common.event_type(st.endian, rec.data) {
                Some(id) => (id, st.common.pid(st.endian, rec.data)),
                None => return false,
            },
        };
        let lane = match self.lanes[fi].get(id as usize) {
            Some(&l) if l != 0 => l,
            _ => lane_of(
                &mut self.lanes[fi],
                id,
                st.tep,
                &self.infos[fi],
                self.opts,
                self.plugins_on,
                &self.raw_res,
                &self.nohandle_res,
            ),
        };
        let kind = lane & 3;
        if kind == LANE_STEP
            || rec.missed_events != 0
            || sinfo.source > u16::MAX as usize
            || fi > u16::MAX as usize
        {
            return false;
        }
        let evx = lane >> 2;
        let comm = st.comms.lookup(pid);
        if comm.len() > parallel::COMM_MAX {
            return false;
        }
        let home = batch.home(home);
        batch.push(parallel::Job::record(
            home,
            at,
            &rec,
            sinfo.source,
            fi,
            pid,
            evx,
            comm,
        ));
        if kind == LANE_LEARN {
            let evi = self.infos[fi][evx as usize].get().expect("made by lane_of");
            if let Some(hd) = &evi.handler {
                let ctx = Ctx {
                    endian: st.endian,
                    long_size: st.long_size,
                    syms: st.tep,
                    dialect: self.opts.dialect,
                    opts: self.popts,
                };
                hd.learn_comms(&ctx, &mut st.comms, rec.data);
            }
        }
        merge.consume(i);
        true
    }

    /// The per-record options that leave records out (`-F`, `--cpu`, `-I`/`-S`) and
    /// `--ts-check`'s warning, in trace-cmd's order: true when record `i` was left out (and
    /// consumed). Never needed where [`Producer::lane_on`] holds.
    fn left_out(&mut self, i: usize, warn: &mut dyn Write) -> Result<bool, ReportError> {
        let opts = self.opts;
        let dialect = opts.dialect;
        let merge = &mut self.merge;
        let sinfo = *merge.info(i);
        let rec = merge.head(i).expect("stream with a head");
        let st = &mut self.fstates[sinfo.input];
        let h = &mut self.handles[sinfo.source];
        // -F (tracecmd_filter_match in the iterator, before the report callback)
        if !h.filters.is_empty() {
            let mut env = Env {
                comms: &mut st.comms,
                tep: st.tep,
            };
            match h.filters.matches(&rec, &mut env) {
                Ok(true) => {}
                Ok(false) => {
                    merge.consume(i);
                    return Ok(true);
                }
                Err(e) => {
                    return Err(ReportError::Die {
                        message: format!("filter evaluation crashes trace-cmd here: {e:?}"),
                        status: 139,
                    })
                }
            }
        }
        // skip_record: --cpu, -I, -S
        if let Some(cpus) = &opts.cpus {
            if !cpus.contains(&sinfo.slot(dialect)) {
                merge.consume(i);
                return Ok(true);
            }
        }
        if opts.no_irqs || opts.no_softirqs {
            let flags = st.lat.flags(st.endian, rec.data) as u32;
            if (opts.no_irqs && flags & line::FLAG_HARDIRQ != 0)
                || (opts.no_softirqs && flags & line::FLAG_SOFTIRQ != 0)
            {
                merge.consume(i);
                return Ok(true);
            }
        }
        if opts.ts_check {
            if self.last_ts_check > rec.ts {
                let _ = writeln!(
                    warn,
                    "  WARNING: Record on cpu {} went backwards: {} to {} delta: -{}",
                    sinfo.slot(dialect),
                    self.last_ts_check as i64,
                    rec.ts as i64,
                    self.last_ts_check - rec.ts
                );
            }
            self.last_ts_check = rec.ts;
        }
        Ok(false)
    }

    /// Handles the next record: skipped, printed into `out`, or handed to `sink`. Returns
    /// false when there are no more records.
    fn step(
        &mut self,
        out: &mut Vec<u8>,
        warn: &mut dyn Write,
        sink: &mut Sink<'_, 'f>,
    ) -> Result<bool, ReportError> {
        let opts = self.opts;
        let dialect = opts.dialect;
        let Some(i) = self.merge.next_index() else {
            return Ok(false);
        };
        if self.merge.has_left_out() {
            // A function_graph entry's leaf check looks at the next record of any CPU: the
            // streams left out by --cpu come back before the first one.
            let st = &self.fstates[self.merge.info(i).input];
            let ty = self
                .merge
                .head(i)
                .and_then(|r| st.common.event_type(st.endian, r.data));
            if ty.is_some() && ty == st.fgraph_entry {
                self.merge.rejoin(i);
            }
        }
        if !self.lane_on && self.left_out(i, warn)? {
            return Ok(true);
        }
        // The parallel path: a job for the workers.
        if let Sink::Batch(batch) = sink {
            if self.step_job(i, batch) {
                return Ok(true);
            }
        }
        let merge = &mut self.merge;
        let sinfo = *merge.info(i);
        let rec = merge.head(i).expect("stream with a head");
        let fi = sinfo.input;
        let tail = merge.head_page_tail(i).unwrap_or(rec.data);
        let st = &mut self.fstates[fi];
        let h = &self.handles[sinfo.source];
        let id = st.common.event_type(st.endian, rec.data);
        let evx = id.and_then(|id| st.tep.event_index_by_id(id));
        let ev = evx.and_then(|k| st.tep.event_at(k));

        let out: &mut Vec<u8> = match sink {
            Sink::Batch(b) => &mut b.pre,
            Sink::Direct => out,
        };
        let pre_start = out.len();

        if self.show_prefix {
            write_prefix(out, h.prefix.as_deref(), self.max_prefix);
        }

        // trace_show_data
        // The line is printed straight into `out` from `lstart` on.
        let line: &mut Vec<u8> = out;
        let lstart = line.len();
        if rec.missed_events > 0 {
            let _ = writeln!(
                line,
                "CPU:{} [{} EVENTS DROPPED]",
                rec.cpu, rec.missed_events
            );
        } else if rec.missed_events < 0 {
            let _ = writeln!(line, "CPU:{} [EVENTS DROPPED]", rec.cpu);
        }
        let dbg = if opts.boundary || opts.debug {
            merge.debug_info(i)
        } else {
            None
        };
        if let Some(d) = dbg.as_ref().filter(|d| d.first_in_page) {
            let _ = write!(line, "CPU:{} [SUBBUFFER START]", rec.cpu);
            if opts.debug {
                let _ = write!(line, " [{}:0x{:x}]", d.page_ts as i64, d.page_offset);
            }
            line.push(b'\n');
        }
        let mut leaf: Option<usize> = None;
        // See info_cache::clean.
        let mut clean = false;
        match (evx, ev) {
            (Some(evx), Some(ev)) => {
                let pid = st.common.pid(st.endian, rec.data);
                let comm = st.comms.lookup(pid);
                line::write_comm_pid_cpu(line, comm, pid, rec.cpu, opts.latency);
                if opts.raw {
                    if dialect == Dialect::V3_3 || opts.latency {
                        line.extend_from_slice(b"-0x");
                        push_hex(line, st.lat.flags(st.endian, rec.data) as u32 as u64, false);
                    }
                } else if dialect == Dialect::V3_3 || opts.latency {
                    if !opts.latency {
                        line.push(b' ');
                    }
                    st.lat.write(line, st.endian, rec.data);
                }
                self.caches.time.write(st.time_fmt, line, rec.ts);
                if opts.ts_diff {
                    let mut rts = rec.ts;
                    if st.use_trace_clock && !opts.nanosec {
                        rts = rts.wrapping_add(500) / 1000;
                    }
                    let mut buf = String::new();
                    if self.last_ts_diff != 0 {
                        buf = format!("(+{})", rts.wrapping_sub(self.last_ts_diff) as i64);
                    }
                    self.last_ts_diff = rts;
                    let _ = write!(line, " {buf:<8}");
                }
                let evi = self.infos[fi][evx].get_or_init(|| {
                    make_ev_info(
                        opts,
                        self.plugins_on,
                        &self.raw_res,
                        &self.nohandle_res,
                        &ev,
                    )
                });
                crate::outbuf::put(line, &evi.name_col);

                // Event info (print_event_info)
                let info_at = line.len();
                let nul_free = evi.reads.as_ref().is_some_and(|r| r.nul_free());
                let mut kbuf = [0u8; info_cache::KEY_MAX];
                let keyed = match &evi.reads {
                    Some(r) => {
                        let (file, k) = (fi as u32, evx as u32);
                        self.caches
                            .info
                            .key(file, k, r, st.tep, &ev, rec.data, &mut kbuf)
                    }
                    None => None,
                };
                let ctx = Ctx {
                    endian: st.endian,
                    long_size: st.long_size,
                    syms: st.tep,
                    dialect,
                    opts: self.popts,
                };
                if opts.raw || evi.print_raw {
                    st.tep
                        .print_raw_fields_checked(&ev, tail, rec.data.len(), line);
                } else if let Some((key, probe)) = keyed {
                    let prec = Rec {
                        cpu: rec.cpu,
                        ts: rec.ts,
                        data: rec.data,
                    };
                    let tf = st.time_fmt_repeat(opts);
                    let tep = st.tep;
                    let hole = evi.hole_text(tep, &ev, tail, rec.data.len());
                    let hole = hole.as_ref().map(|h| h as info_cache::HoleText<'_>);
                    let render = |line: &mut Vec<u8>| {
                        let hd = evi.handler.as_ref();
                        let state = &mut st.plugin_state;
                        print_info(tep, &ev, hd, &ctx, state, &prec, tail, line, tf)
                    };
                    clean = self
                        .caches
                        .info
                        .print(probe, key, nul_free, line, render, hole);
                } else {
                    let mut pretty = true;
                    match &evi.handler {
                        Some(Handler::FgraphEntry(ef)) => {
                            pretty = false;
                            let mut exit_data: Option<&[u8]> = None;
                            if let Some((exit_id, exit_h)) = &st.fgraph_exit {
                                let entry_pid = pid;
                                let func = evi
                                    .handler
                                    .as_ref()
                                    .unwrap()
                                    .fgraph_entry_func(&ctx, rec.data);
                                if let Some((k, next)) = merge.peek_following_in_source(i) {
                                    let same_cpu_ok =
                                        dialect == Dialect::V3_1 || merge.info(k).cpu == sinfo.cpu;
                                    if same_cpu_ok
                                        && st.common.event_type(st.endian, next.data)
                                            == Some(*exit_id)
                                        && st.common.pid(st.endian, next.data) == entry_pid
                                        && func.is_some()
                                        && exit_h.fgraph_exit_func(&ctx, next.data) == func
                                    {
                                        leaf = Some(k);
                                        exit_data = Some(next.data);
                                    }
                                }
                                let xf = exit_h.fgraph_fields().unwrap();
                                plugins::fgraph_entry(ef, xf, &ctx, rec.data, exit_data, line);
                            } else {
                                // No funcgraph_exit event: trace-cmd's ret_event_check fails
                                // and the handler returns -1 (print format follows).
                                pretty = true;
                            }
                        }
                        Some(Handler::FgraphExit(xf)) => {
                            pretty = false;
                            plugins::fgraph_exit(xf, &ctx, rec.data, line);
                        }
                        Some(hd) => {
                            let tf = st.time_fmt_repeat(opts);
                            let prec = Rec {
                                cpu: rec.cpu,
                                ts: rec.ts,
                                data: rec.data,
                            };
                            pretty = hd.print(
                                &ctx,
                                &mut st.plugin_state,
                                Some(&mut st.comms),
                                &prec,
                                line,
                                &|b: &mut Vec<u8>, t: u64| tf.write(b, t),
                            );
                        }
                        None => {}
                    }
                    if pretty {
                        st.tep.print_pretty_in(&ev, tail, rec.data.len(), line);
                    }
                    clean = info_cache::clean(&line[info_at..], nul_free);
                }
            }
            _ => write_unknown(line, opts, st.lat.flags(st.endian, rec.data)),
        }
        if !clean && line.len() > lstart && line.last() == Some(&b'\n') {
            line.pop();
        }
        if let Some(d) = dbg.as_ref().filter(|_| opts.debug) {
            let _ = write!(
                line,
                " [{}:0x{:x}:{}]",
                d.ts_delta as i32, d.offset_in_page, d.size as i32
            );
            for m in &d.following {
                let (what, label) = match m.type_len {
                    29 => ("PADDING", "delta"),
                    30 => ("TIME EXTEND", "delta"),
                    _ => ("TIME STAMP", "timestamp"),
                };
                let _ = write!(
                    line,
                    "\n {what}: {label}:{} length:{}",
                    m.delta as i64, m.length
                );
            }
        }
        // trace_seq_do_printf prints "%.*s": the line ends at its first NUL.
        if !clean {
            if let Some(z) = memchr::memchr(0, &line[lstart..]) {
                line.truncate(lstart + z);
            }
        }
        if let (Some(w), Some(ev)) = (self.wakeup.as_mut(), ev) {
            if fi == 0 {
                w.process(ev.id() as u32, rec.ts, rec.data, line);
            }
        }
        line.push(b'\n');
        if let Sink::Batch(b) = sink {
            b.push_printed(pre_start);
        }
        merge.consume(i);
        if let Some(k) = leaf {
            merge.consume(k);
        }
        Ok(true)
    }
}

/// The line of a record whose event is not known.
fn write_unknown(line: &mut Vec<u8>, opts: &Options, flags: i64) {
    line.extend_from_slice(b"[UNKNOWN EVENT]");
    if opts.raw {
        line.extend_from_slice(b"-0x");
        push_hex(line, flags as u32 as u64, false);
    } else if opts.dialect == Dialect::V3_3 || opts.latency {
        line.extend_from_slice(b"[UNKNOWN EVENT]");
    }
    line.extend_from_slice(b"[UNKNOWN EVENT]");
    line::write_event_name(line, b"(NULL)");
    line.extend_from_slice(b"[UNKNOWN EVENT]");
}

/// The info of a line printed without the report's state: the plugin's text (a plugin that
/// learns no comms and keeps no order), then the print format if the plugin asks for it.
#[allow(clippy::too_many_arguments)]
fn print_info<'a>(
    tep: &Tep<'a>,
    ev: &Event<'_, 'a>,
    hd: Option<&Handler>,
    ctx: &Ctx,
    state: &mut State,
    rec: &Rec,
    tail: &[u8],
    out: &mut Vec<u8>,
    tf: TimeFmt,
) {
    let pretty = match hd {
        Some(hd) => hd.print(ctx, state, None, rec, out, &|b: &mut Vec<u8>, t| {
            tf.write(b, t)
        }),
        None => true,
    };
    if pretty {
        tep.print_pretty_in(ev, tail, rec.data.len(), out);
    }
}

/// What [`Producer::step_job`] does with records of event `id` (see `LANE_*`), entered in
/// `lanes`: the choice `step` makes for each record of the parallel report.
#[cold]
#[allow(clippy::too_many_arguments)]
fn lane_of(
    lanes: &mut Vec<u32>,
    id: i32,
    tep: &Tep<'_>,
    infos: &[OnceLock<EvInfo>],
    opts: &Options,
    plugins_on: bool,
    raw_res: &[crate::filter::posix::PosixRegex],
    nohandle_res: &[crate::filter::posix::PosixRegex],
) -> u32 {
    let lane = match tep.event_index_by_id(id) {
        Some(k) if k < 1 << 30 => match tep.event_at(k) {
            Some(e) => {
                let evi = infos[k]
                    .get_or_init(|| make_ev_info(opts, plugins_on, raw_res, nohandle_res, &e));
                let kind = if !evi.order_free {
                    LANE_STEP
                } else if evi.handler.is_some() && !evi.print_raw && !opts.raw {
                    LANE_LEARN
                } else {
                    LANE_JOB
                };
                (k as u32) << 2 | kind
            }
            None => LANE_STEP,
        },
        // unknown events (and ids no table holds) stay with `step`
        _ => LANE_STEP,
    };
    if let Ok(at) = usize::try_from(id) {
        if at < 1 << 16 {
            if lanes.len() <= at {
                lanes.resize(at + 1, 0);
            }
            lanes[at] = lane;
        }
    }
    lane
}

/// The per-event decisions, made on the first record of each event type.
fn make_ev_info(
    opts: &Options,
    plugins_on: bool,
    raw_res: &[crate::filter::posix::PosixRegex],
    nohandle_res: &[crate::filter::posix::PosixRegex],
    ev: &Event<'_, '_>,
) -> EvInfo {
    let handler = if plugins_on && !matches_any(nohandle_res, ev) {
        let flags = ev.print_flags_for_field("prev_state").map(|f| {
            f.iter()
                .map(|s| {
                    (
                        crate::cnum::strtoull(s.value.as_bytes(), 0),
                        s.name.as_bytes().first().copied().unwrap_or(0),
                    )
                })
                .collect::<Vec<_>>()
        });
        plugins::handler_for(ev.format(), opts.dialect, flags.as_deref())
    } else {
        None
    };
    let print_raw = matches_any(raw_res, ev);
    let raw = opts.raw || print_raw;
    let order_free = ev.prints_statelessly(raw)
        && (raw || !handler.as_ref().is_some_and(|h| h.is_order_dependent()));
    let mut name_col = Vec::new();
    line::write_event_name(&mut name_col, ev.name().as_bytes());
    let reads = match &handler {
        _ if raw || !order_free => None,
        None => ev.pretty_reads(),
        Some(h) => h.reads_record_only().and_then(|field| {
            let mut r = ev.pretty_reads()?;
            if let Some((off, size)) = field {
                r.include(off, size);
            }
            Some(r)
        }),
    };
    EvInfo {
        handler,
        print_raw,
        order_free,
        name_col: name_col.into(),
        reads,
    }
}

impl FileState<'_, '_> {
    /// `tep_func_repeat_format` as trace-cmd sets it for func_repeats' `last_ts`.
    fn time_fmt_repeat(&self, opts: &Options) -> TimeFmt {
        if opts.raw_ts {
            TimeFmt::Raw
        } else {
            self.time_fmt
        }
    }
}

/// `common_type` and `common_pid`: libtraceevent reads them with the offsets and sizes of the
/// first event (lowest id) it knows (`trace_parse_common_type`, `parse_common_pid`).
struct CommonFields {
    ty: Option<(usize, usize)>,
    pid: Option<(usize, usize)>,
    /// A little-endian file with the type as a u16 at 0 and the pid as an int at 4.
    usual: bool,
}

impl CommonFields {
    fn of(tep: &Tep<'_>) -> Self {
        let first = tep.events().next();
        let get = |n: &str| {
            first.and_then(|e| {
                e.format()
                    .common_field(n)
                    .map(|f| (f.offset as usize, f.size as usize))
            })
        };
        let (ty, pid) = (get("common_type"), get("common_pid"));
        CommonFields {
            ty,
            pid,
            usual: tep.endian() == Endian::Little && ty == Some((0, 2)) && pid == Some((4, 4)),
        }
    }

    #[inline]
    fn event_type(&self, e: Endian, data: &[u8]) -> Option<i32> {
        let (off, size) = self.ty?;
        e.uint(data, off, size).map(|v| v as i32)
    }

    #[inline]
    fn pid(&self, e: Endian, data: &[u8]) -> i32 {
        self.pid
            .and_then(|(off, size)| e.uint(data, off, size))
            .unwrap_or(0) as u32 as i32
    }
}

/// `--debug`: trace-cmd's `init_cpu` reports every CPU slot without data.
fn empty_cpus(buf: &mut Vec<u8>, f: &TraceFile<'_>, buffer: usize) {
    let flyrecord = f
        .buffers()
        .get(buffer)
        .is_some_and(|b| matches!(b.data, crate::file::BufferData::Flyrecord { .. }));
    if !flyrecord {
        return;
    }
    for (cpu, _, size) in f.cpu_data_locations(buffer) {
        if size == 0 {
            let _ = writeln!(buf, "CPU {cpu} is empty");
        }
    }
}

/// `print_handle_file`: `"%*s: "` with the name, `"%*s  "` without.
fn write_prefix(buf: &mut Vec<u8>, name: Option<&str>, width: usize) {
    match name {
        Some(n) => {
            for _ in n.len()..width {
                buf.push(b' ');
            }
            buf.extend_from_slice(n.as_bytes());
            buf.extend_from_slice(b": ");
        }
        None => {
            buf.resize(buf.len() + width + 2, b' ');
        }
    }
}
