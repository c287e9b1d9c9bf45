//! Function filters of the function tracers: `set_ftrace_filter`, `set_ftrace_notrace`,
//! `set_graph_function`, `set_graph_notrace`, matched against `available_filter_functions`
//! (Documentation/trace/ftrace.rst, "dynamic ftrace" and "Filter commands").
//!
//! What the files accept: names and globs (`sched_*`, `*lock*`), `NAME:mod:MODULE`, `!GLOB`
//! to take functions out again, and on `set_ftrace_filter` commands such as
//! `FUNC:traceoff:3` or `FUNC:stacktrace`. The kernel builds the new filter while the file is
//! open and installs it when the file is closed, so one open takes every name, and the
//! commands follow with their own appending writes (as trace-cmd and libtracefs order them).
//! Regular expressions are not the kernel's: they are matched here against
//! `available_filter_functions` and the matches written by index (Linux 5.12+ takes line
//! numbers of that file), or by name on older kernels (libtracefs's `update_filter`).

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;

use crate::error::{libc_errno, Error, Result};
use crate::instance::Instance;
use crate::io::{self, Mode};
use crate::suggest;

/// The four function filter files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FilterFile {
    /// `set_ftrace_filter`: trace only these functions.
    Filter,
    /// `set_ftrace_notrace`: never trace these.
    Notrace,
    /// `set_graph_function`: function_graph starts at these.
    GraphFunction,
    /// `set_graph_notrace`: function_graph skips these and their callees.
    GraphNotrace,
}

impl FilterFile {
    /// All four, in trace-cmd's `clear_func_filters` order.
    pub const ALL: [FilterFile; 4] = [
        FilterFile::Filter,
        FilterFile::Notrace,
        FilterFile::GraphFunction,
        FilterFile::GraphNotrace,
    ];

    /// The file name.
    pub fn file(self) -> &'static str {
        match self {
            FilterFile::Filter => "set_ftrace_filter",
            FilterFile::Notrace => "set_ftrace_notrace",
            FilterFile::GraphFunction => "set_graph_function",
            FilterFile::GraphNotrace => "set_graph_notrace",
        }
    }
}

impl fmt::Display for FilterFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file())
    }
}

/// Decides whether a name is matched by a caller-supplied regular expression.
pub type Matcher = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// One entry for a function filter file.
pub enum FuncPattern {
    /// A name or glob, optionally limited to a module (`NAME:mod:MODULE`); the kernel
    /// matches it.
    Glob {
        /// The name or glob.
        glob: String,
        /// The module.
        module: Option<String>,
    },
    /// Functions a regular expression matches; `pattern` is for messages.
    Regex {
        /// The expression as the user wrote it.
        pattern: String,
        /// The compiled expression.
        matcher: Matcher,
        /// Only functions of this module.
        module: Option<String>,
    },
    /// `!GLOB`: remove matching functions from the filter.
    Exclude(String),
    /// `FUNC:COMMAND[:PARAM]` (`set_ftrace_filter` only).
    Command(String),
}

impl fmt::Debug for FuncPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FuncPattern::Glob { glob, module } => write!(f, "Glob({glob:?}, {module:?})"),
            FuncPattern::Regex {
                pattern, module, ..
            } => write!(f, "Regex({pattern:?}, {module:?})"),
            FuncPattern::Exclude(g) => write!(f, "Exclude({g:?})"),
            FuncPattern::Command(c) => write!(f, "Command({c:?})"),
        }
    }
}

/// The commands `set_ftrace_filter` accepts after `FUNC:` (kernel/trace/ftrace.c and
/// trace_functions.c `register_ftrace_command` callers).
pub const FILTER_COMMANDS: &[&str] = &[
    "traceon",
    "traceoff",
    "snapshot",
    "enable_event",
    "disable_event",
    "dump",
    "cpudump",
    "stacktrace",
];

