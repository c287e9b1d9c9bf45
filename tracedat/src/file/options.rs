//! trace.dat options: `{u16 id, u32 size, data}` records (v6 after the `options  ` tag, v7 in
//! OPTIONS sections), typed.
//!
//! Ids and payloads are trace-cmd's `enum TRACECMD_OPTION_*`
//! (lib/trace-cmd/include/private/trace-cmd-private.h); payload decoding follows the reader,
//! `handle_options()` in lib/trace-cmd/trace-input.c (3.1.6 and 3.3.1 agree). Both references
//! stop at id 22 (BUFFER_TEXT): ids 23–25 (BTF_FILE, LAST_BOOT_INFO, MODULES_FILE, written by
//! later trace-cmd) are typed here but still get trace-cmd's "unknown option" warning, and any
//! other id is kept as [`OptionValue::Unknown`]. A malformed payload is kept as
//! [`OptionValue::Malformed`] with the reason; only BUFFER options, which say where the data
//! is, make the file unreadable when malformed.

use std::borrow::Cow;

use crate::endian::Endian;

/// Option ids (`TRACECMD_OPTION_*`).
pub mod id {
    /// End of an option list (v7: with the offset of the next OPTIONS section).
    pub const DONE: u16 = 0;
    /// `record --date`: µs between the trace clock and gettimeofday, as `"0x%llx"`.
    pub const DATE: u16 = 1;
    /// Per-CPU `stats` file text.
    pub const CPUSTAT: u16 = 2;
    /// A buffer (instance, or v7 top buffer) and where its data is.
    pub const BUFFER: u16 = 3;
    /// The `trace_clock` file text.
    pub const TRACECLOCK: u16 = 4;
    /// `uname` of the recording machine.
    pub const UNAME: u16 = 5;
    /// `record -H` hook.
    pub const HOOK: u16 = 6;
    /// `record --ts-offset`: ns added to every timestamp.
    pub const OFFSET: u16 = 7;
    /// Number of CPUs.
    pub const CPUCOUNT: u16 = 8;
    /// trace-cmd version that wrote the file.
    pub const VERSION: u16 = 9;
    /// `record --proc-map` text.
    pub const PROCMAPS: u16 = 10;
    /// Random session id.
    pub const TRACEID: u16 = 11;
    /// Host/guest time synchronisation samples.
    pub const TIME_SHIFT: u16 = 12;
    /// A guest traced together with this host.
    pub const GUEST: u16 = 13;
    /// TSC to ns conversion.
    pub const TSC2NSEC: u16 = 14;
    /// STRINGS section id (never an option in practice).
    pub const STRINGS: u16 = 15;
    /// Locates the HEADER_INFO section.
    pub const HEADER_INFO: u16 = 16;
    /// Locates the FTRACE_EVENTS section.
    pub const FTRACE_EVENTS: u16 = 17;
    /// Locates the EVENT_FORMATS section.
    pub const EVENT_FORMATS: u16 = 18;
    /// Locates the KALLSYMS section.
    pub const KALLSYMS: u16 = 19;
    /// Locates the PRINTK section.
    pub const PRINTK: u16 = 20;
    /// Locates the CMDLINES section.
    pub const CMDLINES: u16 = 21;
    /// A latency (text) buffer.
    pub const BUFFER_TEXT: u16 = 22;
    /// BTF of the kernel (trace-cmd ≥ 3.4).
    pub const BTF_FILE: u16 = 23;
    /// `instance:content` of last boot info (trace-cmd ≥ 3.4).
    pub const LAST_BOOT_INFO: u16 = 24;
    /// /proc/modules (trace-cmd ≥ 3.4).
    pub const MODULES_FILE: u16 = 25;
    /// First id both references call unknown.
    pub const REFERENCE_MAX: u16 = 23;
}

