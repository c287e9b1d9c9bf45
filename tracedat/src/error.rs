//! Errors and warnings of the trace.dat reader.
//!
//! Every error names the file offset where the bad data starts and what was expected there, so
//! the CLI can print one line such as
//! `offset 0x1234: section 18 (EVENT_FORMATS) size 0x7fffffff runs past end of file (size 0x2000)`.
//! Offsets inside a decompressed section are given as the section's file offset plus the offset
//! inside the decompressed bytes.
//!
//! Warnings are what trace-cmd reports through `tracecmd_warning()`/`tracecmd_critical()`/
//! `tracecmd_info()` (lib/trace-cmd/trace-util.c) or prints with `printf`, kept with the level it
//! uses: `trace-cmd report` shows only `Critical` and `Error` unless `--verbose` raises the level
//! (it calls `trace_set_loglevel(TEP_LOG_ERROR)` first), so the CLI decides what to print.

use std::fmt;

/// Where in the file an error or warning points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pos {
    /// A byte offset in the file.
    File(u64),
    /// A byte offset inside the decompressed payload of the section whose header is at
    /// `section` in the file.
    Section {
        /// File offset of the section header.
        section: u64,
        /// Offset inside the decompressed payload.
        offset: u64,
    },
}

impl Pos {
    /// This position moved `n` bytes further.
    pub fn offset_by(self, n: u64) -> Pos {
        match self {
            Pos::File(o) => Pos::File(o.saturating_add(n)),
            Pos::Section { section, offset } => Pos::Section {
                section,
                offset: offset.saturating_add(n),
            },
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pos::File(o) => write!(f, "offset {o:#x}"),
            Pos::Section { section, offset } => {
                write!(
                    f,
                    "offset {offset:#x} in the decompressed section at {section:#x}"
                )
            }
        }
    }
}

/// A reason the file cannot be read (or a part of it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The first bytes are not `\x17\x08\x44tracing`.
    #[error("{pos}: not a trace-cmd data file (bad magic)")]
    BadMagic {
        /// Where the mismatch is.
        pos: Pos,
    },
    /// The version string names a version trace-cmd does not read (above 7).
    #[error("{pos}: unsupported file version {version:?}")]
    UnsupportedVersion {
        /// Where the version string starts.
        pos: Pos,
        /// The version text.
        version: String,
    },
    /// The compression named in the v7 header is not zstd or zlib (or "none").
    #[error("{pos}: unsupported file compression {name:?} version {version:?}")]
    UnknownCompression {
        /// Where the compression name starts.
        pos: Pos,
        /// Compression name.
        name: String,
        /// Compression version.
        version: String,
    },
    /// A read of `need` bytes for `what` at `pos` runs past the end of the data.
    #[error("{pos}: {what} ({need} bytes) runs past end of {container} (size {size:#x})")]
    Truncated {
        /// Where the read starts.
        pos: Pos,
        /// What was being read.
        what: String,
        /// How many bytes were needed.
        need: u64,
        /// Size of the file or decompressed section.
        size: u64,
        /// "file" or "section".
        container: &'static str,
    },
    /// A size field claims more bytes than there are.
    #[error("{pos}: {what} size {claimed:#x} runs past end of {container} (size {size:#x})")]
    SizePastEnd {
        /// Where the sized thing starts.
        pos: Pos,
        /// What it is, e.g. `section 18 (EVENT_FORMATS)`.
        what: String,
        /// The size the file claims.
        claimed: u64,
        /// Size of the file or decompressed section.
        size: u64,
        /// "file" or "section".
        container: &'static str,
    },
    /// A string is not NUL-terminated before the end of its container.
    #[error("{pos}: {what}: string without terminating NUL")]
    Unterminated {
        /// Where the string starts.
        pos: Pos,
        /// What it is.
        what: String,
    },
    /// A tag or section id that must be one thing is another.
    #[error("{pos}: expected {expected}, found {found}")]
    Unexpected {
        /// Where the mismatch is.
        pos: Pos,
        /// What trace-cmd expects there.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// Compressed bytes that do not inflate, or inflate to another size than recorded.
    #[error("{pos}: {codec} block does not decompress: {detail}")]
    Decompress {
        /// Where the compressed block starts.
        pos: Pos,
        /// Codec name.
        codec: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// A chain of option sections (v7 DONE pointers) or BUFFER offsets that loops.
    #[error("{pos}: {what} loops back to an offset already read")]
    Cycle {
        /// The offset seen twice.
        pos: Pos,
        /// What chain it is.
        what: &'static str,
    },
    /// A value that is out of the range trace-cmd can use.
    #[error("{pos}: {what}")]
    Invalid {
        /// Where the value is.
        pos: Pos,
        /// What is wrong, with the value.
        what: String,
    },
    /// Per-CPU data runs past the end of the file; trace-cmd prints
    /// `File possibly truncated. Need at least N, but file size is M.` and gives up.
    #[error("{pos}: CPU {cpu} data (size {size:#x}) runs past end of file: File possibly truncated. Need at least {need}, but file size is {file_size}.")]
    CpuDataTruncated {
        /// Where the CPU data starts.
        pos: Pos,
        /// The CPU.
        cpu: u32,
        /// Its size.
        size: u64,
        /// Offset + size.
        need: u64,
        /// The file size.
        file_size: u64,
    },
    /// Something asked for that the file does not have (a buffer index, a latency text of a
    /// flyrecord buffer...).
    #[error("{0}")]
    Missing(String),
}

impl Error {
    /// The line trace-cmd prints on stdout (with `printf`) when it meets this error, if it
    /// prints one: "File possibly truncated. Need at least N, but file size is M."
    pub fn trace_cmd_stdout(&self) -> Option<String> {
        match self {
            Error::CpuDataTruncated {
                need, file_size, ..
            } => Some(format!(
                "File possibly truncated. Need at least {need}, but file size is {file_size}."
            )),
            _ => None,
        }
    }
}

/// Result alias of this crate's reader.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// trace-cmd's log levels (`enum tep_loglevel`), highest priority first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `tracecmd_critical()`: shown by default.
    Critical = 1,
    /// Shown by default.
    Error = 2,
    /// `tracecmd_warning()`: hidden by `report` unless `--verbose`.
    Warning = 3,
    /// `tracecmd_info()`.
    Info = 4,
    /// Printed by trace-cmd with `printf` to stdout whatever the level (e.g. "File possibly
    /// truncated").
    Stdout = 0,
}

/// Something trace-cmd would report while reading, without failing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The level trace-cmd reports it at.
    pub level: LogLevel,
    /// Where in the file it is, when known.
    pub pos: Option<Pos>,
    /// The message text as trace-cmd formats it (without the trailing newline).
    pub message: String,
}

impl Warning {
    pub(crate) fn new(level: LogLevel, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Warning {
            level,
            pos,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{p}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}
