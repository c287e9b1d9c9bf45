//! Per-CPU readers of the ring buffer: one thread per `per_cpu/cpuN/trace_pipe_raw` (of the
//! top level or an instance) moving whole sub-buffers into a spool file, as trace-cmd's
//! recorder processes do (lib/trace-cmd/trace-recorder.c, libtracefs `tracefs_cpu_*`).
//!
//! The kernel side is kernel/trace/trace.c: `tracing_buffers_splice_read` hands out only full
//! sub-buffers, and only whole ones (`len` is rounded down to sub-buffer multiples; with
//! `O_NONBLOCK` it says `EAGAIN` when none is full); `tracing_buffers_read` hands out one
//! sub-buffer per call, partly filled ones included, which is how the last pages are drained
//! once tracing is off; `tracing_buffers_poll` wakes a poller when the buffer is
//! `buffer_percent` full (or has any data when that is 0). The sub-buffers are opaque here:
//! only their size matters (`buffer_subbuf_size_kb`, the `data` field of `header_page`).
//!
//! A reader moves data with `splice(2)`: trace_pipe_raw → a pipe → the spool file, so the
//! bytes never pass through user space. It sleeps in `poll(2)` on the ring buffer and on a
//! stop pipe, waking when the kernel says enough data is there, at the wake interval, or
//! when told to stop. Stopping drains: first every full sub-buffer by splice, then the rest
//! by `read(2)` one sub-buffer at a time (a partly filled sub-buffer is padded with zeros to
//! its size, as trace-cmd does). Progress (bytes spooled per CPU) and failures go to the
//! caller through a crossbeam channel as they happen.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags};
use nix::poll::{PollFd, PollFlags, PollTimeout};

/// Why a reader failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Opening the ring buffer file failed.
    #[error("opening {}: {source}", path.display())]
    Open {
        /// `per_cpu/cpuN/trace_pipe_raw`.
        path: PathBuf,
        /// The errno.
        #[source]
        source: io::Error,
    },
    /// Reading the ring buffer failed.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// `per_cpu/cpuN/trace_pipe_raw`.
        path: PathBuf,
        /// The errno.
        #[source]
        source: io::Error,
    },
    /// Writing the spool file failed (a full disk, an I/O error).
    #[error("writing CPU {cpu} data to the spool file {spool}: {source}")]
    Spool {
        /// The spool file's name.
        spool: String,
        /// The CPU.
        cpu: u32,
        /// The errno.
        #[source]
        source: io::Error,
    },
    /// A pipe or thread could not be set up.
    #[error("{what}: {source}")]
    Setup {
        /// What was being set up.
        what: String,
        /// The errno.
        #[source]
        source: io::Error,
    },
}

/// One CPU's ring buffer to read and where its data goes.
#[derive(Debug)]
pub struct ReaderSpec {
    /// The caller's index of the buffer (top level, instance) this CPU belongs to.
    pub buffer: usize,
    /// The CPU.
    pub cpu: u32,
    /// Its `per_cpu/cpuN/trace_pipe_raw`.
    pub raw: PathBuf,
    /// The spool file: data is written from offset 0 on.
    pub spool: File,
    /// The spool's name, for messages.
    pub spool_name: String,
    /// The buffer's sub-buffer size in bytes.
    pub subbuf_size: usize,
    /// Keep only about this many of the newest bytes (trace-cmd's `record -m`): data goes
    /// to `spool` and this second file in turn, each taking up to half, and a file is
    /// emptied when its turn comes again. `None`: keep everything in `spool`.
    pub keep_newest: Option<(u64, File, String)>,
}

/// How the readers work.
#[derive(Clone, Copy, Debug)]
pub struct ReaderOptions {
    /// Longest sleep between two looks at the buffer (the kernel also wakes the reader when
    /// the buffer is `buffer_percent` full).
    pub wake_interval: Duration,
    /// Also take partly filled sub-buffers at every wake (with `read(2)`), so that data
    /// reaches the spool within the wake interval however slowly it comes (`stream`). The
    /// spool then holds more, emptier sub-buffers.
    pub partial: bool,
}

/// What a reader reports while it runs.
#[derive(Debug)]
pub enum Progress {
    /// Bytes spooled so far.
    Data {
        /// [`ReaderSpec::buffer`].
        buffer: usize,
        /// The CPU.
        cpu: u32,
        /// Total bytes spooled (the spool file's size, unless only the newest are kept).
        bytes: u64,
    },
    /// The reader stopped on an error (its result says which).
    Failed {
        /// [`ReaderSpec::buffer`].
        buffer: usize,
        /// The CPU.
        cpu: u32,
        /// The error text.
        error: String,
    },
}

