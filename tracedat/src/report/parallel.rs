//! The parallel report: trace-cmd's record loop split so that the expensive part, printing
//! each line (print-format evaluation, printf, symbol lookups), runs on several threads while
//! the output keeps trace-cmd's exact order and bytes.
//!
//! One thread runs [`super::Producer`] over the merged records in trace-cmd's order. It does
//! everything that depends on that order: `-F` filters (which may look up comms), `--cpu`,
//! `-I`/`-S`, the comm each line shows (the comm known *when that line is printed*: it is
//! looked up and copied into the job), the comms the sched plugins learn, and every line whose
//! printing changes or reads state (function plugin indents, func_repeats, function_graph leaf
//! merging, `bprint`, char arrays under `-R`): those it prints itself, into the batch. The
//! other records become [`Job`]s: where the record is (the mapped file, or an inflated chunk
//! the batch keeps alive), its time, CPU, pid and comm. Worker threads print the jobs of a
//! batch. When their queue is full the producer prints instead of waiting (with as many
//! threads as CPUs, a producer that sleeps while workers are behind leaves a CPU idle, and
//! three busy threads on two CPUs cost context switches): the next batch's records
//! straight into a buffer, as the one-thread report does (no jobs to make), or a batch it
//! made but could not hand over. The producer runs on the calling thread and also writes
//! the batches in sequence, collecting the workers' output between its own batches (a
//! writer thread of its own would be woken for every batch). All channels are bounded and
//! a batch goes out after a bounded number of records read, so memory stays bounded
//! whatever the file size; a write error (a closed pipe) stops the producer at its next
//! batch and the workers when the queue closes.

use std::collections::BTreeMap;
use std::io;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Mutex, OnceLock};

use super::info_cache::{self, KEY_MAX};
use super::line::{self, LatencyFields, TimeFmt};
use super::plugins::{Ctx, PluginOptions, Rec, State};
use super::{
    print_info, write_prefix, write_unknown, EvInfo, LineCaches, Options, Out, Producer,
    ReportError, Sink,
};
use crate::outbuf::pack16;
use crate::stream::{RecordHome, RecordHomeRef};
use crate::tep::printf::push_hex;
use crate::tep::Tep;
use crate::{Dialect, Endian};

/// Longest comm a job carries; a longer one (possible in saved_cmdlines) makes the producer
/// print the line itself.
pub(super) const COMM_MAX: usize = 16;

/// A comm copied into a job, packed in a number ([`pack16`]): made and read in registers.
/// Two halves rather than a `u128`, whose alignment would make a job half as large again.
#[derive(Clone, Copy)]
pub(super) struct CommBuf {
    lo: u64,
    hi: u64,
}

impl CommBuf {
    pub(super) fn new(c: &[u8]) -> Self {
        let bits = pack16(c);
        CommBuf {
            lo: bits as u64,
            hi: (bits >> 64) as u64,
        }
    }

    fn bits(self) -> u128 {
        self.lo as u128 | (self.hi as u128) << 64
    }
}

/// One line of output: a record for a worker to print, or (`home == PRINTED`) bytes the
/// producer already printed into the batch (`pre[at..at + len]`). A record after lost
/// events is printed by the producer (its line starts with a `CPU:N [EVENTS DROPPED]`
/// line).
pub(super) struct Job {
    pub at: usize,
    pub ts: u64,
    pub comm: CommBuf,
    pub home: u32,
    pub len: u32,
    pub cpu: u32,
    pub pid: i32,
    /// Index of the event in its file's [`Tep::events`] order, `u32::MAX` if unknown.
    pub evx: u32,
    pub source: u16,
    pub file: u16,
    pub comm_len: u8,
}

impl Job {
    /// The job of record `rec`, at `at` in the batch's home `home`, of handle `source` of
    /// input `file` (both at most `u16::MAX`), with its pid, event index and comm (at most
    /// [`COMM_MAX`] bytes).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn record(
        home: u32,
        at: usize,
        rec: &crate::Record<'_>,
        source: usize,
        file: usize,
        pid: i32,
        evx: u32,
        comm: &[u8],
    ) -> Job {
        Job {
            home,
            at,
            len: rec.data.len() as u32,
            ts: rec.ts,
            cpu: rec.cpu,
            source: source as u16,
            file: file as u16,
            pid,
            evx,
            comm: CommBuf::new(comm),
            comm_len: comm.len() as u8,
        }
    }
}

// Written by the producer and read by another thread for every record: one cache line.
const _: () = assert!(std::mem::size_of::<Job>() == 64);

const PRINTED: u32 = u32::MAX;

/// Records read before a batch is sent, however few lines it holds (see `run`).
const SCAN_LIMIT: u64 = 16384;

