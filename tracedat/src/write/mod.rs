//! Writing trace.dat files, version 6 and 7, as trace-cmd's `lib/trace-cmd/trace-output.c`
//! writes them (the layouts are in `../shared/docs/tracecmd-reference.md` §1 and in
//! Documentation/trace-cmd/trace-cmd.dat.v6.5.txt / .v7.5.txt; [`crate::file`] reads them).
//!
//! A [`Writer`] is a stream: the file header, then the metadata pieces in their order
//! (header_page/header_event, ftrace formats, event systems, kallsyms, printk formats, saved
//! cmdlines), options, then each buffer's per-CPU data (the top buffer first, then instances),
//! and [`Writer::finish`]. What each version needs:
//!
//! - v7 (the default): every piece is a section (16–21), zstd- or zlib-compressed as one block
//!   when the file is compressed, located by an option. Options queue up and are written as
//!   an OPTIONS section before each buffer's data and at the end, chained through their DONE
//!   options. Each buffer is a BUFFER section (page-aligned per-CPU data, in 10-page compressed
//!   chunks when compressed) plus a BUFFER option listing only the CPUs that have data.
//!   Section descriptions go to one STRINGS section at the end. The saved cmdlines, known only
//!   after a recording, may be given at any point before `finish`.
//! - v6: everything is strictly sequential: the pieces in order (a piece not given is written
//!   empty), the CPU count, the options, then `flyrecord` tables whose offsets and sizes are
//!   patched once the data is written, each followed by the `[clock]` text. Instances must be
//!   declared up front ([`Config::instances`]): their BUFFER options precede all data.
//! - latency tracer output (`trace` text instead of ring-buffer pages) replaces the buffers:
//!   [`Writer::write_latency`].
//!
//! Deviations from trace-cmd, on purpose: integers inside options (CPUCOUNT, TRACEID,
//! TSC2NSEC, BUFFER) and the chunk count are written in the file's byte order (trace-cmd uses
//! the host's, which only differs for files of the other byte order); the size of a CPU's
//! compressed data includes its 4-byte chunk count (as trace-cmd 3.3.1 writes it; 3.1.6 leaves
//! it out; readers use it only to check the data lies inside the file); a v7 latency file gets
//! its options and strings before the text, so that the text runs to the end of the file,
//! which is where trace-cmd's reader takes uncompressed latency text to end; section
//! description strings are stored once each.
//!
//! The file appears under its name only when [`Writer::finish`] succeeds: it is written as
//! `NAME.tmp.PID` beside the target, synced and renamed. A writer dropped before that (an
//! error, a cancel request from [`Writer::set_cancel`]) removes the temporary file, and the
//! file magic is written last, so what a killed process leaves behind is not a trace.dat.

pub mod convert;
mod encode;
mod out;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::endian::Endian;
use crate::file::compress::Codec;
use crate::file::options::id;
use crate::file::{EventSystem, MAGIC, SEC_FL_COMPRESS};
pub use encode::codec_version;
use out::Output;

/// trace-cmd's `PAGES_IN_CHUNK`: pages per compressed chunk of per-CPU data.
pub const PAGES_IN_CHUNK: usize = 10;

/// Page size trace-cmd uses to cut latency text into chunks (`getpagesize()`).
const LATENCY_PAGE: usize = 4096;

/// Chunks compressed together on the thread pool.
const CHUNKS_PER_BATCH: usize = 16;

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing, syncing or renaming the output failed (disk full, I/O error...).
    #[error("{}: {what}", path.display())]
    Io {
        /// The file being written (its final name).
        path: PathBuf,
        /// What was being written.
        what: String,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// Reading data to put in the file failed, or it ended early.
    #[error("{what}")]
    Source {
        /// Which data, from where.
        what: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A piece too large for its size field.
    #[error("{what}: {size:#x} bytes do not fit the format's {bits}-bit size field")]
    TooLarge {
        /// What was too large.
        what: String,
        /// Its size.
        size: u64,
        /// Bits of the size field.
        bits: u32,
    },
    /// Writing was cancelled ([`Writer::set_cancel`]); the file was not created.
    #[error("{}: interrupted while {what}", path.display())]
    Interrupted {
        /// The file that was being written.
        path: PathBuf,
        /// What was being written.
        what: String,
    },
    /// The writer was asked for something the format or the order of writing cannot do.
    #[error("{0}")]
    Usage(String),
}

/// Result alias of the writer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// File format version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileVersion {
    /// Sequential layout, no compression (trace-cmd ≤ 2.9 and `--file-version 6`).
    V6,
    /// Sections, options chain, optional compression (trace-cmd ≥ 3.0's default).
    V7,
}

impl FileVersion {
    fn text(self) -> &'static [u8] {
        match self {
            FileVersion::V6 => b"6\0",
            FileVersion::V7 => b"7\0",
        }
    }
}

/// What to write: the initial header's fields and the choices made before anything is written.
#[derive(Clone, Debug)]
pub struct Config {
    /// File version.
    pub version: FileVersion,
    /// Compression of metadata sections and per-CPU data (v7 only).
    pub compression: Option<Codec>,
    /// Byte order of the file; must be the byte order of the ring-buffer pages written.
    pub endian: Endian,
    /// `sizeof(long)` of the recording user space.
    pub long_size: u8,
    /// Sub-buffer size of the top buffer (from header_page: `tep_get_sub_buffer_size`).
    pub page_size: u32,
    /// CPU count: the v6 count field, the v7 CPUCOUNT option.
    pub cpus: u32,
    /// v6: the instances whose data will follow the top buffer's, in that order (their BUFFER
    /// options precede all data). v7 needs no declaration.
    pub instances: Vec<String>,
}

impl Config {
    /// v7, zstd (trace-cmd's default), the host's byte order and long size.
    pub fn new(page_size: u32, cpus: u32) -> Config {
        Config {
            version: FileVersion::V7,
            compression: Some(Codec::Zstd),
            endian: if cfg!(target_endian = "big") {
                Endian::Big
            } else {
                Endian::Little
            },
            long_size: std::mem::size_of::<std::ffi::c_long>() as u8,
            page_size,
            cpus,
            instances: Vec::new(),
        }
    }
}

