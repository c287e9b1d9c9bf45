//! Re-writing a parsed trace.dat in another version or compression: `trace-cmd convert`
//! (tracecmd/trace-convert.c, `tracecmd_copy` in lib/trace-cmd/trace-output.c and the
//! `copy_*` functions of lib/trace-cmd/trace-input.c).
//!
//! What is copied, as trace-cmd copies it: the metadata pieces byte for byte, the options in
//! their order except those that hold offsets into the old file (the section locators 16–21,
//! BUFFER, BUFFER_TEXT), every readable buffer's pages (decompressed and compressed again as
//! needed), and latency text. The page size, byte order and `long` size stay the input's.
//!
//! Where this differs from trace-cmd on purpose, to keep what `report` shows:
//! - the CPU count is the input's `cpus=` value and is written once (trace-cmd copies every
//!   CPUCOUNT option and adds its own; in a v6 file a CPUCOUNT option that disagrees with the
//!   CPU count field makes readers misread the flyrecord table);
//! - each buffer keeps its own clock; trace-cmd gives all of them the file's clock, or, when
//!   the file names none, the clock of the machine running the conversion;
//! - an uncompressed v7 latency text is the BUFFER_TEXT section's payload, not everything up
//!   to the end of the file;
//! - a buffer that cannot be read is left out with a warning, like an instance trace-cmd's
//!   `report` cannot open; an unreadable top buffer is an error.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rayon::prelude::*;

use super::{BufferSpec, Config, CpuSource, CpuWritten, FileVersion, TraceOption, Writer};
use crate::file::compress::{Chunk, Codec, Decoder};
use crate::file::options::id;
use crate::file::{BufferData, Piece, TraceFile};

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be read.
    #[error("reading the input: {0}")]
    Read(#[from] crate::error::Error),
    /// The output could not be written.
    #[error(transparent)]
    Write(#[from] super::Error),
}

/// The target format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// File version.
    pub version: FileVersion,
    /// Compression (v7).
    pub compression: Option<Codec>,
}

/// What a conversion wrote, for trace-cmd's progress lines.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Per buffer written: its name and where each CPU's data went (empty for latency text).
    pub buffers: Vec<(String, Vec<CpuWritten>)>,
    /// Parts of the input left out, and why.
    pub warnings: Vec<String>,
}

/// The uncompressed input file, when the caller has it open: its pages are then copied by the
/// kernel instead of through the map.
#[derive(Clone, Copy)]
pub struct InputFile<'a> {
    /// The open file (the one `TraceFile` was parsed from).
    pub file: &'a File,
    /// Its name, for errors.
    pub name: &'a str,
}

/// Writes `input` to `path` in the `target` format. Setting `cancel` stops the conversion
/// with [`super::Error::Interrupted`] and no output file.
pub fn convert(
    input: &TraceFile<'_>,
    open: Option<InputFile<'_>>,
    path: &Path,
    target: Target,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<Report, Error> {
    let hdr = input.header();
    let mut report = Report::default();
    // Buffers to copy, in order; unreadable instances are reported and left out.
    let mut keep = Vec::new();
    for (i, b) in input.buffers().iter().enumerate() {
        match &b.data {
            BufferData::Unreadable(e) if i == 0 => return Err(Error::Read(e.clone())),
            BufferData::Unreadable(e) => report
                .warnings
                .push(format!("buffer {:?} left out: {e}", b.name)),
            BufferData::Latency { .. } if i > 0 => report.warnings.push(format!(
                "buffer {:?} left out: latency text is only read as the top buffer",
                b.name
            )),
            _ => keep.push(i),
        }
    }
    let mut cpus = input.cpus();
    if target.version == FileVersion::V6 {
        // Every v6 flyrecord table has this many entries.
        for &i in &keep {
            cpus = cpus.max(input.buffers()[i].nr_cpus);
        }
    }
    let cfg = Config {
        version: target.version,
        compression: target.compression,
        endian: hdr.endian,
        long_size: hdr.long_size,
        page_size: hdr.page_size,
        cpus,
        instances: keep
            .iter()
            .filter(|&&i| i > 0)
            .map(|&i| input.buffers()[i].name.clone())
            .collect(),
    };
    let mut w = Writer::create(path, cfg)?;
    if let Some(c) = cancel {
        w.set_cancel(c);
    }
    let v6 = target.version == FileVersion::V6;

    // Metadata, each piece as the input has it (v6 writes absent ones empty).
    if v6 || input.has_piece(Piece::HeaderInfo) {
        let hi = input.header_info()?;
        w.header_info(hi.header_page, hi.header_event)?;
    }
    if v6 || input.has_piece(Piece::FtraceEvents) {
        w.ftrace_events(&input.ftrace_formats()?)?;
    }
    if v6 || input.has_piece(Piece::EventFormats) {
        w.event_systems(&input.event_systems()?)?;
    }
    if v6 || input.has_piece(Piece::Kallsyms) {
        w.kallsyms(input.kallsyms()?)?;
    }
    if v6 || input.has_piece(Piece::Printk) {
        w.printk_formats(input.printk_formats()?)?;
    }
    // v6 takes the command lines now; v7 after the options, where `record` writes them.
    if v6 {
        w.cmdlines(input.cmdlines()?)?;
    }

    for o in input.options() {
        let skip = matches!(
            o.id,
            id::BUFFER | id::BUFFER_TEXT | id::CPUCOUNT | id::HEADER_INFO..=id::CMDLINES
        );
        if !skip {
            w.add_option(TraceOption::Raw {
                id: o.id,
                data: &o.data,
            })?;
        }
    }

    if !v6 && input.has_piece(Piece::Cmdlines) {
        w.cmdlines(input.cmdlines()?)?;
    }

    let file_clock = input
        .clock_info(false, false)
        .trace_clock
        .or_else(|| input.top().clock.clone())
        .unwrap_or_else(|| "local".to_string());
    let layout = input.layout()?;
    for &bi in &keep {
        let b = &input.buffers()[bi];
        let clock = b.clock.clone().unwrap_or_else(|| file_clock.clone());
        match &b.data {
            BufferData::Latency { offset, compressed } => {
                let src = latency_source(input, open, b.offset, *offset, *compressed)?;
                w.write_latency(&b.name, &clock, src)?;
                report.buffers.push((b.name.clone(), Vec::new()));
            }
            BufferData::Flyrecord { cpus, compressed } => {
                let mut srcs: Vec<CpuSource<'_>> =
                    (0..b.nr_cpus).map(|_| CpuSource::Empty).collect();
                for (k, c) in cpus.iter().enumerate() {
                    if c.size == 0 {
                        continue;
                    }
                    let slot = c.cpu as usize;
                    srcs[slot] = if *compressed {
                        let chunks = layout[bi][k].chunks.clone().unwrap_or_default();
                        let codec = hdr.codec.expect("compressed buffers have a codec");
                        CpuSource::Reader {
                            reader: Box::new(Inflater::new(input.bytes(), chunks, codec)),
                            name: format!("CPU {} data of buffer {:?}", c.cpu, b.name),
                        }
                    } else {
                        plain_source(input, open, c.offset, c.size)
                    };
                }
                let spec = BufferSpec {
                    name: &b.name,
                    clock: &clock,
                    page_size: b.page_size,
                };
                let written = w.write_buffer(spec, srcs)?;
                report.buffers.push((b.name.clone(), written));
            }
            BufferData::Unreadable(_) => unreachable!("left out above"),
        }
    }
    w.finish()?;
    Ok(report)
}

/// Uncompressed bytes of the input: through the kernel when the file is open, else from the map.
fn plain_source<'a>(
    input: &TraceFile<'a>,
    open: Option<InputFile<'a>>,
    offset: u64,
    len: u64,
) -> CpuSource<'a> {
    match open {
        Some(f) => CpuSource::File {
            file: f.file,
            offset,
            len,
            name: f.name,
        },
        None => CpuSource::Bytes(&input.bytes()[offset as usize..(offset + len) as usize]),
    }
}