/// The name `trace-cmd dump` and these docs use for an option or section id.
pub fn id_name(id: u16) -> &'static str {
    match id {
        id::DONE => "DONE",
        id::DATE => "DATE",
        id::CPUSTAT => "CPUSTAT",
        id::BUFFER => "BUFFER",
        id::TRACECLOCK => "TRACECLOCK",
        id::UNAME => "UNAME",
        id::HOOK => "HOOK",
        id::OFFSET => "OFFSET",
        id::CPUCOUNT => "CPUCOUNT",
        id::VERSION => "VERSION",
        id::PROCMAPS => "PROCMAPS",
        id::TRACEID => "TRACEID",
        id::TIME_SHIFT => "TIME_SHIFT",
        id::GUEST => "GUEST",
        id::TSC2NSEC => "TSC2NSEC",
        id::STRINGS => "STRINGS",
        id::HEADER_INFO => "HEADER_INFO",
        id::FTRACE_EVENTS => "FTRACE_EVENTS",
        id::EVENT_FORMATS => "EVENT_FORMATS",
        id::KALLSYMS => "KALLSYMS",
        id::PRINTK => "PRINTK",
        id::CMDLINES => "CMDLINES",
        id::BUFFER_TEXT => "BUFFER_TEXT",
        id::BTF_FILE => "BTF_FILE",
        id::LAST_BOOT_INFO => "LAST_BOOT_INFO",
        id::MODULES_FILE => "MODULES_FILE",
        _ => "UNKNOWN",
    }
}

/// One CPU's entry in a v7 BUFFER option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferCpu {
    /// CPU id.
    pub cpu: u32,
    /// File offset of the CPU's data.
    pub offset: u64,
    /// Size of the CPU's data in the file (compressed size for compressed files).
    pub size: u64,
}

/// A BUFFER (id 3) or BUFFER_TEXT (id 22) option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferOption {
    /// v6: offset of the instance's `flyrecord` tag; v7: offset of its BUFFER or BUFFER_TEXT
    /// section header.
    pub offset: u64,
    /// Instance name; empty for the top buffer.
    pub name: String,
    /// v7: the buffer's clock.
    pub clock: Option<String>,
    /// v7 BUFFER: sub-buffer size.
    pub page_size: Option<u32>,
    /// v7 BUFFER: the CPUs with data, as listed.
    pub cpus: Vec<BufferCpu>,
    /// True for BUFFER_TEXT (latency text).
    pub latency: bool,
}

/// TIME_SHIFT samples of one CPU, sorted by time with duplicate times removed, as
/// `tsync_cpu_offsets_load` leaves them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TsyncSamples {
    /// (time, offset, scaling, fraction) per sample.
    pub samples: Vec<TsyncSample>,
}

/// One host/guest clock sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TsyncSample {
    /// Guest time of the sample.
    pub time: i64,
    /// Offset to add.
    pub offset: i64,
    /// Multiplier.
    pub scaling: i64,
    /// Right shift after multiplying.
    pub fraction: i64,
}

/// A TIME_SHIFT option: how to move a guest's timestamps onto the host's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeShift {
    /// Trace id of the peer (host).
    pub peer_trace_id: u64,
    /// Protocol flags (bit 0: interpolate between samples).
    pub flags: u32,
    /// Samples per CPU.
    pub cpus: Vec<TsyncSamples>,
}

/// A GUEST option: a guest traced with this host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guest {
    /// Guest name.
    pub name: String,
    /// The guest's trace id.
    pub trace_id: u64,
    /// Host pid running each vCPU (index = vCPU).
    pub cpu_pid: Vec<i32>,
}