/// How a function filter word is to be used, before regexes are compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FuncKind {
    /// A name or glob the kernel matches.
    Glob,
    /// A regular expression to match against `available_filter_functions`.
    Regex,
    /// `!GLOB`.
    Exclude,
    /// `FUNC:COMMAND[:PARAM]`.
    Command,
}

/// Classifies a filter word as libtracefs does: only `[A-Za-z0-9_*.?]` is a glob (a `.`
/// can be part of a function name), `!` starts an exclusion, `FUNC:COMMAND` is a command,
/// anything else is a regular expression. `NAME:mod:MODULE` is split off first.
pub fn classify(word: &str) -> (FuncKind, &str, Option<&str>) {
    if let Some(rest) = word.strip_prefix('!') {
        return (FuncKind::Exclude, rest, None);
    }
    let (name, module) = match word.split_once(":mod:") {
        Some((n, m)) => (n, Some(m)),
        None => (word, None),
    };
    if module.is_none() {
        if let Some((_, cmd)) = word.split_once(':') {
            let cmd = cmd.split(':').next().unwrap_or("");
            if FILTER_COMMANDS.contains(&cmd) {
                return (FuncKind::Command, word, None);
            }
        }
    }
    let glob = name
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'*' | b'.' | b'?'));
    if glob {
        (FuncKind::Glob, name, module)
    } else {
        (FuncKind::Regex, name, module)
    }
}

/// A line of `available_filter_functions`: `name` or `name [module]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceableFunction {
    /// The function.
    pub name: String,
    /// Its module, for functions of loadable modules.
    pub module: Option<String>,
}

impl Instance {
    /// The functions the function tracers can trace, in the file's order (index = position
    /// + 1).
    pub fn available_filter_functions(&self) -> Result<Vec<TraceableFunction>> {
        let p = self.root().join("available_filter_functions");
        if !io::exists(&p) {
            return Err(no_dynamic_ftrace(&p));
        }
        Ok(io::read(&p)?
            .lines()
            .filter_map(|l| {
                let mut w = l.split_ascii_whitespace();
                let name = w.next()?.to_string();
                let module = w
                    .next()
                    .and_then(|m| m.strip_prefix('['))
                    .and_then(|m| m.strip_suffix(']'))
                    .map(str::to_string);
                Some(TraceableFunction { name, module })
            })
            .collect())
    }

