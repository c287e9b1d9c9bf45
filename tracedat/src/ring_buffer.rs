//! Kernel ring-buffer sub-buffers ("pages") as stored in trace.dat, decoded like libtraceevent's
//! kbuffer.
//!
//! Specified by the kernel's `kernel/trace/ring_buffer.c` (`struct buffer_data_page`,
//! `struct ring_buffer_event`, the `RINGBUF_TYPE_*` values) and described by the
//! `events/header_page` and `events/header_event` files saved in the trace; decoded here exactly
//! as libtraceevent's `src/kbuffer-parse.c` does it (1.7.1 and 1.8.4 decode identically: 1.8
//! only adds `kbuffer_dup`, `kbuffer_refresh`, `kbuffer_read_buffer` and accessors), including
//! its treatment of odd input:
//! - the page header is a u64 timestamp and a kernel `long` commit word (4 or 8 bytes, chosen by
//!   the size of `commit` in header_page), data following at 16 or 12;
//! - commit bit 31 = events were lost before this page, bit 30 = their count is stored as a
//!   `long` right after the data; the size is `commit & (1 << 27) - 1`;
//! - an event is a u32 header (`type_len` 5 bits, `time_delta` 27 bits, bit order by file
//!   endianness) then `array[]`: type_len 1..=28 is data of `type_len * 4` bytes; 0 is data whose
//!   length is `array[0] - 4` rounded up to 4; 29 is padding of `array[0]` bytes after the header
//!   (its `time_delta` still counts); 30 adds `(array[0] << 27) + time_delta`; 31 sets the
//!   absolute time `(array[0] << 27) + time_delta`, keeping the top 5 bits of the running time;
//! - only the first event of a page (at data offset 0) carries the page's lost-event count;
//! - kernels before 2.6.31 (no header_page in the file) used another header layout, which
//!   kbuffer still decodes ("old format").
//!
//! Where kbuffer would read outside the page (corrupt input), the decoder stops the page and
//! says why instead. Decoding allocates nothing.

use crate::endian::Endian;

/// `type_len` of a padding event.
pub const TYPE_PADDING: u32 = 29;
/// `type_len` of a time extend.
pub const TYPE_TIME_EXTEND: u32 = 30;
/// `type_len` of an absolute time stamp.
pub const TYPE_TIME_STAMP: u32 = 31;

const MISSING_EVENTS: u64 = 1 << 31;
const MISSING_STORED: u64 = 1 << 30;
const COMMIT_MASK: u64 = (1 << 27) - 1;
const TS_MSB: u64 = 0xf8 << 56;
const TS_SHIFT: u32 = 27;

/// One `field:` line of `events/header_page`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderField {
    /// `offset:`.
    pub offset: u32,
    /// `size:`.
    pub size: u32,
}

/// `events/header_page` as libtraceevent's `tep_parse_header_page` reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderPage {
    /// `u64 timestamp`.
    pub timestamp: HeaderField,
    /// `local_t commit`: its size is the kernel's `long` size.
    pub commit: HeaderField,
    /// `int overwrite` (legacy; optional).
    pub overwrite: HeaderField,
    /// `char data`: offset + size is the sub-buffer size.
    pub data: HeaderField,
    /// True when the file had no header_page text (kernels before 2.6.31): libtraceevent
    /// then assumes a layout and kbuffer decodes the old event format.
    pub old_format: bool,
}

/// `atoi` as header_page's numbers are read (stored unsigned).
fn atoi_u32(s: &str) -> u32 {
    crate::cnum::atoi(s.as_bytes()) as u32
}

