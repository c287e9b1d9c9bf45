//! Reading and writing tracefs files with the kernel's semantics: one `write(2)` per value
//! (the kernel parses each write on its own), `O_TRUNC` or `O_APPEND` as the file needs
//! (`O_TRUNC` clears `set_ftrace_filter`, `set_event_pid`, `kprobe_events`, a buffer's `trace`),
//! errno mapped to "not available" / "needs root" / "refused", and the kernel's `error_log`
//! entry attached to a refused write.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use crate::error::{libc_errno, Error, KernelLog, Result};

/// How a write opens its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `O_TRUNC`: replace (for lists, clears them first).
    Truncate,
    /// `O_APPEND`: add to a list (probes, triggers, function filters).
    Append,
}

/// Maps an `open(2)` failure.
pub fn open_error(path: &Path, e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc_errno::EACCES) => Error::PermissionDenied {
            path: path.to_path_buf(),
        },
        Some(
            libc_errno::ENOENT | libc_errno::EPERM | libc_errno::ENODEV | libc_errno::EOPNOTSUPP,
        ) => Error::NotAvailable {
            path: path.to_path_buf(),
            errno: e,
        },
        _ => Error::Read {
            path: path.to_path_buf(),
            errno: e,
        },
    }
}

/// Reads a whole file as text (tracefs files are ASCII; anything else is replaced, not fatal).
pub fn read(path: &Path) -> Result<String> {
    let bytes = read_bytes(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Reads a whole file. Never use it on `trace_pipe*`: those block until data arrives.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut f = File::open(path).map_err(|e| open_error(path, e))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)
        .map_err(|e| match e.raw_os_error() {
            // Some files open fine and refuse the read (set_ftrace_filter under lockdown).
            Some(libc_errno::EPERM | libc_errno::ENODEV) => Error::NotAvailable {
                path: path.to_path_buf(),
                errno: e,
            },
            Some(libc_errno::EISDIR) => Error::Parse {
                path: path.to_path_buf(),
                text: String::new(),
                expected: "a file, found a directory",
            },
            _ => Error::Read {
                path: path.to_path_buf(),
                errno: e,
            },
        })?;
    Ok(buf)
}

/// Writes `value` with one `write(2)` (continuing only if the kernel took part of it).
/// On failure, the newest `error_log` entry about `value` (if `log` is given) is attached.
pub fn write(path: &Path, value: &str, mode: Mode, log: Option<&Path>) -> Result<()> {
    write_bytes(path, value.as_bytes(), mode, log)
}

/// [`write`] for binary payloads (`trace_marker_raw`).
pub fn write_bytes(path: &Path, value: &[u8], mode: Mode, log: Option<&Path>) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .truncate(mode == Mode::Truncate)
        .append(mode == Mode::Append)
        .open(path)
        .map_err(|e| open_error(path, e))?;
    let res = if value.is_empty() {
        // An empty write still reaches the kernel's handler on some files; the open with
        // O_TRUNC already did the clearing on the others.
        f.write(value).map(|_| ())
    } else {
        f.write_all(value)
    };
    res.map_err(|e| {
        let text = String::from_utf8_lossy(value).into_owned();
        let log = log
            .and_then(|l| read(l).ok())
            .and_then(|t| KernelLog::find_for(&t, &text));
        Error::Write {
            path: path.to_path_buf(),
            value: text,
            errno: e,
            log,
        }
    })
}

/// Whether a path exists (a file or directory); absence and refusal both read as "no".
pub fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// The names in a directory, in the order the kernel lists them (tracefs lists events and
/// instances in creation order, which is what trace-cmd prints), skipping plain files when
/// `dirs_only`.
pub fn list_dir(path: &Path, dirs_only: bool) -> Result<Vec<String>> {
    let rd = std::fs::read_dir(path).map_err(|e| open_error(path, e))?;
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| Error::Read {
            path: path.to_path_buf(),
            errno: e,
        })?;
        if dirs_only && !ent.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            continue;
        }
        out.push(ent.file_name().to_string_lossy().into_owned());
    }
    Ok(out)
}
