//! One tracing instance: the top-level tracing directory or `instances/NAME`, and the
//! settings every instance has (Documentation/trace/ftrace.rst, "The File System"):
//! `tracing_on`, `current_tracer`, `trace_clock`, `buffer_size_kb`, `buffer_subbuf_size_kb`,
//! `tracing_cpumask`, `options/*`, `set_event_pid`, `set_ftrace_pid`, `trace_marker`,
//! `error_log`, `snapshot`, `per_cpu/cpuN/*`.
//!
//! Every setter reads the file first and writes only when the value differs, and says
//! whether it wrote. Event and function-filter files are in `events.rs` and `functions.rs`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, KernelLog, Result};
use crate::io::{self, Mode};
use crate::suggest;

/// A tracing instance (the top level when it has no name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    root: PathBuf,
    name: Option<String>,
    dir: PathBuf,
}

impl Instance {
    pub(crate) fn new(root: &Path, name: Option<&str>) -> Instance {
        let dir = match name {
            Some(n) => root.join("instances").join(n),
            None => root.to_path_buf(),
        };
        Instance {
            root: root.to_path_buf(),
            name: name.map(str::to_string),
            dir,
        }
    }

    /// The instance's name; `None` for the top level.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether this is the top-level instance.
    pub fn is_top(&self) -> bool {
        self.name.is_none()
    }

    /// The instance's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tracing directory this instance belongs to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A file of this instance.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Whether the instance has this file (absent files mean a kernel without the feature).
    pub fn exists(&self, file: &str) -> bool {
        io::exists(&self.path(file))
    }

    /// A file's whole content.
    pub fn read(&self, file: &str) -> Result<String> {
        io::read(&self.path(file))
    }

    /// A file's content without surrounding white space.
    pub fn read_trimmed(&self, file: &str) -> Result<String> {
        Ok(self.read(file)?.trim().to_string())
    }

    /// Writes a value (`O_TRUNC`), attaching the kernel's error_log entry on failure.
    pub fn write(&self, file: &str, value: &str) -> Result<()> {
        self.write_mode(file, value, Mode::Truncate)
    }

    /// Appends a value (`O_APPEND`): adds to a list without clearing it.
    pub fn append(&self, file: &str, value: &str) -> Result<()> {
        self.write_mode(file, value, Mode::Append)
    }

    /// Writes with the given mode, looking for the kernel's reason in this instance's
    /// `error_log` and then the top level's (probes log there).
    pub fn write_mode(&self, file: &str, value: &str, mode: Mode) -> Result<()> {
        let res = io::write(&self.path(file), value, mode, Some(&self.path("error_log")));
        match res {
            Err(Error::Write {
                path,
                value,
                errno,
                log: None,
            }) if !self.is_top() => {
                let log = io::read(&self.root.join("error_log"))
                    .ok()
                    .and_then(|t| KernelLog::find_for(&t, &value));
                Err(Error::Write {
                    path,
                    value,
                    errno,
                    log,
                })
            }
            r => r,
        }
    }

    /// Writes `want` unless the file already holds it (compared without surrounding white
    /// space). Returns whether it wrote.
    pub fn set_value(&self, file: &str, want: &str) -> Result<bool> {
        let cur = self.read(file)?;
        if cur.trim() == want.trim() {
            return Ok(false);
        }
        self.write(file, want)?;
        Ok(true)
    }

    /// `tracing_on`: whether the ring buffer is recording.
    pub fn tracing_on(&self) -> Result<bool> {
        parse_bool(&self.path("tracing_on"), &self.read("tracing_on")?)
    }

    /// Turns recording on or off.
    pub fn set_tracing_on(&self, on: bool) -> Result<bool> {
        if self.tracing_on()? == on {
            return Ok(false);
        }
        self.write("tracing_on", if on { "1" } else { "0" })?;
        Ok(true)
    }

    /// `current_tracer`.
    pub fn current_tracer(&self) -> Result<String> {
        self.read_trimmed("current_tracer")
    }

    /// `available_tracers`.
    pub fn available_tracers(&self) -> Result<Vec<String>> {
        // Instances list their own tracers on new kernels; older ones only at the top.
        let file = if self.exists("available_tracers") {
            self.path("available_tracers")
        } else {
            self.root.join("available_tracers")
        };
        Ok(io::read(&file)?
            .split_ascii_whitespace()
            .map(str::to_string)
            .collect())
    }

