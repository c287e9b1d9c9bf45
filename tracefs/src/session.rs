//! Save and restore: a [`Session`] changes tracing settings and remembers, for each one, the
//! value it found before its first change, so that [`Session::restore`] (or dropping the
//! session) puts the kernel back as it was, newest change first. Instances and dynamic
//! events the session created are removed again. trace-cmd keeps the same kind of list
//! (tracecmd/trace-record.c `reset_save_file`, `add_reset_file`, `update_reset_files`), but
//! only for some files and only on a clean exit.
//!
//! Buffer contents are not settings: clearing a buffer cannot be undone.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::dynevent::{DynEvent, ProbeKind};
use crate::error::{Error, Optional, Result};
use crate::events::{EnableState, EventId, EventTarget};
use crate::fs::Tracefs;
use crate::functions::{FilterFile, FuncPattern};
use crate::instance::{BufferSize, CpuMask, Instance};
use crate::io::{self, Mode};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    File(PathBuf),
    Enable(PathBuf, EventTarget),
    Filter(PathBuf, EventTarget),
    Triggers(PathBuf, EventId),
    Functions(PathBuf, FilterFile),
    BufferSize(PathBuf),
    Probes(ProbeKind),
}

#[derive(Debug)]
enum Saved {
    /// A file holding one value; written back (if changed) on restore.
    Value {
        path: PathBuf,
        value: String,
    },
    /// The bracketed choice of `trace_clock`.
    Clock {
        inst: Instance,
        clock: String,
    },
    BufferSize {
        inst: Instance,
        size: BufferSize,
    },
    Enables {
        inst: Instance,
        states: Vec<(EventTarget, EnableState)>,
    },
    Filter {
        inst: Instance,
        target: EventTarget,
        filter: Option<String>,
    },
    Triggers {
        inst: Instance,
        event: EventId,
        listed: Vec<String>,
    },
    Functions {
        inst: Instance,
        file: FilterFile,
        listed: Vec<String>,
    },
    Pids {
        inst: Instance,
        file: String,
        pids: Vec<u32>,
    },
    CreatedInstance {
        name: String,
    },
    CreatedProbe {
        kind: ProbeKind,
        event: DynEvent,
    },
    /// A whole probe list: probes not in it are removed, missing ones defined again.
    Probes {
        kind: ProbeKind,
        listed: Vec<String>,
    },
}

/// A set of changes to the kernel's tracing state that can be undone.
#[derive(Debug)]
pub struct Session {
    fs: Tracefs,
    saved: Vec<Saved>,
    keys: HashSet<Key>,
    created: HashSet<String>,
    active: bool,
}

impl Session {
    /// Starts a session on a tracing directory.
    pub fn new(fs: &Tracefs) -> Session {
        Session {
            fs: fs.clone(),
            saved: Vec::new(),
            keys: HashSet::new(),
            created: HashSet::new(),
            active: true,
        }
    }

    /// The tracing directory.
    pub fn tracefs(&self) -> &Tracefs {
        &self.fs
    }

    /// How many settings the session has saved.
    pub fn saved_count(&self) -> usize {
        self.saved.len()
    }

    fn first(&mut self, key: Key) -> bool {
        self.keys.insert(key)
    }

    /// Remembers a value file's content before it is changed (later saves of the same file
    /// keep the first value). Absent or refused files are not saved.
    pub fn save_file(&mut self, path: &Path) -> Result<()> {
        if !self.first(Key::File(path.to_path_buf())) {
            return Ok(());
        }
        if let Some(value) = io::read(path).optional()? {
            self.saved.push(Saved::Value {
                path: path.to_path_buf(),
                value: value.trim_end_matches('\n').to_string(),
            });
        }
        Ok(())
    }

    /// Sets a value file (`saved_cmdlines_size`, `max_graph_depth`, `tracing_thresh`, ...).
    pub fn set_value(&mut self, inst: &Instance, file: &str, value: &str) -> Result<bool> {
        self.save_file(&inst.path(file))?;
        inst.set_value(file, value)
    }