/// The typed payload of an option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionValue {
    /// DONE; v7 carries the offset of the next OPTIONS section (0: none).
    Done {
        /// Next OPTIONS section, 0 for the last.
        next: u64,
    },
    /// DATE: `strtoll(text, 0)` µs.
    Date {
        /// The value as trace-cmd parses it.
        usecs: i64,
    },
    /// CPUSTAT; the text is the option data. `cpu` from its `CPU: N` first line (instances
    /// write a `Buffer: NAME` CPUSTAT without one).
    CpuStat {
        /// The CPU the stats are for.
        cpu: Option<u32>,
    },
    /// BUFFER.
    Buffer(BufferOption),
    /// TRACECLOCK; the text is the option data.
    TraceClock {
        /// The clock in brackets, as `tracecmd_parse_trace_clock` selects it.
        selected: Option<String>,
    },
    /// UNAME.
    Uname(String),
    /// HOOK.
    Hook(String),
    /// OFFSET: `strtoll(text, 0)` ns.
    Offset {
        /// The value as trace-cmd parses it.
        nsecs: i64,
    },
    /// CPUCOUNT.
    CpuCount(u32),
    /// VERSION.
    Version(String),
    /// PROCMAPS; the text is the option data.
    ProcMaps,
    /// TRACEID.
    TraceId(u64),
    /// TIME_SHIFT.
    TimeShift(TimeShift),
    /// GUEST.
    Guest(Guest),
    /// TSC2NSEC: `ns = (ts * mult) >> shift`.
    Tsc2Nsec {
        /// Multiplier.
        mult: u32,
        /// Shift.
        shift: u32,
        /// Offset (stored; trace-cmd's reader does not apply it).
        offset: u64,
    },
    /// An option pointing at a metadata section (HEADER_INFO..CMDLINES, STRINGS).
    Section {
        /// File offset of the section header.
        offset: u64,
    },
    /// BUFFER_TEXT.
    BufferText(BufferOption),
    /// BTF_FILE; the data is the payload.
    BtfFile,
    /// LAST_BOOT_INFO; the data is the text.
    LastBootInfo,
    /// MODULES_FILE; the data is the payload.
    ModulesFile,
    /// An id neither reference knows.
    Unknown,
    /// A payload trace-cmd would ignore or reject, with why.
    Malformed(String),
}

/// One option as stored, in file order.
#[derive(Clone, Debug)]
pub struct TraceOption<'a> {
    /// Option id.
    pub id: u16,
    /// Where its `{u16 id, u32 size}` header is (in the file, or in a decompressed OPTIONS
    /// section).
    pub pos: crate::error::Pos,
    /// The payload (borrowed from the file unless the OPTIONS section was compressed).
    pub data: Cow<'a, [u8]>,
    /// The decoded payload.
    pub value: OptionValue,
}

impl TraceOption<'_> {
    /// The payload up to its first NUL, as text (for text options).
    pub fn text(&self) -> Cow<'_, str> {
        let d = &self.data[..];
        let end = memchr::memchr(0, d).unwrap_or(d.len());
        String::from_utf8_lossy(&d[..end])
    }

    /// The option's name (`id_name`).
    pub fn name(&self) -> &'static str {
        id_name(self.id)
    }
}

/// The clock `tracecmd_parse_trace_clock` selects from a `trace_clock` text: the first
/// space-separated token that starts with `[`, its first run of characters other than `[`/`]`,
/// then its first whitespace-delimited word.
pub fn selected_clock(text: &[u8]) -> Option<String> {
    trace_clock_token(text).flatten()
}

/// Like [`selected_clock`], but tells apart "no `[` token" (`None`: trace-cmd leaves its
/// clock alone) from "a `[` token without a word" (`Some(None)`: trace-cmd's clock becomes
/// unset).
pub fn trace_clock_token(text: &[u8]) -> Option<Option<String>> {
    let end = memchr::memchr(0, text).unwrap_or(text.len());
    let text = &text[..end];
    let tok = text
        .split(|&c| c == b' ')
        .find(|t| !t.is_empty() && t[0] == b'[')?;
    let word = tok
        .split(|&c| c == b'[' || c == b']')
        .find(|t| !t.is_empty())
        .and_then(|inner| {
            inner
                .split(|c| c.is_ascii_whitespace())
                .find(|w| !w.is_empty())
        });
    Some(word.map(|w| String::from_utf8_lossy(w).into_owned()))
}