/// A reader's result: the spool file and what is in it.
#[derive(Debug)]
pub struct CpuSpool {
    /// [`ReaderSpec::buffer`].
    pub buffer: usize,
    /// The CPU.
    pub cpu: u32,
    /// The spool file (data from offset 0).
    pub spool: File,
    /// The spool's name.
    pub spool_name: String,
    /// Bytes of data in `spool` (whole sub-buffers).
    pub bytes: u64,
    /// With [`ReaderSpec::keep_newest`], the file holding the data before `spool`'s, its
    /// name and its bytes (`None` until the first file was filled).
    pub older: Option<(File, String, u64)>,
    /// Whether the CPU's ring buffer could not be opened because the CPU is offline or has
    /// no buffer (`ENODEV`, `ENOENT`): no data, not an error.
    pub offline: bool,
}

/// Running readers.
pub struct Recorder {
    stop: Option<OwnedFd>,
    threads: Vec<JoinHandle<Result<CpuSpool, Error>>>,
    progress: Receiver<Progress>,
    tids: Vec<u32>,
}

/// Sub-buffers a `partial` reader takes by read(2) per wake at most.
const PARTIAL_PAGES: u64 = 64;

/// Largest pipe the readers ask for (they get `/proc/sys/fs/pipe-max-size` if smaller).
const PIPE_WANTED: usize = 1 << 20;

impl Recorder {
    /// Starts one reader thread per spec. Returns once every thread runs (their thread ids,
    /// for pid filters that leave the recorder out, are then known).
    pub fn start(specs: Vec<ReaderSpec>, opts: ReaderOptions) -> Result<Recorder, Error> {
        let (stop_r, stop_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::Setup {
            what: "creating the readers' stop pipe".into(),
            source: e.into(),
        })?;
        let stop_r = Arc::new(stop_r);
        let (tx, rx) = crossbeam_channel::unbounded();
        let (tid_tx, tid_rx) = crossbeam_channel::unbounded();
        let mut threads = Vec::with_capacity(specs.len());
        let n = specs.len();
        for spec in specs {
            let stop_r = stop_r.clone();
            let tx = tx.clone();
            let tid_tx = tid_tx.clone();
            let name = format!("rtrace-cpu{}", spec.cpu);
            let h = std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    let _ = tid_tx.send(nix::unistd::gettid().as_raw() as u32);
                    drop(tid_tx);
                    let (buffer, cpu) = (spec.buffer, spec.cpu);
                    let r = read_cpu(spec, opts, &stop_r, &tx);
                    if let Err(e) = &r {
                        let _ = tx.send(Progress::Failed {
                            buffer,
                            cpu,
                            error: e.to_string(),
                        });
                    }
                    r
                })
                .map_err(|e| Error::Setup {
                    what: "starting a reader thread".into(),
                    source: e,
                })?;
            threads.push(h);
        }
        drop(tid_tx);
        let tids = tid_rx.iter().take(n).collect();
        Ok(Recorder {
            stop: Some(stop_w),
            threads,
            progress: rx,
            tids,
        })
    }

    /// Progress and failures, as they happen.
    pub fn progress(&self) -> &Receiver<Progress> {
        &self.progress
    }

    /// The readers' thread ids.
    pub fn thread_ids(&self) -> &[u32] {
        &self.tids
    }

    /// Tells the readers to drain what is left and stop, and waits for them. Results are in
    /// the order the specs were given.
    pub fn stop(mut self) -> Vec<Result<CpuSpool, Error>> {
        self.stop.take();
        std::mem::take(&mut self.threads)
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::Setup {
                        what: "a reader thread".into(),
                        source: io::Error::other("panicked"),
                    })
                })
            })
            .collect()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Closing the stop pipe wakes every reader; they drain and end.
        self.stop.take();
        for h in std::mem::take(&mut self.threads) {
            let _ = h.join();
        }
    }
}

/// Reads what the ring buffer holds now, without waiting for more (trace-cmd's `extract`):
/// full sub-buffers by splice, then the rest by read. At most `limit` bytes are taken, so
/// that a buffer still being written to cannot keep it reading forever.
pub fn drain(spec: ReaderSpec, limit: u64) -> Result<CpuSpool, Error> {
    let mut r = match CpuReader::open(spec)? {
        Opened::Reader(r) => r,
        Opened::Offline(s) => return Ok(s),
    };
    r.splice_available(limit)?;
    r.read_rest(limit)?;
    Ok(r.finish())
}