    /// Sets a file outside tracefs that holds one value (`/proc/sys/kernel/ftrace_enabled`).
    pub fn set_proc_value(&mut self, path: &Path, value: &str) -> Result<bool> {
        let cur = io::read(path)?;
        if cur.trim() == value.trim() {
            return Ok(false);
        }
        self.save_file(path)?;
        io::write(path, value, Mode::Truncate, None)?;
        Ok(true)
    }

    /// `tracing_on`.
    pub fn set_tracing_on(&mut self, inst: &Instance, on: bool) -> Result<bool> {
        self.save_file(&inst.path("tracing_on"))?;
        inst.set_tracing_on(on)
    }

    /// `current_tracer` (checked against `available_tracers`).
    pub fn set_tracer(&mut self, inst: &Instance, name: &str) -> Result<bool> {
        self.save_file(&inst.path("current_tracer"))?;
        inst.set_tracer(name)
    }

    /// `trace_clock`.
    pub fn set_clock(&mut self, inst: &Instance, clock: &str) -> Result<bool> {
        if self.first(Key::File(inst.path("trace_clock"))) {
            let cur = inst.clock()?;
            self.saved.push(Saved::Clock {
                inst: inst.clone(),
                clock: cur.current,
            });
        }
        inst.set_clock(clock)
    }

    /// `buffer_size_kb` of every CPU.
    pub fn set_buffer_size_kb(&mut self, inst: &Instance, kb: u64) -> Result<bool> {
        self.save_buffer_size(inst)?;
        inst.set_buffer_size_kb(kb)
    }

    /// One CPU's `buffer_size_kb`.
    pub fn set_cpu_buffer_size_kb(&mut self, inst: &Instance, cpu: u32, kb: u64) -> Result<bool> {
        self.save_buffer_size(inst)?;
        inst.set_cpu_buffer_size_kb(cpu, kb)
    }

    fn save_buffer_size(&mut self, inst: &Instance) -> Result<()> {
        if self.first(Key::BufferSize(inst.dir().to_path_buf())) {
            let size = inst.buffer_size_kb()?;
            self.saved.push(Saved::BufferSize {
                inst: inst.clone(),
                size,
            });
        }
        Ok(())
    }

    /// `buffer_subbuf_size_kb`.
    pub fn set_subbuf_size_kb(&mut self, inst: &Instance, kb: u64) -> Result<bool> {
        if inst.exists("buffer_subbuf_size_kb") {
            self.save_file(&inst.path("buffer_subbuf_size_kb"))?;
        }
        inst.set_subbuf_size_kb(kb)
    }

    /// `tracing_cpumask`.
    pub fn set_cpumask(&mut self, inst: &Instance, mask: &CpuMask) -> Result<bool> {
        self.save_file(&inst.path("tracing_cpumask"))?;
        inst.set_cpumask(mask)
    }

    /// `options/NAME`.
    pub fn set_option(&mut self, inst: &Instance, name: &str, on: bool) -> Result<bool> {
        // Checks the name (and suggests) before anything is saved.
        inst.option(name)?;
        self.save_file(&inst.path(&format!("options/{name}")))?;
        inst.set_option(name, on)
    }

    /// `set_event_pid`.
    pub fn set_event_pids(&mut self, inst: &Instance, pids: &[u32]) -> Result<bool> {
        self.set_pids(inst, "set_event_pid", pids, false)
    }

    /// `set_ftrace_pid`.
    pub fn set_ftrace_pids(&mut self, inst: &Instance, pids: &[u32]) -> Result<bool> {
        self.set_pids(inst, "set_ftrace_pid", pids, true)
    }

    /// A pid list file (`set_event_pid`, `set_event_notrace_pid`, `set_ftrace_pid`,
    /// `set_ftrace_notrace_pid`).
    pub fn set_pids(
        &mut self,
        inst: &Instance,
        file: &str,
        pids: &[u32],
        minus_one: bool,
    ) -> Result<bool> {
        if self.first(Key::File(inst.path(file))) {
            let cur = crate::instance::parse_pids(&inst.path(file), &inst.read(file)?)?;
            self.saved.push(Saved::Pids {
                inst: inst.clone(),
                file: file.to_string(),
                pids: cur,
            });
        }
        inst.set_pid_file(file, pids, minus_one)
    }