impl HeaderPage {
    /// Parses the header_page text. `long_size` (the file header's) and `host_page_size`
    /// give the layout libtraceevent assumes when the text is empty.
    ///
    /// Fields are found by name; each missing field reads as offset 0, size 0 (libtraceevent
    /// leaves its zero-initialised values when a field does not parse).
    pub fn parse(text: &[u8], long_size: u8, host_page_size: u32) -> HeaderPage {
        if text.is_empty() {
            let long = long_size as u32;
            let data_offset = 8 + long;
            return HeaderPage {
                timestamp: HeaderField { offset: 0, size: 8 },
                commit: HeaderField {
                    offset: 0,
                    size: long,
                },
                overwrite: HeaderField::default(),
                data: HeaderField {
                    offset: data_offset,
                    size: host_page_size.wrapping_sub(data_offset),
                },
                old_format: true,
            };
        }
        let mut hp = HeaderPage {
            timestamp: HeaderField::default(),
            commit: HeaderField::default(),
            overwrite: HeaderField::default(),
            data: HeaderField::default(),
            old_format: false,
        };
        let text = String::from_utf8_lossy(text);
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("field:") else {
                continue;
            };
            // "field: TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;": the type is one token.
            let mut parts = rest.split(';');
            let decl = parts.next().unwrap_or("");
            let mut toks = decl.split_whitespace();
            let _ty = toks.next();
            let Some(name) = toks.next() else { continue };
            let mut f = HeaderField::default();
            for p in parts {
                let p = p.trim();
                if let Some(v) = p.strip_prefix("offset:") {
                    f.offset = atoi_u32(v);
                } else if let Some(v) = p.strip_prefix("size:") {
                    f.size = atoi_u32(v);
                }
            }
            match name {
                "timestamp" => hp.timestamp = f,
                "commit" => hp.commit = f,
                "overwrite" => hp.overwrite = f,
                "data" => hp.data = f,
                _ => {}
            }
        }
        hp
    }

    /// The kernel `long` size trace-cmd uses for page headers (`tep_get_header_page_size`).
    pub fn long_size(&self) -> u32 {
        self.commit.size
    }

    /// The sub-buffer size the kernel describes (`tep_get_sub_buffer_size`).
    pub fn sub_buffer_size(&self) -> u32 {
        self.data.offset.wrapping_add(self.data.size)
    }
}

/// How to decode the pages of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageFormat {
    /// File byte order.
    pub endian: Endian,
    /// The commit word is 8 bytes (64-bit kernel); otherwise 4, and data starts at 12.
    pub long8: bool,
    /// Pre-2.6.31 event headers.
    pub old_format: bool,
}

impl PageFormat {
    /// The format kbuffer is set up with for this header page (`init_cpu_data`).
    pub fn new(endian: Endian, header_page: &HeaderPage) -> PageFormat {
        PageFormat {
            endian,
            long8: header_page.long_size() == 8,
            old_format: header_page.old_format,
        }
    }

    /// Offset of the event data in a page (kbuffer's `start`).
    #[inline]
    pub fn data_start(&self) -> usize {
        if self.long8 {
            16
        } else {
            12
        }
    }
}

/// Why a page stopped decoding before its commit size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFault {
    /// The page is shorter than its header.
    ShortHeader,
    /// An event header or its `array[0]` at this data offset lies outside the page.
    HeaderOutside(u32),
    /// An event's payload (data offset, length) runs outside the page.
    PayloadOutside(u32, u32),
    /// An event at this data offset does not move the cursor forward (kbuffer would loop).
    NoProgress(u32),
    /// A data event whose length field is smaller than its own header.
    NegativeLength(u32),
}

impl std::fmt::Display for PageFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            PageFault::ShortHeader => write!(f, "page shorter than its header"),
            PageFault::HeaderOutside(o) => {
                write!(
                    f,
                    "event header at data offset {o:#x} lies outside the page"
                )
            }
            PageFault::PayloadOutside(o, n) => write!(
                f,
                "event at data offset {o:#x} with {n:#x} bytes of payload runs outside the page"
            ),
            PageFault::NoProgress(o) => write!(
                f,
                "event at data offset {o:#x} does not advance (corrupt length)"
            ),
            PageFault::NegativeLength(o) => {
                write!(f, "data event at data offset {o:#x} has a negative length")
            }
        }
    }
}

/// A data event found on a page. Offsets are from the start of the page's data area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawEvent {
    /// Running timestamp at this event (before the file's timestamp pipeline).
    pub ts: u64,
    /// Offset of the event header (kbuffer `curr`).
    pub curr: u32,
    /// Offset of the payload (kbuffer `index`).
    pub index: u32,
    /// Offset after the payload (kbuffer `next`).
    pub next: u32,
    /// Lost events before it: only the event at data offset 0 carries the page's count.
    pub missed: i64,
}

impl RawEvent {
    /// Payload length (`kbuffer_event_size`).
    #[inline]
    pub fn len(&self) -> u32 {
        self.next - self.index
    }

    /// True when the payload is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.next == self.index
    }
}

/// A decoder over one page, the kbuffer equivalent. Create with [`PageDecoder::load`], then
/// call [`PageDecoder::next_event`] until it returns `None`.
#[derive(Clone, Debug)]
pub struct PageDecoder<'p> {
    page: &'p [u8],
    fmt: PageFormat,
    start: u32,
    size: u32,
    next: u32,
    ts: u64,
    lost: i64,
    fault: Option<PageFault>,
}

