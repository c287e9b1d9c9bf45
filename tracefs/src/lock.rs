//! A cross-process lock for programs and tests that change tracefs, which is one state
//! shared by the whole machine: `flock(2)` on a well-known file, held until dropped.

use std::fs::{File, OpenOptions};
use std::os::fd::AsFd;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

/// The lock file the project's tests and tools agree on.
pub const DEFAULT_PATH: &str = "/tmp/rtrace-tracefs.lock";

/// Holds the exclusive lock while alive.
#[derive(Debug)]
pub struct TracefsLock {
    _lock: Flock<File>,
}

impl TracefsLock {
    /// Waits for the lock on [`DEFAULT_PATH`].
    pub fn acquire() -> std::io::Result<TracefsLock> {
        TracefsLock::acquire_at(Path::new(DEFAULT_PATH))
    }

    /// Waits for the lock on a given file.
    pub fn acquire_at(path: &Path) -> std::io::Result<TracefsLock> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)?;
        let _ = f.as_fd();
        let lock =
            Flock::lock(f, FlockArg::LockExclusive).map_err(|(_, e)| std::io::Error::from(e))?;
        Ok(TracefsLock { _lock: lock })
    }
}
