//! Errors, each naming the tracefs file or setting it is about and, for refused writes, the
//! kernel's own reason: the errno and the entry the kernel left in `error_log`
//! (kernel/trace/trace.c `tracing_log_err`; the format is in Documentation/trace/ftrace.rst,
//! "error_log").

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while driving the kernel's tracing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// tracefs is not mounted and could not be mounted.
    #[error("cannot find tracefs: {detail}")]
    NotMounted {
        /// What was tried.
        detail: String,
    },

    /// The kernel denied access to a tracing file because of its permissions.
    #[error(
        "{}: permission denied: tracing needs root (or membership in the group that owns tracefs)",
        path.display()
    )]
    PermissionDenied {
        /// The file or directory.
        path: PathBuf,
    },

    /// The file is missing, or the kernel refuses to open it (`EPERM`, `ENODEV`): the feature
    /// behind it is not available on this kernel.
    #[error("{}: not available on this kernel ({})", path.display(), errno_text(errno))]
    NotAvailable {
        /// The file.
        path: PathBuf,
        /// The errno from `open`.
        errno: io::Error,
    },

    /// A feature the request needs is missing from this kernel.
    #[error("{feature}: not supported by this kernel ({detail})")]
    Unsupported {
        /// The feature, as a user names it ("kprobes", "the snapshot buffer", ...).
        feature: String,
        /// How that was found out, and the kernel option that provides it.
        detail: String,
    },

    /// Reading a file failed after it was opened.
    #[error("reading {}: {}", path.display(), errno_text(errno))]
    Read {
        /// The file.
        path: PathBuf,
        /// The errno.
        errno: io::Error,
    },

    /// The kernel refused a value.
    #[error("writing '{}' to {}: {}{}", value.escape_debug(), path.display(), errno_text(errno),
            log.as_ref().map(|l| format!("\n{l}")).unwrap_or_default())]
    Write {
        /// The file.
        path: PathBuf,
        /// What was written.
        value: String,
        /// The errno from `write`.
        errno: io::Error,
        /// The kernel's explanation, when it logged one.
        log: Option<KernelLog>,
    },

    /// Creating or removing a directory (an instance) failed.
    #[error("{op} {}: {}", path.display(), errno_text(errno))]
    Dir {
        /// "creating" or "removing".
        op: &'static str,
        /// The directory.
        path: PathBuf,
        /// The errno.
        errno: io::Error,
    },

    /// A file holds something this crate cannot understand.
    #[error("{}: unexpected content {:?}: expected {expected}", path.display(), text)]
    Parse {
        /// The file.
        path: PathBuf,
        /// The part that did not parse.
        text: String,
        /// What was expected there.
        expected: &'static str,
    },

    /// No event or event system matches a name.
    #[error("no event matches '{name}'{}", did_you_mean(suggestions))]
    NoSuchEvent {
        /// The name as given.
        name: String,
        /// The closest existing names.
        suggestions: Vec<String>,
    },

    /// The tracer is not one of `available_tracers`.
    #[error("tracer '{name}' is not available on this kernel (available: {}){}",
            available.join(" "), did_you_mean(suggestions))]
    NoSuchTracer {
        /// The name as given.
        name: String,
        /// `available_tracers`.
        available: Vec<String>,
        /// The closest available names.
        suggestions: Vec<String>,
    },

    /// The clock is not one of `trace_clock`'s.
    #[error("clock '{name}' is not available (available: {})", available.join(" "))]
    NoSuchClock {
        /// The name as given.
        name: String,
        /// The clocks `trace_clock` lists.
        available: Vec<String>,
    },

    /// No file under `options/` has this name.
    #[error("no trace option '{name}'{}", did_you_mean(suggestions))]
    NoSuchOption {
        /// The name as given (without a `no` prefix).
        name: String,
        /// The closest existing options.
        suggestions: Vec<String>,
    },

    /// No instance of this name exists.
    #[error("no tracing instance '{name}'{}", did_you_mean(suggestions))]
    NoSuchInstance {
        /// The name as given.
        name: String,
        /// The closest existing instances.
        suggestions: Vec<String>,
    },

    /// A function filter matched no traceable function.
    #[error(
        "no function in available_filter_functions matches '{pattern}' (for {file}){}",
        did_you_mean(suggestions)
    )]
    NoSuchFunction {
        /// The glob or regex.
        pattern: String,
        /// The filter file it was meant for.
        file: String,
        /// The closest function names.
        suggestions: Vec<String>,
    },

    /// No dynamic event (kprobe, uprobe, ...) of this name exists.
    #[error("no {kind} named '{name}'{}", did_you_mean(suggestions))]
    NoSuchProbe {
        /// "kprobe", "uprobe" or "dynamic event".
        kind: &'static str,
        /// The name as given.
        name: String,
        /// The closest existing names.
        suggestions: Vec<String>,
    },

    /// A request that is malformed before the kernel sees it.
    #[error("invalid {what} '{value}': {why}")]
    Invalid {
        /// What kind of value ("cpumask", "probe definition", ...).
        what: &'static str,
        /// The value as given.
        value: String,
        /// Why it is invalid.
        why: String,
    },
}

/// The errno's text without Rust's " (os error N)" suffix, as C tools print it.
pub fn errno_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

