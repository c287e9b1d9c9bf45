//! The trace.dat container: initial header, v6 sequential layout, v7 sections and options,
//! buffers (top and instances, flyrecord or latency text), lazy decompression.
//!
//! Specified by trace-cmd's Documentation/trace-cmd/trace-cmd.dat.v6.5.txt and
//! trace-cmd.dat.v7.5.txt, and in practice by the reader `lib/trace-cmd/trace-input.c`
//! (3.1.6 and 3.3.1, which agree on everything here); `../shared/docs/tracecmd-reference.md`
//! §1 lists where the docs are incomplete. Behaviour copied from the reader on purpose:
//! - v7 options are found through the chain that starts at the header's offset (DONE carries
//!   the next OPTIONS section); metadata sections through their locator options; STRINGS
//!   sections by walking every section header from the end of the initial header;
//! - a v7 BUFFER lists only CPUs with data and may list them in any order: slots are placed by
//!   CPU id, and the buffer has `max id + 1` slots (or the count, when ids are 0..n-1);
//! - the `cpus=` count is the largest of the v6 CPU count, CPUCOUNT options and the top
//!   buffer's slots ([`TraceFile::cpus`]);
//! - per-CPU data that runs past the end of the file ("File possibly truncated") makes that
//!   buffer unreadable; a CPU with size 0 is never touched, even when its offset is past EOF;
//! - unknown option ids are skipped with trace-cmd's "unknown option %d" warning.
//!
//! Deviations: trace-cmd parses every metadata section when it opens a v7 file, so a section
//! that does not decompress fails the open; here sections are decompressed on first access and
//! the error comes from that accessor. A BUFFER option that lists a CPU twice fails trace-cmd's
//! whole open (`report` then prints nothing and exits 0); here only that buffer is
//! [`BufferData::Unreadable`]. Option payloads trace-cmd would choke on (a TIME_SHIFT
//! whose sample arrays overrun it) become [`OptionValue::Malformed`] plus a warning.

pub mod compress;
pub(crate) mod cursor;
pub mod metadata;
pub mod options;

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use crate::endian::Endian;
use crate::error::{Error, LogLevel, Pos, Result, Warning};
use crate::ring_buffer::{HeaderPage, PageFormat};
use compress::{Codec, Decoder};
use cursor::{text, Cursor, Origin};
pub use metadata::{EventSystem, HeaderInfo};
pub use options::{id_name, BufferCpu, BufferOption, OptionValue, TraceOption};

/// `TRACECMD_MAGIC` + `"tracing"`.
pub const MAGIC: &[u8; 10] = b"\x17\x08\x44tracing";

/// Section header flag: the payload is one compressed block.
pub const SEC_FL_COMPRESS: u16 = 1;

/// The initial file header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHeader {
    /// File version (6 or 7; trace-cmd accepts anything up to 7).
    pub version: u32,
    /// The version text as written.
    pub version_text: String,
    /// Byte order of everything that follows.
    pub endian: Endian,
    /// `sizeof(long)` of the recording user space (the kernel's comes from header_page).
    pub long_size: u8,
    /// Page (sub-buffer) size.
    pub page_size: u32,
    /// v7: compression name and version as written (`"none"`, `""` for uncompressed).
    pub compression: Option<(String, String)>,
    /// The codec, when the file is compressed.
    pub codec: Option<Codec>,
    /// v7: offset of the first OPTIONS section.
    pub options_offset: u64,
    /// Offset just after the header.
    pub end: u64,
}

impl FileHeader {
    /// True for v7 (sections, options chain, compression).
    pub fn sectioned(&self) -> bool {
        self.version >= 7
    }
}

/// The metadata pieces (v7 sections 16–21; v6 the steps after the header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// header_page + header_event.
    HeaderInfo,
    /// `events/ftrace/*/format`.
    FtraceEvents,
    /// Other systems' formats.
    EventFormats,
    /// `/proc/kallsyms`.
    Kallsyms,
    /// `printk_formats`.
    Printk,
    /// `saved_cmdlines`.
    Cmdlines,
}

impl Piece {
    const ALL: [Piece; 6] = [
        Piece::HeaderInfo,
        Piece::FtraceEvents,
        Piece::EventFormats,
        Piece::Kallsyms,
        Piece::Printk,
        Piece::Cmdlines,
    ];

    /// The section/option id.
    pub fn id(self) -> u16 {
        options::id::HEADER_INFO + self as u16
    }

    fn from_id(id: u16) -> Option<Piece> {
        Piece::ALL
            .get(id.checked_sub(options::id::HEADER_INFO)? as usize)
            .copied()
    }
}

#[derive(Default)]
enum PieceLoc {
    #[default]
    Absent,
    /// Parsed straight from the file at this offset (v6, or an uncompressed v7 section).
    Plain(usize),
    /// A compressed v7 section: the block starts at `block`; inflated on first access.
    Compressed {
        section: u64,
        block: usize,
        cache: OnceLock<Result<Vec<u8>>>,
    },
}

/// A v7 section header found by walking the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionInfo {
    /// File offset of the 16-byte header.
    pub offset: u64,
    /// Section id.
    pub id: u16,
    /// Flags (bit 0: compressed).
    pub flags: u16,
    /// Description string id (byte offset into the STRINGS).
    pub desc_id: i32,
    /// Payload size.
    pub size: u64,
}

/// One CPU's data in a flyrecord buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuData {
    /// CPU id (also its slot in the buffer).
    pub cpu: u32,
    /// File offset of the data (of the chunk count, when compressed).
    pub offset: u64,
    /// Size in the file.
    pub size: u64,
}

/// What a buffer holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BufferData {
    /// Ring-buffer pages per CPU. `cpus` has one entry per slot that has an entry (v6: every
    /// slot; v7: the listed CPUs), sorted by CPU.
    Flyrecord {
        /// The CPUs.
        cpus: Vec<CpuData>,
        /// Data is chunk-compressed with the file's codec.
        compressed: bool,
    },
    /// Latency tracer output: the `trace` file text.
    Latency {
        /// Where the text (or its chunk table) starts.
        offset: u64,
        /// Text is chunk-compressed.
        compressed: bool,
    },
    /// trace-cmd could not set this buffer up; for the top buffer `report` dies with
    /// "failed to init data", for an instance it warns "could not retrieve handle NAME".
    Unreadable(Error),
}

/// A buffer: the top one or an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// Instance name; empty for the top buffer.
    pub name: String,
    /// The clock the BUFFER option names (v7); trace-cmd itself uses the file's clock for
    /// instances too ([`TraceFile::clock_info`]).
    pub clock: Option<String>,
    /// Page size used to step through this buffer's data.
    pub page_size: u32,
    /// trace-cmd's `handle->cpus` for this buffer: the slots it iterates.
    pub nr_cpus: u32,
    /// trace-cmd's `handle->max_cpu` for this buffer (`tracecmd_cpus`).
    pub max_cpu: u32,
    /// Where the buffer's section (v7) or `flyrecord`/`latency` tag (v6) is.
    pub offset: u64,
    /// The data.
    pub data: BufferData,
}

impl Buffer {
    /// The CPU entries of a flyrecord buffer (empty otherwise).
    pub fn cpus(&self) -> &[CpuData] {
        match &self.data {
            BufferData::Flyrecord { cpus, .. } => cpus,
            _ => &[],
        }
    }

