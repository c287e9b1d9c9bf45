//! The file being written: a temporary file beside the target, a write buffer with positioned
//! flushes, patches of fields written earlier, copies done by the kernel, and the rename that
//! publishes the finished file.
//!
//! trace-cmd writes the target directly (`open(O_TRUNC)`, then `lseek` back to patch sizes and
//! offsets), so an interrupted `record` leaves a file that looks like a trace.dat. Here the
//! target name only appears once [`Output::finish`] has synced the data: the work happens in
//! `NAME.tmp.PID` in the same directory (same filesystem, so the rename is atomic), and a
//! dropped, unfinished output removes it.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::Error;

/// Bytes gathered before one `pwrite`.
const BUF_SIZE: usize = 1 << 20;

/// Largest single kernel copy request: small enough to notice a cancel request soon.
const COPY_STEP: u64 = 64 << 20;

pub(crate) struct Output {
    file: File,
    tmp: PathBuf,
    target: PathBuf,
    /// Bytes not yet written, belonging at `buf_at`.
    buf: Vec<u8>,
    buf_at: u64,
    /// What is being written, for error messages.
    doing: String,
    /// Scratch buffer for copies the kernel cannot do.
    scratch: Vec<u8>,
    /// Set (by a signal handler, another thread) to stop writing.
    cancel: Option<Arc<AtomicBool>>,
    /// Sync the file and its directory at `finish` (off for scratch files).
    sync: bool,
    done: bool,
}