impl<'p> PageDecoder<'p> {
    /// Loads a page (`kbuffer_load_subbuffer` without moving to the first event).
    pub fn load(page: &'p [u8], fmt: PageFormat) -> PageDecoder<'p> {
        let e = fmt.endian;
        let start = fmt.data_start() as u32;
        let mut d = PageDecoder {
            page,
            fmt,
            start,
            size: 0,
            next: 0,
            ts: 0,
            lost: 0,
            fault: None,
        };
        let Some(ts) = e.u64(page, 0) else {
            d.fault = Some(PageFault::ShortHeader);
            return d;
        };
        let flags = if fmt.long8 {
            e.u64(page, 8)
        } else {
            e.u32(page, 8).map(u64::from)
        };
        let Some(flags) = flags else {
            d.fault = Some(PageFault::ShortHeader);
            return d;
        };
        d.ts = ts;
        d.size = (flags & COMMIT_MASK) as u32;
        d.lost = if flags & MISSING_EVENTS != 0 {
            if flags & MISSING_STORED != 0 {
                let at = start as usize + d.size as usize;
                let v = if fmt.long8 {
                    e.u64(page, at)
                } else {
                    e.u32(page, at).map(u64::from)
                };
                // kbuffer reads the count wherever it is; past the page we cannot.
                v.map(|v| v as i64).unwrap_or(-1)
            } else {
                -1
            }
        } else {
            0
        };
        d
    }

    /// Data size from the commit word (`kbuffer_subbuffer_size`).
    #[inline]
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The page's lost-event count: 0 none, -1 unknown count, else the stored count.
    #[inline]
    pub fn lost_events(&self) -> i64 {
        self.lost
    }

    /// The page header timestamp before any event, or the running timestamp after the
    /// events decoded so far (`kbuffer_timestamp`).
    #[inline]
    pub fn timestamp(&self) -> u64 {
        self.ts
    }

    /// Why decoding stopped early, if it did.
    #[inline]
    pub fn fault(&self) -> Option<PageFault> {
        self.fault
    }

    /// The page bytes.
    #[inline]
    pub fn page(&self) -> &'p [u8] {
        self.page
    }

    /// Offset of the data area in the page.
    #[inline]
    pub fn data_start(&self) -> u32 {
        self.start
    }

    #[inline]
    fn read4(&self, data_off: u32) -> Option<u32> {
        self.fmt
            .endian
            .u32(self.page, self.start as usize + data_off as usize)
    }

    /// The next data event (`kbuffer_next_event` loop): skips padding and time events,
    /// returns `None` at the end of the data or when the page turns out corrupt (see
    /// [`PageDecoder::fault`]).
    #[inline(always)]
    pub fn next_event(&mut self) -> Option<RawEvent> {
        if self.fault.is_some() {
            return None;
        }
        if self.fmt.old_format {
            return self.next_event_old();
        }
        let big = self.fmt.endian == Endian::Big;
        loop {
            let curr = self.next;
            if curr >= self.size {
                return None;
            }
            let Some(w) = self.read4(curr) else {
                self.fault = Some(PageFault::HeaderOutside(curr));
                return None;
            };
            let (type_len, delta) = if big {
                (w >> 27, w & ((1 << 27) - 1))
            } else {
                (w & 0x1f, w >> 5)
            };
            let delta = delta as u64;
            let index;
            let length: i32;
            match type_len {
                TYPE_PADDING => {
                    let Some(a) = self.read4(curr.wrapping_add(4)) else {
                        self.fault = Some(PageFault::HeaderOutside(curr));
                        return None;
                    };
                    length = a as i32;
                    index = curr.wrapping_add(4);
                    self.ts = self.ts.wrapping_add(delta);
                }
                TYPE_TIME_EXTEND | TYPE_TIME_STAMP => {
                    let Some(a) = self.read4(curr.wrapping_add(4)) else {
                        self.fault = Some(PageFault::HeaderOutside(curr));
                        return None;
                    };
                    let v = ((a as u64) << TS_SHIFT).wrapping_add(delta);
                    if type_len == TYPE_TIME_STAMP {
                        self.ts = v | (self.ts & TS_MSB);
                    } else {
                        self.ts = self.ts.wrapping_add(v);
                    }
                    length = 0;
                    index = curr.wrapping_add(8);
                }
                0 => {
                    let Some(a) = self.read4(curr.wrapping_add(4)) else {
                        self.fault = Some(PageFault::HeaderOutside(curr));
                        return None;
                    };
                    let l = a.wrapping_sub(4) as i32;
                    length = l.wrapping_add(3) & !3;
                    index = curr.wrapping_add(8);
                    self.ts = self.ts.wrapping_add(delta);
                }
                n => {
                    length = (n * 4) as i32;
                    index = curr.wrapping_add(4);
                    self.ts = self.ts.wrapping_add(delta);
                }
            }
            let next = index.wrapping_add(length as u32);
            if next <= curr {
                self.fault = Some(PageFault::NoProgress(curr));
                return None;
            }
            self.next = next;
            if type_len >= TYPE_PADDING {
                continue;
            }
            if length < 0 {
                self.fault = Some(PageFault::NegativeLength(curr));
                return None;
            }
            if self.start as usize + next as usize > self.page.len() {
                self.fault = Some(PageFault::PayloadOutside(curr, length as u32));
                return None;
            }
            return Some(RawEvent {
                ts: self.ts,
                curr,
                index,
                next,
                missed: if curr == 0 { self.lost } else { 0 },
            });
        }
    }