    /// Sets `current_tracer` after checking `available_tracers`.
    pub fn set_tracer(&self, name: &str) -> Result<bool> {
        let name = name.trim();
        let available = self.available_tracers()?;
        if !available.iter().any(|t| t == name) {
            return Err(Error::NoSuchTracer {
                name: name.to_string(),
                suggestions: suggest::closest(name, available.iter().map(String::as_str), 3),
                available,
            });
        }
        self.set_value("current_tracer", name)
    }

    /// `trace_clock`: the clock in use and the ones available.
    pub fn clock(&self) -> Result<Clocks> {
        let path = self.path("trace_clock");
        Clocks::parse(&path, &io::read(&path)?)
    }

    /// Selects a trace clock after checking that the kernel has it.
    pub fn set_clock(&self, name: &str) -> Result<bool> {
        let clocks = self.clock()?;
        if !clocks.available.iter().any(|c| c == name) {
            return Err(Error::NoSuchClock {
                name: name.to_string(),
                available: clocks.available,
            });
        }
        if clocks.current == name {
            return Ok(false);
        }
        self.write("trace_clock", name)?;
        Ok(true)
    }

    /// `buffer_size_kb`: the per-CPU ring buffer size.
    pub fn buffer_size_kb(&self) -> Result<BufferSize> {
        let path = self.path("buffer_size_kb");
        let text = io::read(&path)?;
        let t = text.trim();
        if t == "X" {
            let mut sizes = Vec::new();
            for cpu in self.cpus()? {
                let f = format!("per_cpu/cpu{cpu}/buffer_size_kb");
                let p = self.path(&f);
                sizes.push((cpu, parse_kb(&p, &io::read(&p)?)?.0));
            }
            return Ok(BufferSize::PerCpu(sizes));
        }
        let (kb, expanded) = parse_kb(&path, t)?;
        Ok(BufferSize::Uniform { kb, expanded })
    }

    /// Sets every CPU's buffer to `kb` kilobytes (the kernel rounds up to whole pages).
    pub fn set_buffer_size_kb(&self, kb: u64) -> Result<bool> {
        if let BufferSize::Uniform {
            kb: cur,
            expanded: None,
        } = self.buffer_size_kb()?
        {
            if cur == kb {
                return Ok(false);
            }
        }
        self.write("buffer_size_kb", &kb.to_string())?;
        Ok(true)
    }

    /// Sets one CPU's buffer size.
    pub fn set_cpu_buffer_size_kb(&self, cpu: u32, kb: u64) -> Result<bool> {
        let f = format!("per_cpu/cpu{cpu}/buffer_size_kb");
        let p = self.path(&f);
        if parse_kb(&p, &io::read(&p)?)?.0 == kb {
            return Ok(false);
        }
        self.write(&f, &kb.to_string())?;
        Ok(true)
    }

    /// `buffer_total_size_kb`.
    pub fn buffer_total_size_kb(&self) -> Result<u64> {
        let path = self.path("buffer_total_size_kb");
        Ok(parse_kb(&path, &io::read(&path)?)?.0)
    }

    /// `buffer_subbuf_size_kb` (Linux 6.8+): the ring buffer's sub-buffer ("page") size.
    pub fn subbuf_size_kb(&self) -> Result<u64> {
        let path = self.path("buffer_subbuf_size_kb");
        Ok(parse_kb(&path, &io::read(&path)?)?.0)
    }

    /// Sets the sub-buffer size (the kernel rounds up to a power-of-two number of pages).
    pub fn set_subbuf_size_kb(&self, kb: u64) -> Result<bool> {
        if !self.exists("buffer_subbuf_size_kb") {
            return Err(Error::Unsupported {
                feature: "setting the sub-buffer size".into(),
                detail: "no buffer_subbuf_size_kb (needs Linux 6.8 or later)".into(),
            });
        }
        if self.subbuf_size_kb()? == kb {
            return Ok(false);
        }
        self.write("buffer_subbuf_size_kb", &kb.to_string())?;
        Ok(true)
    }