/// Consecutive lines of output, in order.
pub(super) struct Batch<'f> {
    seq: u64,
    homes: Vec<RecordHome<'f>>,
    jobs: Vec<Job>,
    /// Lines the producer printed.
    pub pre: Vec<u8>,
}

impl<'f> Batch<'f> {
    fn new(seq: u64, cap: usize) -> Self {
        Batch {
            seq,
            homes: Vec::new(),
            jobs: Vec::with_capacity(cap),
            pre: Vec::new(),
        }
    }

    /// This batch emptied, to be used again (its allocations are the size a batch needs;
    /// making them anew for each batch costs page faults).
    fn recycle(mut self, spare: &SyncSender<Batch<'f>>) {
        self.homes.clear();
        self.jobs.clear();
        self.pre.clear();
        let _ = spare.try_send(self);
    }

    /// The index for a job's `home` field of the memory a record is in.
    #[inline]
    pub(super) fn home(&mut self, home: RecordHomeRef<'_, 'f>) -> u32 {
        // A batch spans a few chunks per CPU: a short search beats a reference count per
        // record.
        let k = match self.homes.iter().rposition(|h| h.same(&home)) {
            Some(k) => k,
            None => {
                self.homes.push(home.to_owned());
                self.homes.len() - 1
            }
        };
        k as u32
    }

    /// Adds a job whose `home` is from [`Batch::home`]. Inlined, so that the job is written
    /// straight into the batch: a copy made on the stack field by field and then moved in
    /// wide loads waits for each narrow store (perf showed that wait on every record).
    #[inline(always)]
    pub(super) fn push(&mut self, job: Job) {
        self.jobs.push(job);
    }

    /// Lines in the batch.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Records that the producer printed `pre[start..]`.
    pub(super) fn push_printed(&mut self, start: usize) {
        self.jobs.push(Job {
            home: PRINTED,
            at: start,
            len: (self.pre.len() - start) as u32,
            ts: 0,
            cpu: 0,
            source: 0,
            file: 0,
            pid: 0,
            evx: u32::MAX,
            comm: CommBuf::new(b""),
            comm_len: 0,
        });
    }
}

/// What one file's lines need.
struct FileView<'t, 'a> {
    tep: &'t Tep<'a>,
    endian: Endian,
    long_size: usize,
    lat: LatencyFields,
    time_fmt: TimeFmt,
}

/// What the workers read.
pub(super) struct Shared<'t, 'a, 'o> {
    files: Vec<FileView<'t, 'a>>,
    prefixes: Vec<Option<String>>,
    show_prefix: bool,
    max_prefix: usize,
    infos: &'o [Vec<OnceLock<EvInfo>>],
    opts: &'o Options,
    popts: &'o PluginOptions,
}

impl<'t, 'a, 'o> Shared<'t, 'a, 'o> {
    pub(super) fn new(p: &Producer<'t, 'a, '_, 'o>) -> Self {
        Shared {
            files: p
                .fstates
                .iter()
                .map(|st| FileView {
                    tep: st.tep,
                    endian: st.endian,
                    long_size: st.long_size,
                    lat: st.lat,
                    time_fmt: st.time_fmt,
                })
                .collect(),
            prefixes: p.handles.iter().map(|h| h.prefix.clone()).collect(),
            show_prefix: p.show_prefix,
            max_prefix: p.max_prefix,
            infos: p.infos,
            opts: p.opts,
            popts: p.popts,
        }
    }
}

/// Prints the jobs of `b` into `out`, in order.
fn print_batch(
    sh: &Shared<'_, '_, '_>,
    b: &Batch<'_>,
    out: &mut Vec<u8>,
    state: &mut State,
    caches: &mut LineCaches,
) {
    for j in &b.jobs {
        if j.home == PRINTED {
            out.extend_from_slice(&b.pre[j.at..j.at + j.len as usize]);
        } else {
            print_job(sh, b, j, out, state, caches);
        }
    }
}