    /// kbuffer's `__old_next_event` / `old_update_pointers`: 2-bit type, 3-bit length,
    /// 27-bit delta.
    fn next_event_old(&mut self) -> Option<RawEvent> {
        let big = self.fmt.endian == Endian::Big;
        loop {
            let curr = self.next;
            if curr >= self.size {
                return None;
            }
            let Some(w) = self.read4(curr) else {
                self.fault = Some(PageFault::HeaderOutside(curr));
                return None;
            };
            let (ty, len, delta) = if big {
                ((w >> 29) & 3, (w >> 27) & 7, w & ((1 << 27) - 1))
            } else {
                (w & 3, (w >> 2) & 7, w >> 5)
            };
            let mut delta = delta as u64;
            let mut ptr = curr.wrapping_add(4);
            let length: u32;
            match ty {
                // Padding ends the page.
                0 => {
                    self.next = self.size;
                    continue;
                }
                1 => {
                    let Some(a) = self.read4(ptr) else {
                        self.fault = Some(PageFault::HeaderOutside(curr));
                        return None;
                    };
                    delta = ((a as u64) << TS_SHIFT).wrapping_add(delta);
                    ptr = ptr.wrapping_add(4);
                    length = 0;
                }
                // A time stamp "should never happen": kbuffer gives up on the page.
                2 => {
                    self.next = self.size;
                    return None;
                }
                _ => {
                    if len != 0 {
                        length = len * 4;
                    } else {
                        let Some(a) = self.read4(ptr) else {
                            self.fault = Some(PageFault::HeaderOutside(curr));
                            return None;
                        };
                        length = a.wrapping_sub(4);
                        ptr = ptr.wrapping_add(4);
                    }
                }
            }
            self.ts = self.ts.wrapping_add(delta);
            let next = ptr.wrapping_add(length);
            if next <= curr {
                self.fault = Some(PageFault::NoProgress(curr));
                return None;
            }
            self.next = next;
            if ty == 1 {
                continue;
            }
            if next < ptr {
                // array[0] below 4: the length wrapped around.
                self.fault = Some(PageFault::NegativeLength(curr));
                return None;
            }
            if self.start as usize + next as usize > self.page.len() {
                self.fault = Some(PageFault::PayloadOutside(curr, length));
                return None;
            }
            return Some(RawEvent {
                ts: self.ts,
                curr,
                index: ptr,
                next,
                missed: if curr == 0 { self.lost } else { 0 },
            });
        }
    }