    /// `tracing_cpumask`.
    pub fn cpumask(&self) -> Result<CpuMask> {
        let path = self.path("tracing_cpumask");
        let text = io::read(&path)?;
        CpuMask::parse(text.trim()).ok_or_else(|| Error::Parse {
            path,
            text: text.trim().to_string(),
            expected: "a hexadecimal CPU mask",
        })
    }

    /// Sets `tracing_cpumask`.
    pub fn set_cpumask(&self, mask: &CpuMask) -> Result<bool> {
        if self.cpumask()? == *mask {
            return Ok(false);
        }
        self.write("tracing_cpumask", &mask.to_string())?;
        Ok(true)
    }

    /// The trace options (`options/*`) and their states, in the kernel's order.
    pub fn options(&self) -> Result<Vec<(String, bool)>> {
        let dir = self.path("options");
        let mut out = Vec::new();
        for name in io::list_dir(&dir, false)? {
            let p = dir.join(&name);
            // An option whose file cannot be read is left out, as trace-cmd does.
            if let Ok(text) = io::read(&p) {
                if let Ok(v) = parse_bool(&p, &text) {
                    out.push((name, v));
                }
            }
        }
        Ok(out)
    }

    /// One trace option's state.
    pub fn option(&self, name: &str) -> Result<bool> {
        let f = self.option_file(name)?;
        parse_bool(&self.path(&f), &self.read(&f)?)
    }

    /// Sets a trace option (`options/NAME`).
    pub fn set_option(&self, name: &str, on: bool) -> Result<bool> {
        if self.option(name)? == on {
            return Ok(false);
        }
        self.write(&format!("options/{name}"), if on { "1" } else { "0" })?;
        Ok(true)
    }

    fn option_file(&self, name: &str) -> Result<String> {
        let f = format!("options/{name}");
        if !name.contains('/') && !name.is_empty() && self.exists(&f) {
            return Ok(f);
        }
        if !self.exists("options") {
            return Err(Error::NotAvailable {
                path: self.path("options"),
                errno: std::io::Error::from_raw_os_error(crate::error::libc_errno::ENOENT),
            });
        }
        let names: Vec<String> = io::list_dir(&self.path("options"), false)?;
        Err(Error::NoSuchOption {
            name: name.to_string(),
            suggestions: suggest::closest(name, names.iter().map(String::as_str), 3),
        })
    }

    /// `set_event_pid`: the pids events are limited to (empty: all tasks).
    pub fn event_pids(&self) -> Result<Vec<u32>> {
        parse_pids(&self.path("set_event_pid"), &self.read("set_event_pid")?)
    }

    /// Replaces `set_event_pid`.
    pub fn set_event_pids(&self, pids: &[u32]) -> Result<bool> {
        self.set_pid_file("set_event_pid", pids, false)
    }

    /// `set_event_notrace_pid`: tasks whose events are not recorded (Linux 5.8+).
    pub fn event_notrace_pids(&self) -> Result<Vec<u32>> {
        parse_pids(
            &self.path("set_event_notrace_pid"),
            &self.read("set_event_notrace_pid")?,
        )
    }

    /// `set_ftrace_pid`: the pids the function tracers are limited to; the kernel shows
    /// "no pid" when there are none.
    pub fn ftrace_pids(&self) -> Result<Vec<u32>> {
        parse_pids(&self.path("set_ftrace_pid"), &self.read("set_ftrace_pid")?)
    }

    /// Replaces `set_ftrace_pid`.
    pub fn set_ftrace_pids(&self, pids: &[u32]) -> Result<bool> {
        self.set_pid_file("set_ftrace_pid", pids, true)
    }

    /// Replaces a pid list file (`set_event_pid`, `set_ftrace_pid`, their `notrace` twins).
    pub fn set_pid_file(&self, file: &str, pids: &[u32], minus_one: bool) -> Result<bool> {
        let mut cur = parse_pids(&self.path(file), &self.read(file)?)?;
        let mut want = pids.to_vec();
        cur.sort_unstable();
        want.sort_unstable();
        want.dedup();
        if cur == want {
            return Ok(false);
        }
        let text: String = want.iter().map(|p| format!("{p} ")).collect();
        match self.write(file, &text) {
            // Kernels before 4.x cleared set_ftrace_pid with "-1" only.
            Err(Error::Write { .. }) if minus_one && text.is_empty() => self.write(file, "-1")?,
            r => r?,
        }
        Ok(true)
    }