fn read_cpu(
    spec: ReaderSpec,
    opts: ReaderOptions,
    stop: &OwnedFd,
    tx: &Sender<Progress>,
) -> Result<CpuSpool, Error> {
    let mut r = match CpuReader::open(spec)? {
        Opened::Reader(r) => r,
        Opened::Offline(s) => return Ok(s),
    };
    let timeout = PollTimeout::try_from(opts.wake_interval).unwrap_or(PollTimeout::MAX);
    let mut reported = 0;
    loop {
        let stopping = {
            let mut fds = [
                PollFd::new(r.raw.as_fd(), PollFlags::POLLIN),
                PollFd::new(stop.as_fd(), PollFlags::POLLIN),
            ];
            match nix::poll::poll(&mut fds, timeout) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => {
                    return Err(Error::Read {
                        path: r.path.clone(),
                        source: e.into(),
                    })
                }
            }
            fds[1].revents().is_some_and(|e| !e.is_empty())
        };
        // Woken by the kernel or by the interval: either way every full sub-buffer is taken,
        // so that a buffer below buffer_percent is still written out regularly.
        r.splice_available(u64::MAX)?;
        if opts.partial {
            // Bounded: a busy buffer refills as fast as it is read.
            r.read_rest(PARTIAL_PAGES * r.subbuf as u64)?;
        }
        if r.total != reported {
            reported = r.total;
            let _ = tx.send(Progress::Data {
                buffer: r.buffer,
                cpu: r.cpu,
                bytes: r.total,
            });
        }
        if stopping {
            break;
        }
    }
    r.splice_available(u64::MAX)?;
    r.read_rest(u64::MAX)?;
    if r.total != reported {
        let _ = tx.send(Progress::Data {
            buffer: r.buffer,
            cpu: r.cpu,
            bytes: r.total,
        });
    }
    Ok(r.finish())
}

enum Opened {
    Reader(CpuReader),
    Offline(CpuSpool),
}

/// One CPU's ring buffer, its pipe and its spool file.
struct CpuReader {
    buffer: usize,
    cpu: u32,
    path: PathBuf,
    raw: File,
    /// `None` when splice cannot be used (a pipe smaller than a sub-buffer).
    pipe: Option<(OwnedFd, OwnedFd)>,
    /// Bytes moved per splice: the most whole sub-buffers the pipe holds.
    chunk: usize,
    subbuf: usize,
    spool: File,
    spool_name: String,
    /// Bytes in `spool`.
    bytes: u64,
    /// Bytes spooled in all.
    total: u64,
    /// `-m`: half the bytes to keep, and the other file with its name and bytes.
    rotate: Option<(u64, File, String, u64)>,
    /// Buffer for the final reads (one sub-buffer), allocated when first needed.
    page: Vec<u8>,
}

