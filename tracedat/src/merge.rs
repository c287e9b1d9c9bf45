//! The merged record order across all CPUs of all buffers of all input files, as
//! `trace-cmd report` produces it.
//!
//! Specified by trace-cmd's `tracecmd_iterate_events_multi` (lib/trace-cmd/trace-input.c)
//! driven by `read_data_info` (tracecmd/trace-read.c):
//! - the handles are, in this order: each input file's top buffer (in `-i` order), then each
//!   file's instances (file order, then instance order), because instance handles are
//!   appended to the handle list while it is walked;
//! - every CPU slot of every handle gets a global index (`start_cpu + cpu`; 3.3.1 counts
//!   `handle->cpus` slots per handle, 3.1.6 `handle->max_cpu`); this index is what `--cpu`
//!   filters on and what callbacks see;
//! - the next record is the one with the smallest timestamp; ties go to the lowest global
//!   index. 3.3.1 keeps timestamps and re-peeks a CPU whose record changed, 3.1.6 keeps record
//!   pointers: both amount to merging the current heads, which is what this does;
//! - function_graph's leaf detection peeks "the next record" with `tracecmd_peek_next_data`
//!   on the record's own handle only (lowest timestamp over that handle's CPUs, ties to the
//!   lower CPU), then may consume it: [`Merge::peek_following_in_source`] and
//!   [`Merge::consume`].
//! - `--align-ts` subtracts the smallest first timestamp of the input files' top buffers
//!   (`tracecmd_get_first_ts`: a top buffer without data counts as 0) from every handle.
//!
//! Not reproduced: in 3.1.6, when function_graph consumes a record of another CPU, that CPU's
//! cached record pointer dangles (use after free) and later picks are undefined.

use crate::error::{LogLevel, Result, Warning};
use crate::file::{BufferData, TraceFile};
use crate::filter::TypePrefilter;
use crate::record::Record;
use crate::stream::{CpuStream, TimeConfig, TsPipeline};
use crate::Dialect;

/// Which handle and CPU a stream of the merge is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    /// Index of the input file (in the order given).
    pub input: usize,
    /// Index of the buffer in [`TraceFile::buffers`] (0 = top).
    pub buffer: usize,
    /// Index of the handle (file+buffer) in trace-cmd's handle order.
    pub source: usize,
    /// The CPU.
    pub cpu: u32,
    /// Global CPU index as trace-cmd 3.1.6 computes it.
    pub slot_v31: u32,
    /// Global CPU index as trace-cmd 3.3.1 computes it.
    pub slot_v33: u32,
}

impl StreamInfo {
    /// The global CPU index under `dialect` (what `report --cpu` compares with).
    pub fn slot(&self, dialect: Dialect) -> u32 {
        match dialect {
            Dialect::V3_1 => self.slot_v31,
            Dialect::V3_3 => self.slot_v33,
        }
    }
}

/// One handle (buffer of an input file) of the merge, in handle order.
#[derive(Clone, Debug)]
pub struct SourceInfo {
    /// Input file index.
    pub input: usize,
    /// Buffer index in the file.
    pub buffer: usize,
    /// Instance name (empty for a top buffer).
    pub name: String,
    /// The streams of this handle: `streams.start..streams.end` indexes [`Merge`] streams.
    pub streams: std::ops::Range<usize>,
}

/// A k-way merge of CPU streams. Records returned by the `peek*` methods borrow the merge
/// and stay valid until the next `consume`.
pub struct Merge<'f> {
    streams: Vec<CpuStream<'f>>,
    info: Vec<StreamInfo>,
    sources: Vec<SourceInfo>,
    /// Indexed binary min-heap of the streams that have a record: (head ts, stream index),
    /// compared as a tuple so ties go to the lower index.
    heap: Vec<(u64, u32)>,
    pos: Vec<u32>,
    /// Streams left out after building ([`Merge::leave_out`]).
    parked: Vec<bool>,
    /// Per stream, the records worth merging ([`Merge::prefilter`]).
    prefilter: Vec<Option<TypePrefilter>>,
    /// Records consumed or dropped by a prefilter so far.
    read: u64,
    warnings: Vec<Warning>,
}

