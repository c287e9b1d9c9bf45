//! Trace events: `events/SYSTEM/EVENT/{enable,filter,trigger,format}` and the system-wide
//! `events/SYSTEM/{enable,filter}` (Documentation/trace/events.rst; triggers in
//! Documentation/trace/events.rst section 6, "Event triggers").
//!
//! Event names resolve as trace-cmd's `-e` does (tracecmd/trace-record.c `expand_event`):
//! `all`; `SYSTEM:EVENT` and `SYSTEM:` with shell globs in either part; a bare `NAME` (glob)
//! matching systems and events of any system. A name matching nothing is an error that
//! suggests the closest names.

use std::fmt;

use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::io::{self, Mode};
use crate::suggest;

/// A system and event name (`sched:sched_switch`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    /// The system (subdirectory of `events/`).
    pub system: String,
    /// The event.
    pub name: String,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.system, self.name)
    }
}

/// Something with `enable` and `filter` files: every event, a whole system, or one event.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventTarget {
    /// `events/` itself.
    All,
    /// `events/SYSTEM`.
    System(String),
    /// `events/SYSTEM/EVENT`.
    Event(EventId),
}

impl EventTarget {
    /// The directory, relative to the instance.
    pub fn dir(&self) -> String {
        match self {
            EventTarget::All => "events".into(),
            EventTarget::System(s) => format!("events/{s}"),
            EventTarget::Event(e) => format!("events/{}/{}", e.system, e.name),
        }
    }

    /// A file of the target's directory.
    pub fn file(&self, name: &str) -> String {
        format!("{}/{name}", self.dir())
    }
}

impl fmt::Display for EventTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventTarget::All => f.write_str("all"),
            EventTarget::System(s) => write!(f, "{s}:*"),
            EventTarget::Event(e) => e.fmt(f),
        }
    }
}

/// The content of an `enable` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnableState {
    /// `0`.
    Off,
    /// `1`.
    On,
    /// `X`: a system whose events differ.
    Mixed,
}

impl Instance {
    /// The event systems (directories of `events/` that have an `enable` file; `ftrace`
    /// has none), in the kernel's order.
    pub fn event_systems(&self) -> Result<Vec<String>> {
        let dir = self.path("events");
        Ok(io::list_dir(&dir, true)?
            .into_iter()
            .filter(|s| io::exists(&dir.join(s).join("enable")))
            .collect())
    }

    /// The events of a system (its subdirectories), in the kernel's order.
    pub fn system_events(&self, system: &str) -> Result<Vec<String>> {
        io::list_dir(&self.path(&format!("events/{system}")), true)
    }

    /// Every event, system by system.
    pub fn all_events(&self) -> Result<Vec<EventId>> {
        let mut out = Vec::new();
        for sys in self.event_systems()? {
            for name in self.system_events(&sys)? {
                out.push(EventId {
                    system: sys.clone(),
                    name,
                });
            }
        }
        Ok(out)
    }

    /// Resolves an event name as trace-cmd's `-e` does. The targets are sorted (as glob(3)
    /// returns them); an event inside a matched system is not listed again.
    pub fn resolve_events(&self, spec: &str) -> Result<Vec<EventTarget>> {
        let events_dir = self.path("events");
        if !io::exists(&events_dir) {
            return Err(Error::Unsupported {
                feature: "trace events".into(),
                detail: format!("{} is missing (CONFIG_EVENT_TRACING)", events_dir.display()),
            });
        }
        // Every directory of events/ counts here (ftrace too), as trace-cmd globs for
        // events/*/filter.
        let all_dirs = io::list_dir(&events_dir, true)?;
        let mut out = Vec::new();
        let with_filter = |rel: &str| io::exists(&self.path(&format!("{rel}/filter")));
        if spec == "all" {
            for s in &all_dirs {
                if with_filter(&format!("events/{s}")) {
                    out.push(EventTarget::System(s.clone()));
                }
            }
        } else if let Some((sys, ev)) = spec.split_once(':') {
            let ev = if ev.is_empty() { "*" } else { ev };
            for s in all_dirs.iter().filter(|s| glob_match(sys, s)) {
                for e in io::list_dir(&events_dir.join(s), true)? {
                    if glob_match(ev, &e) && with_filter(&format!("events/{s}/{e}")) {
                        out.push(EventTarget::Event(EventId {
                            system: s.clone(),
                            name: e,
                        }));
                    }
                }
            }
        } else {
            let mut systems = Vec::new();
            for s in &all_dirs {
                if glob_match(spec, s) && with_filter(&format!("events/{s}")) {
                    systems.push(s.clone());
                    out.push(EventTarget::System(s.clone()));
                }
            }
            for s in &all_dirs {
                if systems.contains(s) {
                    continue;
                }
                for e in io::list_dir(&events_dir.join(s), true)? {
                    if glob_match(spec, &e) && with_filter(&format!("events/{s}/{e}")) {
                        out.push(EventTarget::Event(EventId {
                            system: s.clone(),
                            name: e,
                        }));
                    }
                }
            }
        }
        if out.is_empty() {
            return Err(Error::NoSuchEvent {
                name: spec.to_string(),
                suggestions: self.suggest_events(spec),
            });
        }
        out.sort();
        Ok(out)
    }