/// An option (`TRACECMD_OPTION_*`), encoded as trace-cmd's `record` encodes it.
#[derive(Clone, Copy, Debug)]
pub enum TraceOption<'a> {
    /// DATE: µs from the trace clock to gettimeofday (`record --date`), as `"0x%llx"`.
    Date {
        /// The difference in µs.
        usecs: i64,
    },
    /// OFFSET: `record --ts-offset`'s argument as given (ns, any base `strtoll` reads).
    Offset(&'a str),
    /// CPUSTAT: one CPU's `per_cpu/cpuN/stats` text, after a `"CPU: N\n"` line.
    CpuStat {
        /// The CPU.
        cpu: u32,
        /// The stats file text.
        stats: &'a [u8],
    },
    /// CPUSTAT separator before an instance's CPUSTATs: `"\nBuffer: NAME\n\n"`.
    BufferStats {
        /// The instance.
        name: &'a str,
    },
    /// TRACECLOCK: the whole `trace_clock` file text (`[local] global ...`).
    TraceClock(&'a [u8]),
    /// UNAME: `"sysname nodename release machine"`.
    Uname(&'a str),
    /// HOOK: a `record -H` hook.
    Hook(&'a str),
    /// VERSION: the writing program's version.
    Version(&'a str),
    /// PROCMAPS: `record --proc-map` text.
    ProcMaps(&'a [u8]),
    /// TRACEID: the session id.
    TraceId(u64),
    /// TSC2NSEC: conversion of TSC timestamps to ns.
    Tsc2Nsec {
        /// Multiplier.
        mult: u32,
        /// Shift.
        shift: u32,
        /// Offset.
        offset: u64,
    },
    /// Any option as id and payload bytes (TIME_SHIFT, GUEST, ..., or one copied from a file).
    Raw {
        /// Option id.
        id: u16,
        /// Payload.
        data: &'a [u8],
    },
}

fn with_nul(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s);
    v.push(0);
    v
}

impl TraceOption<'_> {
    fn encode(&self, e: Endian) -> (u16, Vec<u8>) {
        match *self {
            // trace-cmd prints "0x%llx", which readers' strtoll would saturate for a negative
            // difference; a sign keeps it readable (a recording never has one in practice).
            TraceOption::Date { usecs } if usecs < 0 => (
                id::DATE,
                with_nul(format!("-{:#x}", usecs.unsigned_abs()).as_bytes()),
            ),
            TraceOption::Date { usecs } => (id::DATE, with_nul(format!("{usecs:#x}").as_bytes())),
            TraceOption::Offset(s) => (id::OFFSET, with_nul(s.as_bytes())),
            TraceOption::CpuStat { cpu, stats } => {
                let mut v = format!("CPU: {cpu}\n").into_bytes();
                v.extend_from_slice(stats);
                v.push(0);
                (id::CPUSTAT, v)
            }
            TraceOption::BufferStats { name } => (
                id::CPUSTAT,
                with_nul(format!("\nBuffer: {name}\n\n").as_bytes()),
            ),
            // trace-cmd writes an empty payload when it cannot read trace_clock.
            TraceOption::TraceClock([]) => (id::TRACECLOCK, Vec::new()),
            TraceOption::TraceClock(t) => (id::TRACECLOCK, with_nul(t)),
            TraceOption::Uname(s) => (id::UNAME, with_nul(s.as_bytes())),
            TraceOption::Hook(s) => (id::HOOK, with_nul(s.as_bytes())),
            TraceOption::Version(s) => (id::VERSION, with_nul(s.as_bytes())),
            TraceOption::ProcMaps(t) => (id::PROCMAPS, with_nul(t)),
            TraceOption::TraceId(n) => (id::TRACEID, e.bytes64(n).to_vec()),
            TraceOption::Tsc2Nsec {
                mult,
                shift,
                offset,
            } => {
                let mut v = e.bytes32(mult).to_vec();
                v.extend_from_slice(&e.bytes32(shift));
                v.extend_from_slice(&e.bytes64(offset));
                (id::TSC2NSEC, v)
            }
            TraceOption::Raw { id, data } => (id, data.to_vec()),
        }
    }
}

/// Where one CPU's data comes from. The data is whole sub-buffers (pages) as read from
/// `per_cpu/cpuN/trace_pipe_raw`, in the file's byte order.
pub enum CpuSource<'a> {
    /// The CPU has no data.
    Empty,
    /// Bytes in memory (a mapped file).
    Bytes(&'a [u8]),
    /// `len` bytes of a file from `offset` (a recorder's spool file). Uncompressed, the kernel
    /// copies them (`copy_file_range`); user space never touches the bytes.
    File {
        /// The file.
        file: &'a File,
        /// Where the data starts.
        offset: u64,
        /// How many bytes.
        len: u64,
        /// Its name, for errors.
        name: &'a str,
    },
    /// Pieces of files, one after the other (a recorder's two alternating spool files when
    /// it keeps only the newest data: the older piece first). Uncompressed, the kernel copies
    /// them.
    Parts(Vec<FilePart<'a>>),
    /// Anything else, read to its end.
    Reader {
        /// The data.
        reader: Box<dyn Read + Send + 'a>,
        /// Its name, for errors.
        name: String,
    },
}

/// `len` bytes of a file from `offset`: one piece of a [`CpuSource::Parts`].
#[derive(Clone, Copy, Debug)]
pub struct FilePart<'a> {
    /// The file.
    pub file: &'a File,
    /// Where the piece starts.
    pub offset: u64,
    /// How many bytes.
    pub len: u64,
    /// Its name, for errors.
    pub name: &'a str,
}

impl CpuSource<'_> {
    /// The size, when known without reading.
    fn known_len(&self) -> Option<u64> {
        match self {
            CpuSource::Empty => Some(0),
            CpuSource::Bytes(b) => Some(b.len() as u64),
            CpuSource::File { len, .. } => Some(*len),
            CpuSource::Parts(p) => Some(p.iter().map(|p| p.len).sum()),
            CpuSource::Reader { .. } => None,
        }
    }
}

/// A buffer to write: the top one (name `""`) or an instance.
#[derive(Clone, Copy, Debug)]
pub struct BufferSpec<'a> {
    /// Instance name; `""` for the top buffer.
    pub name: &'a str,
    /// Its trace clock (v7 BUFFER option; v6 `[clock]` text).
    pub clock: &'a str,
    /// Its sub-buffer size (v7; v6 files have one page size, the header's).
    pub page_size: u32,
}

/// Where one CPU's data went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuWritten {
    /// The CPU.
    pub cpu: u32,
    /// File offset of its data (page-aligned; for a CPU without data, where it would have
    /// started).
    pub offset: u64,
    /// Bytes in the file (for compressed data: the chunk count and chunks).
    pub size: u64,
    /// Bytes of pages before compression.
    pub uncompressed: u64,
}