const NOT_IN_HEAP: u32 = u32::MAX;

impl std::fmt::Debug for Merge<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merge")
            .field("streams", &self.info)
            .finish_non_exhaustive()
    }
}

/// One input of a report: a parsed file and its timestamp options.
#[derive(Clone, Copy, Debug)]
pub struct Input<'f, 'a> {
    /// The file.
    pub file: &'f TraceFile<'a>,
    /// Its timestamp options.
    pub time: &'f TimeConfig,
}

impl<'f> Merge<'f> {
    /// trace-cmd's report order over `inputs`: top buffers, then instances. `keep` decides
    /// which streams to decode at all (a stream left out never appears, not even to
    /// `peek_following*`). Fails where `report` dies ("failed to init data": a top buffer
    /// that cannot be read); an instance that cannot be read is left out with trace-cmd's
    /// warning "could not retrieve handle NAME".
    pub fn for_report<'a: 'f>(
        inputs: &[Input<'f, 'a>],
        align_ts: bool,
        mut keep: impl FnMut(&StreamInfo) -> bool,
    ) -> Result<Merge<'f>> {
        let mut order: Vec<(usize, usize)> = (0..inputs.len()).map(|i| (i, 0)).collect();
        for (i, inp) in inputs.iter().enumerate() {
            for b in 1..inp.file.buffers().len() {
                order.push((i, b));
            }
        }
        let mut m = Merge {
            streams: Vec::new(),
            info: Vec::new(),
            sources: Vec::new(),
            heap: Vec::new(),
            pos: Vec::new(),
            parked: Vec::new(),
            prefilter: Vec::new(),
            read: 0,
            warnings: Vec::new(),
        };
        let (mut base31, mut base33) = (0u32, 0u32);
        // Top buffers' first timestamps for --align-ts (all CPUs with data, kept or not).
        let mut first_ts: Option<u64> = None;
        for (input, buffer) in order {
            let file = inputs[input].file;
            let b = &file.buffers()[buffer];
            let pipe = TsPipeline::new(file, buffer, inputs[input].time);
            let source = m.sources.len();
            let start = m.streams.len();
            let mut built: Vec<(StreamInfo, CpuStream<'f>)> = Vec::new();
            let mut top_first: Option<u64> = None;
            let r = (|| -> Result<()> {
                if let BufferData::Unreadable(e) = &b.data {
                    return Err(e.clone());
                }
                for (entry, c) in b.cpus().iter().enumerate() {
                    let info = StreamInfo {
                        input,
                        buffer,
                        source,
                        cpu: c.cpu,
                        slot_v31: base31.wrapping_add(c.cpu),
                        slot_v33: base33.wrapping_add(c.cpu),
                    };
                    let wanted = keep(&info);
                    if c.size == 0 || !(wanted || align_ts && buffer == 0) {
                        continue;
                    }
                    let s = CpuStream::new(file, buffer, entry, pipe.clone())?;
                    if let Some(t) = s.first_ts() {
                        top_first = Some(top_first.map_or(t, |f: u64| f.min(t)));
                    }
                    if wanted {
                        built.push((info, s));
                    }
                }
                Ok(())
            })();
            if let Err(e) = r {
                if buffer == 0 {
                    return Err(e);
                }
                m.warnings.push(Warning::new(
                    LogLevel::Error,
                    None,
                    format!("could not retrieve handle {}", b.name),
                ));
                m.warnings
                    .push(Warning::new(LogLevel::Warning, None, e.to_string()));
                continue;
            }
            if buffer == 0 {
                let t = top_first.unwrap_or(0);
                first_ts = Some(first_ts.map_or(t, |f| f.min(t)));
            }
            base31 = base31.wrapping_add(b.max_cpu);
            base33 = base33.wrapping_add(b.nr_cpus);
            for (info, s) in built {
                m.info.push(info);
                m.streams.push(s);
            }
            m.sources.push(SourceInfo {
                input,
                buffer,
                name: b.name.clone(),
                streams: start..m.streams.len(),
            });
        }
        if align_ts {
            if let Some(f) = first_ts {
                for s in &mut m.streams {
                    s.add_ts_offset((f as i64).wrapping_neg());
                }
            }
        }
        m.build_heap();
        Ok(m)
    }