    /// The payload of an event of this page.
    #[inline]
    pub fn payload(&self, ev: &RawEvent) -> &'p [u8] {
        let s = self.start as usize;
        &self.page[s + ev.index as usize..s + ev.next as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a page: header then the given u32 words of event data (little or big endian).
    fn page(
        endian: Endian,
        long8: bool,
        ts: u64,
        commit: u64,
        words: &[u32],
        len: usize,
    ) -> Vec<u8> {
        let mut p = vec![0u8; len];
        let put32 = |p: &mut Vec<u8>, at: usize, v: u32| {
            let b = match endian {
                Endian::Little => v.to_le_bytes(),
                Endian::Big => v.to_be_bytes(),
            };
            p[at..at + 4].copy_from_slice(&b);
        };
        let b = match endian {
            Endian::Little => ts.to_le_bytes(),
            Endian::Big => ts.to_be_bytes(),
        };
        p[..8].copy_from_slice(&b);
        if long8 {
            let b = match endian {
                Endian::Little => commit.to_le_bytes(),
                Endian::Big => commit.to_be_bytes(),
            };
            p[8..16].copy_from_slice(&b);
        } else {
            put32(&mut p, 8, commit as u32);
        }
        let start = if long8 { 16 } else { 12 };
        for (i, w) in words.iter().enumerate() {
            put32(&mut p, start + 4 * i, *w);
        }
        p
    }

    fn hdr(endian: Endian, type_len: u32, delta: u32) -> u32 {
        match endian {
            Endian::Little => type_len | (delta << 5),
            Endian::Big => (type_len << 27) | delta,
        }
    }

    fn fmt(endian: Endian, long8: bool) -> PageFormat {
        PageFormat {
            endian,
            long8,
            old_format: false,
        }
    }

    /// (ts, index, len, missed) of every event, and the fault that ended the page.
    type Decoded = (Vec<(u64, u32, u32, i64)>, Option<PageFault>);

    fn decode_all(p: &[u8], f: PageFormat) -> Decoded {
        let mut d = PageDecoder::load(p, f);
        let mut v = Vec::new();
        while let Some(e) = d.next_event() {
            v.push((e.ts, e.curr, e.len(), e.missed));
        }
        (v, d.fault())
    }

    #[test]
    fn event_types_both_endians_and_long_sizes() {
        for endian in [Endian::Little, Endian::Big] {
            for long8 in [true, false] {
                let words = [
                    // data, 2 words, delta 5
                    hdr(endian, 2, 5),
                    0xaaaa,
                    0xbbbb,
                    // time extend: +(1 << 27) + 3
                    hdr(endian, TYPE_TIME_EXTEND, 3),
                    1,
                    // padding: array[0] = 4 counts itself; its delta 2 counts
                    hdr(endian, TYPE_PADDING, 2),
                    4,
                    // type_len 0: array[0] = 4 + 6 bytes -> 8 with rounding
                    hdr(endian, 0, 1),
                    10,
                    0x1111,
                    0x2222,
                    // absolute time stamp 7 << 27 | 9
                    hdr(endian, TYPE_TIME_STAMP, 9),
                    7,
                    hdr(endian, 1, 0),
                    0x3333,
                ];
                let commit = (words.len() * 4) as u64;
                let p = page(endian, long8, 1000, commit, &words, 4096);
                let (ev, fault) = decode_all(&p, fmt(endian, long8));
                assert_eq!(fault, None);
                let ext = 1u64 << 27;
                assert_eq!(
                    ev,
                    vec![
                        (1005, 0, 8, 0),
                        (1005 + ext + 3 + 2 + 1, 28, 8, 0),
                        ((7 << 27) | 9, 52, 4, 0),
                    ],
                    "{endian:?} long8={long8}"
                );
            }
        }
    }

    #[test]
    fn absolute_timestamp_keeps_top_bits() {
        let e = Endian::Little;
        let base = 0xf800_0000_0000_0000u64 | 5;
        let words = [hdr(e, TYPE_TIME_STAMP, 1), 2, hdr(e, 1, 0), 0];
        let p = page(e, true, base, 16, &words, 64);
        let (ev, _) = decode_all(&p, fmt(e, true));
        assert_eq!(ev[0].0, 0xf800_0000_0000_0000 | (2 << 27) | 1);
    }

    #[test]
    fn missed_events_only_on_first_event_at_offset_zero() {
        let e = Endian::Little;
        let words = [hdr(e, 1, 0), 0, hdr(e, 1, 0), 0];
        // count stored after the data
        let mut p = page(e, true, 0, 16 | MISSING_EVENTS | MISSING_STORED, &words, 64);
        p[16 + 16..16 + 24].copy_from_slice(&42u64.to_le_bytes());
        let (ev, _) = decode_all(&p, fmt(e, true));
        assert_eq!(ev.iter().map(|x| x.3).collect::<Vec<_>>(), vec![42, 0]);
        // count not stored
        let p = page(e, true, 0, 8 | MISSING_EVENTS, &words, 64);
        assert_eq!(decode_all(&p, fmt(e, true)).0[0].3, -1);
        // a time extend first: kbuffer reports no missed events
        let words = [hdr(e, TYPE_TIME_EXTEND, 0), 0, hdr(e, 1, 0), 0];
        let p = page(e, true, 0, 16 | MISSING_EVENTS, &words, 64);
        assert_eq!(decode_all(&p, fmt(e, true)).0[0].3, 0);
        // 4-byte long: the stored count is a u32
        let words = [hdr(e, 1, 0), 0];
        let mut p = page(e, false, 0, 8 | MISSING_EVENTS | MISSING_STORED, &words, 64);
        p[12 + 8..12 + 12].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(decode_all(&p, fmt(e, false)).0[0].3, 7);
    }

    #[test]
    fn padding_to_end_of_commit_and_beyond() {
        let e = Endian::Little;
        // A padding whose length runs past the commit ends the page.
        let words = [hdr(e, 1, 0), 0, hdr(e, TYPE_PADDING, 0), 4000];
        let p = page(e, true, 0, 16, &words, 4096);
        let (ev, fault) = decode_all(&p, fmt(e, true));
        assert_eq!(ev.len(), 1);
        assert_eq!(fault, None);
    }

    #[test]
    fn corrupt_pages_stop_without_panic_or_loop() {
        let e = Endian::Little;
        // negative padding length would move kbuffer backwards forever
        let words = [hdr(e, 1, 0), 0, hdr(e, TYPE_PADDING, 0), (-8i32) as u32];
        let p = page(e, true, 0, 64, &words, 128);
        let (ev, fault) = decode_all(&p, fmt(e, true));
        assert_eq!(ev.len(), 1);
        assert_eq!(fault, Some(PageFault::NoProgress(8)));
        // payload past the page
        let words = [hdr(e, 0, 0), 1000];
        let p = page(e, true, 0, 64, &words, 128);
        assert!(matches!(
            decode_all(&p, fmt(e, true)).1,
            Some(PageFault::PayloadOutside(..))
        ));
        // commit beyond the page: the header after the last whole event lies outside
        let words = [hdr(e, 1, 0), 0].repeat(6);
        let p = page(e, true, 0, 4000, &words, 64);
        let (ev, fault) = decode_all(&p, fmt(e, true));
        assert_eq!(ev.len(), 6);
        assert!(matches!(fault, Some(PageFault::HeaderOutside(_))));
        // short page
        assert_eq!(
            decode_all(&[0u8; 10], fmt(e, true)).1,
            Some(PageFault::ShortHeader)
        );
        // every truncation of a valid page is handled
        let words = [
            hdr(e, 2, 5),
            1,
            2,
            hdr(e, TYPE_TIME_EXTEND, 3),
            1,
            hdr(e, 0, 1),
            10,
            1,
            2,
        ];
        let p = page(e, true, 9, 36, &words, 52);
        for n in 0..p.len() {
            let _ = decode_all(&p[..n], fmt(e, true));
        }
    }

    #[test]
    fn old_format_pages() {
        let e = Endian::Little;
        let f = PageFormat {
            endian: e,
            long8: true,
            old_format: true,
        };
        // data (type 3) len 1 word, delta 2; extend (type 1) +(1<<27)+1; data len 0 -> array
        let w = |ty: u32, len: u32, delta: u32| ty | (len << 2) | (delta << 5);
        let words = [w(3, 1, 2), 0, w(1, 0, 1), 1, w(3, 0, 0), 8, 0, w(0, 0, 0)];
        let p = page(e, true, 10, 32, &words, 64);
        let (ev, fault) = decode_all(&p, f);
        assert_eq!(fault, None);
        assert_eq!(ev, vec![(12, 0, 4, 0), (12 + (1 << 27) + 1, 16, 4, 0)]);
        // A data event whose length word is below 4 wraps around (found by fuzzing).
        let words = [w(3, 0, 0), 2, 0, 0];
        let p = page(e, true, 10, 16, &words, 64);
        let (ev, fault) = decode_all(&p, f);
        assert!(ev.is_empty());
        assert_eq!(fault, Some(PageFault::NegativeLength(0)));
    }

    #[test]
    fn header_page_parse() {
        let text = b"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\
\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;\n\
\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\
\tfield: char data;\toffset:12;\tsize:4084;\tsigned:1;\n";
        let hp = HeaderPage::parse(text, 8, 4096);
        assert_eq!(hp.long_size(), 4);
        assert_eq!(hp.sub_buffer_size(), 4096);
        assert!(!hp.old_format);
        let hp = HeaderPage::parse(b"", 4, 4096);
        assert!(hp.old_format);
        assert_eq!(hp.long_size(), 4);
        assert_eq!(hp.data.offset, 12);
    }
}