    /// True for the top buffer.
    pub fn is_top(&self) -> bool {
        self.name.is_empty()
    }
}

/// The trace clock as trace-cmd settles it, and whether timestamps print in µs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockInfo {
    /// The selected trace clock (`tracecmd_get_trace_clock`), if the file names one.
    pub trace_clock: Option<String>,
    /// `TRACECMD_FL_IN_USECS`: timestamps are ns and print as `secs.usecs`.
    pub in_usecs: bool,
    /// `tracecmd_get_use_trace_clock`: a TRACECLOCK option was seen and `--ts2secs` not given.
    pub use_trace_clock: bool,
}

/// A parsed trace.dat file borrowing the mapped bytes. `Sync`: several threads may read
/// different CPUs at once; compressed metadata is inflated once on first access.
pub struct TraceFile<'a> {
    data: &'a [u8],
    header: FileHeader,
    options: Vec<TraceOption<'a>>,
    warnings: Vec<Warning>,
    pieces: [PieceLoc; 6],
    sections: Vec<SectionInfo>,
    strings: Vec<u8>,
    buffers: Vec<Buffer>,
    top_cpus: u32,
    max_cpu: u32,
    v6_clock: Option<Result<&'a [u8]>>,
    header_page: OnceLock<Result<HeaderPage>>,
    layout: OnceLock<Result<Vec<Vec<CpuLayout>>>>,
    /// Set by [`TraceFile::release_walked_pages`].
    release_walked: AtomicBool,
}

impl std::fmt::Debug for TraceFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceFile")
            .field("header", &self.header)
            .field("options", &self.options.len())
            .field("buffers", &self.buffers)
            .finish_non_exhaustive()
    }
}

/// Where one CPU's pages are once compression is accounted for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CpuLayout {
    /// Offset trace-cmd gives the CPU's first page (`record->offset` base): the file offset
    /// for uncompressed data, a virtual offset for compressed data.
    pub(crate) base: u64,
    /// Bytes of (uncompressed) page data.
    pub(crate) size: u64,
    /// The chunks, for compressed data.
    pub(crate) chunks: Option<Vec<compress::Chunk>>,
}

fn parse_header(data: &[u8]) -> Result<FileHeader> {
    let mut c = Cursor::new(data, 0, Endian::Little, Origin::File);
    let magic = c
        .take(10, "file magic")
        .map_err(|_| Error::BadMagic { pos: Pos::File(0) })?;
    if magic != MAGIC {
        let at = magic
            .iter()
            .zip(MAGIC)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        return Err(Error::BadMagic {
            pos: Pos::File(at as u64),
        });
    }
    let vpos = c.here();
    let vtext = c.cstr("version string")?;
    let version_text = text(vtext);
    let version = parse_version(vtext).ok_or_else(|| Error::UnsupportedVersion {
        pos: vpos,
        version: version_text.clone(),
    })?;
    let e = c.take(1, "endianness byte")?[0];
    let endian = if e != 0 { Endian::Big } else { Endian::Little };
    let long_size = c.take(1, "long size byte")?[0];
    let mut c = Cursor::new(data, c.offset(), endian, Origin::File);
    let page_size = c.u32("page size")?;
    let mut h = FileHeader {
        version,
        version_text,
        endian,
        long_size,
        page_size,
        compression: None,
        codec: None,
        options_offset: 0,
        end: 0,
    };
    if h.sectioned() {
        let zpos = c.here();
        let name = c.cstr("compression name")?;
        let ver = c.cstr("compression version")?;
        if name != b"none" {
            h.codec =
                Some(
                    Codec::from_header(name, ver).ok_or_else(|| Error::UnknownCompression {
                        pos: zpos,
                        name: text(name),
                        version: text(ver),
                    })?,
                );
        }
        h.compression = Some((text(name), text(ver)));
        h.options_offset = c.u64("offset of the first options section")?;
    }
    h.end = c.offset() as u64;
    if page_size == 0 {
        return Err(Error::Invalid {
            pos: Pos::File(h.end - 4 - if h.sectioned() { 8 } else { 0 }),
            what: "page size 0".into(),
        });
    }
    Ok(h)
}

/// `strtol(version, NULL, 10)` accepted when `<= 7` as an unsigned int
/// (`tracecmd_is_version_supported`).
fn parse_version(v: &[u8]) -> Option<u32> {
    let n = crate::cnum::strtoll(v, 10);
    (0..=7).contains(&n).then_some(n as u32)
}

/// Per-file state built while reading options, as `handle_options` leaves the handle.
#[derive(Default)]
struct OptState {
    cpus: Option<u32>,
    max_cpu: u32,
    saw_traceclock: bool,
}

impl<'a> TraceFile<'a> {
    /// Parses the file header, metadata layout, options and buffers of a whole trace.dat
    /// image (normally a memory map). Compressed metadata sections are not inflated here.
    pub fn parse(data: &'a [u8]) -> Result<TraceFile<'a>> {
        let header = parse_header(data)?;
        let mut f = TraceFile {
            data,
            header,
            options: Vec::new(),
            warnings: Vec::new(),
            pieces: Default::default(),
            sections: Vec::new(),
            strings: Vec::new(),
            buffers: Vec::new(),
            top_cpus: 0,
            max_cpu: 0,
            v6_clock: None,
            header_page: OnceLock::new(),
            layout: OnceLock::new(),
            release_walked: AtomicBool::new(false),
        };
        if f.header.sectioned() {
            f.parse_v7()?;
        } else {
            f.parse_v6()?;
        }
        Ok(f)
    }

    fn cursor(&self, at: usize) -> Cursor<'a> {
        Cursor::new(self.data, at, self.header.endian, Origin::File)
    }

    fn warn(&mut self, level: LogLevel, pos: Option<Pos>, msg: impl Into<String>) {
        self.warnings.push(Warning::new(level, pos, msg));
    }

    // ----- v6 -------------------------------------------------------------------------------

    fn parse_v6(&mut self) -> Result<()> {
        let mut c = self.cursor(self.header.end as usize);
        let mut locs: Vec<usize> = Vec::with_capacity(6);
        locs.push(c.offset());
        metadata::header_info(&mut c)?;
        locs.push(c.offset());
        metadata::ftrace_formats(&mut c)?;
        locs.push(c.offset());
        metadata::event_systems(&mut c)?;
        locs.push(c.offset());
        metadata::sized32(&mut c, "kallsyms")?;
        locs.push(c.offset());
        metadata::sized32(&mut c, "printk formats")?;
        locs.push(c.offset());
        metadata::sized64(&mut c, "saved cmdlines")?;
        for (i, at) in locs.into_iter().enumerate() {
            self.pieces[i] = PieceLoc::Plain(at);
        }
        let cpus = c.u32("CPU count")?;
        let mut st = OptState {
            cpus: Some(cpus),
            max_cpu: cpus,
            ..Default::default()
        };
        let (tag_pos, tag) = self.v6_tag(&mut c)?;
        let tag = if tag.starts_with(b"options") {
            let opts = self.read_options_v6(&mut c)?;
            for o in opts {
                self.apply_option(&o, &mut st)?;
                self.options.push(o);
            }
            self.v6_tag(&mut c)?
        } else {
            (tag_pos, tag)
        };
        self.top_cpus = st.cpus.unwrap_or(0);
        self.max_cpu = st.max_cpu;
        let page_size = self.header.page_size;
        let top = match self.v6_data(&mut c, tag, self.top_cpus) {
            Ok(data) => {
                if matches!(data, BufferData::Flyrecord { .. }) && st.saw_traceclock {
                    let clock = metadata::sized64(&mut c, "trace clock");
                    if let Err(e) = &clock {
                        // Unless --ts2secs is given, which skips reading the clock.
                        self.warn(
                            LogLevel::Warning,
                            None,
                            format!("File has trace_clock bug, using local clock ({e})"),
                        );
                    }
                    self.v6_clock = Some(clock);
                }
                data
            }
            Err(e) => BufferData::Unreadable(e),
        };
        self.buffers.push(Buffer {
            name: String::new(),
            clock: None,
            page_size,
            nr_cpus: self.top_cpus,
            max_cpu: self.max_cpu,
            offset: Self::file_offset(tag.0),
            data: top,
        });
        // Instances: BUFFER options point at a further tag + CPU table.
        let insts: Vec<BufferOption> = self
            .options
            .iter()
            .filter_map(|o| match &o.value {
                OptionValue::Buffer(b) => Some(b.clone()),
                _ => None,
            })
            .collect();
        for b in insts {
            let data = self.v6_instance(&b);
            self.buffers.push(Buffer {
                name: b.name.clone(),
                clock: None,
                page_size,
                nr_cpus: self.top_cpus,
                max_cpu: self.max_cpu,
                offset: b.offset,
                data,
            });
        }
        Ok(())
    }