fn cstring(b: &[u8]) -> String {
    let end = memchr::memchr(0, b).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

struct Payload<'b> {
    d: &'b [u8],
    p: usize,
    e: Endian,
}

impl<'b> Payload<'b> {
    fn num(&mut self, n: usize) -> Option<u64> {
        let v = self.e.uint(self.d, self.p, n)?;
        self.p += n;
        Some(v)
    }
    fn str(&mut self) -> Option<String> {
        let rest = self.d.get(self.p..)?;
        let n = memchr::memchr(0, rest)?;
        self.p += n + 1;
        Some(String::from_utf8_lossy(&rest[..n]).into_owned())
    }
    fn left(&self) -> usize {
        self.d.len().saturating_sub(self.p)
    }
}

/// BUFFER / BUFFER_TEXT payload (`handle_buffer_option`). `sectioned` is true for v7.
pub fn parse_buffer(
    data: &[u8],
    endian: Endian,
    sectioned: bool,
    latency: bool,
) -> Result<BufferOption, String> {
    let mut p = Payload {
        d: data,
        p: 0,
        e: endian,
    };
    let offset = p.num(8).ok_or("too short for the buffer offset")?;
    let name = p.str().ok_or("buffer name without terminating NUL")?;
    let mut b = BufferOption {
        offset,
        name,
        clock: None,
        page_size: None,
        cpus: Vec::new(),
        latency,
    };
    if !sectioned {
        return Ok(b);
    }
    b.clock = Some(p.str().ok_or("buffer clock without terminating NUL")?);
    if latency {
        return Ok(b);
    }
    b.page_size = Some(p.num(4).ok_or("too short for the page size")? as u32);
    let n = p.num(4).ok_or("too short for the CPU count")? as usize;
    if n > p.left() / 20 {
        return Err(format!(
            "{n} CPUs listed but only {} bytes left for them",
            p.left()
        ));
    }
    b.cpus.reserve(n);
    for _ in 0..n {
        let cpu = p.num(4).ok_or("too short")? as u32;
        let offset = p.num(8).ok_or("too short")?;
        let size = p.num(8).ok_or("too short")?;
        b.cpus.push(BufferCpu { cpu, offset, size });
    }
    Ok(b)
}

fn parse_time_shift(data: &[u8], endian: Endian) -> Result<TimeShift, String> {
    let mut p = Payload {
        d: data,
        p: 0,
        e: endian,
    };
    let short = || "TIME_SHIFT payload too short".to_string();
    let peer_trace_id = p.num(8).ok_or_else(short)?;
    let flags = p.num(4).ok_or_else(short)? as u32;
    let ncpus = p.num(4).ok_or_else(short)? as i32;
    if ncpus < 0 || ncpus as usize > p.left() / 4 {
        return Err(format!(
            "TIME_SHIFT CPU count {ncpus} does not fit the payload"
        ));
    }
    let mut cpus: Vec<TsyncSamples> = Vec::with_capacity(ncpus as usize);
    for _ in 0..ncpus {
        let count = p.num(4).ok_or_else(short)? as i32;
        if count < 0 || count as usize > p.left() / 24 {
            return Err(format!(
                "TIME_SHIFT sample count {count} does not fit the payload"
            ));
        }
        let mut s = vec![TsyncSample::default(); count as usize];
        for x in s.iter_mut() {
            x.time = p.num(8).ok_or_else(short)? as i64;
        }
        for x in s.iter_mut() {
            x.offset = p.num(8).ok_or_else(short)? as i64;
        }
        for x in s.iter_mut() {
            x.scaling = p.num(8).ok_or_else(short)? as i64;
        }
        cpus.push(TsyncSamples { samples: s });
    }
    if p.left() > 0 {
        for c in cpus.iter_mut() {
            for x in c.samples.iter_mut() {
                x.fraction = p.num(8).ok_or_else(short)? as i64;
            }
        }
    }
    for c in cpus.iter_mut() {
        // qsort by time, then drop samples repeating the previous time.
        c.samples.sort_by_key(|s| s.time);
        c.samples.dedup_by_key(|s| s.time);
    }
    Ok(TimeShift {
        peer_trace_id,
        flags,
        cpus,
    })
}