    /// Enables or disables an event, a system or all events.
    pub fn enable_event(
        &mut self,
        inst: &Instance,
        target: &EventTarget,
        on: bool,
    ) -> Result<bool> {
        self.save_enables(inst, target)?;
        inst.enable_event(target, on)
    }

    fn save_enables(&mut self, inst: &Instance, target: &EventTarget) -> Result<()> {
        if !self.first(Key::Enable(inst.dir().to_path_buf(), target.clone())) {
            return Ok(());
        }
        let mut states = Vec::new();
        match target {
            EventTarget::Event(_) => states.push((target.clone(), inst.event_enabled(target)?)),
            EventTarget::System(s) => collect_system_enables(inst, s, &mut states)?,
            EventTarget::All => match inst.event_enabled(target)? {
                s @ (EnableState::On | EnableState::Off) => states.push((target.clone(), s)),
                EnableState::Mixed => {
                    for sys in inst.event_systems()? {
                        collect_system_enables(inst, &sys, &mut states)?;
                    }
                }
            },
        }
        self.saved.push(Saved::Enables {
            inst: inst.clone(),
            states,
        });
        Ok(())
    }

    /// Sets or clears an event's or system's filter. A system filter replaces the filters
    /// of its events, so theirs are saved too.
    pub fn set_event_filter(
        &mut self,
        inst: &Instance,
        target: &EventTarget,
        filter: Option<&str>,
    ) -> Result<bool> {
        self.save_filter(inst, target)?;
        inst.set_event_filter(target, filter)
    }

    fn save_filter(&mut self, inst: &Instance, target: &EventTarget) -> Result<()> {
        if let EventTarget::System(s) = target {
            for ev in inst.system_events(s)? {
                let t = EventTarget::Event(EventId {
                    system: s.clone(),
                    name: ev,
                });
                if inst.exists(&t.file("filter")) {
                    self.save_one_filter(inst, &t)?;
                }
            }
        }
        self.save_one_filter(inst, target)
    }

    fn save_one_filter(&mut self, inst: &Instance, target: &EventTarget) -> Result<()> {
        if self.first(Key::Filter(inst.dir().to_path_buf(), target.clone())) {
            let filter = inst.event_filter(target)?;
            self.saved.push(Saved::Filter {
                inst: inst.clone(),
                target: target.clone(),
                filter,
            });
        }
        Ok(())
    }

    /// Adds an event trigger.
    pub fn add_event_trigger(
        &mut self,
        inst: &Instance,
        event: &EventId,
        trigger: &str,
    ) -> Result<()> {
        self.save_triggers(inst, event)?;
        inst.add_event_trigger(event, trigger)
    }

    /// Removes every trigger of an event.
    pub fn clear_event_triggers(&mut self, inst: &Instance, event: &EventId) -> Result<()> {
        self.save_triggers(inst, event)?;
        inst.clear_event_triggers(event)
    }

    fn save_triggers(&mut self, inst: &Instance, event: &EventId) -> Result<()> {
        if self.first(Key::Triggers(inst.dir().to_path_buf(), event.clone())) {
            let listed = inst.event_triggers(event)?;
            self.saved.push(Saved::Triggers {
                inst: inst.clone(),
                event: event.clone(),
                listed,
            });
        }
        Ok(())
    }

    /// Writes a function filter file ([`Instance::set_function_filter`]).
    pub fn set_function_filter(
        &mut self,
        inst: &Instance,
        file: FilterFile,
        patterns: &[FuncPattern],
        reset: bool,
    ) -> Result<()> {
        self.save_functions(inst, file)?;
        inst.set_function_filter(file, patterns, reset)
    }

    /// Empties a function filter file.
    pub fn clear_function_filter(&mut self, inst: &Instance, file: FilterFile) -> Result<()> {
        self.save_functions(inst, file)?;
        inst.clear_function_filter(file)
    }