    fn suggest_events(&self, spec: &str) -> Vec<String> {
        let Ok(events) = self.all_events() else {
            return Vec::new();
        };
        if spec.contains(':') {
            let names: Vec<String> = events.iter().map(|e| e.to_string()).collect();
            return suggest::closest(spec, names.iter().map(String::as_str), 3);
        }
        // A bare name may be a system or an event of any system.
        let mut names: Vec<String> = self.event_systems().unwrap_or_default();
        names.extend(events.iter().map(|e| e.name.clone()));
        names.sort();
        names.dedup();
        let close = suggest::closest(spec, names.iter().map(String::as_str), 3);
        // Show events with their system, so the suggestion can be pasted.
        close
            .into_iter()
            .map(|n| match events.iter().find(|e| e.name == n) {
                Some(e) if !self.path(&format!("events/{n}")).is_dir() => e.to_string(),
                _ => n,
            })
            .collect()
    }

    /// The `enable` state of a target.
    pub fn event_enabled(&self, t: &EventTarget) -> Result<EnableState> {
        let f = t.file("enable");
        let text = self.read(&f)?;
        // "0*" / "1*": soft-disabled by a trigger; the first character is the state.
        match text.trim().chars().next() {
            Some('0') => Ok(EnableState::Off),
            Some('1') => Ok(EnableState::On),
            Some('X') => Ok(EnableState::Mixed),
            _ => Err(Error::Parse {
                path: self.path(&f),
                text: text.trim().into(),
                expected: "0, 1 or X",
            }),
        }
    }

    /// Enables or disables a target; returns whether it wrote.
    pub fn enable_event(&self, t: &EventTarget, on: bool) -> Result<bool> {
        let want = if on {
            EnableState::On
        } else {
            EnableState::Off
        };
        if self.event_enabled(t)? == want {
            return Ok(false);
        }
        self.write(&t.file("enable"), if on { "1" } else { "0" })?;
        Ok(true)
    }

    /// The filter in effect on a target: `None` when the kernel shows "none", a refused
    /// filter (the text, a caret line and `parse_error: ...`), or for a system, where the
    /// file only ever shows its `### global filter ###` comment.
    pub fn event_filter(&self, t: &EventTarget) -> Result<Option<String>> {
        let text = self.read(&t.file("filter"))?;
        Ok(parse_filter_text(&text))
    }

    /// Sets (`Some`) or clears (`None`, written as "0") a target's filter; returns whether
    /// it wrote. A system's filter goes to each of its events that has the fields; if none
    /// takes it (the kernel still says yes), that is an error with the kernel's reason.
    pub fn set_event_filter(&self, t: &EventTarget, filter: Option<&str>) -> Result<bool> {
        let file = t.file("filter");
        let system_events = |sys: &str| -> Result<Vec<EventTarget>> {
            Ok(self
                .system_events(sys)?
                .into_iter()
                .map(|name| {
                    EventTarget::Event(EventId {
                        system: sys.to_string(),
                        name,
                    })
                })
                .filter(|e| self.exists(&e.file("filter")))
                .collect())
        };
        match (t, filter) {
            (EventTarget::System(sys), None) => {
                // The system file does not show what its events hold: look at them.
                let mut any = false;
                for e in system_events(sys)? {
                    if self.event_filter(&e)?.is_some() {
                        any = true;
                        break;
                    }
                }
                if !any {
                    return Ok(false);
                }
                self.write(&file, "0")?;
                Ok(true)
            }
            (EventTarget::System(sys), Some(f)) => {
                self.write(&file, f)?;
                let events = system_events(sys)?;
                let mut took = false;
                for e in &events {
                    if self.event_filter(e)?.is_some() {
                        took = true;
                        break;
                    }
                }
                if !took && !events.is_empty() {
                    let log = self
                        .read("error_log")
                        .ok()
                        .and_then(|text| crate::error::KernelLog::find_for(&text, f));
                    return Err(Error::Write {
                        path: self.path(&file),
                        value: f.to_string(),
                        errno: std::io::Error::from_raw_os_error(crate::error::libc_errno::EINVAL),
                        log,
                    });
                }
                Ok(true)
            }
            _ => {
                let cur = self.event_filter(t)?;
                if cur.as_deref().map(str::trim) == filter.map(str::trim) {
                    return Ok(false);
                }
                self.write(&file, filter.unwrap_or("0"))?;
                Ok(true)
            }
        }
    }