impl Output {
    /// Creates the temporary file for `target`.
    pub(crate) fn create(target: &Path) -> Result<Output, Error> {
        let io_err = |what: &str, source: io::Error| Error::Io {
            path: target.to_path_buf(),
            what: what.to_string(),
            source,
        };
        let name = target.file_name().ok_or_else(|| {
            io_err(
                "choosing a temporary name",
                io::ErrorKind::InvalidInput.into(),
            )
        })?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let pid = std::process::id();
        let mut n = 0u32;
        loop {
            let mut tmp_name = name.to_os_string();
            if n == 0 {
                tmp_name.push(format!(".tmp.{pid}"));
            } else {
                tmp_name.push(format!(".tmp.{pid}.{n}"));
            }
            let tmp = dir.join(tmp_name);
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&tmp)
            {
                Ok(file) => {
                    return Ok(Output {
                        file,
                        tmp,
                        target: target.to_path_buf(),
                        buf: Vec::with_capacity(BUF_SIZE),
                        buf_at: 0,
                        doing: "writing the file header".into(),
                        scratch: Vec::new(),
                        cancel: None,
                        sync: true,
                        done: false,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => {
                    return Err(io_err(
                        &format!("creating the temporary file {}", tmp.display()),
                        e,
                    ))
                }
            }
        }
    }

    /// The file name the output will have.
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary file's name.
    pub(crate) fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// Skips the syncs of `finish` (a scratch file nobody needs after a crash).
    pub(crate) fn no_sync(&mut self) {
        self.sync = false;
    }

    /// Stops writing with [`Error::Interrupted`] once `flag` is set.
    pub(crate) fn set_cancel(&mut self, flag: Arc<AtomicBool>) {
        self.cancel = Some(flag);
    }

    pub(crate) fn check_cancel(&self) -> Result<(), Error> {
        match &self.cancel {
            Some(f) if f.load(Ordering::Relaxed) => Err(Error::Interrupted {
                path: self.target.clone(),
                what: self.doing.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Says what the following writes are (for error messages).
    pub(crate) fn doing(&mut self, what: impl Into<String>) {
        self.doing = what.into();
    }

    pub(crate) fn err(&self, source: io::Error) -> Error {
        Error::Io {
            path: self.target.clone(),
            what: self.doing.clone(),
            source,
        }
    }

    /// The offset the next byte goes to.
    pub(crate) fn pos(&self) -> u64 {
        self.buf_at + self.buf.len() as u64
    }

    /// Appends `data`.
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.buf.len() + data.len() > BUF_SIZE {
            self.flush()?;
            if data.len() >= BUF_SIZE {
                self.check_cancel()?;
                self.file
                    .write_all_at(data, self.buf_at)
                    .map_err(|e| self.err(e))?;
                self.buf_at += data.len() as u64;
                return Ok(());
            }
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Moves the write position forward to `to` (an aligned data start); the gap is a hole,
    /// as trace-cmd's `lseek` leaves it.
    pub(crate) fn skip_to(&mut self, to: u64) -> Result<(), Error> {
        debug_assert!(to >= self.pos());
        if to > self.pos() {
            self.flush()?;
            self.buf_at = to;
        }
        Ok(())
    }

    /// Overwrites bytes written earlier (a size or offset reserved as zeros).
    pub(crate) fn patch(&mut self, at: u64, data: &[u8]) -> Result<(), Error> {
        let end = at + data.len() as u64;
        assert!(end <= self.pos(), "patch past the write position");
        if at >= self.buf_at {
            let i = (at - self.buf_at) as usize;
            self.buf[i..i + data.len()].copy_from_slice(data);
            return Ok(());
        }
        if end > self.buf_at {
            self.flush()?;
        }
        self.file.write_all_at(data, at).map_err(|e| self.err(e))
    }

    /// Writes out the buffered bytes.
    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        self.check_cancel()?;
        if !self.buf.is_empty() {
            self.file
                .write_all_at(&self.buf, self.buf_at)
                .map_err(|e| self.err(e))?;
            self.buf_at += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// Appends `len` bytes of `src` from `offset`, letting the kernel move them
    /// (`copy_file_range`, else `sendfile`, else `pread`/`pwrite` through one reused buffer).
    /// Returns an error naming the source when it ends before `len` bytes.
    pub(crate) fn copy_from(
        &mut self,
        src: &File,
        offset: u64,
        len: u64,
        src_name: &str,
    ) -> Result<(), Error> {
        self.flush()?;
        let mut off_in = offset as i64;
        let mut off_out = self.buf_at as i64;
        let end_in = offset + len;
        let mut method = Method::CopyFileRange;
        while (off_in as u64) < end_in {
            self.check_cancel()?;
            let want = (end_in - off_in as u64).min(COPY_STEP) as usize;
            let r = match method {
                Method::CopyFileRange => nix::fcntl::copy_file_range(
                    src,
                    Some(&mut off_in),
                    &self.file,
                    Some(&mut off_out),
                    want,
                ),
                Method::Sendfile => {
                    self.file
                        .seek(SeekFrom::Start(off_out as u64))
                        .map_err(|e| self.err(e))?;
                    let r =
                        nix::sys::sendfile::sendfile64(&self.file, src, Some(&mut off_in), want);
                    if let Ok(n) = r {
                        off_out += n as i64;
                    }
                    r
                }
                Method::ReadWrite => {
                    let n =
                        self.copy_by_hand(src, off_in as u64, off_out as u64, want, src_name)?;
                    off_in += n as i64;
                    off_out += n as i64;
                    Ok(n)
                }
            };
            match r {
                Ok(0) => {
                    return Err(Error::Source {
                        what: format!(
                            "{src_name}: ends at offset {off_in:#x}, {:#x} bytes before the \
                             {len:#x} bytes to copy from {offset:#x}",
                            end_in - off_in as u64
                        ),
                        source: io::ErrorKind::UnexpectedEof.into(),
                    });
                }
                Ok(_) => {}
                Err(errno) => {
                    use nix::errno::Errno;
                    let fallback = matches!(
                        errno,
                        Errno::EXDEV
                            | Errno::EINVAL
                            | Errno::ENOSYS
                            | Errno::EOPNOTSUPP
                            | Errno::EBADF
                    );
                    method = match (method, fallback) {
                        (Method::CopyFileRange, true) => Method::Sendfile,
                        (Method::Sendfile, true) => Method::ReadWrite,
                        (_, _) if errno == Errno::EINTR => method,
                        _ => return Err(self.err(io::Error::from(errno))),
                    };
                }
            }
        }
        self.buf_at = off_out as u64;
        Ok(())
    }

    fn copy_by_hand(
        &mut self,
        src: &File,
        from: u64,
        to: u64,
        want: usize,
        src_name: &str,
    ) -> Result<usize, Error> {
        if self.scratch.is_empty() {
            self.scratch = vec![0; BUF_SIZE];
        }
        let n = want.min(self.scratch.len());
        let got = read_full_at(src, &mut self.scratch[..n], from).map_err(|e| Error::Source {
            what: format!("{src_name}: reading at offset {from:#x}"),
            source: e,
        })?;
        self.file
            .write_all_at(&self.scratch[..got], to)
            .map_err(|e| Error::Io {
                path: self.target.clone(),
                what: self.doing.clone(),
                source: e,
            })?;
        Ok(got)
    }

    /// Flushes, syncs and renames the file to its target name (then syncs the directory, so
    /// the name survives a crash too).
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        self.flush()?;
        if self.sync {
            self.doing("syncing the file to disk");
            self.file.sync_all().map_err(|e| self.err(e))?;
        }
        self.doing(format!("renaming {} to its final name", self.tmp.display()));
        std::fs::rename(&self.tmp, &self.target).map_err(|e| self.err(e))?;
        self.done = true;
        if !self.sync {
            return Ok(());
        }
        let dir = match self.target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // Some filesystems refuse fsync on directories; the file itself is already safe.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    CopyFileRange,
    Sendfile,
    ReadWrite,
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
pub(crate) fn read_full_at(f: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match f.read_at(&mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