    /// Clears the ring buffer (writing `trace` with `O_TRUNC`).
    pub fn clear_trace(&self) -> Result<()> {
        self.write("trace", "0")
    }

    /// Writes a `print` event into the buffer (`trace_marker`).
    pub fn marker(&self, text: &str) -> Result<()> {
        io::write(&self.path("trace_marker"), text, Mode::Append, None)
    }

    /// Writes a `raw_data` event (`trace_marker_raw`: a 4-byte id, then the payload).
    pub fn marker_raw(&self, id: u32, payload: &[u8]) -> Result<()> {
        let mut buf = id.to_ne_bytes().to_vec();
        buf.extend_from_slice(payload);
        io::write_bytes(&self.path("trace_marker_raw"), &buf, Mode::Append, None)
    }

    /// The entries of `error_log`, oldest first.
    pub fn error_log(&self) -> Result<Vec<KernelLog>> {
        Ok(KernelLog::parse_all(&self.read("error_log")?))
    }

    /// Empties `error_log` (any write does).
    pub fn clear_error_log(&self) -> Result<()> {
        self.write("error_log", " ")
    }

    /// The CPUs with a `per_cpu/cpuN` directory, ascending.
    pub fn cpus(&self) -> Result<Vec<u32>> {
        let mut v: Vec<u32> = io::list_dir(&self.path("per_cpu"), true)?
            .iter()
            .filter_map(|n| n.strip_prefix("cpu")?.parse().ok())
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// One CPU's files.
    pub fn per_cpu(&self, cpu: u32) -> PerCpu {
        PerCpu {
            dir: self.path(&format!("per_cpu/cpu{cpu}")),
            cpu,
        }
    }

    /// Whether the kernel has the snapshot buffer (CONFIG_TRACER_SNAPSHOT).
    pub fn has_snapshot(&self) -> bool {
        self.exists("snapshot")
    }

    /// Operates the snapshot buffer of the whole instance or one CPU.
    pub fn snapshot(&self, cpu: Option<u32>, op: SnapshotOp) -> Result<()> {
        let file = match cpu {
            Some(c) => format!("per_cpu/cpu{c}/snapshot"),
            None => "snapshot".into(),
        };
        if !self.exists(&file) {
            return Err(snapshot_missing(&self.path(&file)));
        }
        let v = match op {
            SnapshotOp::Free => "0",
            SnapshotOp::Take => "1",
            SnapshotOp::Clear => "2",
        };
        self.write(&file, v)
    }

    /// `max_graph_depth` (function_graph).
    pub fn max_graph_depth(&self) -> Result<u32> {
        let p = self.path("max_graph_depth");
        let t = io::read(&p)?;
        t.trim().parse().map_err(|_| Error::Parse {
            path: p,
            text: t.trim().into(),
            expected: "a number",
        })
    }
}

pub(crate) fn snapshot_missing(path: &Path) -> Error {
    Error::Unsupported {
        feature: "the snapshot buffer".into(),
        detail: format!(
            "{} is missing; it needs CONFIG_TRACER_SNAPSHOT",
            path.display()
        ),
    }
}

/// What to do to a snapshot buffer (Documentation/trace/ftrace.rst, "Snapshot").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotOp {
    /// Swap the live buffer into the snapshot (allocating it).
    Take,
    /// Empty the snapshot without freeing it.
    Clear,
    /// Free the snapshot buffer.
    Free,
}

/// `trace_clock`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clocks {
    /// The clock in use (the one in brackets).
    pub current: String,
    /// Every clock, in the kernel's order.
    pub available: Vec<String>,
}

impl Clocks {
    fn parse(path: &Path, text: &str) -> Result<Clocks> {
        let mut current = None;
        let mut available = Vec::new();
        for w in text.split_ascii_whitespace() {
            if let Some(c) = w.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
                current = Some(c.to_string());
                available.push(c.to_string());
            } else {
                available.push(w.to_string());
            }
        }
        match current {
            Some(current) => Ok(Clocks { current, available }),
            None => Err(Error::Parse {
                path: path.to_path_buf(),
                text: text.trim().into(),
                expected: "a clock list with the current clock in brackets",
            }),
        }
    }
}