    /// The entries of a function filter file (functions and commands, without the
    /// `####` comment lines the kernel shows for an empty filter).
    pub fn function_filter(&self, file: FilterFile) -> Result<Vec<String>> {
        let p = self.path(file.file());
        if !io::exists(&p) {
            return Err(no_dynamic_ftrace(&p));
        }
        Ok(io::read(&p)?
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.trim_end().to_string())
            .collect())
    }

    /// Writes function filter entries. With `reset` the file is replaced, else the entries
    /// are added. Names and globs the kernel rejects, and regexes that match nothing, are
    /// [`Error::NoSuchFunction`] with the closest traceable names.
    pub fn set_function_filter(
        &self,
        file: FilterFile,
        patterns: &[FuncPattern],
        reset: bool,
    ) -> Result<()> {
        let path = self.path(file.file());
        if !io::exists(&path) {
            return Err(no_dynamic_ftrace(&path));
        }
        let mut available: Option<Vec<TraceableFunction>> = None;
        let mut load = |inst: &Instance| -> Result<Vec<TraceableFunction>> {
            if available.is_none() {
                available = Some(inst.available_filter_functions()?);
            }
            Ok(available.clone().unwrap_or_default())
        };
        let mut f = OpenOptions::new()
            .write(true)
            .truncate(reset)
            .append(!reset)
            .open(&path)
            .map_err(|e| io::open_error(&path, e))?;
        let fail = |inst: &Instance, pattern: &str, e: std::io::Error| -> Error {
            if e.raw_os_error() == Some(libc_errno::EINVAL)
                || e.raw_os_error() == Some(libc_errno::ENODEV)
            {
                no_such_function(inst, file, pattern)
            } else {
                Error::Write {
                    path: inst.path(file.file()),
                    value: pattern.to_string(),
                    errno: e,
                    log: None,
                }
            }
        };
        for p in patterns {
            match p {
                FuncPattern::Glob { glob, module } => {
                    let word = match module {
                        Some(m) => format!("{glob}:mod:{m} "),
                        None => format!("{glob} "),
                    };
                    f.write_all(word.as_bytes())
                        .map_err(|e| fail(self, word.trim_end(), e))?;
                }
                FuncPattern::Regex {
                    pattern,
                    matcher,
                    module,
                } => {
                    let funcs = load(self)?;
                    let hits: Vec<(usize, &TraceableFunction)> = funcs
                        .iter()
                        .enumerate()
                        .filter(|(_, tf)| {
                            module
                                .as_ref()
                                .is_none_or(|m| tf.module.as_ref() == Some(m))
                                && matcher(&tf.name)
                        })
                        .map(|(i, tf)| (i + 1, tf))
                        .collect();
                    if hits.is_empty() {
                        return Err(no_such_function(self, file, pattern));
                    }
                    write_indexes_or_names(&mut f, &hits).map_err(|e| Error::Write {
                        path: path.clone(),
                        value: pattern.clone(),
                        errno: e,
                        log: None,
                    })?;
                }
                FuncPattern::Exclude(_) | FuncPattern::Command(_) => {}
            }
        }
        for p in patterns {
            if let FuncPattern::Exclude(g) = p {
                let word = format!("!{g} ");
                f.write_all(word.as_bytes()).map_err(|e| fail(self, g, e))?;
            }
        }
        drop(f);
        for p in patterns {
            if let FuncPattern::Command(c) = p {
                if file != FilterFile::Filter {
                    return Err(Error::Invalid {
                        what: "function filter",
                        value: c.clone(),
                        why: format!("commands only work in set_ftrace_filter, not {file}"),
                    });
                }
                self.write_mode(file.file(), c, Mode::Append)?;
            }
        }
        Ok(())
    }

    /// Empties a function filter file: its functions (by truncating) and then its commands
    /// (each removed with `!`, as the kernel wants them; trace-cmd's `clear_func_filter`).
    pub fn clear_function_filter(&self, file: FilterFile) -> Result<()> {
        let path = self.path(file.file());
        if !io::exists(&path) {
            return Err(no_dynamic_ftrace(&path));
        }
        io::write(&path, "", Mode::Truncate, None)?;
        for line in self.function_filter(file)? {
            if line.contains(':') {
                let cmd = line.split(' ').next().unwrap_or(&line);
                let cmd = cmd.strip_suffix(":unlimited").unwrap_or(cmd);
                self.write_mode(file.file(), &format!("!{cmd}\n"), Mode::Append)?;
            }
        }
        Ok(())
    }

    /// Puts back a function filter file as [`Instance::function_filter`] listed it.
    pub fn restore_function_filter(&self, file: FilterFile, lines: &[String]) -> Result<()> {
        self.clear_function_filter(file)?;
        let mut pats = Vec::new();
        for l in lines {
            let mut w = l.split_ascii_whitespace();
            let Some(first) = w.next() else { continue };
            if first.contains(':') {
                pats.push(FuncPattern::Command(relisted_command(first)));
            } else {
                let module = w
                    .next()
                    .and_then(|m| m.strip_prefix('['))
                    .and_then(|m| m.strip_suffix(']'))
                    .map(str::to_string);
                pats.push(FuncPattern::Glob {
                    glob: first.to_string(),
                    module,
                });
            }
        }
        if pats.is_empty() {
            return Ok(());
        }
        self.set_function_filter(file, &pats, true)
    }
}

