//! Per-CPU record streams: one CPU's ring-buffer pages, decoded in order, with timestamps put
//! through trace-cmd's timestamp pipeline.
//!
//! This is trace-cmd's per-CPU reader (lib/trace-cmd/trace-input.c: `init_cpu`, `get_page`,
//! `get_next_page`, `update_page_info`, `tracecmd_peek_data`, `read_zpage`) over the mapped file:
//! - uncompressed pages are read in place from the map; compressed data is inflated one chunk
//!   at a time into one of two buffers, so the current record and the one after it (which the
//!   merge exposes for function_graph's look-ahead) both stay valid;
//! - `record->offset` is the page's offset plus the event's offset in the page, with
//!   compressed data placed at trace-cmd's virtual offsets;
//! - a page whose commit size exceeds the page size ends the CPU ("bad page read"), so does a
//!   page at an offset that is not page aligned ("bad page offset"); on the first page both are
//!   fatal, as trace-cmd's `init_cpu` fails;
//! - timestamps go through `timestamp_calc`: nothing with `--raw-ts`; else guest→host
//!   TIME_SHIFT correction (top buffer only), then `--ts2secs` scaling or TSC2NSEC
//!   `mul_u64_u32_shr`, then the offset (`--ts-offset`, DATE µs × 1000 unless `--nodate`,
//!   OFFSET, and `--align-ts`).
//!
//! The hot path (`advance`) allocates nothing.

use std::collections::VecDeque;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Arc;

use crate::error::{Error, LogLevel, Pos, Result, Warning};
use crate::file::compress::{Chunk, Decoder};
use crate::file::options::{OptionValue, TimeShift, TsyncSample};
use crate::file::{BufferData, TraceFile};
use crate::record::Record;
use crate::ring_buffer::{PageDecoder, PageFault, PageFormat};

/// The report options that change timestamps (per input file in trace-cmd).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimeConfig {
    /// `--raw-ts`: timestamps exactly as in the ring buffer.
    pub raw_ts: bool,
    /// `--nodate`: ignore the DATE option.
    pub no_date: bool,
    /// `--ts-offset N`: ns added to every timestamp.
    pub ts_offset: i64,
    /// `--ts2secs HZ`: timestamps are ticks of HZ; 0 or `None` for none.
    pub ts2secs: Option<u64>,
    /// Do not apply a guest file's TIME_SHIFT correction.
    pub no_tsync: bool,
}

/// `TRACECMD_TSYNC_FLAG_INTERPOLATE`.
const TSYNC_INTERPOLATE: u32 = 1;

/// The timestamp pipeline of one buffer (trace-cmd's `timestamp_calc` with the handle's
/// settings).
#[derive(Clone, Debug)]
pub struct TsPipeline {
    raw: bool,
    sync: Option<Arc<TimeShift>>,
    ts2secs: Option<f64>,
    tsc: Option<(u64, u32)>,
    offset: i64,
}

impl TsPipeline {
    /// The identity (what `--raw-ts` gives).
    pub fn raw() -> TsPipeline {
        TsPipeline {
            raw: true,
            sync: None,
            ts2secs: None,
            tsc: None,
            offset: 0,
        }
    }

    /// The pipeline for buffer `buffer` of `file` under `cfg`.
    pub fn new(file: &TraceFile<'_>, buffer: usize, cfg: &TimeConfig) -> TsPipeline {
        if cfg.raw_ts {
            return TsPipeline::raw();
        }
        let mut offset = cfg.ts_offset;
        let mut tsc = None;
        for o in file.options() {
            match o.value {
                OptionValue::Date { usecs } if !cfg.no_date => {
                    offset = offset.wrapping_add(usecs.wrapping_mul(1000));
                }
                OptionValue::Offset { nsecs } => offset = offset.wrapping_add(nsecs),
                OptionValue::Tsc2Nsec { mult, shift, .. } => {
                    // trace-cmd keeps mult in an int and passes it as unsigned long long.
                    tsc = Some((mult as i32 as i64 as u64, shift)).filter(|t| t.0 != 0);
                }
                _ => {}
            }
        }
        // Instance handles start with a zeroed host-sync state.
        let sync = if buffer == 0 && !cfg.no_tsync {
            file.time_shift()
                .filter(|t| !t.cpus.is_empty())
                .map(|t| Arc::new(t.clone()))
        } else {
            None
        };
        TsPipeline {
            raw: false,
            sync,
            ts2secs: cfg
                .ts2secs
                .filter(|&hz| hz != 0)
                .map(|hz| 1_000_000_000f64 / hz as f64),
            tsc,
            offset,
        }
    }

    /// Adds to the offset (`tracecmd_add_ts_offset`, used by `--align-ts`).
    pub fn add_offset(&mut self, delta: i64) {
        if !self.raw {
            self.offset = self.offset.wrapping_add(delta);
        }
    }