/// `buffer_size_kb`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BufferSize {
    /// Every CPU has this size. Before the first use the kernel keeps a minimal buffer and
    /// shows the size it will expand to: `7 (expanded: 1408)`.
    Uniform {
        /// The size shown first.
        kb: u64,
        /// The size after expansion, while not yet expanded.
        expanded: Option<u64>,
    },
    /// The CPUs differ (the file shows `X`): each CPU's size.
    PerCpu(Vec<(u32, u64)>),
}

fn parse_kb(path: &Path, text: &str) -> Result<(u64, Option<u64>)> {
    let t = text.trim();
    let bad = || Error::Parse {
        path: path.to_path_buf(),
        text: t.to_string(),
        expected: "a size in kilobytes",
    };
    let (first, rest) = match t.split_once(' ') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let kb = first.parse().map_err(|_| bad())?;
    let expanded = match rest {
        None => None,
        Some(r) => Some(
            r.trim()
                .strip_prefix("(expanded:")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|r| r.trim().parse().ok())
                .ok_or_else(bad)?,
        ),
    };
    Ok((kb, expanded))
}

fn parse_bool(path: &Path, text: &str) -> Result<bool> {
    match text.trim() {
        "0" => Ok(false),
        "1" => Ok(true),
        t => Err(Error::Parse {
            path: path.to_path_buf(),
            text: t.to_string(),
            expected: "0 or 1",
        }),
    }
}

/// Parses a pid list file: one pid per line, or "no pid".
pub(crate) fn parse_pids(path: &Path, text: &str) -> Result<Vec<u32>> {
    let mut v = Vec::new();
    for w in text.split_ascii_whitespace() {
        if w == "no" || w == "pid" {
            continue;
        }
        v.push(w.parse().map_err(|_| Error::Parse {
            path: path.to_path_buf(),
            text: w.to_string(),
            expected: "a pid",
        })?);
    }
    Ok(v)
}

/// A CPU mask as `tracing_cpumask` shows it: hexadecimal, in 32-bit groups separated by
/// commas, most significant first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuMask {
    /// 32-bit words, least significant first, without high zero words.
    words: Vec<u32>,
}

impl CpuMask {
    /// Parses `3`, `ff,ffffffff`, `0x3`.
    pub fn parse(s: &str) -> Option<CpuMask> {
        let s = s.trim();
        let s = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        if s.is_empty() {
            return None;
        }
        let mut words = Vec::new();
        for group in s.rsplit(',') {
            // Without commas, a long mask is still read 8 digits at a time from the right.
            let digits = group.as_bytes();
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let mut end = digits.len();
            while end > 0 {
                let start = end.saturating_sub(8);
                let w = u32::from_str_radix(&group[start..end], 16).ok()?;
                words.push(w);
                end = start;
            }
        }
        let mut m = CpuMask { words };
        m.trim();
        Some(m)
    }

    /// The mask of the given CPUs.
    pub fn from_cpus(cpus: impl IntoIterator<Item = u32>) -> CpuMask {
        let mut words = Vec::new();
        for c in cpus {
            let w = (c / 32) as usize;
            if words.len() <= w {
                words.resize(w + 1, 0);
            }
            words[w] |= 1 << (c % 32);
        }
        let mut m = CpuMask { words };
        m.trim();
        m
    }

    fn trim(&mut self) {
        while self.words.last() == Some(&0) {
            self.words.pop();
        }
    }

    /// Whether a CPU is in the mask.
    pub fn contains(&self, cpu: u32) -> bool {
        self.words
            .get((cpu / 32) as usize)
            .is_some_and(|w| w & (1 << (cpu % 32)) != 0)
    }
}

impl fmt::Display for CpuMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.words.is_empty() {
            return f.write_str("0");
        }
        let mut first = true;
        for w in self.words.iter().rev() {
            if first {
                write!(f, "{w:x}")?;
                first = false;
            } else {
                write!(f, ",{w:08x}")?;
            }
        }
        Ok(())
    }
}

/// The files of one CPU's buffer (`per_cpu/cpuN/`).
#[derive(Clone, Debug)]
pub struct PerCpu {
    dir: PathBuf,
    cpu: u32,
}

