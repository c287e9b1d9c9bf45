//! Dynamic events: kprobes (`kprobe_events`), uprobes (`uprobe_events`) and every kind
//! through `dynamic_events` (Documentation/trace/kprobetrace.rst, uprobetracer.rst,
//! dynamic-events.rst).
//!
//! Definitions are the kernel's own syntax, passed through untouched:
//! `p[:[GRP/][EVENT]] [MOD:]SYM[+OFFS]|ADDR [FETCHARGS]`, `r[MAXACTIVE][:[GRP/][EVENT]] ...`,
//! `p[:[GRP/][EVENT]] PATH:OFFSET [FETCHARGS]` for uprobes; removal is `-:[GRP/]EVENT`.
//! Files are only ever appended to: opening `kprobe_events` with `O_TRUNC` deletes every
//! kprobe. A refused definition carries the kernel's `error_log` entry, whose caret points
//! into the definition.

use std::fmt;

use crate::error::{Error, Result};
use crate::events::{EventId, EventTarget};
use crate::fs::Tracefs;
use crate::io::{self, Mode};
use crate::suggest;

/// Which list of dynamic events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// `kprobe_events`: kprobes and kretprobes.
    Kprobe,
    /// `uprobe_events`: uprobes and uretprobes.
    Uprobe,
    /// `dynamic_events`: every kind (also eprobes, synthetic events, fprobes).
    Any,
}

impl ProbeKind {
    /// The control file.
    pub fn file(self) -> &'static str {
        match self {
            ProbeKind::Kprobe => "kprobe_events",
            ProbeKind::Uprobe => "uprobe_events",
            ProbeKind::Any => "dynamic_events",
        }
    }

    /// The name used in messages.
    pub fn noun(self) -> &'static str {
        match self {
            ProbeKind::Kprobe => "kprobe",
            ProbeKind::Uprobe => "uprobe",
            ProbeKind::Any => "dynamic event",
        }
    }

    fn unsupported(self, path: &std::path::Path) -> Error {
        let (feature, config) = match self {
            ProbeKind::Kprobe => ("kprobes", "CONFIG_KPROBE_EVENTS"),
            ProbeKind::Uprobe => ("uprobes", "CONFIG_UPROBE_EVENTS"),
            ProbeKind::Any => ("dynamic events", "CONFIG_DYNAMIC_EVENTS (Linux 4.17+)"),
        };
        Error::Unsupported {
            feature: feature.into(),
            detail: format!("{} is missing; it needs {config}", path.display()),
        }
    }
}

/// One line of a dynamic event list, e.g. `p:kprobes/myprobe do_sys_openat2 dfd=%di:s32`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynEvent {
    /// The type letter(s) before the colon: `p`, `r`, `r10`, `e`, `s`, `f`, `t`.
    pub prefix: String,
    /// The group (events/ subdirectory).
    pub group: String,
    /// The event name.
    pub name: String,
    /// The line as the kernel lists it.
    pub line: String,
}

impl DynEvent {
    /// Parses a listed line (`PREFIX:GROUP/EVENT REST`); the kernel always lists the group.
    pub fn parse(line: &str) -> Option<DynEvent> {
        let head = line.split_ascii_whitespace().next()?;
        let (prefix, ev) = head.split_once(':')?;
        let (group, name) = ev.split_once('/')?;
        Some(DynEvent {
            prefix: prefix.to_string(),
            group: group.to_string(),
            name: name.to_string(),
            line: line.to_string(),
        })
    }

    /// The event this defines.
    pub fn event(&self) -> EventId {
        EventId {
            system: self.group.clone(),
            name: self.name.clone(),
        }
    }
}

impl fmt::Display for DynEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line)
    }
}

impl Tracefs {
    /// Whether the kernel has this kind of dynamic event.
    pub fn has_probes(&self, kind: ProbeKind) -> bool {
        io::exists(&self.path(kind.file()))
    }

    /// The defined dynamic events of a kind, in definition order.
    pub fn probes(&self, kind: ProbeKind) -> Result<Vec<DynEvent>> {
        let p = self.path(kind.file());
        if !io::exists(&p) {
            return Err(kind.unsupported(&p));
        }
        Ok(io::read(&p)?.lines().filter_map(DynEvent::parse).collect())
    }

    /// Defines dynamic events (one definition each) and returns what the kernel created
    /// (names it chose included, for definitions without `:EVENT`).
    pub fn add_probe(&self, kind: ProbeKind, definition: &str) -> Result<Vec<DynEvent>> {
        let def = definition.trim();
        if def.is_empty() || def.starts_with('-') || def.contains('\n') {
            return Err(Error::Invalid {
                what: "probe definition",
                value: definition.to_string(),
                why: "expected one 'p:...' or 'r:...' definition (remove probes with -r)".into(),
            });
        }
        let before = self.probes(kind)?;
        self.top().write_mode(kind.file(), def, Mode::Append)?;
        let after = self.probes(kind)?;
        Ok(after
            .into_iter()
            .filter(|e| !before.iter().any(|b| b.line == e.line))
            .collect())
    }

    /// Finds defined events by `EVENT` or `GROUP/EVENT` (globs allowed).
    pub fn find_probes(&self, kind: ProbeKind, name: &str) -> Result<Vec<DynEvent>> {
        let all = self.probes(kind)?;
        let (group, ev) = match name.split_once('/') {
            Some((g, e)) => (Some(g), e),
            None => (None, name),
        };
        let found: Vec<DynEvent> = all
            .iter()
            .filter(|e| {
                crate::events::glob_match(ev, &e.name)
                    && group.is_none_or(|g| crate::events::glob_match(g, &e.group))
            })
            .cloned()
            .collect();
        if found.is_empty() {
            let names: Vec<String> = all.iter().map(|e| e.name.clone()).collect();
            return Err(Error::NoSuchProbe {
                kind: kind.noun(),
                name: name.to_string(),
                suggestions: suggest::closest(ev, names.iter().map(String::as_str), 3),
            });
        }
        Ok(found)
    }

    /// Removes a dynamic event, first disabling it in every instance (the kernel refuses to
    /// remove an enabled event: EBUSY).
    pub fn remove_probe(&self, kind: ProbeKind, ev: &DynEvent) -> Result<()> {
        let target = EventTarget::Event(ev.event());
        for inst in self.all_instances()? {
            if inst.exists(&target.file("enable")) {
                inst.enable_event(&target, false)?;
            }
        }
        self.top().write_mode(
            kind.file(),
            &format!("-:{}/{}", ev.group, ev.name),
            Mode::Append,
        )
    }

    /// Removes every dynamic event of a kind. Event probes go first: they can sit on top
    /// of other dynamic events (trace-cmd's `clear_all_dynamic_events`).
    pub fn remove_all_probes(&self, kind: ProbeKind) -> Result<usize> {
        let mut all = self.probes(kind)?;
        all.sort_by_key(|e| e.prefix != "e");
        let n = all.len();
        for ev in &all {
            self.remove_probe(kind, ev)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_lines_parse() {
        let e = DynEvent::parse("p:kprobes/myprobe do_sys_openat2 dfd=%di:s32").unwrap();
        assert_eq!(
            (e.prefix.as_str(), e.group.as_str(), e.name.as_str()),
            ("p", "kprobes", "myprobe")
        );
        let r = DynEvent::parse("r10:kprobes/r_x do_exit ret=$retval").unwrap();
        assert_eq!(r.prefix, "r10");
        assert_eq!(r.event().to_string(), "kprobes:r_x");
        assert!(DynEvent::parse("garbage").is_none());
    }
}