    /// The offset added last.
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// Applies the pipeline to a ring-buffer timestamp of CPU slot `cpu`.
    #[inline]
    pub fn apply(&self, ts: u64, cpu: u32) -> u64 {
        if self.raw {
            return ts;
        }
        let mut ts = ts;
        if let Some(s) = &self.sync {
            ts = host_sync(s, ts, cpu);
        }
        if let Some(f) = self.ts2secs {
            ts = (ts as f64 * f) as u64;
        } else if let Some((mult, shift)) = self.tsc {
            ts = mul_u64_u32_shr(ts, mult, shift);
        }
        ts.wrapping_add(self.offset as u64)
    }
}

/// trace-cmd's copy of the kernel's `mul_u64_u32_shr`, with C's wrapping arithmetic.
#[inline]
fn mul_u64_u32_shr(a: u64, mul: u64, shift: u32) -> u64 {
    let al = a & 0xffff_ffff;
    let ah = a >> 32;
    let mut ret = al.wrapping_mul(mul).wrapping_shr(shift);
    if ah != 0 {
        ret = ret.wrapping_add(ah.wrapping_mul(mul).wrapping_shl(32u32.wrapping_sub(shift)));
    }
    ret
}

fn correction(ts: u64, flags: u32, min: &TsyncSample, max: &TsyncSample) -> u64 {
    let tscor = if flags & TSYNC_INTERPOLATE != 0 {
        let delta = max.time.wrapping_sub(min.time);
        let off = (ts as i64)
            .wrapping_sub(min.time)
            .wrapping_mul(max.offset.wrapping_sub(min.offset));
        match off.wrapping_add(delta / 2).checked_div(delta) {
            Some(q) => min.offset.wrapping_add(q),
            None => min.offset,
        }
    } else {
        min.offset
    };
    let ts = ts
        .wrapping_mul(min.scaling as u64)
        .wrapping_shr(min.fraction as u32);
    if tscor < 0 {
        ts.wrapping_sub(tscor.unsigned_abs())
    } else {
        ts.wrapping_add(tscor as u64)
    }
}

/// `timestamp_host_sync`: guest time to host time with the CPU's samples.
fn host_sync(t: &TimeShift, ts: u64, cpu: u32) -> u64 {
    let Some(c) = t.cpus.get(cpu as usize) else {
        return ts;
    };
    let s = &c.samples;
    match s.len() {
        0 => ts,
        1 => ts.wrapping_add(s[0].offset as u64),
        2 => correction(ts, t.flags, &s[0], &s[1]),
        n => {
            // Comparisons are unsigned in trace-cmd (ts is unsigned long long).
            if ts <= s[0].time as u64 {
                return correction(ts, t.flags, &s[0], &s[1]);
            }
            if ts >= s[n - 1].time as u64 {
                return correction(ts, t.flags, &s[n - 2], &s[n - 1]);
            }
            let (mut min, mut max) = (0i64, n as i64 - 1);
            let mut mid = (min + max) / 2;
            while min <= max {
                let t_mid = s[mid as usize].time as u64;
                if ts < t_mid {
                    max = mid - 1;
                } else if ts > t_mid {
                    min = mid + 1;
                } else {
                    break;
                }
                mid = (min + max) / 2;
            }
            let mid = (mid.max(0) as usize).min(n - 2);
            correction(ts, t.flags, &s[mid], &s[mid + 1])
        }
    }
}

/// What `report --debug` shows about a record and its page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordDebug {
    /// `record->offset & ~(page_size - 1)`.
    pub page_offset: u64,
    /// `record->offset & (page_size - 1)`.
    pub offset_in_page: u64,
    /// The page header's timestamp, raw (`tracecmd_page_ts`).
    pub page_ts: u64,
    /// The record is the first data event of its page (`tracecmd_record_at_buffer_start`).
    pub first_in_page: bool,
    /// The `time_delta` of its event header (`tracecmd_record_ts_delta`).
    pub ts_delta: u32,
    /// Its payload size (`record->size`).
    pub size: u32,
    /// The padding and time events right after it, up to the next data event.
    pub following: Vec<RawMeta>,
}

/// A non-data ring-buffer entry (`struct kbuffer_raw_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawMeta {
    /// 29 padding, 30 time extend, 31 time stamp.
    pub type_len: u32,
    /// Delta (or, for a time stamp, the absolute time).
    pub delta: u64,
    /// Padding length (`array[0]`), 0 for time events.
    pub length: i32,
}

/// A decoded record waiting in a stream: where its payload is, not a borrow of it.
#[derive(Clone, Copy, Debug)]
struct Rec {
    ts: u64,
    raw_ts: u64,
    /// Start of the payload in the plain CPU bytes or in the slot buffer.
    at: usize,
    len: u32,
    slot: u8,
    missed: i64,
    offset: u64,
    /// Where its page starts in the plain bytes or slot buffer, and its header's data offset.
    page_at: usize,
    curr: u32,
    /// Data offset of the page's first data event (kbuffer `first`).
    first: u32,
    /// The payload's first eight bytes as a little-endian word, when it has eight.
    head: Option<u64>,
}

struct ZSlot {
    chunk: usize,
    /// Shared so that a parallel report can keep a chunk alive while workers print its
    /// records ([`CpuStream::peek_home`]); refilled in place when nobody else holds it.
    buf: Arc<ChunkBuf>,
}

/// An inflated chunk. Aligned to whole cache lines: its reference count changes on the
/// threads that print records while the reading thread works on the data around it.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct ChunkBuf(Vec<u8>);