impl PerCpu {
    /// The CPU.
    pub fn cpu(&self) -> u32 {
        self.cpu
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `trace_pipe_raw`: the binary pages a recorder reads.
    pub fn trace_pipe_raw(&self) -> PathBuf {
        self.dir.join("trace_pipe_raw")
    }

    /// `snapshot_raw`: the snapshot's binary pages.
    pub fn snapshot_raw(&self) -> PathBuf {
        self.dir.join("snapshot_raw")
    }

    /// `trace` of this CPU.
    pub fn trace(&self) -> PathBuf {
        self.dir.join("trace")
    }

    /// `stats` of this CPU.
    pub fn stats_path(&self) -> PathBuf {
        self.dir.join("stats")
    }

    /// The parsed `stats`.
    pub fn stats(&self) -> Result<CpuStats> {
        let p = self.stats_path();
        Ok(CpuStats::parse(&io::read(&p)?))
    }
}

/// `per_cpu/cpuN/stats` (kernel/trace/trace.c `tracing_stats_read`). The text is kept as
/// the kernel wrote it, since trace.dat stores it verbatim.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuStats {
    /// The file's text.
    pub text: String,
    /// Events in the buffer.
    pub entries: Option<u64>,
    /// Events lost to overwriting.
    pub overrun: Option<u64>,
    /// Events lost while being written (nested writers).
    pub commit_overrun: Option<u64>,
    /// Bytes in the buffer.
    pub bytes: Option<u64>,
    /// Events dropped because the buffer was full in no-overwrite mode.
    pub dropped_events: Option<u64>,
    /// Events read from the buffer.
    pub read_events: Option<u64>,
}

impl CpuStats {
    /// Parses the `name: value` lines; unknown lines are kept only in `text`.
    pub fn parse(text: &str) -> CpuStats {
        let mut s = CpuStats {
            text: text.to_string(),
            ..CpuStats::default()
        };
        for line in text.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim().parse().ok();
            match k.trim() {
                "entries" => s.entries = v,
                "overrun" => s.overrun = v,
                "commit overrun" => s.commit_overrun = v,
                "bytes" => s.bytes = v,
                "dropped events" => s.dropped_events = v,
                "read events" => s.read_events = v,
                _ => {}
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_show_the_bracketed_one() {
        let c = Clocks::parse(Path::new("trace_clock"), "local [global] counter\n").unwrap();
        assert_eq!(c.current, "global");
        assert_eq!(c.available, ["local", "global", "counter"]);
        assert!(Clocks::parse(Path::new("x"), "local global").is_err());
    }

    #[test]
    fn buffer_sizes_with_and_without_expansion() {
        let p = Path::new("buffer_size_kb");
        assert_eq!(parse_kb(p, "1410\n").unwrap(), (1410, None));
        assert_eq!(
            parse_kb(p, "7 (expanded: 1408)\n").unwrap(),
            (7, Some(1408))
        );
        assert!(parse_kb(p, "lots").is_err());
    }

    #[test]
    fn cpumasks_round_trip() {
        for s in ["3", "1", "ff,ffffffff", "1,00000000,00000001"] {
            assert_eq!(CpuMask::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(CpuMask::parse("0x03").unwrap().to_string(), "3");
        assert_eq!(
            CpuMask::parse("1ffffffff").unwrap().to_string(),
            "1,ffffffff"
        );
        assert_eq!(CpuMask::from_cpus([0, 1, 33]).to_string(), "2,00000003");
        assert!(CpuMask::parse("3").unwrap().contains(1));
        assert!(!CpuMask::parse("3").unwrap().contains(2));
        assert!(CpuMask::parse("xyz").is_none());
        assert!(CpuMask::parse("").is_none());
    }

    #[test]
    fn pid_lists() {
        let p = Path::new("set_ftrace_pid");
        assert_eq!(parse_pids(p, "no pid\n").unwrap(), Vec::<u32>::new());
        assert_eq!(parse_pids(p, "12\n7\n").unwrap(), [12, 7]);
        assert!(parse_pids(p, "12 x").is_err());
    }

    #[test]
    fn cpu_stats() {
        let t = "entries: 5\noverrun: 0\ncommit overrun: 0\nbytes: 320\n\
                 oldest event ts:  3824.470169\nnow ts: 10010.205214\n\
                 dropped events: 0\nread events: 2\n";
        let s = CpuStats::parse(t);
        assert_eq!(s.entries, Some(5));
        assert_eq!(s.bytes, Some(320));
        assert_eq!(s.read_events, Some(2));
        assert_eq!(s.text, t);
    }
}