fn parse_guest(data: &[u8], endian: Endian) -> Result<Guest, String> {
    let name_end = memchr::memchr(0, data).unwrap_or(data.len());
    let name = String::from_utf8_lossy(&data[..name_end]).into_owned();
    let mut p = Payload {
        d: data,
        p: name_end + 1,
        e: endian,
    };
    let trace_id = p.num(8).ok_or("GUEST payload too short for the trace id")?;
    let n = p
        .num(4)
        .ok_or("GUEST payload too short for the CPU count")? as i32;
    if n < 0 || n as usize > p.left() / 8 {
        return Err(format!("GUEST vCPU count {n} does not fit the payload"));
    }
    let mut cpu_pid = vec![0i32; n as usize];
    for _ in 0..n {
        let cpu = p.num(4).ok_or("GUEST payload too short")? as i32;
        let pid = p.num(4).ok_or("GUEST payload too short")? as i32;
        if cpu < 0 || cpu >= n {
            return Err(format!("GUEST vCPU {cpu} out of range (count {n})"));
        }
        cpu_pid[cpu as usize] = pid;
    }
    Ok(Guest {
        name,
        trace_id,
        cpu_pid,
    })
}

/// Decodes an option payload. `sectioned` is true for v7 files.
pub fn decode(id_: u16, data: &[u8], endian: Endian, sectioned: bool) -> OptionValue {
    use OptionValue as V;
    let malformed = |m: &str| V::Malformed(m.to_string());
    match id_ {
        id::DONE => match endian.u64(data, 0) {
            Some(next) => V::Done { next },
            None if !sectioned => V::Done { next: 0 },
            None => malformed("DONE shorter than 8 bytes"),
        },
        id::DATE => V::Date {
            usecs: crate::cnum::strtoll(data, 0),
        },
        id::CPUSTAT => {
            let t = &data[..memchr::memchr(0, data).unwrap_or(data.len())];
            let cpu = t.strip_prefix(b"CPU: ").and_then(|r| {
                let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
                std::str::from_utf8(&r[..n]).ok()?.parse().ok()
            });
            V::CpuStat { cpu }
        }
        id::BUFFER | id::BUFFER_TEXT => {
            match parse_buffer(data, endian, sectioned, id_ == id::BUFFER_TEXT) {
                Ok(b) if id_ == id::BUFFER => V::Buffer(b),
                Ok(b) => V::BufferText(b),
                Err(e) => V::Malformed(e),
            }
        }
        id::TRACECLOCK => V::TraceClock {
            selected: selected_clock(data),
        },
        id::UNAME => V::Uname(cstring(data)),
        id::HOOK => V::Hook(cstring(data)),
        id::OFFSET => V::Offset {
            nsecs: crate::cnum::strtoll(data, 0),
        },
        id::CPUCOUNT => match endian.u32(data, 0) {
            Some(n) => V::CpuCount(n),
            None => malformed("CPUCOUNT shorter than 4 bytes"),
        },
        id::VERSION => V::Version(cstring(data)),
        id::PROCMAPS => V::ProcMaps,
        id::TRACEID => match endian.u64(data, 0) {
            Some(n) => V::TraceId(n),
            None => malformed("TRACEID shorter than 8 bytes"),
        },
        id::TIME_SHIFT => {
            if data.len() < 16 {
                malformed("TIME_SHIFT shorter than 16 bytes")
            } else {
                match parse_time_shift(data, endian) {
                    Ok(t) => V::TimeShift(t),
                    Err(e) => V::Malformed(e),
                }
            }
        }
        id::GUEST => match parse_guest(data, endian) {
            Ok(g) => V::Guest(g),
            Err(e) => V::Malformed(e),
        },
        id::TSC2NSEC => {
            if data.len() < 16 {
                malformed("TSC2NSEC shorter than 16 bytes")
            } else {
                V::Tsc2Nsec {
                    mult: endian.u32(data, 0).unwrap_or(0),
                    shift: endian.u32(data, 4).unwrap_or(0),
                    offset: endian.u64(data, 8).unwrap_or(0),
                }
            }
        }
        id::STRINGS | id::HEADER_INFO..=id::CMDLINES => match endian.u64(data, 0) {
            Some(offset) => V::Section { offset },
            None => malformed("section locator shorter than 8 bytes"),
        },
        id::BTF_FILE => V::BtfFile,
        id::LAST_BOOT_INFO => V::LastBootInfo,
        id::MODULES_FILE => V::ModulesFile,
        _ => V::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_selection() {
        assert_eq!(
            selected_clock(b"local [global] counter uptime perf\n\0").as_deref(),
            Some("global")
        );
        assert_eq!(
            selected_clock(b"[local] global\n").as_deref(),
            Some("local")
        );
        assert_eq!(
            selected_clock(b"local global x86-tsc [tai]\n").as_deref(),
            Some("tai")
        );
        assert_eq!(selected_clock(b"local global\n"), None);
        assert_eq!(selected_clock(b"[]"), None);
    }

    #[test]
    fn buffer_option_v7() {
        let e = Endian::Little;
        let mut d = Vec::new();
        d.extend_from_slice(&961474u64.to_le_bytes());
        d.extend_from_slice(b"\0global\0");
        d.extend_from_slice(&4096u32.to_le_bytes());
        d.extend_from_slice(&2u32.to_le_bytes());
        for (c, o, s) in [(0u32, 962560u64, 7420u64), (1, 970752, 2388)] {
            d.extend_from_slice(&c.to_le_bytes());
            d.extend_from_slice(&o.to_le_bytes());
            d.extend_from_slice(&s.to_le_bytes());
        }
        let b = parse_buffer(&d, e, true, false).unwrap();
        assert_eq!(b.name, "");
        assert_eq!(b.clock.as_deref(), Some("global"));
        assert_eq!(b.page_size, Some(4096));
        assert_eq!(b.cpus.len(), 2);
        assert_eq!(b.cpus[1].size, 2388);
        // Every truncation is an error, never a panic.
        for n in 0..d.len() {
            assert!(parse_buffer(&d[..n], e, true, false).is_err(), "{n}");
        }
        // A CPU count the payload cannot hold is refused before allocating.
        let mut big = d[..30].to_vec();
        big[26..30].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_buffer(&big, e, true, false).is_err());
    }

    #[test]
    fn time_shift_is_sorted_and_deduplicated() {
        let e = Endian::Little;
        let mut d = Vec::new();
        d.extend_from_slice(&7u64.to_le_bytes());
        d.extend_from_slice(&1u32.to_le_bytes());
        d.extend_from_slice(&1u32.to_le_bytes());
        d.extend_from_slice(&3u32.to_le_bytes());
        for t in [30i64, 10, 10] {
            d.extend_from_slice(&t.to_le_bytes());
        }
        for o in [3i64, 1, 2] {
            d.extend_from_slice(&o.to_le_bytes());
        }
        for s in [1i64, 1, 1] {
            d.extend_from_slice(&s.to_le_bytes());
        }
        match decode(id::TIME_SHIFT, &d, e, true) {
            OptionValue::TimeShift(t) => {
                assert_eq!(t.peer_trace_id, 7);
                let times: Vec<i64> = t.cpus[0].samples.iter().map(|s| s.time).collect();
                assert_eq!(times, vec![10, 30]);
            }
            v => panic!("{v:?}"),
        }
        for n in 16..d.len() {
            assert!(matches!(
                decode(id::TIME_SHIFT, &d[..n], e, true),
                OptionValue::Malformed(_)
            ));
        }
    }
}