/// Reads the next batch of input; fewer bytes than asked only at the end.
type Fill<'a> = dyn FnMut(&mut [u8]) -> io::Result<usize> + Send + 'a;

/// Metadata pieces in file order (v7 section ids 16–21).
const PIECES: [(u16, &str); 6] = [
    (id::HEADER_INFO, "headers"),
    (id::FTRACE_EVENTS, "ftrace events"),
    (id::EVENT_FORMATS, "events format"),
    (id::KALLSYMS, "kallsyms"),
    (id::PRINTK, "printk"),
    (id::CMDLINES, "command lines"),
];
const CMDLINES: usize = 5;

/// A v6 instance declared in [`Config::instances`]: where its BUFFER option's offset field is.
struct V6Instance {
    name: String,
    patch_at: Option<u64>,
    written: bool,
}

/// A trace.dat file being written (see the module docs for the order of calls).
pub struct Writer {
    out: Output,
    cfg: Config,
    /// Index of the next metadata piece (v7: cmdlines may still come after this passed it).
    next_piece: usize,
    cmdlines_done: bool,
    /// Options not yet written.
    pending: Vec<(u16, Vec<u8>)>,
    /// Section descriptions (STRINGS), each stored once.
    strings: Vec<u8>,
    /// v7: where the first options offset (header) or the last DONE's next pointer is.
    chain_patch: u64,
    options_sections: usize,
    /// v6: the options block and CPU count are written.
    v6_options_done: bool,
    v6_instances: Vec<V6Instance>,
    /// v6: the file so far ends with a flyrecord table and its clock (a buffer without data).
    v6_ends_in_table: bool,
    /// Buffers written, by name.
    buffers: Vec<String>,
    /// A latency text was written: nothing may follow.
    closed: bool,
}

fn usage<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Usage(msg.into()))
}