/// A command as `set_ftrace_filter` lists it, turned back into what it accepts:
/// `f:traceoff:count=3` → `f:traceoff:3`, `f:traceoff:unlimited` → `f:traceoff`.
fn relisted_command(listed: &str) -> String {
    if let Some(head) = listed.strip_suffix(":unlimited") {
        return head.to_string();
    }
    listed.replace(":count=", ":")
}

fn write_indexes_or_names(
    f: &mut std::fs::File,
    hits: &[(usize, &TraceableFunction)],
) -> std::io::Result<()> {
    // Batches under a page: the kernel's parser continues a word across writes, but a
    // failing first write must be recognisable as "indexes not supported".
    let mut first = true;
    let mut buf = String::new();
    let mut by_name = false;
    let mut i = 0;
    while i < hits.len() {
        buf.clear();
        while i < hits.len() && buf.len() < 3500 {
            if by_name {
                let (_, tf) = hits[i];
                match &tf.module {
                    Some(m) => buf.push_str(&format!("{}:mod:{m} ", tf.name)),
                    None => buf.push_str(&format!("{} ", tf.name)),
                }
            } else {
                buf.push_str(&format!("{} ", hits[i].0));
            }
            i += 1;
            if first {
                break;
            }
        }
        match f.write_all(buf.as_bytes()) {
            Ok(()) => {}
            Err(e) if first && !by_name && e.raw_os_error() == Some(libc_errno::EINVAL) => {
                // Kernels before 5.12 do not take indexes: start over with names.
                by_name = true;
                i = 0;
            }
            Err(e) => return Err(e),
        }
        first = false;
    }
    Ok(())
}

fn no_such_function(inst: &Instance, file: FilterFile, pattern: &str) -> Error {
    let names: Vec<String> = inst
        .available_filter_functions()
        .map(|v| v.into_iter().map(|f| f.name).collect())
        .unwrap_or_default();
    let bare = pattern.split(":mod:").next().unwrap_or(pattern);
    Error::NoSuchFunction {
        pattern: pattern.to_string(),
        file: file.file().to_string(),
        suggestions: suggest::closest(bare, names.iter().map(String::as_str), 3),
    }
}

fn no_dynamic_ftrace(path: &std::path::Path) -> Error {
    Error::Unsupported {
        feature: "function filtering".into(),
        detail: format!(
            "{} is missing; it needs CONFIG_DYNAMIC_FTRACE{}",
            path.display(),
            if path.ends_with("set_graph_function") || path.ends_with("set_graph_notrace") {
                " and CONFIG_FUNCTION_GRAPH_TRACER"
            } else {
                ""
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_libtracefs() {
        assert_eq!(classify("schedule"), (FuncKind::Glob, "schedule", None));
        assert_eq!(classify("sched_*"), (FuncKind::Glob, "sched_*", None));
        assert_eq!(classify("foo.isra.0"), (FuncKind::Glob, "foo.isra.0", None));
        assert_eq!(classify("^sched"), (FuncKind::Regex, "^sched", None));
        assert_eq!(classify("tick$"), (FuncKind::Regex, "tick$", None));
        assert_eq!(classify("!*lock*"), (FuncKind::Exclude, "*lock*", None));
        assert_eq!(classify("*:mod:ext4"), (FuncKind::Glob, "*", Some("ext4")));
        assert_eq!(
            classify("schedule:traceoff:3"),
            (FuncKind::Command, "schedule:traceoff:3", None)
        );
        // Not a known command: the ':' makes it a regex, as in libtracefs.
        assert_eq!(classify("a:b").0, FuncKind::Regex);
    }

    #[test]
    fn listed_commands_are_turned_back() {
        assert_eq!(
            relisted_command("schedule:traceoff:count=3"),
            "schedule:traceoff:3"
        );
        assert_eq!(
            relisted_command("schedule:traceoff:unlimited"),
            "schedule:traceoff"
        );
        assert_eq!(
            relisted_command("do_exit:enable_event:sched:sched_switch:count=2"),
            "do_exit:enable_event:sched:sched_switch:2"
        );
    }
}