    fn v6_tag(&self, c: &mut Cursor<'a>) -> Result<(Pos, &'a [u8])> {
        let p = c.here();
        Ok((p, c.take(10, "options/latency/flyrecord tag")?))
    }

    fn file_offset(p: Pos) -> u64 {
        match p {
            Pos::File(o) => o,
            Pos::Section { section, .. } => section,
        }
    }

    /// What follows the `latency  `/`flyrecord` tag (`read_options_type` + `read_cpu_data`).
    fn v6_data(&self, c: &mut Cursor<'a>, tag: (Pos, &'a [u8]), cpus: u32) -> Result<BufferData> {
        if tag.1.starts_with(b"latency") {
            return Ok(BufferData::Latency {
                offset: c.offset() as u64,
                compressed: false,
            });
        }
        if !tag.1.starts_with(b"flyrecord") {
            return Err(Error::Unexpected {
                pos: tag.0,
                expected: "\"latency  \" or \"flyrecord\"".into(),
                found: format!("{:?}", String::from_utf8_lossy(tag.1)),
            });
        }
        // Each entry is 16 bytes: refuse a count the file cannot hold before allocating.
        if cpus as u64 * 16 > c.remaining() as u64 {
            return Err(Error::SizePastEnd {
                pos: c.here(),
                what: format!("flyrecord table of {cpus} CPUs"),
                claimed: cpus as u64 * 16,
                size: self.data.len() as u64,
                container: "file",
            });
        }
        let mut v = Vec::with_capacity(cpus as usize);
        for cpu in 0..cpus {
            let p = c.here();
            let offset = c.u64("CPU data offset")?;
            let size = c.u64("CPU data size")?;
            self.check_cpu_data(p, cpu, offset, size)?;
            v.push(CpuData { cpu, offset, size });
        }
        Ok(BufferData::Flyrecord {
            cpus: v,
            compressed: false,
        })
    }

    fn check_cpu_data(&self, p: Pos, cpu: u32, offset: u64, size: u64) -> Result<()> {
        let fsize = self.data.len() as u64;
        if size != 0 && offset.checked_add(size).is_none_or(|e| e > fsize) {
            return Err(Error::CpuDataTruncated {
                pos: p,
                cpu,
                size,
                need: offset.wrapping_add(size),
                file_size: fsize,
            });
        }
        Ok(())
    }

    fn v6_instance(&self, b: &BufferOption) -> BufferData {
        let r = (|| {
            let at = usize::try_from(b.offset)
                .ok()
                .filter(|&o| o <= self.data.len())
                .ok_or_else(|| Error::Invalid {
                    pos: Pos::File(b.offset),
                    what: format!("buffer {:?} offset lies past end of file", b.name),
                })?;
            let mut c = self.cursor(at);
            let mut tag = self.v6_tag(&mut c)?;
            let mut cpus = self.top_cpus;
            if tag.1.starts_with(b"options") {
                // Options inside an instance apply to that instance's handle only.
                for o in self.read_options_v6(&mut c)? {
                    if let OptionValue::CpuCount(n) = o.value {
                        cpus = n;
                    }
                }
                tag = self.v6_tag(&mut c)?;
            }
            self.v6_data(&mut c, tag, cpus)
        })();
        r.unwrap_or_else(BufferData::Unreadable)
    }

    fn read_options_v6(&self, c: &mut Cursor<'a>) -> Result<Vec<TraceOption<'a>>> {
        let mut v = Vec::new();
        loop {
            let pos = c.here();
            let id = c.u16("option id")?;
            if id == options::id::DONE {
                break;
            }
            let size = c.u32("option size")?;
            let data = c.sized(size as u64, &format!("option {id} ({})", id_name(id)))?;
            v.push(TraceOption {
                id,
                pos,
                data: Cow::Borrowed(data),
                value: options::decode(id, data, self.header.endian, false),
            });
        }
        Ok(v)
    }

    // ----- v7 -------------------------------------------------------------------------------

    fn parse_v7(&mut self) -> Result<()> {
        self.walk_sections();
        let opts = self.read_options_chain()?;
        let mut st = OptState::default();
        for o in opts {
            self.apply_option(&o, &mut st)?;
            self.options.push(o);
        }
        self.top_cpus = st.cpus.unwrap_or(0);
        self.max_cpu = st.max_cpu;
        // Metadata sections, from their locator options (the last one of an id wins).
        let mut locs: [Option<(Pos, u64)>; 6] = [None; 6];
        for o in &self.options {
            if let (Some(p), OptionValue::Section { offset }) = (Piece::from_id(o.id), &o.value) {
                locs[p as usize] = Some((o.pos, *offset));
            }
        }
        for (i, loc) in locs.into_iter().enumerate() {
            if let Some((_, off)) = loc {
                let piece = Piece::ALL[i];
                self.pieces[i] = self.locate_piece(piece, off)?;
                // trace-cmd reads a section without looking at its size: only say so.
                let s = self.section_header(off)?;
                let end = (off + 16).checked_add(s.size);
                if end.is_none_or(|e| e > self.data.len() as u64) {
                    self.warn(
                        LogLevel::Warning,
                        Some(Pos::File(off)),
                        format!(
                            "section {} ({}) size {:#x} runs past end of file (size {:#x})",
                            s.id,
                            id_name(s.id),
                            s.size,
                            self.data.len()
                        ),
                    );
                }
            }
        }
        self.setup_v7_buffers()
    }

    fn section_header(&self, at: u64) -> Result<SectionInfo> {
        let p = usize::try_from(at).map_err(|_| Error::Invalid {
            pos: Pos::File(at),
            what: "section offset out of range".into(),
        })?;
        let mut c = self.cursor(p);
        let id = c.u16("section id")?;
        let flags = c.u16("section flags")?;
        let desc_id = c.u32("section description id")? as i32;
        let size = c.u64("section size")?;
        Ok(SectionInfo {
            offset: at,
            id,
            flags,
            desc_id,
            size,
        })
    }

    fn locate_piece(&self, piece: Piece, at: u64) -> Result<PieceLoc> {
        let s = self.section_header(at)?;
        if s.id != piece.id() {
            return Err(Error::Unexpected {
                pos: Pos::File(at),
                expected: format!("section {} ({})", piece.id(), id_name(piece.id())),
                found: format!("section {} ({})", s.id, id_name(s.id)),
            });
        }
        let data = (at + 16) as usize;
        if s.flags & SEC_FL_COMPRESS != 0 {
            if self.header.codec.is_none() {
                return Err(Error::Invalid {
                    pos: Pos::File(at),
                    what: format!(
                        "section {} ({}) is compressed but the file names no compression",
                        s.id,
                        id_name(s.id)
                    ),
                });
            }
            Ok(PieceLoc::Compressed {
                section: at,
                block: data,
                cache: OnceLock::new(),
            })
        } else {
            Ok(PieceLoc::Plain(data))
        }
    }

    /// `read_metadata_strings`: every section header from the end of the initial header on,
    /// collecting STRINGS payloads; stops at the first header that cannot be read.
    fn walk_sections(&mut self) {
        let mut at = self.header.end;
        let mut dec = self.header.codec.map(Decoder::new);
        while let Ok(s) = self.section_header(at) {
            let data = at + 16;
            if s.id == options::id::STRINGS {
                let bytes = if s.flags & SEC_FL_COMPRESS != 0 {
                    match dec.as_mut() {
                        Some(d) => compress::read_block(
                            d,
                            self.data,
                            data as usize,
                            self.header.endian,
                            "strings",
                        )
                        .map(Cow::Owned),
                        None => Err(Error::Missing("compressed strings".into())),
                    }
                } else {
                    self.cursor(data as usize)
                        .sized(s.size, "strings section")
                        .map(Cow::Borrowed)
                };
                match bytes {
                    Ok(b) => self.strings.extend_from_slice(&b),
                    Err(e) => {
                        self.warn(LogLevel::Warning, Some(Pos::File(at)), e.to_string());
                        self.sections.push(s);
                        break;
                    }
                }
            }
            let next = data.checked_add(s.size);
            self.sections.push(s);
            match next {
                Some(n) if n <= self.data.len() as u64 => at = n,
                _ => break,
            }
        }
    }

    /// Options sections from the header's offset along the DONE chain.
    fn read_options_chain(&self) -> Result<Vec<TraceOption<'a>>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut at = self.header.options_offset;
        let mut dec = self.header.codec.map(Decoder::new);
        loop {
            if !seen.insert(at) {
                return Err(Error::Cycle {
                    pos: Pos::File(at),
                    what: "options section chain",
                });
            }
            let s = self.section_header(at)?;
            if s.id != options::id::DONE {
                return Err(Error::Unexpected {
                    pos: Pos::File(at),
                    expected: "an options section (id 0)".into(),
                    found: format!("section {} ({})", s.id, id_name(s.id)),
                });
            }
            let data_at = (at + 16) as usize;
            let next = if s.flags & SEC_FL_COMPRESS != 0 {
                let d = dec.as_mut().ok_or_else(|| Error::Invalid {
                    pos: Pos::File(at),
                    what: "options section is compressed but the file names no compression".into(),
                })?;
                let buf =
                    compress::read_block(d, self.data, data_at, self.header.endian, "options")?;
                let mut c = Cursor::new(&buf, 0, self.header.endian, Origin::Section(at));
                let mut v = Vec::new();
                let next = self.read_options_v7(&mut c, &mut v)?;
                out.extend(v.into_iter().map(|o| TraceOption {
                    data: Cow::Owned(o.data.into_owned()),
                    ..o
                }));
                next
            } else {
                let mut c = self.cursor(data_at);
                let mut v = Vec::new();
                let next = self.read_options_v7(&mut c, &mut v)?;
                out.extend(v);
                next
            };
            if next == 0 {
                return Ok(out);
            }
            at = next;
        }
    }

    /// Options until DONE; returns DONE's next-section offset. Options borrow from the
    /// cursor's buffer.
    fn read_options_v7<'c>(
        &self,
        c: &mut Cursor<'c>,
        out: &mut Vec<TraceOption<'c>>,
    ) -> Result<u64> {
        loop {
            let pos = c.here();
            let id = c.u16("option id")?;
            let size = c.u32("option size")?;
            let data = c.sized(size as u64, &format!("option {id} ({})", id_name(id)))?;
            if id == options::id::DONE {
                return match self.header.endian.u64(data, 0) {
                    Some(n) => Ok(n),
                    None => Err(Error::Invalid {
                        pos,
                        what: format!("DONE option of {size} bytes, needs 8"),
                    }),
                };
            }
            out.push(TraceOption {
                id,
                pos,
                data: Cow::Borrowed(data),
                value: options::decode(id, data, self.header.endian, true),
            });
        }
    }

    /// What `handle_options` does with each option that changes the handle.
    fn apply_option(&mut self, o: &TraceOption<'_>, st: &mut OptState) -> Result<()> {
        match &o.value {
            OptionValue::CpuCount(n) => {
                st.cpus = Some(*n);
                st.max_cpu = st.max_cpu.max(*n);
            }
            OptionValue::TraceClock { .. } => st.saw_traceclock = true,
            OptionValue::Malformed(why) => {
                if matches!(o.id, options::id::BUFFER | options::id::BUFFER_TEXT) {
                    return Err(Error::Invalid {
                        pos: o.pos,
                        what: format!("{} option: {why}", id_name(o.id)),
                    });
                }
                self.warn(
                    LogLevel::Warning,
                    Some(o.pos),
                    format!("{} option ignored: {why}", id_name(o.id)),
                );
            }
            _ => {}
        }
        if o.id >= options::id::REFERENCE_MAX {
            self.warn(
                LogLevel::Warning,
                Some(o.pos),
                format!("unknown option {}", o.id),
            );
        }
        Ok(())
    }

    fn setup_v7_buffers(&mut self) -> Result<()> {
        let mut top: Option<BufferOption> = None;
        let mut insts: Vec<BufferOption> = Vec::new();
        for o in &self.options {
            if let OptionValue::Buffer(b) | OptionValue::BufferText(b) = &o.value {
                if b.name.is_empty() {
                    top = Some(b.clone());
                } else {
                    insts.push(b.clone());
                }
            }
        }
        // Without a top BUFFER option trace-cmd reads a zeroed one: no CPUs.
        let top = top.unwrap_or(BufferOption {
            offset: 0,
            name: String::new(),
            clock: None,
            page_size: None,
            cpus: Vec::new(),
            latency: false,
        });
        let (data, slots) = self.v7_buffer_data(&top, false);
        let top_compressed = matches!(
            data,
            BufferData::Flyrecord {
                compressed: true,
                ..
            } | BufferData::Latency {
                compressed: true,
                ..
            }
        );
        let top_max = self.max_cpu.max(slots);
        self.buffers.push(Buffer {
            name: String::new(),
            clock: top.clock.clone(),
            page_size: self.header.page_size,
            nr_cpus: slots,
            max_cpu: top_max,
            offset: top.offset,
            data,
        });
        self.top_cpus = slots;
        self.max_cpu = top_max;
        for b in insts {
            // An instance handle is a copy of the top one: compression carries over.
            let (data, slots) = self.v7_buffer_data(&b, top_compressed);
            self.buffers.push(Buffer {
                name: b.name.clone(),
                clock: b.clock.clone(),
                page_size: b.page_size.unwrap_or(self.header.page_size),
                nr_cpus: slots,
                max_cpu: top_max.max(slots),
                offset: b.offset,
                data,
            });
        }
        Ok(())
    }

    /// `handle_buffer_option` + `init_buffer_cpu_data`: the buffer's data and its slot count.
    fn v7_buffer_data(&self, b: &BufferOption, inherit_compressed: bool) -> (BufferData, u32) {
        let r = (|| -> Result<(BufferData, u32)> {
            let s = self.section_header(b.offset)?;
            let compressed = inherit_compressed || s.flags & SEC_FL_COMPRESS != 0;
            if compressed && self.header.codec.is_none() {
                return Err(Error::Invalid {
                    pos: Pos::File(b.offset),
                    what: format!(
                        "buffer {:?} is compressed but the file names no compression",
                        b.name
                    ),
                });
            }
            if b.latency {
                return Ok((
                    BufferData::Latency {
                        offset: b.offset + 16,
                        compressed,
                    },
                    0,
                ));
            }
            let max_id = b.cpus.iter().map(|c| c.cpu).max();
            let in_order = b.cpus.iter().enumerate().all(|(i, c)| c.cpu as usize == i);
            let slots = match max_id {
                None => 0,
                Some(m) if in_order => m + 1,
                Some(m) => m.checked_add(1).ok_or_else(|| Error::Invalid {
                    pos: Pos::File(b.offset),
                    what: format!("buffer {:?} lists CPU {m}", b.name),
                })?,
            };
            let mut cpus: Vec<CpuData> = Vec::with_capacity(b.cpus.len());
            for (i, c) in b.cpus.iter().enumerate() {
                if let Some(prev) = cpus.iter_mut().find(|p| p.cpu == c.cpu) {
                    if prev.size != 0 {
                        return Err(Error::Invalid {
                            pos: Pos::File(b.offset),
                            what: format!(
                                "More than one buffer defined for CPU {} (buffer {i})",
                                c.cpu
                            ),
                        });
                    }
                    *prev = CpuData {
                        cpu: c.cpu,
                        offset: c.offset,
                        size: c.size,
                    };
                    continue;
                }
                cpus.push(CpuData {
                    cpu: c.cpu,
                    offset: c.offset,
                    size: c.size,
                });
            }
            cpus.sort_by_key(|c| c.cpu);
            for c in &cpus {
                self.check_cpu_data(Pos::File(b.offset), c.cpu, c.offset, c.size)?;
            }
            Ok((BufferData::Flyrecord { cpus, compressed }, slots))
        })();
        match r {
            Ok(x) => x,
            Err(e) => (BufferData::Unreadable(e), 0),
        }
    }

    // ----- accessors ------------------------------------------------------------------------

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// The initial header.
    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// Byte order.
    pub fn endian(&self) -> Endian {
        self.header.endian
    }

    /// Options in file order (v7: in the order of the options chain).
    pub fn options(&self) -> &[TraceOption<'a>] {
        &self.options
    }

    /// Things trace-cmd would have reported while reading.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// v7 section headers, in file order (empty for v6).
    pub fn sections(&self) -> &[SectionInfo] {
        &self.sections
    }

    /// A section's description from the STRINGS sections.
    pub fn section_description(&self, s: &SectionInfo) -> Option<&str> {
        let off = usize::try_from(s.desc_id).ok()?;
        let rest = self.strings.get(off..)?;
        let end = memchr::memchr(0, rest)?;
        std::str::from_utf8(&rest[..end]).ok()
    }

    /// Buffers: the top buffer first, then instances in file order.
    pub fn buffers(&self) -> &[Buffer] {
        &self.buffers
    }

    /// The top buffer.
    pub fn top(&self) -> &Buffer {
        &self.buffers[0]
    }

    /// `tracecmd_cpus()` of the top buffer: what `report` prints as `cpus=N`.
    pub fn cpus(&self) -> u32 {
        self.max_cpu
    }

    /// The number of CPUs the file's options / v6 count give (`handle->cpus` before the data
    /// is set up).
    pub fn option_cpus(&self) -> u32 {
        self.top_cpus
    }

    fn piece(&self, p: Piece) -> Result<Option<Cursor<'_>>> {
        match &self.pieces[p as usize] {
            PieceLoc::Absent => Ok(None),
            PieceLoc::Plain(at) => Ok(Some(Cursor::new(
                self.data,
                *at,
                self.header.endian,
                Origin::File,
            ))),
            PieceLoc::Compressed {
                section,
                block,
                cache,
            } => {
                let r = cache.get_or_init(|| {
                    let codec = self.header.codec.expect("checked when located");
                    let mut d = Decoder::new(codec);
                    compress::read_block(
                        &mut d,
                        self.data,
                        *block,
                        self.header.endian,
                        &format!("section {} ({})", p.id(), id_name(p.id())),
                    )
                });
                match r {
                    Ok(buf) => Ok(Some(Cursor::new(
                        buf,
                        0,
                        self.header.endian,
                        Origin::Section(*section),
                    ))),
                    Err(e) => Err(e.clone()),
                }
            }
        }
    }

    /// header_page and header_event texts (empty when the file has none).
    pub fn header_info(&self) -> Result<HeaderInfo<'_>> {
        match self.piece(Piece::HeaderInfo)? {
            Some(mut c) => metadata::header_info(&mut c),
            None => Ok(HeaderInfo {
                header_page: &[],
                header_event: &[],
            }),
        }
    }

    /// `events/header_page` text.
    pub fn header_page_text(&self) -> Result<&[u8]> {
        Ok(self.header_info()?.header_page)
    }

    /// `events/header_event` text.
    pub fn header_event_text(&self) -> Result<&[u8]> {
        Ok(self.header_info()?.header_event)
    }

    /// The parsed header_page (layout of ring-buffer pages).
    pub fn header_page(&self) -> Result<HeaderPage> {
        self.header_page
            .get_or_init(|| {
                let hi = self.header_info()?;
                Ok(HeaderPage::parse(
                    hi.header_page,
                    self.header.long_size,
                    4096,
                ))
            })
            .clone()
    }

    /// How to decode pages: `Err` when trace-cmd would refuse the data
    /// (`update_page_info`: "expected a long long type for timestamp").
    pub fn page_format(&self) -> Result<PageFormat> {
        let hp = self.header_page()?;
        if hp.timestamp.size != 8 {
            return Err(Error::Invalid {
                pos: Pos::File(0),
                what: format!(
                    "expected a long long type for timestamp (header_page timestamp size {})",
                    hp.timestamp.size
                ),
            });
        }
        Ok(PageFormat::new(self.header.endian, &hp))
    }

    /// The `events/ftrace/*/format` texts.
    pub fn ftrace_formats(&self) -> Result<Vec<&[u8]>> {
        match self.piece(Piece::FtraceEvents)? {
            Some(mut c) => metadata::ftrace_formats(&mut c),
            None => Ok(Vec::new()),
        }
    }

    /// The other systems and their format texts.
    pub fn event_systems(&self) -> Result<Vec<EventSystem<'_>>> {
        match self.piece(Piece::EventFormats)? {
            Some(mut c) => metadata::event_systems(&mut c),
            None => Ok(Vec::new()),
        }
    }

    /// `/proc/kallsyms` text.
    pub fn kallsyms(&self) -> Result<&[u8]> {
        match self.piece(Piece::Kallsyms)? {
            Some(mut c) => metadata::sized32(&mut c, "kallsyms"),
            None => Ok(&[]),
        }
    }

    /// The `/proc/kallsyms` text for a reader that keeps it: the buffer that holds it and
    /// where it is in that buffer. For a compressed file the section is inflated into a
    /// buffer of the caller's (unless [`File::kallsyms`] already cached it), which is not
    /// cached here: the text is the largest piece of metadata (several MB), and one copy of
    /// it is enough.
    pub fn kallsyms_buf(&self) -> Result<(Cow<'_, [u8]>, Range<usize>)> {
        let p = Piece::Kallsyms;
        if let PieceLoc::Compressed {
            section,
            block,
            cache,
        } = &self.pieces[p as usize]
        {
            if cache.get().is_none() {
                let codec = self.header.codec.expect("checked when located");
                let buf = compress::read_block(
                    &mut Decoder::new(codec),
                    self.data,
                    *block,
                    self.header.endian,
                    &format!("section {} ({})", p.id(), id_name(p.id())),
                )?;
                let mut c = Cursor::new(&buf, 0, self.header.endian, Origin::Section(*section));
                let text = metadata::sized32(&mut c, "kallsyms")?;
                let start = text.as_ptr() as usize - buf.as_ptr() as usize;
                let range = start..start + text.len();
                return Ok((Cow::Owned(buf), range));
            }
        }
        let text = self.kallsyms()?;
        Ok((Cow::Borrowed(text), 0..text.len()))
    }

    /// `printk_formats` text.
    pub fn printk_formats(&self) -> Result<&[u8]> {
        match self.piece(Piece::Printk)? {
            Some(mut c) => metadata::sized32(&mut c, "printk formats"),
            None => Ok(&[]),
        }
    }

    /// `saved_cmdlines` text.
    pub fn cmdlines(&self) -> Result<&[u8]> {
        match self.piece(Piece::Cmdlines)? {
            Some(mut c) => metadata::sized64(&mut c, "saved cmdlines"),
            None => Ok(&[]),
        }
    }

    /// True when the file has this metadata piece.
    pub fn has_piece(&self, p: Piece) -> bool {
        !matches!(self.pieces[p as usize], PieceLoc::Absent)
    }

    fn last_option<'s, T>(&'s self, f: impl Fn(&'s TraceOption<'a>) -> Option<T>) -> Option<T> {
        self.options.iter().rev().find_map(f)
    }

    /// UNAME option text (the last one).
    pub fn uname(&self) -> Option<&str> {
        self.last_option(|o| match &o.value {
            OptionValue::Uname(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// VERSION option text (the last one).
    pub fn version(&self) -> Option<&str> {
        self.last_option(|o| match &o.value {
            OptionValue::Version(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// TRACEID (the last one).
    pub fn trace_id(&self) -> Option<u64> {
        self.last_option(|o| match o.value {
            OptionValue::TraceId(n) => Some(n),
            _ => None,
        })
    }

    /// TSC2NSEC (mult, shift, offset) of the last valid option.
    pub fn tsc2nsec(&self) -> Option<(u32, u32, u64)> {
        self.last_option(|o| match o.value {
            OptionValue::Tsc2Nsec {
                mult,
                shift,
                offset,
            } => Some((mult, shift, offset)),
            _ => None,
        })
    }

    /// HOOK strings, most recent first (trace-cmd prepends each to its list).
    pub fn hooks(&self) -> Vec<&str> {
        self.options
            .iter()
            .rev()
            .filter_map(|o| match &o.value {
                OptionValue::Hook(s) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    /// GUEST options, most recent first.
    pub fn guests(&self) -> Vec<&options::Guest> {
        self.options
            .iter()
            .rev()
            .filter_map(|o| match &o.value {
                OptionValue::Guest(g) => Some(g),
                _ => None,
            })
            .collect()
    }

    /// The last valid TIME_SHIFT option.
    pub fn time_shift(&self) -> Option<&options::TimeShift> {
        self.last_option(|o| match &o.value {
            OptionValue::TimeShift(t) => Some(t),
            _ => None,
        })
    }

    /// The CPUSTAT texts concatenated as trace-cmd keeps them (`handle->cpustats`: each
    /// option's last byte replaced by a newline), for `report --stat`.
    pub fn cpustats(&self) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for o in &self.options {
            if o.id == options::id::CPUSTAT && !o.data.is_empty() {
                let v = out.get_or_insert_with(Vec::new);
                v.extend_from_slice(&o.data[..o.data.len() - 1]);
                v.push(b'\n');
            }
        }
        out
    }

    /// The trace clock and the µs display flag as trace-cmd settles them
    /// (`extract_trace_clock`, TSC2NSEC handling, the v6 clock blob, the v7 top BUFFER clock),
    /// given `--raw-ts` and whether `--ts2secs` was given.
    pub fn clock_info(&self, raw_ts: bool, ts2secs: bool) -> ClockInfo {
        let mut ci = ClockInfo {
            trace_clock: None,
            in_usecs: true,
            use_trace_clock: false,
        };
        let mut mult = 0u32;
        let extract = |ci: &mut ClockInfo, text: &[u8], mult: u32| {
            if let Some(sel) = options::trace_clock_token(text) {
                ci.trace_clock = sel.clone();
                let Some(c) = sel else { return };
                if raw_ts {
                    ci.in_usecs = false;
                }
                if mult != 0 {
                    return;
                }
                let usecs = matches!(
                    c.as_str(),
                    "local" | "global" | "uptime" | "perf" | "tsc2nsec" | "tai"
                ) || c.starts_with("mono");
                if !usecs {
                    ci.in_usecs = false;
                }
            }
        };
        for o in &self.options {
            match &o.value {
                OptionValue::TraceClock { .. } => {
                    extract(&mut ci, &o.data, mult);
                    if !ts2secs {
                        ci.use_trace_clock = true;
                    }
                }
                OptionValue::Tsc2Nsec { mult: m, .. } if !raw_ts => {
                    // `mult` is an int in trace-cmd: only zero disables it.
                    mult = *m;
                    ci.in_usecs = true;
                }
                OptionValue::Buffer(b)
                    if self.header.sectioned() && b.name.is_empty() && ci.trace_clock.is_none() =>
                {
                    ci.trace_clock = b.clock.clone();
                }
                _ => {}
            }
        }
        if ci.use_trace_clock {
            match &self.v6_clock {
                Some(Ok(text)) => extract(&mut ci, text, mult),
                Some(Err(_)) => extract(&mut ci, b"[local]", mult),
                None => {}
            }
        }
        ci
    }

    /// The v6 clock text after the flyrecord table (read only when a TRACECLOCK option
    /// exists); `Err` when it cannot be read ("File has trace_clock bug, using local clock").
    pub fn v6_clock_text(&self) -> Option<&Result<&'a [u8]>> {
        self.v6_clock.as_ref()
    }

    /// Where each CPU's pages are, per buffer and per entry of [`Buffer::cpus`]: compressed
    /// data gets the virtual offsets trace-cmd gives it (from the page size on, each CPU
    /// page-aligned after the previous one; every instance starts where the top ended, so
    /// instances overlap each other as in trace-cmd).
    /// Lets the walk through compressed CPU data (the chunk tables, read when the data is
    /// first set up) give the mapped pages it read back to the kernel as it goes.
    ///
    /// # Safety
    ///
    /// The bytes the file was parsed from must be a private read-only file mapping (see
    /// [`crate::CpuStream::release_consumed_pages`]).
    pub unsafe fn release_walked_pages(&self) {
        self.release_walked.store(true, Ordering::Relaxed);
    }

    pub(crate) fn layout(&self) -> Result<&[Vec<CpuLayout>]> {
        self.layout
            .get_or_init(|| {
                let mut next = self.header.page_size as u64;
                let mut after_top = next;
                let mut all = Vec::with_capacity(self.buffers.len());
                for (bi, b) in self.buffers.iter().enumerate() {
                    // Each instance handle is a copy of the top handle made after the top's
                    // data was set up: they all continue from where the top ended.
                    if bi > 0 {
                        next = after_top;
                    }
                    let mut v = Vec::new();
                    if let BufferData::Flyrecord { cpus, compressed } = &b.data {
                        for c in cpus {
                            if *compressed && c.size > 0 {
                                // The walk touches every page of the CPU's data: with
                                // release_walked_pages they are given back as it goes.
                                let mut done = c.offset as usize;
                                let release = self.release_walked.load(Ordering::Relaxed);
                                let chunks = compress::read_chunk_table_with(
                                    self.data,
                                    c.offset,
                                    self.header.endian,
                                    &format!("buffer {:?} CPU {}", b.name, c.cpu),
                                    &mut |p| {
                                        if release {
                                            crate::stream::release_behind(
                                                self.data,
                                                p,
                                                1 << 20,
                                                &mut done,
                                            );
                                        }
                                    },
                                )?;
                                let size = chunks
                                    .last()
                                    .map(|k| k.offset + k.usize as u64)
                                    .unwrap_or(0);
                                let base = next;
                                let ps = b.page_size as u64;
                                next = (next + size).div_ceil(ps).saturating_mul(ps);
                                v.push(CpuLayout {
                                    base,
                                    size,
                                    chunks: Some(chunks),
                                });
                            } else {
                                v.push(CpuLayout {
                                    base: c.offset,
                                    size: c.size,
                                    chunks: None,
                                });
                            }
                        }
                    }
                    all.push(v);
                    if bi == 0 {
                        after_top = next;
                    }
                }
                Ok(all)
            })
            .as_ref()
            .map(|v| v.as_slice())
            .map_err(|e| e.clone())
    }

    /// Where trace-cmd's `cpu_data[]` of buffer `buffer` says each CPU's data is, as
    /// `report --stat` prints it (`show_cpu_stats`): one entry per CPU slot `0..nr_cpus`, with
    /// the virtual offset and uncompressed size for compressed data, and zeros for CPUs the
    /// file lists no data for.
    pub fn cpu_data_locations(&self, buffer: usize) -> Vec<(u32, u64, u64)> {
        let Some(b) = self.buffers.get(buffer) else {
            return Vec::new();
        };
        let layout = self.layout().ok().and_then(|l| l.get(buffer));
        (0..b.nr_cpus)
            .map(|cpu| {
                let entry = b.cpus().iter().position(|c| c.cpu == cpu);
                match (entry, layout) {
                    (Some(e), Some(l)) if e < l.len() => (cpu, l[e].base, l[e].size),
                    (Some(e), _) => (cpu, b.cpus()[e].offset, b.cpus()[e].size),
                    (None, _) => (cpu, 0, 0),
                }
            })
            .collect()
    }

    /// The latency text of a latency buffer in the blocks trace-cmd's `report` prints it in
    /// (`tracecmd_latency_data_read`: 8192-byte reads up to end of file when uncompressed,
    /// one block per chunk when compressed). `report` prints each block up to its first NUL.
    pub fn latency_blocks(&self, buffer: usize) -> Result<Vec<Cow<'a, [u8]>>> {
        let b = self
            .buffers
            .get(buffer)
            .ok_or_else(|| Error::Missing(format!("no buffer {buffer}")))?;
        let BufferData::Latency { offset, compressed } = b.data else {
            return Err(Error::Missing(format!(
                "buffer {:?} holds no latency text",
                b.name
            )));
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        if !compressed {
            return Ok(self.data[start..].chunks(8192).map(Cow::Borrowed).collect());
        }
        let codec = self.header.codec.ok_or_else(|| Error::Invalid {
            pos: Pos::File(offset),
            what: "compressed latency text but the file names no compression".into(),
        })?;
        let chunks =
            compress::read_chunk_table(self.data, offset, self.header.endian, "latency text")?;
        let mut d = Decoder::new(codec);
        let mut out = Vec::with_capacity(chunks.len());
        for k in &chunks {
            let input =
                &self.data[k.file_offset as usize..(k.file_offset + k.csize as u64) as usize];
            let p = Pos::File(k.file_offset - 8);
            d.check_size(p, input.len(), k.usize as u64)?;
            let mut buf = vec![0u8; k.usize as usize];
            d.decompress_exact(p, input, &mut buf)?;
            out.push(Cow::Owned(buf));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER_PAGE: &[u8] = b"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\
\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\
\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\
\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";

    /// A little-endian uncompressed v7 file: HEADER_INFO, one OPTIONS section with `opts`
    /// (id, payload) + DONE(`next`), a BUFFER section, and `pages` appended page-aligned
    /// (their offsets passed to `opts` through the closure).
    fn v7(
        opts: impl Fn(&[u64]) -> Vec<(u16, Vec<u8>)>,
        pages: &[Vec<u8>],
        next: Option<u64>,
    ) -> Vec<u8> {
        let mut f = MAGIC.to_vec();
        f.extend_from_slice(b"7\0\0\x08");
        f.extend_from_slice(&4096u32.to_le_bytes());
        f.extend_from_slice(b"none\0\0");
        let opt_ptr = f.len();
        f.extend_from_slice(&0u64.to_le_bytes());
        let sec = |f: &mut Vec<u8>, id: u16, payload: &[u8]| -> u64 {
            let at = f.len() as u64;
            f.extend_from_slice(&id.to_le_bytes());
            f.extend_from_slice(&0u16.to_le_bytes());
            f.extend_from_slice(&(-1i32).to_le_bytes());
            f.extend_from_slice(&(payload.len() as u64).to_le_bytes());
            f.extend_from_slice(payload);
            at
        };
        let mut hi = b"header_page\0".to_vec();
        hi.extend_from_slice(&(HEADER_PAGE.len() as u64).to_le_bytes());
        hi.extend_from_slice(HEADER_PAGE);
        hi.extend_from_slice(b"header_event\0");
        hi.extend_from_slice(&0u64.to_le_bytes());
        let hi_at = sec(&mut f, 16, &hi);
        let buf_at = sec(&mut f, 3, &[]);
        let mut offs = Vec::new();
        for p in pages {
            f.resize(f.len().next_multiple_of(4096), 0);
            offs.push(f.len() as u64);
            f.extend_from_slice(p);
        }
        let mut o = Vec::new();
        let mut put = |id: u16, d: &[u8]| {
            o.extend_from_slice(&id.to_le_bytes());
            o.extend_from_slice(&(d.len() as u32).to_le_bytes());
            o.extend_from_slice(d);
        };
        put(16, &hi_at.to_le_bytes());
        let mut all = vec![buf_at];
        all.extend_from_slice(&offs);
        for (id, d) in opts(&all) {
            put(id, &d);
        }
        let opts_at = f.len() as u64;
        put(0, &next.unwrap_or(0).to_le_bytes());
        sec(&mut f, 0, &o);
        f[opt_ptr..opt_ptr + 8].copy_from_slice(&opts_at.to_le_bytes());
        f
    }

    fn page(ts: u64, events: &[u32]) -> Vec<u8> {
        let mut p = vec![0u8; 4096];
        p[..8].copy_from_slice(&ts.to_le_bytes());
        p[8..16].copy_from_slice(&((events.len() * 8) as u64).to_le_bytes());
        for (i, d) in events.iter().enumerate() {
            // type_len 1 (4 bytes of data), delta d
            p[16 + 8 * i..20 + 8 * i].copy_from_slice(&(1 | (d << 5)).to_le_bytes());
        }
        p
    }

    fn buffer_opt(name: &str, at: u64, cpus: &[(u32, u64, u64)]) -> Vec<u8> {
        let mut b = at.to_le_bytes().to_vec();
        b.extend_from_slice(name.as_bytes());
        b.extend_from_slice(b"\0local\0");
        b.extend_from_slice(&4096u32.to_le_bytes());
        b.extend_from_slice(&(cpus.len() as u32).to_le_bytes());
        for (c, o, s) in cpus {
            b.extend_from_slice(&c.to_le_bytes());
            b.extend_from_slice(&o.to_le_bytes());
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    #[test]
    fn sparse_cpu_lists_get_slots_by_id() {
        let f = v7(
            |o| {
                vec![
                    (options::id::CPUCOUNT, 2u32.to_le_bytes().to_vec()),
                    (3, buffer_opt("", o[0], &[(3, o[1], 4096), (1, o[2], 4096)])),
                    (99, b"?".to_vec()),
                ]
            },
            &[page(100, &[1, 2]), page(50, &[5])],
            None,
        );
        let t = TraceFile::parse(&f).unwrap();
        let b = t.top();
        // CPUs 1 and 3 listed out of order: 4 slots; cpus= takes the larger of CPUCOUNT and that.
        assert_eq!(b.nr_cpus, 4);
        assert_eq!(t.cpus(), 4);
        assert_eq!(
            b.cpus().iter().map(|c| c.cpu).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert!(t
            .warnings()
            .iter()
            .any(|w| w.message == "unknown option 99"));
        let time = crate::TimeConfig::default();
        let mut m = crate::Merge::for_report(
            &[crate::Input {
                file: &t,
                time: &time,
            }],
            false,
            |_| true,
        )
        .unwrap();
        let mut got = Vec::new();
        while let Some((i, r)) = m.peek() {
            got.push((r.cpu, r.ts));
            m.consume(i);
        }
        assert_eq!(got, vec![(1, 55), (3, 101), (3, 103)]);
        // Slots: 3.3.1 counts handle->cpus (4), 3.1.6 max_cpu (also 4 here).
        assert_eq!(m.info(0).slot_v33, 1);
    }

    #[test]
    fn duplicate_cpu_with_data_makes_the_buffer_unreadable() {
        let f = v7(
            |o| vec![(3, buffer_opt("", o[0], &[(1, o[1], 4096), (1, o[1], 4096)]))],
            &[page(100, &[1])],
            None,
        );
        let t = TraceFile::parse(&f).unwrap();
        assert!(matches!(
            t.top().data,
            BufferData::Unreadable(Error::Invalid { .. })
        ));
        let time = crate::TimeConfig::default();
        assert!(crate::Merge::for_report(
            &[crate::Input {
                file: &t,
                time: &time
            }],
            false,
            |_| true
        )
        .is_err());
    }

    #[test]
    fn options_chain_cycles_are_errors() {
        // DONE points back at the same options section.
        let probe = v7(|_| vec![], &[], None);
        let opts_at = u64::from_le_bytes(probe[24..32].try_into().unwrap());
        let f = v7(|_| vec![], &[], Some(opts_at));
        assert!(matches!(TraceFile::parse(&f), Err(Error::Cycle { .. })));
    }

    #[test]
    fn missing_top_buffer_is_empty_and_truncated_data_is_reported() {
        let f = v7(|_| vec![], &[], None);
        let t = TraceFile::parse(&f).unwrap();
        assert!(t.top().cpus().is_empty());
        assert_eq!(t.cpus(), 0);
        // CPU data claimed beyond the end of the file: "File possibly truncated".
        let f = v7(
            |o| vec![(3, buffer_opt("", o[0], &[(0, o[1], 1 << 20)]))],
            &[page(1, &[1])],
            None,
        );
        let t = TraceFile::parse(&f).unwrap();
        assert!(matches!(
            t.top().data,
            BufferData::Unreadable(Error::CpuDataTruncated { cpu: 0, .. })
        ));
        // A size-0 CPU past EOF is fine.
        let f = v7(
            |o| vec![(3, buffer_opt("", o[0], &[(0, 1 << 40, 0)]))],
            &[],
            None,
        );
        let t = TraceFile::parse(&f).unwrap();
        assert!(matches!(t.top().data, BufferData::Flyrecord { .. }));
    }

    #[test]
    fn instances_follow_the_top_buffer() {
        let f = v7(
            |o| {
                vec![
                    (3, buffer_opt("inst", o[0], &[(0, o[2], 4096)])),
                    (3, buffer_opt("", o[0], &[(0, o[1], 4096)])),
                ]
            },
            &[page(10, &[1]), page(10, &[1])],
            None,
        );
        let t = TraceFile::parse(&f).unwrap();
        assert_eq!(t.buffers().len(), 2);
        assert!(t.buffers()[0].is_top());
        assert_eq!(t.buffers()[1].name, "inst");
        let time = crate::TimeConfig::default();
        let mut m = crate::Merge::for_report(
            &[crate::Input {
                file: &t,
                time: &time,
            }],
            false,
            |_| true,
        )
        .unwrap();
        // Equal timestamps: the top buffer (lower global index) first.
        let (i, _) = m.peek().unwrap();
        assert_eq!(m.info(i).buffer, 0);
        m.consume(i);
        let (i, _) = m.peek().unwrap();
        assert_eq!((m.info(i).buffer, m.info(i).slot_v33), (1, 1));
    }

    #[test]
    fn versions_trace_cmd_accepts() {
        assert_eq!(parse_version(b"6"), Some(6));
        assert_eq!(parse_version(b"7"), Some(7));
        assert_eq!(parse_version(b" 7x"), Some(7));
        assert_eq!(parse_version(b"abc"), Some(0));
        assert_eq!(parse_version(b"8"), None);
        assert_eq!(parse_version(b"-1"), None);
        assert_eq!(parse_version(b"99999999999999999999999"), None);
    }

    #[test]
    fn bad_magic_and_short_headers() {
        assert!(matches!(TraceFile::parse(b""), Err(Error::BadMagic { .. })));
        assert!(matches!(
            TraceFile::parse(b"\x17\x08\x44tracinX6\0"),
            Err(Error::BadMagic { pos: Pos::File(9) })
        ));
        let mut h = MAGIC.to_vec();
        h.extend_from_slice(b"9\0");
        assert!(matches!(
            TraceFile::parse(&h),
            Err(Error::UnsupportedVersion { .. })
        ));
        let mut h = MAGIC.to_vec();
        h.extend_from_slice(b"7\0\0\x08\0\x10\0\0lz4\0\x31\0");
        assert!(matches!(
            TraceFile::parse(&h),
            Err(Error::UnknownCompression { .. })
        ));
    }
}