/// The latency text: v6, everything after the `latency  ` tag; v7, the BUFFER_TEXT section's
/// payload (inflated when compressed).
fn latency_source<'a>(
    input: &TraceFile<'a>,
    open: Option<InputFile<'a>>,
    section: u64,
    offset: u64,
    compressed: bool,
) -> Result<CpuSource<'a>, Error> {
    let size = input.bytes().len() as u64;
    let start = offset.min(size);
    if compressed {
        let codec = input.header().codec.ok_or_else(|| {
            crate::error::Error::Missing("compressed latency text without a codec".into())
        })?;
        let chunks = crate::file::compress::read_chunk_table(
            input.bytes(),
            start,
            input.endian(),
            "latency text",
        )?;
        return Ok(CpuSource::Reader {
            reader: Box::new(Inflater::new(input.bytes(), chunks, codec)),
            name: "latency text".into(),
        });
    }
    let end = if input.header().sectioned() {
        input
            .sections()
            .iter()
            .find(|s| s.offset == section)
            .map(|s| (section + 16).saturating_add(s.size).min(size))
            .unwrap_or(size)
    } else {
        size
    };
    Ok(plain_source(input, open, start, end.saturating_sub(start)))
}

/// Chunks inflated per refill, in parallel.
const INFLATE_BATCH: usize = 16;

/// Reads compressed per-CPU data (or latency text) as the pages it holds, inflating a batch
/// of chunks at a time on the thread pool.
struct Inflater<'a> {
    file: &'a [u8],
    chunks: Vec<Chunk>,
    next: usize,
    codec: Codec,
    buf: Vec<u8>,
    pos: usize,
}

impl<'a> Inflater<'a> {
    fn new(file: &'a [u8], chunks: Vec<Chunk>, codec: Codec) -> Self {
        Inflater {
            file,
            chunks,
            next: 0,
            codec,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        let batch = &self.chunks[self.next..(self.next + INFLATE_BATCH).min(self.chunks.len())];
        let total: usize = batch.iter().map(|k| k.usize as usize).sum();
        self.buf.resize(total, 0);
        self.pos = 0;
        let mut outs = Vec::with_capacity(batch.len());
        let mut rest = &mut self.buf[..];
        for k in batch {
            let (a, b) = rest.split_at_mut(k.usize as usize);
            outs.push(a);
            rest = b;
        }
        let file = self.file;
        let codec = self.codec;
        outs.into_par_iter()
            .zip(batch.par_iter())
            .try_for_each(|(out, k)| {
                let p = crate::error::Pos::File(k.file_offset - 8);
                let input =
                    &file[k.file_offset as usize..(k.file_offset + k.csize as u64) as usize];
                with_decoder(codec, |d| {
                    d.check_size(p, input.len(), k.usize as u64)?;
                    d.decompress_exact(p, input, out)
                })
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
            })?;
        self.next += batch.len();
        Ok(())
    }
}

impl Read for Inflater<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.next == self.chunks.len() {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

thread_local! {
    static DECODERS: std::cell::RefCell<Vec<Decoder>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn with_decoder<R>(codec: Codec, f: impl FnOnce(&mut Decoder) -> R) -> R {
    DECODERS.with(|cell| {
        let mut v = cell.borrow_mut();
        let i = match v.iter().position(|d| d.codec() == codec) {
            Some(i) => i,
            None => {
                v.push(Decoder::new(codec));
                v.len() - 1
            }
        };
        f(&mut v[i])
    })
}