/// One line, as [`Producer::step`] prints it for a record whose printing is order-free.
fn print_job(
    sh: &Shared<'_, '_, '_>,
    b: &Batch<'_>,
    j: &Job,
    out: &mut Vec<u8>,
    state: &mut State,
    caches: &mut LineCaches,
) {
    let LineCaches {
        info: cache,
        cols,
        time,
    } = caches;
    let opts = sh.opts;
    let dialect = opts.dialect;
    let f = &sh.files[j.file as usize];
    let tail = &b.homes[j.home as usize].bytes()[j.at..];
    let data = &tail[..j.len as usize];
    if sh.show_prefix {
        write_prefix(
            out,
            sh.prefixes[j.source as usize].as_deref(),
            sh.max_prefix,
        );
    }
    let start = out.len();
    // See info_cache::clean.
    let mut clean = false;
    match f.tep.event_at(j.evx as usize) {
        Some(ev) if j.evx != u32::MAX => {
            let evi = sh.infos[j.file as usize][j.evx as usize]
                .get()
                .expect("event info made by the producer");
            // The info text's cache slot is looked for now and read after the columns are
            // written: its memory arrives meanwhile.
            let mut kbuf = [0u8; KEY_MAX];
            let keyed = match &evi.reads {
                Some(r) => cache.key(j.file as u32, j.evx, r, f.tep, &ev, data, &mut kbuf),
                None => None,
            };
            if !opts.latency && j.cpu < 1000 {
                cols.write(out, j.comm.bits(), j.comm_len as usize, j.pid, j.cpu);
            } else {
                let comm = j.comm.bits().to_le_bytes();
                let comm = &comm[..j.comm_len as usize];
                line::write_comm_pid_cpu(out, comm, j.pid, j.cpu, opts.latency);
            }
            if opts.raw {
                if dialect == Dialect::V3_3 || opts.latency {
                    out.extend_from_slice(b"-0x");
                    push_hex(out, f.lat.flags(f.endian, data) as u32 as u64, false);
                }
            } else if dialect == Dialect::V3_3 || opts.latency {
                if !opts.latency {
                    out.push(b' ');
                }
                f.lat.write(out, f.endian, data);
            }
            time.write(f.time_fmt, out, j.ts);
            crate::outbuf::put(out, &evi.name_col);
            if opts.raw || evi.print_raw {
                f.tep.print_raw_fields_checked(&ev, tail, data.len(), out);
            } else {
                let ctx = Ctx {
                    endian: f.endian,
                    long_size: f.long_size,
                    syms: f.tep,
                    dialect,
                    opts: sh.popts,
                };
                let rec = Rec {
                    cpu: j.cpu,
                    ts: j.ts,
                    data,
                };
                let hd = evi.handler.as_ref();
                let mut info = |out: &mut Vec<u8>| {
                    print_info(f.tep, &ev, hd, &ctx, state, &rec, tail, out, f.time_fmt)
                };
                let nul_free = evi.reads.as_ref().is_some_and(|r| r.nul_free());
                let hole = evi.hole_text(f.tep, &ev, tail, data.len());
                let hole = hole.as_ref().map(|h| h as info_cache::HoleText<'_>);
                match keyed {
                    Some((key, probe)) => {
                        clean = cache.print(probe, key, nul_free, out, info, hole)
                    }
                    None => {
                        let at = out.len();
                        info(out);
                        clean = info_cache::clean(&out[at..], nul_free);
                    }
                }
            }
        }
        _ => {
            let mut l = Vec::new();
            write_unknown(&mut l, opts, f.lat.flags(f.endian, data));
            out.extend_from_slice(&l);
        }
    }
    if !clean {
        if out.len() > start && out.last() == Some(&b'\n') {
            out.pop();
        }
        if let Some(z) = memchr::memchr(0, &out[start..]) {
            out.truncate(start + z);
        }
    }
    out.push(b'\n');
}

/// An output buffer given back by the writer, emptied, or a new one.
fn take_spare(spare: &Mutex<Receiver<Vec<u8>>>) -> Vec<u8> {
    let mut out = spare
        .lock()
        .ok()
        .and_then(|rx| rx.try_recv().ok())
        .unwrap_or_default();
    out.clear();
    out
}

/// Runs the report loop of `p` with `threads` printing threads (this one included) and
/// batches of `batch` lines, writing to `o`. Returns the producer (for its warnings and
/// `-w` state) and how its pass ended.
///
/// The producer also writes the output: it knows the order, and a thread of its own for
/// that would be woken for every batch (two context switches each on a busy machine).
#[allow(clippy::type_complexity)]
pub(super) fn run<'t, 'a, 'f, 'o>(
    mut p: Producer<'t, 'a, 'f, 'o>,
    sh: &Shared<'t, 'a, 'o>,
    threads: usize,
    batch: usize,
    o: &mut Out<'_>,
) -> Result<(Producer<'t, 'a, 'f, 'o>, Result<(), ReportError>), ReportError>
where
    'f: 't,
{
    let batch = batch.max(1);
    let depth = threads * 2;
    o.flush()?;
    let (work_tx, work_rx) = sync_channel::<Batch<'f>>(depth);
    // Room for every batch that can be out, so that printing threads never wait for the
    // producer to collect what they printed.
    let (done_tx, done_rx) = sync_channel::<(u64, Vec<u8>)>(depth + threads + 1);
    let work_rx: Mutex<Receiver<Batch<'f>>> = Mutex::new(work_rx);
    let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(depth);
    let spare_rx = Mutex::new(spare_rx);
    let (batch_tx, batch_rx) = sync_channel::<Batch<'f>>(depth + threads);
    std::thread::scope(|s| {
        // The producer prints too (when the others are behind): one thread fewer.
        for _ in 1..threads {
            let done_tx = done_tx.clone();
            let batch_tx = batch_tx.clone();
            let work_rx = &work_rx;
            let spare_rx = &spare_rx;
            s.spawn(move || {
                let mut state = State::default();
                let mut caches = LineCaches::default();
                loop {
                    let next = work_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok(b)) = next else { break };
                    let mut out = take_spare(spare_rx);
                    print_batch(sh, &b, &mut out, &mut state, &mut caches);
                    let seq = b.seq;
                    b.recycle(&batch_tx);
                    if done_tx.send((seq, out)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        // This thread is the producer.
        let (p, result, written) = {
            let spare_rx = &spare_rx;
            let mut w = InOrder {
                o,
                pending: BTreeMap::new(),
                next: 0,
                spare: spare_tx,
                written: Ok(()),
            };
            let mut state = State::default();
            let mut seq = 0u64;
            let mut result = Ok(());
            let mut scratch = Vec::new();
            loop {
                while let Ok((k, buf)) = done_rx.try_recv() {
                    w.add(k, buf);
                }
                if w.written.is_err() {
                    break;
                }
                let mut b = match batch_rx.try_recv() {
                    Ok(mut b) => {
                        b.seq = seq;
                        b
                    }
                    Err(_) => Batch::new(seq, batch),
                };
                let mut more = true;
                // A batch also goes out after this many records read, printed or not: where
                // a filter drops most records, a batch must not hold records so far behind
                // the reader that their pages were given back (the printing threads would
                // fault them in again, and keep them).
                let start = p.merge.records_read();
                while b.jobs.len() < batch && p.merge.records_read() - start < SCAN_LIMIT {
                    // the usual records in a loop of their own; the others (and the end)
                    // through `step`
                    if p.take_jobs(&mut b, batch, start + SCAN_LIMIT) {
                        continue;
                    }
                    if !step_on(&mut p, &mut scratch, &mut Sink::Batch(&mut b), &mut result) {
                        more = false;
                        break;
                    }
                }
                if !b.jobs.is_empty() {
                    seq += 1;
                    match work_tx.try_send(b) {
                        Ok(()) => {}
                        // The printing threads are behind: print this batch here rather
                        // than wait. On few CPUs this keeps every CPU busy without a thread
                        // more than there are CPUs, and the batch is still in this cache.
                        Err(TrySendError::Full(b)) => {
                            let mut out = take_spare(spare_rx);
                            print_batch(sh, &b, &mut out, &mut state, &mut p.caches);
                            let k = b.seq;
                            b.recycle(&batch_tx);
                            w.add(k, out);
                        }
                        Err(TrySendError::Disconnected(_)) => break,
                    }
                }
                if !more {
                    break;
                }
            }
            // Closing the queue ends the printing threads once it is empty; what they
            // printed is written as it comes.
            drop(work_tx);
            for (k, buf) in done_rx.iter() {
                w.add(k, buf);
            }
            (p, result, w.written)
        };
        written?;
        Ok((p, result))
    })
}

/// One step of the record loop; false once the records are done or the step failed (its
/// error then in `result`).
fn step_on<'f>(
    p: &mut Producer<'_, '_, 'f, '_>,
    out: &mut Vec<u8>,
    sink: &mut Sink<'_, 'f>,
    result: &mut Result<(), ReportError>,
) -> bool {
    match p.step(out, &mut io::sink(), sink) {
        Ok(more) => more,
        Err(e) => {
            *result = Err(e);
            false
        }
    }
}

/// Batches' output written in sequence, whatever order they are printed in.
struct InOrder<'x, 'o> {
    o: &'x mut Out<'o>,
    pending: BTreeMap<u64, Vec<u8>>,
    next: u64,
    /// Where written buffers go to be printed into again.
    spare: SyncSender<Vec<u8>>,
    /// The first write error; nothing more is written after it.
    written: io::Result<()>,
}

impl InOrder<'_, '_> {
    fn add(&mut self, seq: u64, buf: Vec<u8>) {
        self.pending.insert(seq, buf);
        while let Some(buf) = self.pending.remove(&self.next) {
            self.next += 1;
            if self.written.is_ok() {
                self.written = self.o.w.write_all(&buf);
            }
            let _ = self.spare.try_send(buf);
        }
    }
}