impl CpuReader {
    fn open(spec: ReaderSpec) -> Result<Opened, Error> {
        let subbuf = spec.subbuf_size.max(1);
        let raw = match OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
            .open(&spec.raw)
        {
            Ok(f) => f,
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(nix::libc::ENODEV | nix::libc::ENOENT)
                ) =>
            {
                return Ok(Opened::Offline(CpuSpool {
                    buffer: spec.buffer,
                    cpu: spec.cpu,
                    spool: spec.spool,
                    spool_name: spec.spool_name,
                    bytes: 0,
                    older: None,
                    offline: true,
                }))
            }
            Err(e) => {
                return Err(Error::Open {
                    path: spec.raw,
                    source: e,
                })
            }
        };
        let setup = |what: &str, e: Errno| Error::Setup {
            what: format!("CPU {}: {what}", spec.cpu),
            source: e.into(),
        };
        let (pr, pw) =
            nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| setup("creating a pipe", e))?;
        let want = pipe_max().min(PIPE_WANTED).max(subbuf) as i32;
        // A smaller pipe still works as long as it holds one sub-buffer.
        let _ = nix::fcntl::fcntl(pw.as_fd(), FcntlArg::F_SETPIPE_SZ(want));
        let size = nix::fcntl::fcntl(pw.as_fd(), FcntlArg::F_GETPIPE_SZ)
            .map_err(|e| setup("reading the pipe size", e))? as usize;
        let chunk = size / subbuf * subbuf;
        Ok(Opened::Reader(CpuReader {
            buffer: spec.buffer,
            cpu: spec.cpu,
            path: spec.raw,
            raw,
            pipe: (chunk > 0).then_some((pr, pw)),
            chunk,
            subbuf,
            spool: spec.spool,
            spool_name: spec.spool_name,
            bytes: 0,
            total: 0,
            rotate: spec
                .keep_newest
                .map(|(max, f, name)| ((max / 2).max(subbuf as u64), f, name, 0)),
            page: Vec::new(),
        }))
    }

    fn spool_err(&self, e: io::Error) -> Error {
        Error::Spool {
            spool: self.spool_name.clone(),
            cpu: self.cpu,
            source: e,
        }
    }

    fn read_err(&self, e: io::Error) -> Error {
        Error::Read {
            path: self.path.clone(),
            source: e,
        }
    }

    /// Moves every full sub-buffer the kernel has into the spool (up to `limit` bytes).
    fn splice_available(&mut self, limit: u64) -> Result<(), Error> {
        if self.pipe.is_none() {
            // No pipe that holds a sub-buffer: read(2) them, partly filled ones included.
            return self.read_rest(limit);
        }
        let mut taken = 0u64;
        while taken < limit {
            let mut want = (self.chunk as u64).min(limit - taken);
            if let Some((half, ..)) = &self.rotate {
                want = want.min(half.saturating_sub(self.bytes));
            }
            let want = want.max(self.subbuf as u64) as usize;
            let (pr, pw) = self.pipe.as_ref().expect("checked above");
            let n = match nix::fcntl::splice(
                self.raw.as_fd(),
                None,
                pw.as_fd(),
                None,
                want,
                SpliceFFlags::SPLICE_F_NONBLOCK | SpliceFFlags::SPLICE_F_MOVE,
            ) {
                Ok(0) | Err(Errno::EAGAIN) => return Ok(()),
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(self.read_err(e.into())),
            };
            let mut left = n;
            while left > 0 {
                let mut off = self.bytes as i64;
                match nix::fcntl::splice(
                    pr.as_fd(),
                    None,
                    self.spool.as_fd(),
                    Some(&mut off),
                    left,
                    SpliceFFlags::SPLICE_F_MOVE,
                ) {
                    Ok(0) => {
                        return Err(self.spool_err(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the spool file took no data",
                        )))
                    }
                    Ok(m) => {
                        left -= m;
                        self.bytes += m as u64;
                        self.total += m as u64;
                    }
                    Err(Errno::EINTR) => {}
                    Err(e) => return Err(self.spool_err(e.into())),
                }
            }
            taken += n as u64;
            self.rotate_if_full()?;
        }
        Ok(())
    }

    /// `-m`: once the current file holds its half, the other one (with the older data) is
    /// emptied and becomes the current one.
    fn rotate_if_full(&mut self) -> Result<(), Error> {
        let Some((half, other, other_name, other_bytes)) = &mut self.rotate else {
            return Ok(());
        };
        if self.bytes < *half {
            return Ok(());
        }
        std::mem::swap(&mut self.spool, other);
        std::mem::swap(&mut self.spool_name, other_name);
        *other_bytes = self.bytes;
        self.bytes = 0;
        self.spool.set_len(0).map_err(|e| self.spool_err(e))
    }

    /// Reads the sub-buffers splice leaves behind (the partly filled ones) until the kernel
    /// has nothing more or `limit` bytes were taken.
    fn read_rest(&mut self, limit: u64) -> Result<(), Error> {
        if self.page.len() != self.subbuf {
            self.page = vec![0; self.subbuf];
        }
        let mut taken = 0u64;
        while taken < limit {
            let n = match nix::unistd::read(&self.raw, &mut self.page) {
                Ok(0) | Err(Errno::EAGAIN) => return Ok(()),
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(self.read_err(e.into())),
            };
            // A short read is the used part of a sub-buffer; the file holds whole ones.
            self.page[n..].fill(0);
            self.spool
                .write_all_at(&self.page, self.bytes)
                .map_err(|e| self.spool_err(e))?;
            self.bytes += self.subbuf as u64;
            self.total += self.subbuf as u64;
            taken += self.subbuf as u64;
            self.rotate_if_full()?;
        }
        Ok(())
    }

    fn finish(self) -> CpuSpool {
        let older = self
            .rotate
            .and_then(|(_, f, name, bytes)| (bytes > 0).then_some((f, name, bytes)));
        CpuSpool {
            buffer: self.buffer,
            cpu: self.cpu,
            spool: self.spool,
            spool_name: self.spool_name,
            bytes: self.bytes,
            older,
            offline: false,
        }
    }
}

/// `/proc/sys/fs/pipe-max-size`, or the kernel's default 1 MiB when unreadable.
fn pipe_max() -> usize {
    std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(PIPE_WANTED)
}

/// Creates a spool file in `dir` and removes its name at once: the data lives as long as
/// the returned file is open, and nothing is left behind whatever happens to the process.
pub fn anonymous_spool(dir: &Path, name: &str) -> io::Result<(File, String)> {
    let mut n = 0u32;
    loop {
        let path = dir.join(format!(
            ".{name}.{}{}",
            std::process::id(),
            if n == 0 {
                String::new()
            } else {
                format!(".{n}")
            }
        ));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok((f, path.display().to_string()));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}