fn did_you_mean(s: &[String]) -> String {
    match s.len() {
        0 => String::new(),
        1 => format!("; did you mean '{}'?", s[0]),
        _ => format!(
            "; did you mean one of: {}?",
            s.iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl Error {
    /// Whether this only says that a file or feature is absent or refused by the kernel, which
    /// is "not available" rather than a failure when the user did not ask for that file.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::NotAvailable { .. } | Error::Unsupported { .. } => true,
            // EPERM at write time: the kernel refuses the feature (lockdown, ftrace disabled)
            // rather than the value.
            Error::Write { errno, .. } => {
                matches!(
                    errno.raw_os_error(),
                    Some(libc_errno::EPERM | libc_errno::ENODEV)
                )
            }
            _ => false,
        }
    }

    /// The errno behind this error, if the kernel gave one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::NotAvailable { errno, .. }
            | Error::Read { errno, .. }
            | Error::Write { errno, .. }
            | Error::Dir { errno, .. } => errno.raw_os_error(),
            Error::PermissionDenied { .. } => Some(libc_errno::EACCES),
            _ => None,
        }
    }
}

/// errno values this crate tests for (the same on every Linux architecture).
pub(crate) mod libc_errno {
    use nix::errno::Errno;
    pub const EPERM: i32 = Errno::EPERM as i32;
    pub const ENOENT: i32 = Errno::ENOENT as i32;
    pub const EACCES: i32 = Errno::EACCES as i32;
    pub const ENODEV: i32 = Errno::ENODEV as i32;
    pub const EOPNOTSUPP: i32 = Errno::EOPNOTSUPP as i32;
    pub const EISDIR: i32 = Errno::EISDIR as i32;
    pub const EINVAL: i32 = Errno::EINVAL as i32;
}

/// Turns "not available" into `None`, for files the user did not ask for.
pub trait Optional<T> {
    /// `Ok(None)` when the error [is "not available"](Error::is_unavailable).
    fn optional(self) -> Result<Option<T>>;
}

impl<T> Optional<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_unavailable() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One entry of a tracefs `error_log`:
///
/// ```text
/// [  123.456789] trace_kprobe: error: Invalid fetch argument
///   Command: p:myprobe do_sys_openat2 dfd=%di:s33
///                                         ^
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelLog {
    /// The subsystem and message: `trace_kprobe: error: Invalid fetch argument`.
    pub message: String,
    /// The command the kernel was given, as it echoes it.
    pub command: String,
    /// The byte offset in `command` the caret points at.
    pub position: Option<usize>,
}

impl KernelLog {
    /// Parses every entry of an `error_log` file's text, oldest first.
    pub fn parse_all(text: &str) -> Vec<KernelLog> {
        let mut out: Vec<KernelLog> = Vec::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let Some(rest) = line.strip_prefix('[') else {
                continue;
            };
            let message = match rest.find("] ") {
                Some(i) => rest[i + 2..].to_string(),
                None => continue,
            };
            let mut entry = KernelLog {
                message,
                command: String::new(),
                position: None,
            };
            if let Some(cmd_line) = lines.peek().and_then(|l| l.strip_prefix("  Command: ")) {
                entry.command = cmd_line.to_string();
                lines.next();
                // The caret line is indented to "  Command: " plus the offset.
                if let Some(caret) = lines.peek() {
                    if !caret.starts_with('[') {
                        if let Some(col) = caret.find('^') {
                            entry.position = col.checked_sub("  Command: ".len());
                        }
                        lines.next();
                    }
                }
            }
            out.push(entry);
        }
        out
    }

    /// The newest entry that is about `value` (the kernel echoes the command it refused).
    pub fn find_for(text: &str, value: &str) -> Option<KernelLog> {
        let value = value.trim();
        KernelLog::parse_all(text).into_iter().rev().find(|e| {
            let cmd = e.command.trim();
            !cmd.is_empty() && (value.contains(cmd) || cmd.contains(value))
        })
    }
}

impl fmt::Display for KernelLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.command.is_empty() {
            write!(f, "\n  Command: {}", self.command)?;
            if let Some(p) = self.position {
                write!(f, "\n  {}^", " ".repeat("Command: ".len() + p))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "[10076.704499] trace_uprobe: error: Invalid register name
  Command: p:myprobe /bin/true:0x0 x=%zz
                                     ^
[10076.709468] trace_uprobe: error: Failed to find the given file
  Command: p:myprobe /nonexistent:0x10
                     ^
";

    #[test]
    fn parses_entries_and_carets() {
        let all = KernelLog::parse_all(LOG);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].message, "trace_uprobe: error: Invalid register name");
        assert_eq!(all[0].command, "p:myprobe /bin/true:0x0 x=%zz");
        assert_eq!(&all[0].command[all[0].position.unwrap()..], "%zz");
        assert_eq!(
            &all[1].command[all[1].position.unwrap()..],
            "/nonexistent:0x10"
        );
    }

    #[test]
    fn finds_the_entry_for_a_command_and_prints_it_as_the_kernel_does() {
        let e = KernelLog::find_for(LOG, "p:myprobe /bin/true:0x0 x=%zz\n").unwrap();
        assert_eq!(e.message, "trace_uprobe: error: Invalid register name");
        let shown = e.to_string();
        let want: String = LOG.lines().take(3).map(|l| format!("{l}\n")).collect();
        let want = want.split_once("] ").unwrap().1.trim_end();
        assert_eq!(shown, want);
        assert!(KernelLog::find_for(LOG, "p:other /bin/ls:0x1").is_none());
    }

    #[test]
    fn suggestions_read_naturally() {
        let e = Error::NoSuchEvent {
            name: "sched_swich".into(),
            suggestions: vec!["sched:sched_switch".into()],
        };
        assert_eq!(
            e.to_string(),
            "no event matches 'sched_swich'; did you mean 'sched:sched_switch'?"
        );
    }
}