impl Writer {
    /// Creates the temporary file beside `path` and writes the initial header.
    pub fn create(path: impl AsRef<Path>, cfg: Config) -> Result<Writer> {
        let path = path.as_ref();
        if cfg.version == FileVersion::V6 && cfg.compression.is_some() {
            return usage("file version 6 cannot be compressed");
        }
        if cfg.page_size == 0 {
            return usage("page size 0");
        }
        let out = Output::create(path)?;
        let v6_instances = if cfg.version == FileVersion::V6 {
            cfg.instances
                .iter()
                .map(|n| V6Instance {
                    name: n.clone(),
                    patch_at: None,
                    written: false,
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut w = Writer {
            out,
            cfg,
            next_piece: 0,
            cmdlines_done: false,
            pending: Vec::new(),
            strings: Vec::new(),
            chain_patch: 0,
            options_sections: 0,
            v6_options_done: false,
            v6_instances,
            v6_ends_in_table: false,
            buffers: Vec::new(),
            closed: false,
        };
        w.write_header()?;
        Ok(w)
    }

    /// Makes every later write fail with [`Error::Interrupted`] once `flag` is set (a signal
    /// handler's flag): the writer then drops without leaving a file.
    pub fn set_cancel(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.out.set_cancel(flag);
    }

    /// Leaves out the syncs of [`Writer::finish`]: for scratch files that are read at once
    /// and removed (`stream`'s batches), where durability buys nothing.
    pub fn no_sync(&mut self) {
        self.out.no_sync();
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The path the finished file will have.
    pub fn path(&self) -> &Path {
        self.out.target()
    }

    /// The temporary file being written.
    pub fn temp_path(&self) -> &Path {
        self.out.tmp_path()
    }

    fn e(&self) -> Endian {
        self.cfg.endian
    }

    fn v7(&self) -> bool {
        self.cfg.version == FileVersion::V7
    }

    fn write_header(&mut self) -> Result<()> {
        let e = self.e();
        // The magic is written last (`finish`): a file cut short is not a trace.dat at all.
        let mut h = vec![0u8; MAGIC.len()];
        h.extend_from_slice(self.cfg.version.text());
        h.push(match e {
            Endian::Little => 0,
            Endian::Big => 1,
        });
        h.push(self.cfg.long_size);
        h.extend_from_slice(&e.bytes32(self.cfg.page_size));
        if self.v7() {
            match self.cfg.compression {
                Some(c) => {
                    h.extend_from_slice(&with_nul(c.name().as_bytes()));
                    h.extend_from_slice(&with_nul(codec_version(c).as_bytes()));
                }
                None => h.extend_from_slice(b"none\0\0"),
            }
            self.chain_patch = h.len() as u64;
            h.extend_from_slice(&[0; 8]);
        }
        self.out.write(&h)
    }

    /// The offset of `s` in the STRINGS (added when new).
    fn string(&mut self, s: &str) -> u32 {
        let mut at = 0;
        for piece in self.strings.split(|&b| b == 0) {
            if piece == s.as_bytes() && at < self.strings.len() {
                return at as u32;
            }
            at += piece.len() + 1;
        }
        let at = self.strings.len();
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        at as u32
    }

    fn check_open(&self) -> Result<()> {
        if self.closed {
            return usage("nothing can be written after the latency text");
        }
        Ok(())
    }

    // ----- metadata ----------------------------------------------------------------------

    /// HEADER_INFO: `events/header_page` and `events/header_event` texts.
    pub fn header_info(&mut self, header_page: &[u8], header_event: &[u8]) -> Result<()> {
        let mut p = Vec::with_capacity(header_page.len() + header_event.len() + 41);
        p.extend_from_slice(b"header_page\0");
        p.extend_from_slice(&self.e().bytes64(header_page.len() as u64));
        p.extend_from_slice(header_page);
        p.extend_from_slice(b"header_event\0");
        p.extend_from_slice(&self.e().bytes64(header_event.len() as u64));
        p.extend_from_slice(header_event);
        self.piece(0, &p)
    }

    /// FTRACE_EVENTS: the `events/ftrace/*/format` texts.
    pub fn ftrace_events(&mut self, formats: &[&[u8]]) -> Result<()> {
        let e = self.e();
        let mut p = Vec::new();
        p.extend_from_slice(&e.bytes32(count32(formats.len(), "ftrace formats")?));
        for f in formats {
            p.extend_from_slice(&e.bytes64(f.len() as u64));
            p.extend_from_slice(f);
        }
        self.piece(1, &p)
    }

    /// EVENT_FORMATS: the other event systems and their `format` texts.
    pub fn event_systems(&mut self, systems: &[EventSystem<'_>]) -> Result<()> {
        let e = self.e();
        let mut p = Vec::new();
        p.extend_from_slice(&e.bytes32(count32(systems.len(), "event systems")?));
        for s in systems {
            if s.name.contains(&0) {
                return usage(format!(
                    "event system name {:?} contains a NUL",
                    String::from_utf8_lossy(s.name)
                ));
            }
            p.extend_from_slice(s.name);
            p.push(0);
            p.extend_from_slice(&e.bytes32(count32(s.formats.len(), "event formats")?));
            for f in &s.formats {
                p.extend_from_slice(&e.bytes64(f.len() as u64));
                p.extend_from_slice(f);
            }
        }
        self.piece(2, &p)
    }

    /// KALLSYMS: `/proc/kallsyms` text.
    pub fn kallsyms(&mut self, text: &[u8]) -> Result<()> {
        let p = self.sized32(text, "kallsyms")?;
        self.piece(3, &p)
    }

    /// PRINTK: `printk_formats` text.
    pub fn printk_formats(&mut self, text: &[u8]) -> Result<()> {
        let p = self.sized32(text, "printk formats")?;
        self.piece(4, &p)
    }

    /// CMDLINES: `saved_cmdlines` text. v6: before any data; v7: any time before `finish`.
    pub fn cmdlines(&mut self, text: &[u8]) -> Result<()> {
        let mut p = Vec::with_capacity(text.len() + 8);
        p.extend_from_slice(&self.e().bytes64(text.len() as u64));
        p.extend_from_slice(text);
        self.piece(CMDLINES, &p)
    }

    fn sized32(&self, text: &[u8], what: &str) -> Result<Vec<u8>> {
        let n = u32::try_from(text.len()).map_err(|_| Error::TooLarge {
            what: what.into(),
            size: text.len() as u64,
            bits: 32,
        })?;
        let mut p = Vec::with_capacity(text.len() + 4);
        p.extend_from_slice(&self.e().bytes32(n));
        p.extend_from_slice(text);
        Ok(p)
    }

    fn piece(&mut self, idx: usize, payload: &[u8]) -> Result<()> {
        self.check_open()?;
        let (sec, desc) = PIECES[idx];
        let late_cmdlines = idx == CMDLINES && self.v7() && !self.cmdlines_done;
        if idx < self.next_piece && !late_cmdlines {
            return usage(format!(
                "{desc}: written after a later part of the file (v6 metadata is sequential; \
                 only v7 takes the command lines late)"
            ));
        }
        if idx == CMDLINES && self.cmdlines_done {
            return usage("command lines written twice");
        }
        if self.v7() {
            self.out.doing(format!("writing section {sec} ({desc})"));
            let at = self.section(sec, desc, payload, true)?;
            self.pending.push((sec, self.e().bytes64(at).to_vec()));
        } else {
            self.v6_pieces_up_to(idx)?;
            self.out.doing(format!("writing the {desc}"));
            self.out.write(payload)?;
        }
        if idx == CMDLINES {
            self.cmdlines_done = true;
        }
        self.next_piece = self.next_piece.max(idx + 1);
        Ok(())
    }

    /// v6: writes the pieces before `idx` that were not given, empty.
    fn v6_pieces_up_to(&mut self, idx: usize) -> Result<()> {
        while self.next_piece < idx {
            let e = self.e();
            let p: Vec<u8> = match self.next_piece {
                0 => {
                    let mut v = b"header_page\0".to_vec();
                    v.extend_from_slice(&[0; 8]);
                    v.extend_from_slice(b"header_event\0");
                    v.extend_from_slice(&[0; 8]);
                    v
                }
                1..=4 => e.bytes32(0).to_vec(),
                _ => e.bytes64(0).to_vec(),
            };
            self.out
                .doing(format!("writing the empty {}", PIECES[self.next_piece].1));
            self.out.write(&p)?;
            if self.next_piece == CMDLINES {
                self.cmdlines_done = true;
            }
            self.next_piece += 1;
        }
        Ok(())
    }

    /// Writes a section with a known payload; returns the header's offset.
    fn section(&mut self, sec: u16, desc: &str, payload: &[u8], compress: bool) -> Result<u64> {
        let codec = if compress { self.cfg.compression } else { None };
        let block;
        let body = match codec {
            Some(c) => {
                block = encode::block(c, self.e(), payload).map_err(|e| self.out.err(e))?;
                &block[..]
            }
            None => payload,
        };
        let at = self.out.pos();
        let hdr = self.section_header(sec, desc, codec.is_some(), body.len() as u64);
        self.out.write(&hdr)?;
        self.out.write(body)?;
        Ok(at)
    }

    fn section_header(&mut self, sec: u16, desc: &str, compressed: bool, size: u64) -> [u8; 16] {
        let e = self.e();
        let desc_id = self.string(desc);
        let mut h = [0u8; 16];
        h[0..2].copy_from_slice(&e.bytes16(sec));
        h[2..4].copy_from_slice(&e.bytes16(if compressed { SEC_FL_COMPRESS } else { 0 }));
        h[4..8].copy_from_slice(&e.bytes32(desc_id));
        h[8..16].copy_from_slice(&e.bytes64(size));
        h
    }

    // ----- options -------------------------------------------------------------------------

    /// Queues an option. v6: only before the first data; v7: any time before `finish`.
    pub fn add_option(&mut self, opt: TraceOption<'_>) -> Result<()> {
        self.check_open()?;
        if !self.v7() && self.v6_options_done {
            return usage("v6 options cannot be added once the data is written");
        }
        let (oid, data) = opt.encode(self.e());
        if oid == id::DONE {
            return usage("option id 0 (DONE) is the end marker, not an option");
        }
        u32::try_from(data.len()).map_err(|_| Error::TooLarge {
            what: format!("option {oid}"),
            size: data.len() as u64,
            bits: 32,
        })?;
        self.pending.push((oid, data));
        Ok(())
    }

    /// v7: writes the queued options as an OPTIONS section linked into the chain. With
    /// `always`, writes one even when nothing is queued, if the chain is still empty.
    fn flush_options(&mut self, always: bool) -> Result<()> {
        if self.pending.is_empty() && !(always && self.options_sections == 0) {
            return Ok(());
        }
        self.out.doing("writing an options section");
        let sec = self.options_section(&[])?;
        self.out.write(&sec.bytes)?;
        Ok(())
    }

    /// Builds the next OPTIONS section (queued options + `extra` + DONE) at the current
    /// position, links it into the chain, and returns its bytes and where, inside them, the
    /// payload of each `extra` option is.
    fn options_section(&mut self, extra: &[(u16, &[u8])]) -> Result<BuiltSection> {
        let e = self.e();
        let at = self.out.pos();
        // The CPU count goes last in the first options section, as trace-cmd adds it just
        // before it writes the options that precede the data.
        if self.options_sections == 0 {
            self.pending
                .push((id::CPUCOUNT, e.bytes32(self.cfg.cpus).to_vec()));
        }
        let pending = std::mem::take(&mut self.pending);
        let size: usize = pending
            .iter()
            .map(|(_, d)| 6 + d.len())
            .chain(extra.iter().map(|(_, d)| 6 + d.len()))
            .sum::<usize>()
            + 14;
        let mut b = Vec::with_capacity(16 + size);
        b.extend_from_slice(&self.section_header(id::DONE, "options", false, size as u64));
        for (oid, d) in &pending {
            b.extend_from_slice(&e.bytes16(*oid));
            b.extend_from_slice(&e.bytes32(d.len() as u32));
            b.extend_from_slice(d);
        }
        let mut extra_at = Vec::new();
        for (oid, d) in extra {
            b.extend_from_slice(&e.bytes16(*oid));
            b.extend_from_slice(&e.bytes32(d.len() as u32));
            extra_at.push(b.len());
            b.extend_from_slice(d);
        }
        b.extend_from_slice(&e.bytes16(id::DONE));
        b.extend_from_slice(&e.bytes32(8));
        let done_at = at + b.len() as u64;
        b.extend_from_slice(&[0; 8]);
        self.out.patch(self.chain_patch, &e.bytes64(at))?;
        self.chain_patch = done_at;
        self.options_sections += 1;
        Ok(BuiltSection { bytes: b, extra_at })
    }

    /// v6: everything up to the data: missing pieces, CPU count, options (with the declared
    /// instances' BUFFER options).
    fn v6_before_data(&mut self) -> Result<()> {
        if self.v6_options_done {
            return Ok(());
        }
        self.v6_pieces_up_to(PIECES.len())?;
        let e = self.e();
        self.out.doing("writing the CPU count");
        self.out.write(&e.bytes32(self.cfg.cpus))?;
        self.out.doing("writing the options");
        self.out.write(b"options  \0")?;
        for (oid, d) in std::mem::take(&mut self.pending) {
            self.out.write(&e.bytes16(oid))?;
            self.out.write(&e.bytes32(d.len() as u32))?;
            self.out.write(&d)?;
        }
        for i in 0..self.v6_instances.len() {
            let name = self.v6_instances[i].name.clone();
            let size = 8 + name.len() as u32 + 1;
            self.out.write(&e.bytes16(id::BUFFER))?;
            self.out.write(&e.bytes32(size))?;
            self.v6_instances[i].patch_at = Some(self.out.pos());
            self.out.write(&[0; 8])?;
            self.out.write(&with_nul(name.as_bytes()))?;
        }
        self.out.write(&e.bytes16(id::DONE))?;
        self.v6_options_done = true;
        Ok(())
    }

    // ----- data ------------------------------------------------------------------------------

    /// Writes one buffer's per-CPU data; `cpus[i]` is CPU `i`'s. The top buffer (`name ""`)
    /// comes first. Returns where each CPU's data went.
    pub fn write_buffer(
        &mut self,
        spec: BufferSpec<'_>,
        cpus: Vec<CpuSource<'_>>,
    ) -> Result<Vec<CpuWritten>> {
        self.check_open()?;
        if self.buffers.iter().any(|b| b == spec.name) {
            return usage(format!("buffer {:?} written twice", spec.name));
        }
        if spec.page_size == 0 {
            return usage(format!("buffer {:?}: page size 0", spec.name));
        }
        if spec.clock.contains('\0') || spec.name.contains('\0') {
            return usage(format!("buffer {:?}: NUL in its name or clock", spec.name));
        }
        let written = if self.v7() {
            self.write_buffer_v7(spec, cpus)?
        } else {
            self.write_buffer_v6(spec, cpus)?
        };
        self.buffers.push(spec.name.to_string());
        Ok(written)
    }

    fn write_buffer_v7(
        &mut self,
        spec: BufferSpec<'_>,
        cpus: Vec<CpuSource<'_>>,
    ) -> Result<Vec<CpuWritten>> {
        let e = self.e();
        self.flush_options(true)?;
        let desc = format!("buffer flyrecord {}", spec.name);
        self.out.doing(format!(
            "writing the BUFFER section of buffer {:?}",
            spec.name
        ));
        let sec_at = self.out.pos();
        let compressed = self.cfg.compression.is_some();
        let hdr = self.section_header(id::BUFFER, &desc, compressed, 0);
        self.out.write(&hdr)?;
        let mut written = Vec::with_capacity(cpus.len());
        for (cpu, src) in cpus.into_iter().enumerate() {
            let w = self.write_cpu(spec, cpu as u32, src, self.cfg.compression)?;
            written.push(w);
        }
        let end = self.out.pos().max(sec_at + 16);
        self.out.patch(sec_at + 8, &e.bytes64(end - sec_at - 16))?;
        // BUFFER option: section offset, name, clock, page size, then the CPUs with data.
        let listed: Vec<&CpuWritten> = written.iter().filter(|w| w.size > 0).collect();
        let mut o = e.bytes64(sec_at).to_vec();
        o.extend_from_slice(&with_nul(spec.name.as_bytes()));
        o.extend_from_slice(&with_nul(spec.clock.as_bytes()));
        o.extend_from_slice(&e.bytes32(spec.page_size));
        o.extend_from_slice(&e.bytes32(listed.len() as u32));
        for w in listed {
            o.extend_from_slice(&e.bytes32(w.cpu));
            o.extend_from_slice(&e.bytes64(w.offset));
            o.extend_from_slice(&e.bytes64(w.size));
        }
        self.pending.push((id::BUFFER, o));
        self.flush_options(false)?;
        Ok(written)
    }

    fn write_buffer_v6(
        &mut self,
        spec: BufferSpec<'_>,
        cpus: Vec<CpuSource<'_>>,
    ) -> Result<Vec<CpuWritten>> {
        let e = self.e();
        if spec.page_size != self.cfg.page_size {
            return usage(format!(
                "buffer {:?}: page size {} in a v6 file whose page size is {} (v6 has one)",
                spec.name, spec.page_size, self.cfg.page_size
            ));
        }
        let n = self.cfg.cpus as usize;
        if cpus.len() > n {
            return usage(format!(
                "buffer {:?}: data for {} CPUs in a v6 file of {n} CPUs",
                spec.name,
                cpus.len()
            ));
        }
        let top = spec.name.is_empty();
        if top != self.buffers.is_empty() {
            return usage(if top {
                "the top buffer must be written before the instances".to_string()
            } else {
                format!(
                    "instance {:?} written before the top buffer (v6 files start with it)",
                    spec.name
                )
            });
        }
        let inst = if top {
            None
        } else {
            Some(
                self.v6_instances
                    .iter()
                    .position(|i| i.name == spec.name)
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "instance {:?} was not declared in Config::instances (v6 lists \
                             instances before the data)",
                            spec.name
                        ))
                    })?,
            )
        };
        self.v6_before_data()?;
        self.out.doing(format!(
            "writing the flyrecord table of buffer {:?}",
            spec.name
        ));
        let tag_at = self.out.pos();
        self.out.write(b"flyrecord\0")?;
        let table_at = self.out.pos();
        self.out.write(&vec![0u8; 16 * n])?;
        let clock = format!("[{}]", spec.clock);
        self.out.write(&e.bytes64(clock.len() as u64))?;
        self.out.write(clock.as_bytes())?;
        if let Some(i) = inst {
            let at = self.v6_instances[i].patch_at.expect("set with the options");
            self.out.patch(at, &e.bytes64(tag_at))?;
            self.v6_instances[i].written = true;
        }
        let mut written = Vec::with_capacity(n);
        let mut srcs = cpus.into_iter();
        for cpu in 0..n {
            let src = srcs.next().unwrap_or(CpuSource::Empty);
            let w = self.write_cpu(spec, cpu as u32, src, None)?;
            let mut ent = [0u8; 16];
            ent[..8].copy_from_slice(&e.bytes64(w.offset));
            ent[8..].copy_from_slice(&e.bytes64(w.size));
            self.out.patch(table_at + 16 * cpu as u64, &ent)?;
            written.push(w);
        }
        self.v6_ends_in_table = written.iter().all(|w| w.size == 0);
        Ok(written)
    }

    /// One CPU's data at the next `page_size`-aligned offset (nothing is written when it has
    /// none).
    fn write_cpu(
        &mut self,
        spec: BufferSpec<'_>,
        cpu: u32,
        src: CpuSource<'_>,
        codec: Option<Codec>,
    ) -> Result<CpuWritten> {
        let ps = spec.page_size as u64;
        let offset = self.out.pos().div_ceil(ps) * ps;
        let mut w = CpuWritten {
            cpu,
            offset,
            size: 0,
            uncompressed: 0,
        };
        if src.known_len() == Some(0) {
            return Ok(w);
        }
        self.out
            .doing(format!("writing CPU {cpu} data of buffer {:?}", spec.name));
        match codec {
            None => {
                let n = self.copy_plain(offset, src)?;
                w.size = n;
                w.uncompressed = n;
            }
            Some(c) => {
                let chunk = PAGES_IN_CHUNK * spec.page_size as usize;
                let (size, raw) = self.copy_compressed(offset, src, c, chunk)?;
                w.size = size;
                w.uncompressed = raw;
            }
        }
        if w.size == 0 {
            // A reader that turned out empty: nothing was written.
            w.offset = offset;
        }
        Ok(w)
    }

    /// Copies `src` as is from `offset` on; returns the bytes copied.
    fn copy_plain(&mut self, offset: u64, src: CpuSource<'_>) -> Result<u64> {
        match src {
            CpuSource::Empty => Ok(0),
            CpuSource::Bytes(b) => {
                self.out.skip_to(offset)?;
                self.out.write(b)?;
                Ok(b.len() as u64)
            }
            CpuSource::File {
                file,
                offset: from,
                len,
                name,
            } => {
                self.out.skip_to(offset)?;
                self.out.copy_from(file, from, len, name)?;
                Ok(len)
            }
            CpuSource::Parts(parts) => {
                self.out.skip_to(offset)?;
                let mut total = 0;
                for p in parts {
                    self.out.copy_from(p.file, p.offset, p.len, p.name)?;
                    total += p.len;
                }
                Ok(total)
            }
            CpuSource::Reader { mut reader, name } => {
                let mut buf = vec![0u8; 1 << 20];
                let mut total = 0u64;
                loop {
                    let n = read_full(&mut *reader, &mut buf).map_err(|e| Error::Source {
                        what: format!("{name}: reading at byte {total:#x}"),
                        source: e,
                    })?;
                    if n == 0 {
                        break;
                    }
                    if total == 0 {
                        self.out.skip_to(offset)?;
                    }
                    self.out.write(&buf[..n])?;
                    total += n as u64;
                }
                Ok(total)
            }
        }
    }

    /// Writes `src` as `u32 count` + chunks `{u32 csize, u32 usize, bytes}` from `offset` on
    /// (`tracecmd_compress_copy_from`); returns (bytes in the file, bytes of input). Batches of
    /// chunks are compressed on the thread pool while the next batch is read.
    fn copy_compressed(
        &mut self,
        offset: u64,
        src: CpuSource<'_>,
        codec: Codec,
        chunk: usize,
    ) -> Result<(u64, u64)> {
        let batch_bytes = chunk * CHUNKS_PER_BATCH;
        let mut z = Chunked {
            offset,
            batch: encode::Batch::new(),
            count: 0,
            total: 0,
            started: false,
        };
        let (name, mut fill): (String, Box<Fill<'_>>) = match src {
            CpuSource::Empty => return Ok((0, 0)),
            CpuSource::Bytes(b) => {
                // Mapped input: compress straight from it, no copy.
                for piece in b.chunks(batch_bytes) {
                    z.batch
                        .compress(codec, piece, chunk)
                        .map_err(|err| self.out.err(err))?;
                    z.emit(self, piece.len())?;
                }
                return z.end(self);
            }
            CpuSource::File {
                file,
                offset: from,
                len,
                name,
            } => {
                let mut at = from;
                let end = from + len;
                (
                    name.to_string(),
                    Box::new(move |buf: &mut [u8]| {
                        let want = (end - at).min(buf.len() as u64) as usize;
                        let n = out::read_full_at(file, &mut buf[..want], at)?;
                        at += n as u64;
                        if n < want {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                format!("the file ends {:#x} bytes early", end - at),
                            ));
                        }
                        Ok(n)
                    }),
                )
            }
            CpuSource::Parts(parts) => {
                let name = parts.iter().map(|p| p.name).collect::<Vec<_>>().join(" + ");
                let mut i = 0;
                let mut at = parts.first().map_or(0, |p| p.offset);
                (
                    name,
                    Box::new(move |buf: &mut [u8]| {
                        let mut got = 0;
                        while got < buf.len() && i < parts.len() {
                            let p = parts[i];
                            let end = p.offset + p.len;
                            if at >= end {
                                i += 1;
                                at = parts.get(i).map_or(0, |p| p.offset);
                                continue;
                            }
                            let want = (end - at).min((buf.len() - got) as u64) as usize;
                            let n = out::read_full_at(p.file, &mut buf[got..got + want], at)?;
                            if n < want {
                                return Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    format!(
                                        "{} ends {:#x} bytes early",
                                        p.name,
                                        end - at - n as u64
                                    ),
                                ));
                            }
                            at += n as u64;
                            got += n;
                        }
                        Ok(got)
                    }),
                )
            }
            CpuSource::Reader { mut reader, name } => (
                name,
                Box::new(move |buf: &mut [u8]| read_full(&mut *reader, buf)),
            ),
        };
        let src_err = |err: io::Error, at: u64| Error::Source {
            what: format!("{name}: reading byte {at:#x} of the data"),
            source: err,
        };
        let mut cur = vec![0u8; batch_bytes];
        let mut next = vec![0u8; batch_bytes];
        let mut n_cur = fill(&mut cur).map_err(|err| src_err(err, 0))?;
        while n_cur > 0 {
            let batch = &mut z.batch;
            let (r_comp, r_next) = rayon::join(
                || batch.compress(codec, &cur[..n_cur], chunk),
                || {
                    if n_cur < batch_bytes {
                        Ok(0)
                    } else {
                        fill(&mut next)
                    }
                },
            );
            r_comp.map_err(|err| self.out.err(err))?;
            z.emit(self, n_cur)?;
            n_cur = r_next.map_err(|err| src_err(err, z.total))?;
            std::mem::swap(&mut cur, &mut next);
        }
        z.end(self)
    }

    // ----- latency -----------------------------------------------------------------------

    /// Writes latency tracer output (the `trace` file text) as the file's only buffer; nothing
    /// can be written after it but [`Writer::finish`]. v7 files get their options (with the
    /// BUFFER_TEXT option) and strings first, and the text last, to the end of the file.
    pub fn write_latency(&mut self, name: &str, clock: &str, text: CpuSource<'_>) -> Result<u64> {
        self.check_open()?;
        if !self.buffers.is_empty() {
            return usage("a latency text cannot follow ring-buffer data");
        }
        if clock.contains('\0') || name.contains('\0') {
            return usage("NUL in the latency buffer's name or clock");
        }
        let written;
        if self.v7() {
            let e = self.e();
            // Every description is in the strings before they are written.
            self.string("buffer latency");
            self.string("options");
            self.string("strings");
            let mut opt = e.bytes64(0).to_vec();
            opt.extend_from_slice(&with_nul(name.as_bytes()));
            opt.extend_from_slice(&with_nul(clock.as_bytes()));
            self.out.doing("writing the options of the latency buffer");
            let mut opts = self.options_section(&[(id::BUFFER_TEXT, &opt)])?;
            let strings = self.strings_section()?;
            let text_at = self.out.pos() + opts.bytes.len() as u64 + strings.len() as u64;
            let at = opts.extra_at[0];
            opts.bytes[at..at + 8].copy_from_slice(&e.bytes64(text_at));
            self.out.write(&opts.bytes)?;
            self.out.doing("writing the strings section");
            self.out.write(&strings)?;
            self.out.doing("writing the latency text");
            let compressed = self.cfg.compression.is_some();
            let hdr = self.section_header(id::BUFFER_TEXT, "buffer latency", compressed, 0);
            self.out.write(&hdr)?;
            let data_at = self.out.pos();
            written = match self.cfg.compression {
                Some(c) => {
                    self.copy_compressed(data_at, text, c, PAGES_IN_CHUNK * LATENCY_PAGE)?
                        .0
                }
                None => self.copy_plain(data_at, text)?,
            };
            self.out.patch(text_at + 8, &e.bytes64(written))?;
            self.strings.clear();
        } else {
            self.v6_before_data()?;
            self.out.doing("writing the latency text");
            self.out.write(b"latency  \0")?;
            let at = self.out.pos();
            written = self.copy_plain(at, text)?;
        }
        self.buffers.push(name.to_string());
        self.closed = true;
        Ok(written)
    }

    /// The STRINGS section of everything gathered so far.
    fn strings_section(&mut self) -> Result<Vec<u8>> {
        self.string("strings");
        let payload = self.strings.clone();
        let codec = self.cfg.compression;
        let body = match codec {
            Some(c) => encode::block(c, self.e(), &payload).map_err(|e| self.out.err(e))?,
            None => payload,
        };
        let mut v = self
            .section_header(id::STRINGS, "strings", codec.is_some(), body.len() as u64)
            .to_vec();
        v.extend_from_slice(&body);
        Ok(v)
    }

    // ----- the end ---------------------------------------------------------------------------

    /// Completes the file (v6: an empty top buffer and empty declared instances if none were
    /// written; v7: the queued options and the strings), syncs it and gives it its name.
    pub fn finish(mut self) -> Result<PathBuf> {
        if self.v7() {
            if !self.closed {
                self.flush_options(true)?;
                self.out.doing("writing the strings section");
                let s = self.strings_section()?;
                self.out.write(&s)?;
            }
        } else if !self.closed {
            if self.buffers.is_empty() {
                let spec = BufferSpec {
                    name: "",
                    clock: "local",
                    page_size: self.cfg.page_size,
                };
                self.write_buffer(spec, Vec::new())?;
            }
            let missing: Vec<String> = self
                .v6_instances
                .iter()
                .filter(|i| !i.written)
                .map(|i| i.name.clone())
                .collect();
            for name in missing {
                let spec = BufferSpec {
                    name: &name,
                    clock: "local",
                    page_size: self.cfg.page_size,
                };
                self.write_buffer(spec, Vec::new())?;
            }
            if self.v6_ends_in_table {
                // trace-cmd's `dump` reads a 10-byte tag after every flyrecord table and dies
                // at end of file; zeros up to the next page boundary stop it cleanly (where an
                // empty CPU's data would have started).
                let ps = self.cfg.page_size as u64;
                let end = (self.out.pos() + 10).div_ceil(ps) * ps;
                self.out
                    .doing("padding the file after its last flyrecord table");
                let pad = vec![0u8; (end - self.out.pos()) as usize];
                self.out.write(&pad)?;
            }
        }
        self.out.doing("writing the file magic");
        self.out.patch(0, MAGIC)?;
        self.out.finish()?;
        Ok(self.out.target().to_path_buf())
    }
}