    fn save_functions(&mut self, inst: &Instance, file: FilterFile) -> Result<()> {
        if self.first(Key::Functions(inst.dir().to_path_buf(), file)) {
            let listed = inst.function_filter(file)?;
            self.saved.push(Saved::Functions {
                inst: inst.clone(),
                file,
                listed,
            });
        }
        Ok(())
    }

    /// Opens an instance, creating it if needed; one this session created is removed on
    /// restore.
    pub fn create_instance(&mut self, name: &str) -> Result<Instance> {
        let (inst, created) = self.fs.create_instance(name)?;
        if created {
            self.created.insert(name.to_string());
            self.saved.push(Saved::CreatedInstance {
                name: name.to_string(),
            });
        }
        Ok(inst)
    }

    /// Defines a dynamic event; what it creates is removed on restore.
    pub fn add_probe(&mut self, kind: ProbeKind, definition: &str) -> Result<Vec<DynEvent>> {
        let created = self.fs.add_probe(kind, definition)?;
        for ev in &created {
            self.saved.push(Saved::CreatedProbe {
                kind,
                event: ev.clone(),
            });
        }
        Ok(created)
    }

    /// Remembers every setting of an instance without changing anything, so that
    /// [`Session::restore`] puts all of them back whatever changes them meanwhile (this
    /// session, another program, a `reset`): `tracing_on`, tracer, clock, buffer sizes,
    /// cpumask, options, pid filters, every event's enable state, filter and triggers,
    /// function filters. Files the kernel lacks or refuses are skipped.
    pub fn save_instance(&mut self, inst: &Instance) -> Result<()> {
        for f in [
            "tracing_on",
            "current_tracer",
            "buffer_subbuf_size_kb",
            "buffer_percent",
            "tracing_cpumask",
            "tracing_max_latency",
            "tracing_thresh",
            "max_graph_depth",
        ] {
            if inst.exists(f) {
                self.save_file(&inst.path(f))?;
            }
        }
        if inst.exists("trace_clock") && self.first(Key::File(inst.path("trace_clock"))) {
            let cur = inst.clock()?;
            self.saved.push(Saved::Clock {
                inst: inst.clone(),
                clock: cur.current,
            });
        }
        if inst.exists("buffer_size_kb") {
            self.save_buffer_size(inst)?;
        }
        if inst.exists("options") {
            for (name, _) in inst.options()? {
                self.save_file(&inst.path(&format!("options/{name}")))?;
            }
        }
        for f in [
            "set_event_pid",
            "set_event_notrace_pid",
            "set_ftrace_pid",
            "set_ftrace_notrace_pid",
        ] {
            if !inst.exists(f) || !self.first(Key::File(inst.path(f))) {
                continue;
            }
            let Some(text) = inst.read(f).optional()? else {
                continue;
            };
            let pids = crate::instance::parse_pids(&inst.path(f), &text)?;
            self.saved.push(Saved::Pids {
                inst: inst.clone(),
                file: f.to_string(),
                pids,
            });
        }
        if inst.exists("events/enable") {
            self.save_enables(inst, &EventTarget::All)?;
            for sys in inst.event_systems()? {
                let t = EventTarget::System(sys);
                if inst.exists(&t.file("filter")) {
                    self.save_filter(inst, &t)?;
                }
            }
            for e in inst.all_events()? {
                let t = EventTarget::Event(e.clone());
                if inst.exists(&t.file("trigger")) && !inst.event_triggers(&e)?.is_empty() {
                    self.save_triggers(inst, &e)?;
                }
            }
        }
        for f in FilterFile::ALL {
            if inst.exists(f.file()) {
                if let Some(()) = self.save_functions(inst, f).optional()? {}
            }
        }
        Ok(())
    }

    /// Remembers the settings outside instances: `saved_cmdlines_size` and the lists of
    /// kprobes, uprobes and other dynamic events.
    pub fn save_global(&mut self) -> Result<()> {
        let top = self.fs.top();
        if top.exists("saved_cmdlines_size") {
            self.save_file(&top.path("saved_cmdlines_size"))?;
        }
        let kinds: &[ProbeKind] = if self.fs.has_probes(ProbeKind::Any) {
            &[ProbeKind::Any]
        } else {
            &[ProbeKind::Kprobe, ProbeKind::Uprobe]
        };
        for &k in kinds {
            if self.fs.has_probes(k) && self.first(Key::Probes(k)) {
                let listed = self.fs.probes(k)?.into_iter().map(|e| e.line).collect();
                self.saved.push(Saved::Probes { kind: k, listed });
            }
        }
        Ok(())
    }