    /// The triggers of an event (the lines of `trigger` not starting with `#`).
    pub fn event_triggers(&self, e: &EventId) -> Result<Vec<String>> {
        let t = EventTarget::Event(e.clone());
        Ok(self
            .read(&t.file("trigger"))?
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.trim_end().to_string())
            .collect())
    }

    /// Adds a trigger (`O_APPEND`, so the existing ones stay).
    pub fn add_event_trigger(&self, e: &EventId, trigger: &str) -> Result<()> {
        let t = EventTarget::Event(e.clone());
        let f = t.file("trigger");
        if !self.exists(&f) {
            return Err(Error::Unsupported {
                feature: "event triggers".into(),
                detail: format!(
                    "{} is missing (needs Linux 3.14 or later)",
                    self.path(&f).display()
                ),
            });
        }
        self.write_mode(&f, trigger, Mode::Append)
    }

    /// Removes one trigger as the kernel lists it (`!` plus the trigger without its filter).
    pub fn remove_event_trigger(&self, e: &EventId, listed: &str) -> Result<()> {
        let t = EventTarget::Event(e.clone());
        self.write_mode(&t.file("trigger"), &removal_command(listed), Mode::Append)
    }

    /// Removes every trigger of an event. Some triggers can only go after others (a `hist`
    /// trigger after the `enable_hist` that names it), so the passes repeat while that
    /// makes progress.
    pub fn clear_event_triggers(&self, e: &EventId) -> Result<()> {
        let mut left = self.event_triggers(e)?;
        let mut last_err = None;
        while !left.is_empty() {
            for tr in &left {
                if let Err(err) = self.remove_event_trigger(e, tr) {
                    last_err = Some(err);
                }
            }
            let now = self.event_triggers(e)?;
            if now.len() >= left.len() {
                return Err(last_err.unwrap_or_else(|| Error::Invalid {
                    what: "trigger",
                    value: now.join("; "),
                    why: format!("the kernel keeps it on {e}"),
                }));
            }
            left = now;
        }
        Ok(())
    }

    /// Disables every event (`events/enable`).
    pub fn disable_all_events(&self) -> Result<bool> {
        self.enable_event(&EventTarget::All, false)
    }
}

/// What a filter file's text means: comment lines (a system's) are dropped, "none" and a
/// refused filter (which the kernel shows with a caret and `parse_error:`) are no filter.
pub fn parse_filter_text(text: &str) -> Option<String> {
    if text.lines().any(|l| l.starts_with("parse_error:")) {
        return None;
    }
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let t = body.join("\n");
    let t = t.trim();
    if t == "none" || t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

/// The removal command for a trigger as `trigger` lists it: `!` + the text up to the first
/// space, dropping ` if FILTER` and ` [active]` (the kernel unregisters before it parses
/// the count, so `:unlimited` or `:count=3` may stay; trace-cmd's `clear_trigger` does the
/// same).
pub fn removal_command(listed: &str) -> String {
    let head = listed.split(' ').next().unwrap_or(listed);
    format!("!{head}")
}

/// Shell-style glob matching as fnmatch(3) without flags: `*`, `?`, `[...]` (with `!`/`^`
/// negation and ranges), `\` escapes.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    glob_bytes(pattern.as_bytes(), name.as_bytes())
}

fn glob_bytes(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = class_match(&p[pi..], s[si]) {
                        if matched {
                            pi += next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == b'[' {
                        // An unterminated class is a literal '['.
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                b'\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == s[si] {
                        pi += 2;
                        si += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[si] {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the class at the start of `p`; returns (matched, class length), or
/// `None` when the class is not terminated.
fn class_match(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &x = p.get(i)?;
        if x == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|&e| e != b']') {
            let hi = p[i + 2];
            if x <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if x == c {
                matched = true;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("sched_*", "sched_switch"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("sched_w?k*", "sched_waking"));
        assert!(!glob_match("sched_w?k", "sched_waking"));
        assert!(glob_match("irq_[a-h]*", "irq_handler_entry"));
        assert!(!glob_match("irq_[!a-h]*", "irq_handler_entry"));
        assert!(glob_match("a\\*", "a*"));
        assert!(!glob_match("a\\*", "ab"));
        assert!(glob_match("[", "["));
        assert!(glob_match("*_exit", "sys_exit"));
        assert!(!glob_match("sched", "sched_switch"));
    }

    #[test]
    fn filter_texts() {
        assert_eq!(parse_filter_text("none\n"), None);
        assert_eq!(
            parse_filter_text("prev_pid==1\n").as_deref(),
            Some("prev_pid==1")
        );
        let sys = "### global filter ###\n# Use this to set filters for multiple events.\n";
        assert_eq!(parse_filter_text(sys), None);
        let refused = "prev_pidd==1\n          ^\nparse_error: Field not found\n\n";
        assert_eq!(parse_filter_text(refused), None);
    }

    #[test]
    fn trigger_removal_commands() {
        assert_eq!(removal_command("traceoff:unlimited"), "!traceoff:unlimited");
        assert_eq!(removal_command("traceoff:count=3"), "!traceoff:count=3");
        assert_eq!(
            removal_command("stacktrace:unlimited if prev_pid == 1"),
            "!stacktrace:unlimited"
        );
        assert_eq!(
            removal_command("hist:keys=pid:vals=hitcount:sort=hitcount:size=2048 [active]"),
            "!hist:keys=pid:vals=hitcount:sort=hitcount:size=2048"
        );
    }
}