/// State of one CPU's chunked output.
struct Chunked {
    offset: u64,
    batch: encode::Batch,
    count: u32,
    total: u64,
    started: bool,
}

impl Chunked {
    /// Writes the batch just compressed from `input_len` bytes.
    fn emit(&mut self, w: &mut Writer, input_len: usize) -> Result<()> {
        // Compressed output may not fill the write buffer for a long time: check per batch.
        w.out.check_cancel()?;
        let e = w.e();
        if !self.started {
            w.out.skip_to(self.offset)?;
            w.out.write(&[0; 4])?;
            self.started = true;
        }
        for (data, len) in self.batch.chunks() {
            w.out.write(&e.bytes32(data.len() as u32))?;
            w.out.write(&e.bytes32(len))?;
            w.out.write(data)?;
            self.count = self.count.checked_add(1).ok_or_else(|| Error::TooLarge {
                what: "chunk count".into(),
                size: u32::MAX as u64 + 1,
                bits: 32,
            })?;
        }
        self.total += input_len as u64;
        Ok(())
    }

    /// Patches the chunk count; returns (bytes in the file, bytes of input).
    fn end(self, w: &mut Writer) -> Result<(u64, u64)> {
        if !self.started {
            return Ok((0, 0));
        }
        let e = w.e();
        w.out.patch(self.offset, &e.bytes32(self.count))?;
        Ok((w.out.pos() - self.offset, self.total))
    }
}

struct BuiltSection {
    bytes: Vec<u8>,
    extra_at: Vec<usize>,
}

fn count32(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::TooLarge {
        what: what.into(),
        size: n as u64,
        bits: 32,
    })
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