    /// Leaves every change in place (what `start` wants once everything is set).
    pub fn keep(mut self) {
        self.active = false;
    }

    /// Undoes every change, newest first. Every step is tried; the errors are returned.
    pub fn restore(mut self) -> std::result::Result<(), Vec<Error>> {
        self.active = false;
        let errs = self.restore_all();
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    fn restore_all(&mut self) -> Vec<Error> {
        let mut errs = Vec::new();
        let saved = std::mem::take(&mut self.saved);
        let in_created = |inst: &Instance, created: &HashSet<String>| {
            inst.name().is_some_and(|n| created.contains(n))
        };
        for s in saved.into_iter().rev() {
            let r = match s {
                Saved::Value { path, value } => restore_value(&path, &value),
                Saved::Clock { inst, clock } => inst.set_clock(&clock).map(drop),
                Saved::BufferSize { inst, size } => {
                    if in_created(&inst, &self.created) {
                        continue;
                    }
                    restore_buffer_size(&inst, &size)
                }
                Saved::Enables { inst, states } => {
                    if in_created(&inst, &self.created) {
                        continue;
                    }
                    restore_enables(&inst, &states)
                }
                Saved::Filter {
                    inst,
                    target,
                    filter,
                } => {
                    if in_created(&inst, &self.created) {
                        continue;
                    }
                    inst.set_event_filter(&target, filter.as_deref()).map(drop)
                }
                Saved::Triggers {
                    inst,
                    event,
                    listed,
                } => {
                    if in_created(&inst, &self.created) {
                        continue;
                    }
                    restore_triggers(&inst, &event, &listed)
                }
                Saved::Functions { inst, file, listed } => {
                    if in_created(&inst, &self.created) {
                        continue;
                    }
                    inst.restore_function_filter(file, &listed)
                }
                Saved::Pids { inst, file, pids } => {
                    if in_created(&inst, &self.created) {
                        continue;
                    }
                    inst.set_pid_file(&file, &pids, file == "set_ftrace_pid")
                        .map(drop)
                }
                Saved::CreatedInstance { name } => self.fs.remove_instance(&name),
                Saved::Probes { kind, listed } => restore_probes(&self.fs, kind, &listed),
                Saved::CreatedProbe { kind, event } => {
                    // Already gone (removed by the user or a reset) is what was wanted.
                    match self
                        .fs
                        .find_probes(kind, &format!("{}/{}", event.group, event.name))
                    {
                        Ok(_) => self.fs.remove_probe(kind, &event),
                        Err(Error::NoSuchProbe { .. }) => Ok(()),
                        Err(e) => Err(e),
                    }
                }
            };
            // A value file of a created instance that is gone: nothing to restore.
            if let Err(e) = r {
                if !matches!(&e, Error::NotAvailable { path, .. } if self.under_created(path)) {
                    errs.push(e);
                }
            }
        }
        self.keys.clear();
        self.created.clear();
        errs
    }

    fn under_created(&self, path: &Path) -> bool {
        let base = self.fs.path("instances");
        path.strip_prefix(&base)
            .ok()
            .and_then(|r| r.components().next())
            .is_some_and(|c| self.created.contains(&*c.as_os_str().to_string_lossy()))
    }
}

impl Drop for Session {
    /// The safety net for early returns and panics; call [`Session::restore`] to see errors.
    fn drop(&mut self) {
        if self.active {
            self.active = false;
            let _ = self.restore_all();
        }
    }
}

fn collect_system_enables(
    inst: &Instance,
    system: &str,
    states: &mut Vec<(EventTarget, EnableState)>,
) -> Result<()> {
    let st = EventTarget::System(system.to_string());
    match inst.event_enabled(&st)? {
        s @ (EnableState::On | EnableState::Off) => states.push((st, s)),
        EnableState::Mixed => {
            for ev in inst.system_events(system)? {
                let t = EventTarget::Event(EventId {
                    system: system.to_string(),
                    name: ev,
                });
                if inst.exists(&t.file("enable")) {
                    let s = inst.event_enabled(&t)?;
                    states.push((t, s));
                }
            }
        }
    }
    Ok(())
}

fn restore_probes(fs: &Tracefs, kind: ProbeKind, listed: &[String]) -> Result<()> {
    let now = fs.probes(kind)?;
    for ev in &now {
        if !listed.contains(&ev.line) {
            fs.remove_probe(kind, ev)?;
        }
    }
    for line in listed {
        if !now.iter().any(|e| &e.line == line) {
            fs.add_probe(kind, line)?;
        }
    }
    Ok(())
}

fn restore_value(path: &Path, value: &str) -> Result<()> {
    let cur = io::read(path)?;
    if cur.trim_end_matches('\n') == value || cur.trim() == value.trim() {
        return Ok(());
    }
    io::write(path, value, Mode::Truncate, None)
}

fn restore_buffer_size(inst: &Instance, size: &BufferSize) -> Result<()> {
    match size {
        // Not yet expanded: the kernel would expand to this size on first use anyway.
        BufferSize::Uniform {
            expanded: Some(kb), ..
        }
        | BufferSize::Uniform { kb, expanded: None } => inst.set_buffer_size_kb(*kb).map(drop),
        BufferSize::PerCpu(v) => {
            for (cpu, kb) in v {
                inst.set_cpu_buffer_size_kb(*cpu, *kb)?;
            }
            Ok(())
        }
    }
}

fn restore_enables(inst: &Instance, states: &[(EventTarget, EnableState)]) -> Result<()> {
    // Whole-target writes first, so per-event states saved from a mixed system win.
    for (t, s) in states {
        match s {
            EnableState::On => inst.enable_event(t, true)?,
            EnableState::Off => inst.enable_event(t, false)?,
            EnableState::Mixed => false,
        };
    }
    Ok(())
}

fn restore_triggers(inst: &Instance, event: &EventId, listed: &[String]) -> Result<()> {
    let now = inst.event_triggers(event)?;
    if now == listed {
        return Ok(());
    }
    inst.clear_event_triggers(event)?;
    // The kernel lists the newest trigger first: add them back oldest first.
    for l in listed.iter().rev() {
        inst.add_event_trigger(event, &relisted_trigger(l))?;
    }
    Ok(())
}

/// A trigger as `trigger` lists it, turned back into what the file accepts:
/// `traceoff:count=3 if x` → `traceoff:3 if x`, `stacktrace:unlimited` → `stacktrace`,
/// a hist trigger without its ` [active]` state.
fn relisted_trigger(listed: &str) -> String {
    let (head, rest) = match listed.split_once(' ') {
        Some((h, r)) => (h, Some(r)),
        None => (listed, None),
    };
    let head = head.strip_suffix(":unlimited").unwrap_or(head);
    let head = head.replace(":count=", ":");
    let mut out = head;
    if let Some(r) = rest {
        let r = r
            .trim_end()
            .trim_end_matches("[active]")
            .trim_end_matches("[paused]")
            .trim_end();
        if !r.is_empty() {
            out.push(' ');
            out.push_str(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_triggers_are_turned_back() {
        assert_eq!(relisted_trigger("traceoff:count=3"), "traceoff:3");
        assert_eq!(relisted_trigger("stacktrace:unlimited"), "stacktrace");
        assert_eq!(
            relisted_trigger("traceon:unlimited if prev_pid == 0"),
            "traceon if prev_pid == 0"
        );
        assert_eq!(
            relisted_trigger("hist:keys=pid:vals=hitcount:sort=hitcount:size=2048 [active]"),
            "hist:keys=pid:vals=hitcount:sort=hitcount:size=2048"
        );
        assert_eq!(
            relisted_trigger("enable_event:sched:sched_switch:unlimited"),
            "enable_event:sched:sched_switch"
        );
    }
}