    /// A merge over streams built by the caller, in the given (global index) order; each
    /// stream is its own source.
    pub fn from_streams(streams: Vec<(StreamInfo, CpuStream<'f>)>) -> Merge<'f> {
        let mut m = Merge {
            streams: Vec::new(),
            info: Vec::new(),
            sources: Vec::new(),
            heap: Vec::new(),
            pos: Vec::new(),
            parked: Vec::new(),
            prefilter: Vec::new(),
            read: 0,
            warnings: Vec::new(),
        };
        for (i, (info, s)) in streams.into_iter().enumerate() {
            m.sources.push(SourceInfo {
                input: info.input,
                buffer: info.buffer,
                name: String::new(),
                streams: i..i + 1,
            });
            m.info.push(StreamInfo { source: i, ..info });
            m.streams.push(s);
        }
        m.build_heap();
        m
    }

    /// Leaves out the streams `keep` rejects: they were built (so their setup errors were
    /// reported as trace-cmd reports them) but are not read any further, and are invisible
    /// to `peek_following*`. A report with `--cpu` and nothing that looks at the records of
    /// other CPUs uses it to skip their decoding.
    pub fn leave_out(&mut self, mut keep: impl FnMut(&StreamInfo) -> bool) {
        self.parked = self.info.iter().map(|i| !keep(i)).collect();
        self.build_heap();
    }

    /// Whether some stream is left out ([`Merge::leave_out`]).
    #[inline]
    pub fn has_left_out(&self) -> bool {
        self.parked.iter().any(|&p| p)
    }

    /// Brings the streams left out back, as if they had been merged all along: their records
    /// that come before stream `i`'s current one (in merge order: timestamp, then stream
    /// index) are dropped, as the report that left them out skipped them, and the rest are
    /// merged from then on (and seen by `peek_following*`).
    pub fn rejoin(&mut self, i: usize) {
        let Some(cur) = self.streams[i].peek_ts() else {
            return;
        };
        for k in 0..self.streams.len() {
            if !self.parked.get(k).copied().unwrap_or(false) {
                continue;
            }
            self.parked[k] = false;
            while let Some(ts) = self.streams[k].peek_ts() {
                if (ts, k) >= (cur, i) {
                    break;
                }
                self.streams[k].advance();
                self.read += 1;
            }
            self.skip_rejected(k);
            if let Some(ts) = self.streams[k].peek_ts() {
                self.pos[k] = self.heap.len() as u32;
                self.heap.push((ts, k as u32));
                self.sift_up(self.heap.len() - 1);
            }
        }
    }

    /// Drops, as each stream reads them, the records the filter `pre` gives for the stream
    /// rejects for certain: they are never merged, and are invisible to `peek_following*`.
    /// A report with `-F` that names events uses it so that the records of other events
    /// cost only their decoding.
    pub fn prefilter(&mut self, mut pre: impl FnMut(&StreamInfo) -> Option<TypePrefilter>) {
        self.prefilter = self.info.iter().map(&mut pre).collect();
        for i in 0..self.streams.len() {
            self.skip_rejected(i);
        }
        self.build_heap();
    }

    /// Moves stream `i` past the records its prefilter rejects.
    #[inline]
    fn skip_rejected(&mut self, i: usize) {
        if let Some(Some(pre)) = self.prefilter.get(i) {
            let s = &mut self.streams[i];
            while let Some(r) = s.peek() {
                if pre.may_show(r.data) {
                    break;
                }
                s.advance();
                self.read += 1;
            }
        }
    }

    fn build_heap(&mut self) {
        self.pos = vec![NOT_IN_HEAP; self.streams.len()];
        self.heap.clear();
        for i in 0..self.streams.len() {
            if self.parked.get(i).copied().unwrap_or(false) {
                continue;
            }
            if let Some(ts) = self.streams[i].peek_ts() {
                self.pos[i] = self.heap.len() as u32;
                self.heap.push((ts, i as u32));
                self.sift_up(self.heap.len() - 1);
            }
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[self.heap[a].1 as usize] = a as u32;
        self.pos[self.heap[b].1 as usize] = b as u32;
    }

    /// Moves `item` down from the hole at `at` to its place, without writing it before its
    /// place is found (a record's new timestamp stored alone and read back with its stream
    /// index as one value stalled every record).
    #[inline]
    fn place_down(&mut self, mut at: usize, item: (u64, u32)) {
        let n = self.heap.len();
        loop {
            let l = 2 * at + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let mut m = l;
            if r < n && self.heap[r] < self.heap[l] {
                m = r;
            }
            let child = self.heap[m];
            if child < item {
                self.heap[at] = child;
                self.pos[child.1 as usize] = at as u32;
                at = m;
            } else {
                break;
            }
        }
        self.heap[at] = item;
        self.pos[item.1 as usize] = at as u32;
    }

    /// As [`Merge::place_down`], upwards.
    #[inline]
    fn place_up(&mut self, mut at: usize, item: (u64, u32)) {
        while at > 0 {
            let parent = (at - 1) / 2;
            let p = self.heap[parent];
            if item < p {
                self.heap[at] = p;
                self.pos[p.1 as usize] = at as u32;
                at = parent;
            } else {
                break;
            }
        }
        self.heap[at] = item;
        self.pos[item.1 as usize] = at as u32;
    }

    fn sift_down(&mut self, at: usize) {
        let item = self.heap[at];
        self.place_down(at, item);
    }

    fn sift_up(&mut self, at: usize) {
        let item = self.heap[at];
        self.place_up(at, item);
    }

    /// Number of streams.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// True when there are no streams.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Which handle and CPU stream `i` is.
    pub fn info(&self, i: usize) -> &StreamInfo {
        &self.info[i]
    }

    /// The handles, in trace-cmd's order.
    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    /// Stream `i`.
    pub fn stream(&self, i: usize) -> &CpuStream<'f> {
        &self.streams[i]
    }

    /// Warnings from building the merge (instances left out) and from streams that ended
    /// early on corrupt data.
    pub fn warnings(&self) -> Vec<&Warning> {
        self.warnings
            .iter()
            .chain(self.streams.iter().flat_map(|s| s.problems()))
            .collect()
    }

    /// How many records were consumed or dropped by a prefilter so far: how far the
    /// reading has gone, whatever was shown.
    #[inline]
    pub fn records_read(&self) -> u64 {
        self.read
    }

    /// The stream holding the globally next record.
    #[inline]
    pub fn next_index(&self) -> Option<usize> {
        self.heap.first().map(|&(_, i)| i as usize)
    }

    /// The globally next record and its stream.
    #[inline]
    pub fn peek(&self) -> Option<(usize, Record<'_>)> {
        let i = self.next_index()?;
        Some((i, self.streams[i].peek()?))
    }

    /// The current record of stream `i`.
    #[inline]
    pub fn head(&self, i: usize) -> Option<Record<'_>> {
        self.streams[i].peek()
    }

    /// The current record of stream `i` followed by the rest of the memory trace-cmd would
    /// hold it in (see [`crate::CpuStream::peek_page_tail`]).
    #[inline]
    pub fn head_page_tail(&self, i: usize) -> Option<&[u8]> {
        self.streams[i].peek_page_tail()
    }

    /// [`crate::CpuStream::inflate_ahead`] on every stream, with one helper thread for all
    /// (none when no stream is compressed, or when the thread cannot be started: reading
    /// then inflates as it goes).
    pub fn inflate_ahead(&mut self) {
        if !self.streams.iter().any(|s| s.is_compressed()) {
            return;
        }
        let Ok(inf) = crate::stream::Inflater::spawn() else {
            return;
        };
        for (i, s) in self.streams.iter_mut().enumerate() {
            if !self.parked.get(i).copied().unwrap_or(false) {
                s.inflate_ahead(&inf);
            }
        }
    }

    /// [`crate::CpuStream::release_consumed_pages`] on every stream.
    ///
    /// # Safety
    ///
    /// As there: the input files' bytes must be private read-only file mappings.
    pub unsafe fn release_consumed_pages(&mut self, lag: usize) {
        for s in &mut self.streams {
            // SAFETY: forwarded from the caller.
            unsafe { s.release_consumed_pages(lag) };
        }
    }

    /// Where the current record of stream `i` lives (see [`crate::CpuStream::peek_home`]).
    #[inline]
    pub fn head_home(&self, i: usize) -> Option<(crate::stream::RecordHomeRef<'_, 'f>, usize)> {
        self.streams[i].peek_home()
    }

    /// [`Merge::head`] and [`Merge::head_home`] of stream `i` at once, with the payload's
    /// first eight bytes (see [`crate::CpuStream::peek_with_home`]).
    #[inline]
    #[allow(clippy::type_complexity)]
    pub fn head_with_home(
        &self,
        i: usize,
    ) -> Option<(
        Record<'_>,
        crate::stream::RecordHomeRef<'_, 'f>,
        usize,
        Option<u64>,
    )> {
        self.streams[i].peek_with_home()
    }

    /// `report --debug` details of the current record of stream `i`.
    pub fn debug_info(&self, i: usize) -> Option<crate::stream::RecordDebug> {
        self.streams[i].debug_info(false)
    }

    /// Consumes the current record of stream `i` (normally [`Merge::next_index`], or the
    /// stream of a record found by `peek_following*`).
    #[inline]
    pub fn consume(&mut self, i: usize) {
        self.streams[i].advance();
        self.read += 1;
        self.skip_rejected(i);
        let at = self.pos[i];
        if at == NOT_IN_HEAP {
            return;
        }
        let at = at as usize;
        match self.streams[i].peek_ts() {
            None => {
                let last = self.heap.len() - 1;
                self.swap(at, last);
                self.heap.pop();
                self.pos[i] = NOT_IN_HEAP;
                if at < self.heap.len() {
                    self.sift_down(at);
                    self.sift_up(at);
                }
            }
            Some(ts) => {
                let (old, stream) = self.heap[at];
                let item = (ts, stream);
                // A CPU's next record is rarely earlier than its last: usually sift down.
                if ts >= old {
                    self.place_down(at, item);
                } else {
                    self.place_up(at, item);
                }
            }
        }
    }

    fn following(&self, i: usize, range: std::ops::Range<usize>) -> Option<(usize, Record<'_>)> {
        let mut best: Option<(u64, usize)> = None;
        for k in range {
            if k != i && self.parked.get(k).copied().unwrap_or(false) {
                continue;
            }
            let ts = if k == i {
                self.streams[k].peek_after_ts()
            } else {
                self.streams[k].peek_ts()
            };
            if let Some(t) = ts {
                if best.is_none_or(|(b, _)| t < b) {
                    best = Some((t, k));
                }
            }
        }
        let (_, k) = best?;
        let r = if k == i {
            self.streams[k].peek_after()
        } else {
            self.streams[k].peek()
        }?;
        Some((k, r))
    }

    /// The record that comes after the current record of stream `i` among stream `i`'s handle
    /// (trace-cmd's `tracecmd_peek_next_data` on that handle once `i`'s record is read).
    /// Consume it with `consume(k)` after consuming `i`.
    pub fn peek_following_in_source(&self, i: usize) -> Option<(usize, Record<'_>)> {
        let src = self.info[i].source;
        let range = self.sources[src].streams.clone();
        self.following(i, range)
    }

    /// The record that comes after the current record of stream `i` over all streams.
    pub fn peek_following(&self, i: usize) -> Option<(usize, Record<'_>)> {
        self.following(i, 0..self.streams.len())
    }
}