impl std::ops::Deref for ChunkBuf {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

/// The memory a record lives in: the mapped file, or an inflated chunk that stays alive as
/// long as this handle (the stream moves on to a new buffer instead of overwriting it).
#[derive(Clone, Debug)]
pub enum RecordHome<'f> {
    /// The CPU's bytes in the map.
    Map(&'f [u8]),
    /// An inflated chunk.
    Chunk(Arc<ChunkBuf>),
}

impl RecordHome<'_> {
    /// The bytes (a record at `at` is followed by the rest of what trace-cmd would read).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match self {
            RecordHome::Map(b) => b,
            RecordHome::Chunk(c) => c,
        }
    }

    /// True when `self` and `other` are the same memory.
    #[inline]
    pub fn same(&self, other: &RecordHomeRef<'_, '_>) -> bool {
        match (self, other) {
            (RecordHome::Map(a), RecordHomeRef::Map(b)) => std::ptr::eq(*a, *b),
            (RecordHome::Chunk(a), RecordHomeRef::Chunk(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// A borrowed [`RecordHome`] (cloning it into an owned one costs a reference count).
#[derive(Clone, Copy, Debug)]
pub enum RecordHomeRef<'s, 'f> {
    Map(&'f [u8]),
    Chunk(&'s Arc<ChunkBuf>),
}

impl<'f> RecordHomeRef<'_, 'f> {
    /// An owned handle on the same memory.
    pub fn to_owned(self) -> RecordHome<'f> {
        match self {
            RecordHomeRef::Map(b) => RecordHome::Map(b),
            RecordHomeRef::Chunk(c) => RecordHome::Chunk(Arc::clone(c)),
        }
    }
}

enum Src<'f> {
    /// The CPU's bytes in the map.
    Plain(&'f [u8]),
    /// Chunk-compressed: the whole file, the chunk table and two inflate buffers.
    Z {
        file: &'f [u8],
        chunks: &'f [Chunk],
        dec: Box<Decoder>,
        /// The helper that inflates the next chunk ahead, and the chunk it is working on.
        ahead: Option<Box<Ahead>>,
        slots: [ZSlot; 2],
    },
}

/// The page starting at `start` in the bytes of `src` (the plain CPU data, or slot `slot`'s
/// inflated chunk): at most `page_size` bytes, fewer at the end of the data.
#[inline]
fn page_slice<'s>(src: &'s Src<'_>, slot: u8, start: usize, page_size: u32) -> &'s [u8] {
    let b: &[u8] = match src {
        Src::Plain(d) => d,
        Src::Z { slots, .. } => &slots[slot as usize].buf[..],
    };
    let e = start.saturating_add(page_size as usize).min(b.len());
    &b[start.min(e)..e]
}

/// Hands back the whole memory pages of `d` from `*done` up to `lag` bytes before `at`,
/// in steps of at least `lag / 2` (see [`CpuStream::release_consumed_pages`]).
pub(crate) fn release_behind(d: &[u8], at: usize, lag: usize, done: &mut usize) {
    const PAGE: usize = 4096;
    let Some(upto) = at.checked_sub(lag) else {
        return;
    };
    if upto < *done + lag / 2 || upto > d.len() {
        return;
    }
    let base = d.as_ptr() as usize;
    // whole pages only: the first page may hold bytes before the CPU data
    let start = (base + *done).next_multiple_of(PAGE);
    let end = (base + upto) / PAGE * PAGE;
    if end > start {
        // SAFETY: [start, end) lies within `d`, which the caller of release_consumed_pages
        // promised is a read-only file mapping; the pages are only dropped from this
        // process, and reading them again refaults the file's contents.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
    *done = upto;
}

/// A stream's chunks under way on an [`Inflater`], and buffers to inflate into.
#[derive(Debug)]
struct Ahead {
    inf: Inflater,
    queue: VecDeque<(usize, Receiver<Result<Vec<u8>>>)>,
    spare: Vec<Vec<u8>>,
}

/// A thread that inflates compressed chunks for the streams that send it work (see
/// [`CpuStream::inflate_ahead`]); it ends when the last stream holding it is gone.
#[derive(Clone, Debug)]
pub struct Inflater {
    tx: Sender<InflateJob>,
}

#[derive(Debug)]
struct InflateJob {
    codec: crate::file::compress::Codec,
    pos: Pos,
    input: Vec<u8>,
    len: usize,
    out: Vec<u8>,
    reply: SyncSender<Result<Vec<u8>>>,
}

impl Ahead {
    /// Chunks requested ahead of the one being read: enough that the reader rarely waits
    /// (and rarely wakes the thread), few enough to keep memory small.
    const DEPTH: usize = 6;

    /// Requests the chunks after `cur` until [`Ahead::DEPTH`] are under way.
    fn top_up(&mut self, file: &[u8], chunks: &[Chunk], cur: usize, dec: &Decoder) {
        let mut next = self.queue.back().map_or(cur.wrapping_add(1), |b| b.0 + 1);
        while self.queue.len() < Self::DEPTH {
            let out = self.spare.pop().unwrap_or_default();
            match self.inf.request(file, chunks, next, dec, out) {
                Some(r) => self.queue.push_back(r),
                None => break,
            }
            next += 1;
        }
    }
}

impl Inflater {
    /// Starts the thread.
    pub fn spawn() -> std::io::Result<Inflater> {
        let (tx, rx) = channel::<InflateJob>();
        std::thread::Builder::new()
            .name("inflate".into())
            .spawn(move || {
                let mut decs: Vec<Decoder> = Vec::new();
                for job in rx {
                    let i = match decs.iter().position(|d| d.codec() == job.codec) {
                        Some(i) => i,
                        None => {
                            decs.push(Decoder::new(job.codec));
                            decs.len() - 1
                        }
                    };
                    let mut out = job.out;
                    // every byte is overwritten: only a buffer that grows needs filling
                    out.resize(job.len, 0);
                    let r = decs[i]
                        .decompress_exact(job.pos, &job.input, &mut out)
                        .map(|_| out);
                    // the stream may have gone (ended early): nothing to do then
                    let _ = job.reply.send(r);
                }
            })?;
        Ok(Inflater { tx })
    }

    /// Sends chunk `k` to be inflated into `out`, when it exists and its size passes the
    /// same check the reader applies (otherwise the reader meets the problem itself, in
    /// order).
    fn request(
        &self,
        file: &[u8],
        chunks: &[Chunk],
        k: usize,
        dec: &Decoder,
        out: Vec<u8>,
    ) -> Option<(usize, Receiver<Result<Vec<u8>>>)> {
        let ch = chunks.get(k)?;
        let pos = Pos::File(ch.file_offset - 8);
        let input =
            file.get(ch.file_offset as usize..(ch.file_offset + ch.csize as u64) as usize)?;
        dec.check_size(pos, input.len(), ch.usize as u64).ok()?;
        let (reply, rx) = sync_channel(1);
        self.tx
            .send(InflateJob {
                codec: dec.codec(),
                pos,
                input: input.to_vec(),
                len: ch.usize as usize,
                out,
                reply,
            })
            .ok()?;
        Some((k, rx))
    }
}

/// One CPU's records in order. `peek` is the current record, `peek_after` the one after it;
/// `advance` moves on. Records borrow from the stream and stay valid until the next
/// `advance`.
pub struct CpuStream<'f> {
    cpu: u32,
    fmt: PageFormat,
    page_size: u32,
    base: u64,
    size: u64,
    src: Src<'f>,
    pipe: TsPipeline,
    page_off: u64,
    /// Where the current page starts in the plain data or in its slot's buffer.
    page_at: usize,
    page_loaded: bool,
    page_slot: u8,
    /// The current page's records, decoded when it was loaded, and the next one to take.
    recs: Vec<Rec>,
    rec_at: usize,
    /// Why decoding the current page stopped early, reported once its records are taken.
    page_fault: Option<PageFault>,
    /// The page's running timestamp where decoding stopped (`kbuffer_timestamp`).
    page_end_ts: u64,
    cur: Option<Rec>,
    nxt: Option<Rec>,
    ended: bool,
    first_raw: Option<u64>,
    problems: Vec<Warning>,
    /// Set by [`CpuStream::release_consumed_pages`]: how far behind the current page the
    /// mapped data is given back, and up to where it has been.
    release: Option<(usize, usize)>,
}

impl std::fmt::Debug for CpuStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuStream")
            .field("cpu", &self.cpu)
            .field("page_off", &self.page_off)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl<'f> CpuStream<'f> {
    /// The stream of entry `entry` of `Buffer::cpus()` of buffer `buffer`. Fails where
    /// trace-cmd's `init_cpu` fails (unreadable first page, chunk table, header page).
    pub fn new(
        file: &'f TraceFile<'_>,
        buffer: usize,
        entry: usize,
        pipe: TsPipeline,
    ) -> Result<CpuStream<'f>> {
        let b = file
            .buffers()
            .get(buffer)
            .ok_or_else(|| Error::Missing(format!("no buffer {buffer}")))?;
        let (cpus, compressed) = match &b.data {
            BufferData::Flyrecord { cpus, compressed } => (cpus, *compressed),
            BufferData::Unreadable(e) => return Err(e.clone()),
            BufferData::Latency { .. } => {
                return Err(Error::Missing(format!(
                    "buffer {:?} holds latency text, not pages",
                    b.name
                )))
            }
        };
        let c = cpus.get(entry).ok_or_else(|| {
            Error::Missing(format!("buffer {:?} has no CPU entry {entry}", b.name))
        })?;
        let fmt = file.page_format()?;
        let bytes: &'f [u8] = file.bytes();
        let mut s = CpuStream {
            cpu: c.cpu,
            fmt,
            page_size: b.page_size,
            base: c.offset,
            size: c.size,
            src: Src::Plain(&[]),
            pipe,
            page_off: 0,
            page_at: 0,
            page_loaded: false,
            page_slot: 0,
            recs: Vec::new(),
            rec_at: 0,
            page_fault: None,
            page_end_ts: 0,
            cur: None,
            nxt: None,
            ended: c.size == 0,
            first_raw: None,
            problems: Vec::new(),
            release: None,
        };
        if c.size == 0 {
            return Ok(s);
        }
        if compressed {
            let layout = &file.layout()?[buffer][entry];
            let codec = file.header().codec.ok_or_else(|| Error::Invalid {
                pos: Pos::File(c.offset),
                what: "compressed CPU data but the file names no compression".into(),
            })?;
            s.base = layout.base;
            s.size = layout.size;
            s.src = Src::Z {
                file: bytes,
                chunks: layout.chunks.as_deref().unwrap_or(&[]),
                dec: Box::new(Decoder::new(codec)),
                ahead: None,
                slots: [
                    ZSlot {
                        chunk: usize::MAX,
                        buf: Arc::new(ChunkBuf::default()),
                    },
                    ZSlot {
                        chunk: usize::MAX,
                        buf: Arc::new(ChunkBuf::default()),
                    },
                ],
            };
            if s.size == 0 {
                s.ended = true;
                return Ok(s);
            }
        } else {
            // Checked against the file size when the buffer was set up.
            s.src = Src::Plain(&bytes[c.offset as usize..(c.offset + c.size) as usize]);
        }
        // The first page must load: trace-cmd's init_cpu fails otherwise.
        s.load_page().map_err(|w| Error::Invalid {
            pos: Pos::File(c.offset),
            what: format!("CPU {}: {}", c.cpu, w.message),
        })?;
        s.first_raw = Some(s.recs.first().map_or(s.page_end_ts, |r| r.raw_ts));
        s.fill_next();
        s.cur = s.nxt.take();
        s.fill_next();
        Ok(s)
    }

    /// For data read from a read-only file mapping: every so often, the mapped pages more
    /// than `lag` bytes behind the current page are handed back to the kernel
    /// (`madvise(MADV_DONTNEED)`), so a report of a file larger than memory keeps a bounded
    /// resident size. They stay readable (a later read faults them in again from the page
    /// cache or the file), which is why `lag` should exceed what readers still hold.
    ///
    /// # Safety
    ///
    /// The stream's bytes must be a private read-only mapping of a file: on anonymous
    /// memory `MADV_DONTNEED` would replace the data by zeros.
    ///
    /// Compressed data is handled alike in the file: the chunks already inflated are given
    /// back as the stream moves on, and at once the chunk headers ahead, which setting up
    /// the chunk table walked through (they are read again when their chunk is inflated).
    pub unsafe fn release_consumed_pages(&mut self, lag: usize) {
        match &self.src {
            Src::Plain(_) => self.release = Some((lag, 0)),
            Src::Z {
                file,
                chunks,
                slots,
                ..
            } => {
                let Some(first) = chunks.first() else { return };
                let start = (first.file_offset as usize).saturating_sub(8);
                let cur = slots[self.page_slot as usize].chunk;
                if let (Some(next), Some(last)) = (chunks.get(cur.wrapping_add(1)), chunks.last()) {
                    let from = (next.file_offset as usize).saturating_sub(8);
                    let to = last.file_offset as usize + last.csize as usize;
                    let mut done = from;
                    release_behind(file, to, 0, &mut done);
                }
                // compressed bytes behind the chunk being read are never read again
                self.release = Some((lag.min(1 << 20), start));
            }
        }
    }

    /// From now on, the chunk after the one being read is inflated ahead by `inf` (another
    /// thread), so reading does not wait for it. Uncompressed data is not affected.
    pub fn inflate_ahead(&mut self, inf: &Inflater) {
        if let Src::Z {
            file,
            chunks,
            dec,
            slots,
            ahead,
        } = &mut self.src
        {
            let cur = slots[self.page_slot as usize].chunk;
            let mut a = Box::new(Ahead {
                inf: inf.clone(),
                queue: VecDeque::new(),
                spare: Vec::new(),
            });
            a.top_up(file, chunks, cur, dec.as_ref());
            *ahead = Some(a);
        }
    }

    /// True for chunk-compressed data.
    pub fn is_compressed(&self) -> bool {
        matches!(self.src, Src::Z { .. })
    }

    /// The CPU id.
    #[inline]
    pub fn cpu(&self) -> u32 {
        self.cpu
    }

    /// The pipeline timestamps go through.
    pub fn pipeline(&self) -> &TsPipeline {
        &self.pipe
    }

    /// Changes the pipeline's offset (for `--align-ts`): buffered records are recomputed.
    pub fn add_ts_offset(&mut self, delta: i64) {
        self.pipe.add_offset(delta);
        let (p, cpu) = (&self.pipe, self.cpu);
        let waiting = self.recs.iter_mut().skip(self.rec_at);
        for r in [&mut self.cur, &mut self.nxt]
            .into_iter()
            .flatten()
            .chain(waiting)
        {
            r.ts = p.apply(r.raw_ts, cpu);
        }
    }

    /// Timestamp trace-cmd records as the CPU's `first_ts`: the first data event of the first
    /// page (the time after its last event when it has none), through the pipeline. `None`
    /// when the CPU has no data.
    pub fn first_ts(&self) -> Option<u64> {
        self.first_raw.map(|t| self.pipe.apply(t, self.cpu))
    }

    #[inline]
    fn record(&self, r: &Rec) -> Record<'_> {
        let data = match &self.src {
            Src::Plain(d) => &d[r.at..r.at + r.len as usize],
            Src::Z { slots, .. } => &slots[r.slot as usize].buf[r.at..r.at + r.len as usize],
        };
        Record {
            ts: r.ts,
            cpu: self.cpu,
            data,
            missed_events: r.missed,
            offset: r.offset,
        }
    }

    /// The bytes from the current record's start to the end of the memory trace-cmd would
    /// have it in (the CPU's mapped data, or the inflated chunk): the record is its first
    /// `data.len()` bytes. libtraceevent reads past a record whose lengths point beyond it.
    #[inline]
    pub fn peek_page_tail(&self) -> Option<&[u8]> {
        let r = self.cur.as_ref()?;
        let b: &[u8] = match &self.src {
            Src::Plain(d) => d,
            Src::Z { slots, .. } => &slots[r.slot as usize].buf[..],
        };
        b.get(r.at..)
    }

    /// Where the current record lives and its offset there: [`CpuStream::peek_page_tail`]
    /// is `home.bytes()[at..]`, and the home outlives the stream's moving on.
    #[inline]
    pub fn peek_home(&self) -> Option<(RecordHomeRef<'_, 'f>, usize)> {
        self.peek_with_home().map(|(_, h, at, _)| (h, at))
    }

    /// The current record with [`CpuStream::peek_home`]'s home and offset, found at once,
    /// and its payload's first eight bytes as a little-endian word (`None` when it is
    /// shorter), read when its page was decoded.
    #[inline]
    #[allow(clippy::type_complexity)]
    pub fn peek_with_home(
        &self,
    ) -> Option<(Record<'_>, RecordHomeRef<'_, 'f>, usize, Option<u64>)> {
        let r = self.cur.as_ref()?;
        let home = match &self.src {
            Src::Plain(d) => RecordHomeRef::Map(d),
            Src::Z { slots, .. } => RecordHomeRef::Chunk(&slots[r.slot as usize].buf),
        };
        Some((self.record(r), home, r.at, r.head))
    }

    /// The current record.
    #[inline]
    pub fn peek(&self) -> Option<Record<'_>> {
        self.cur.as_ref().map(|r| self.record(r))
    }

    /// The current record's timestamp.
    #[inline]
    pub fn peek_ts(&self) -> Option<u64> {
        self.cur.as_ref().map(|r| r.ts)
    }

    /// The record after the current one.
    #[inline]
    pub fn peek_after(&self) -> Option<Record<'_>> {
        self.nxt.as_ref().map(|r| self.record(r))
    }

    /// The timestamp of the record after the current one.
    #[inline]
    pub fn peek_after_ts(&self) -> Option<u64> {
        self.nxt.as_ref().map(|r| r.ts)
    }

    /// Moves to the next record.
    #[inline]
    pub fn advance(&mut self) {
        self.cur = self.nxt.take();
        if self.cur.is_some() {
            self.fill_next();
        }
    }

    /// What went wrong while reading past the first page (the CPU ended there), in
    /// trace-cmd's words where it has any.
    pub fn problems(&self) -> &[Warning] {
        &self.problems
    }

    /// Loads the page at `page_off` (inflating its chunk if needed) and checks its header.
    fn load_page(&mut self) -> std::result::Result<(), Warning> {
        let abs = self.base.wrapping_add(self.page_off);
        if self.page_off != 0 && abs & (self.page_size as u64).wrapping_sub(1) != 0 {
            return Err(Warning::new(
                LogLevel::Critical,
                Some(Pos::File(abs)),
                format!("bad page offset {abs:x}"),
            ));
        }
        if let Src::Z {
            file,
            chunks,
            dec,
            slots,
            ahead,
        } = &mut self.src
        {
            let k = chunks.partition_point(|c| c.offset + c.usize as u64 <= self.page_off);
            if k >= chunks.len() {
                return Err(Warning::new(
                    LogLevel::Error,
                    None,
                    format!("no chunk holds page offset {:#x}", self.page_off),
                ));
            }
            let slot = if slots[self.page_slot as usize].chunk == k {
                self.page_slot
            } else if slots[1 - self.page_slot as usize].chunk == k {
                1 - self.page_slot
            } else {
                // Keep the slot the current record's payload lives in.
                let pinned = self.cur.map(|r| r.slot);
                let slot = match pinned {
                    Some(p) => 1 - p,
                    None => 1 - self.page_slot,
                };
                let ch = &chunks[k];
                let z = &mut slots[slot as usize];
                z.chunk = usize::MAX;
                let p = Pos::File(ch.file_offset - 8);
                let input =
                    &file[ch.file_offset as usize..(ch.file_offset + ch.csize as u64) as usize];
                let fail = |e: Error| Warning::new(LogLevel::Error, Some(p), e.to_string());
                dec.check_size(p, input.len(), ch.usize as u64)
                    .map_err(fail)?;
                let n = ch.usize as usize;
                // The helper may have inflated it already (it checked the size first).
                let done_ahead = match ahead.as_mut().map(|a| &mut a.queue) {
                    Some(q) if q.front().is_some_and(|f| f.0 == k) => {
                        q.pop_front().and_then(|(_, rx)| rx.recv().ok())
                    }
                    Some(q) => {
                        // read out of order (not in a report): start over from here
                        q.clear();
                        None
                    }
                    None => None,
                };
                match done_ahead {
                    Some(r) => {
                        let v = r.map_err(fail)?;
                        match Arc::get_mut(&mut z.buf) {
                            Some(b) => {
                                let old = std::mem::replace(&mut b.0, v);
                                if let Some(a) = ahead.as_mut() {
                                    a.spare.push(old);
                                }
                            }
                            None => z.buf = Arc::new(ChunkBuf(v)),
                        }
                    }
                    None => {
                        if Arc::get_mut(&mut z.buf).is_none() {
                            // a parallel report still prints records of the old chunk
                            z.buf = Arc::new(ChunkBuf::default());
                        }
                        let buf = &mut Arc::get_mut(&mut z.buf).expect("unshared chunk buffer").0;
                        buf.resize(n, 0);
                        dec.decompress_exact(p, input, buf).map_err(fail)?;
                    }
                }
                if let Some(a) = ahead.as_mut() {
                    a.top_up(file, chunks, k, dec.as_ref());
                }
                if let Some((lag, done)) = &mut self.release {
                    release_behind(file, ch.file_offset as usize, *lag, done);
                }
                z.chunk = k;
                slot
            };
            self.page_slot = slot;
            self.page_at = (self.page_off - chunks[k].offset) as usize;
        } else {
            self.page_at = self.page_off as usize;
            if let (Some((lag, done)), Src::Plain(d)) = (&mut self.release, &self.src) {
                release_behind(d, self.page_at, *lag, done);
            }
        }
        let page = page_slice(&self.src, self.page_slot, self.page_at, self.page_size);
        let mut d = PageDecoder::load(page, self.fmt);
        if d.size() > self.page_size {
            return Err(Warning::new(
                LogLevel::Warning,
                Some(Pos::File(abs)),
                format!("bad page read, with size of {}", d.size() as i32),
            ));
        }
        // The whole page at once: one tight loop over its headers rather than a decoder
        // resumed for every record the merge takes.
        self.recs.clear();
        self.rec_at = 0;
        let start = self.fmt.data_start();
        let base = self.base.wrapping_add(self.page_off);
        let mut first = None;
        while let Some(ev) = d.next_event() {
            let i = start + ev.index as usize;
            let head = page
                .get(i..i + 8)
                .filter(|_| ev.len() >= 8)
                .map(|w| u64::from_le_bytes(w.try_into().expect("eight bytes")));
            self.recs.push(Rec {
                ts: self.pipe.apply(ev.ts, self.cpu),
                raw_ts: ev.ts,
                at: self.page_at + i,
                len: ev.len(),
                slot: self.page_slot,
                missed: ev.missed,
                offset: base.wrapping_add(start as u64 + ev.curr as u64),
                page_at: self.page_at,
                curr: ev.curr,
                first: *first.get_or_insert(ev.curr),
                head,
            });
        }
        self.page_fault = d.fault();
        self.page_end_ts = d.timestamp();
        self.page_loaded = true;
        Ok(())
    }

    /// Takes the record after `cur` into `nxt`, loading pages as needed.
    #[inline]
    fn fill_next(&mut self) {
        if !self.take_rec() {
            self.next_page();
        }
    }

    /// Takes the loaded page's next decoded record into `nxt`, if one is left.
    #[inline]
    fn take_rec(&mut self) -> bool {
        let Some(r) = self.recs.get(self.rec_at) else {
            return false;
        };
        self.nxt = Some(*r);
        self.rec_at += 1;
        true
    }

    /// [`CpuStream::fill_next`] at the end of a page: the next page with a record, or the end.
    fn next_page(&mut self) {
        self.nxt = None;
        while !self.ended {
            if self.page_loaded {
                if let Some(f) = self.page_fault {
                    self.problems.push(Warning::new(
                        LogLevel::Warning,
                        Some(Pos::File(self.base.wrapping_add(self.page_off))),
                        format!("CPU {} page: {f}", self.cpu),
                    ));
                }
                self.page_loaded = false;
                self.page_off += self.page_size as u64;
            }
            if self.page_off >= self.size {
                self.ended = true;
                return;
            }
            if let Err(w) = self.load_page() {
                self.problems.push(w);
                self.ended = true;
                return;
            }
            if self.take_rec() {
                return;
            }
        }
    }

    /// What `report --debug`/`--boundary` print about the current record (`after`: the
    /// record after it).
    pub fn debug_info(&self, after: bool) -> Option<RecordDebug> {
        let r = if after { self.nxt? } else { self.cur? };
        let page = page_slice(&self.src, r.slot, r.page_at, self.page_size);
        let e = self.fmt.endian;
        let start = self.fmt.data_start();
        let hdr = e.u32(page, start + r.curr as usize).unwrap_or(0);
        let big = e == crate::Endian::Big;
        let split = |w: u32| -> (u32, u32) {
            if big {
                (w >> 27, w & ((1 << 27) - 1))
            } else {
                (w & 0x1f, w >> 5)
            }
        };
        let ps = self.page_size as u64;
        let page_offset = r.offset & !(ps.wrapping_sub(1));
        let d = PageDecoder::load(page, self.fmt);
        let size = d.size();
        // kbuffer_raw_get from the record on: the time and padding entries before the next
        // data event.
        let mut following = Vec::new();
        let mut at = r.at - r.page_at - start + r.len as usize;
        while at < size as usize && following.len() < 64 {
            let Some(w) = e.u32(page, start + at) else {
                break;
            };
            let (t, delta) = split(w);
            let a = e.u32(page, start + at + 4).unwrap_or(0);
            let (delta, length, adv): (u64, i32, i64) = match t {
                crate::ring_buffer::TYPE_PADDING => (delta as u64, a as i32, 4 + a as i32 as i64),
                crate::ring_buffer::TYPE_TIME_EXTEND => (((a as u64) << 27) + delta as u64, 0, 8),
                crate::ring_buffer::TYPE_TIME_STAMP => (
                    (((a as u64) << 27) + delta as u64) | (r.raw_ts & (0xf8 << 56)),
                    0,
                    8,
                ),
                _ => break,
            };
            following.push(RawMeta {
                type_len: t,
                delta,
                length,
            });
            if adv <= 0 {
                break;
            }
            at += adv as usize;
        }
        Some(RecordDebug {
            page_offset,
            page_ts: e.u64(page, 0).unwrap_or(0),
            first_in_page: r.curr == r.first,
            offset_in_page: r.offset & ps.wrapping_sub(1),
            ts_delta: split(hdr).1,
            size: r.len,
            following,
        })
    }

    /// Timestamp of the CPU's last record (`tracecmd_read_cpu_last`: the last page with a
    /// record), through the pipeline. Does not move the stream.
    pub fn last_ts(&self) -> Result<Option<u64>> {
        if self.size == 0 {
            return Ok(None);
        }
        let ps = self.page_size as u64;
        let mut page_off = (self.size - 1) / ps * ps;
        let mut scratch: Vec<u8> = Vec::new();
        let mut dec = match &self.src {
            Src::Z { dec, .. } => Some(Decoder::new(dec.codec())),
            Src::Plain(_) => None,
        };
        loop {
            let page: &[u8] = match &self.src {
                Src::Plain(d) => {
                    let e = (page_off + ps).min(self.size) as usize;
                    &d[page_off as usize..e]
                }
                Src::Z { file, chunks, .. } => {
                    let k = chunks.partition_point(|c| c.offset + c.usize as u64 <= page_off);
                    let Some(ch) = chunks.get(k) else {
                        return Ok(None);
                    };
                    let p = Pos::File(ch.file_offset - 8);
                    let input =
                        &file[ch.file_offset as usize..(ch.file_offset + ch.csize as u64) as usize];
                    let d = dec.as_mut().expect("compressed source");
                    d.check_size(p, input.len(), ch.usize as u64)?;
                    scratch.resize(ch.usize as usize, 0);
                    d.decompress_exact(p, input, &mut scratch)?;
                    let rel = (page_off - ch.offset) as usize;
                    let e = (rel + ps as usize).min(scratch.len());
                    &scratch[rel..e]
                }
            };
            let mut d = PageDecoder::load(page, self.fmt);
            let mut last = None;
            if d.size() <= self.page_size {
                while let Some(ev) = d.next_event() {
                    last = Some(ev.ts);
                }
            }
            if let Some(t) = last {
                return Ok(Some(self.pipe.apply(t, self.cpu)));
            }
            if page_off == 0 {
                return Ok(None);
            }
            page_off -= ps;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_shr_matches_the_kernel_helper() {
        // 2^32 + 5 ticks at mult 3, shift 1
        let a = (1u64 << 32) + 5;
        assert_eq!(mul_u64_u32_shr(a, 3, 1), (5 * 3) / 2 + (3 << 31));
        assert_eq!(mul_u64_u32_shr(1000, 1 << 10, 10), 1000);
    }

    #[test]
    fn host_sync_interpolates_between_samples() {
        let s = |time, offset| TsyncSample {
            time,
            offset,
            scaling: 1,
            fraction: 0,
        };
        let t = TimeShift {
            peer_trace_id: 0,
            flags: TSYNC_INTERPOLATE,
            cpus: vec![crate::file::options::TsyncSamples {
                samples: vec![s(100, 10), s(200, 20), s(300, 40)],
            }],
        };
        assert_eq!(host_sync(&t, 150, 0), 150 + 15);
        assert_eq!(host_sync(&t, 250, 0), 250 + 30);
        // below the first sample: C division truncates toward zero, (-500 + 50) / 100 = -4
        assert_eq!(host_sync(&t, 50, 0), 50 + 6);
        assert_eq!(host_sync(&t, 400, 0), 400 + 60);
        // a CPU without samples is left alone
        assert_eq!(host_sync(&t, 400, 3), 400);
        let one = TimeShift {
            peer_trace_id: 0,
            flags: 0,
            cpus: vec![crate::file::options::TsyncSamples {
                samples: vec![s(100, -7)],
            }],
        };
        assert_eq!(host_sync(&one, 1000, 0), 993);
    }
}
