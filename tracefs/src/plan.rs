//! What trace-cmd's `start`, `set` and `record` set up before tracing, as data, and the
//! order in which it is applied (tracecmd/trace-record.c `record_trace` up to the point
//! where recorders start): instances, probes, events, function filters, clock, cpumask,
//! buffer sizes, tracer, options, graph depth, pid filters, `tracing_on`.
//!
//! Differences from trace-cmd, so that it works where trace-cmd dies:
//! - `options/function-trace` and `/proc/sys/kernel/ftrace_enabled` are only touched when a
//!   function tracer or a function filter is asked for (or `-d`/`-D`), and only written if
//!   they do not already hold the wanted value;
//! - files the user did not ask for that are missing or refused are skipped;
//! - everything goes through a [`Session`], so a failure half-way puts the kernel back.

use crate::dynevent::{DynEvent, ProbeKind};
use crate::error::{Error, Optional, Result};
use crate::events::EventTarget;
use crate::functions::{FilterFile, FuncPattern};
use crate::instance::{CpuMask, Instance};
use crate::session::Session;

/// How far [`Plan::apply`] goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `start`: disable everything, set up, turn tracing on.
    Start,
    /// `record`: disable everything, set up, leave tracing off for the caller to turn on
    /// once its readers run.
    Record,
    /// `set`: only change what is asked; leave the rest and `tracing_on` alone.
    Set,
}

/// One `-e` with its `-f` filters and `-R` triggers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventPlan {
    /// `all`, `SYSTEM`, `SYSTEM:EVENT`, `EVENT` (globs allowed).
    pub spec: String,
    /// The combined filter (trace-cmd joins several `-f` as `(a)&&(b)`).
    pub filter: Option<String>,
    /// Triggers for each matched event.
    pub triggers: Vec<String>,
    /// Disable instead of enable (`-v`).
    pub negate: bool,
}

impl EventPlan {
    /// Adds a `-f` filter the way trace-cmd combines them.
    pub fn add_filter(&mut self, f: &str) {
        self.filter = Some(match self.filter.take() {
            None => format!("({f})"),
            Some(prev) => format!("{prev}&&({f})"),
        });
    }
}

/// A function filter word for a filter file (`-l`, `-n`, `-g`), with its `--module`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncSpec {
    /// The word.
    pub func: String,
    /// `--module` in effect when it was given.
    pub module: Option<String>,
}

/// The settings of one instance (the top level when `name` is `None`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstancePlan {
    /// `-B NAME`.
    pub name: Option<String>,
    /// `-e`.
    pub events: Vec<EventPlan>,
    /// `-p`.
    pub tracer: Option<String>,
    /// `-l`.
    pub filter_funcs: Vec<FuncSpec>,
    /// `-n`.
    pub notrace_funcs: Vec<FuncSpec>,
    /// `-P`.
    pub pids: Vec<u32>,
    /// `-c`: follow forks (event-fork, function-fork).
    pub children: bool,
    /// `-O` and `-T`, in order: `NAME` or `noNAME`.
    pub options: Vec<String>,
    /// `-b`.
    pub buffer_size_kb: Option<u64>,
    /// `--subbuf-size`.
    pub subbuf_size_kb: Option<u64>,
    /// `-M` (hex, or `-1` for all CPUs).
    pub cpumask: Option<String>,
    /// `-C`.
    pub clock: Option<String>,
    /// `--max-graph-depth`.
    pub max_graph_depth: Option<String>,
    /// `--kprobe`: probe definitions whose events are enabled here.
    pub kprobes: Vec<String>,
}

impl InstancePlan {
    fn does_something(&self) -> bool {
        !self.events.is_empty() || self.tracer.is_some() || !self.kprobes.is_empty()
    }

    fn wants_functions(&self) -> bool {
        self.tracer
            .as_deref()
            .is_some_and(|t| t.starts_with("function"))
            || !self.filter_funcs.is_empty()
            || !self.notrace_funcs.is_empty()
    }
}

/// Everything `start`/`set`/`record` set up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The top level first, then `-B` instances in command-line order.
    pub instances: Vec<InstancePlan>,
    /// `-g` (top level only).
    pub graph_funcs: Vec<FuncSpec>,
    /// `-d`: turn off `options/function-trace` (no function tracing from other tracers).
    pub disable_function_trace: bool,
    /// `-D`: also turn off `/proc/sys/kernel/ftrace_enabled`.
    pub total_disable: bool,
    /// `-i`: events that match nothing are skipped instead of failing.
    pub ignore_missing_events: bool,
    /// `--func-stack`: stack traces of traced functions (needs `-l`).
    pub func_stack: bool,
    /// `--cmdlines-size`.
    pub saved_cmdlines_size: Option<u64>,
    /// The top level takes part even without events or a tracer (`-F`, a command).
    pub filter_task: bool,
    /// `set -v -B NAME`: instances to delete.
    pub delete_instances: Vec<String>,
}

/// What [`Plan::apply`] did, for messages and for the caller's next steps.
#[derive(Debug, Default)]
pub struct Applied {
    /// The instances set up, top level first when it takes part.
    pub instances: Vec<Instance>,
    /// Tracers selected, with their instance (`None` = top), for "plugin 'X'" messages.
    pub tracers: Vec<(Option<String>, String)>,
    /// Dynamic events created for `--kprobe`.
    pub probes: Vec<DynEvent>,
    /// Event names that matched nothing and were skipped (`-i`).
    pub skipped_events: Vec<String>,
}

/// Compiles a function filter regular expression (the caller's dialect).
pub type RegexCompiler<'a> = dyn Fn(&str) -> Result<crate::functions::Matcher> + 'a;

const FTRACE_ENABLED: &str = "/proc/sys/kernel/ftrace_enabled";

impl Plan {
    /// The plan of an instance, created on first use (`None` = top level).
    pub fn instance_mut(&mut self, name: Option<&str>) -> &mut InstancePlan {
        if self.instances.is_empty() {
            self.instances.push(InstancePlan::default());
        }
        let i = match self
            .instances
            .iter()
            .position(|p| p.name.as_deref() == name)
        {
            Some(i) => i,
            None => {
                self.instances.push(InstancePlan {
                    name: name.map(str::to_string),
                    ..InstancePlan::default()
                });
                self.instances.len() - 1
            }
        };
        &mut self.instances[i]
    }

    /// Whether anything would be traced (trace-cmd's `check_doing_something`).
    pub fn does_something(&self) -> bool {
        self.instances.iter().any(InstancePlan::does_something)
    }

    /// Applies the plan through `session`. `regex` compiles function filter regexes.
    pub fn apply(
        &self,
        session: &mut Session,
        mode: Mode,
        regex: &RegexCompiler,
    ) -> Result<Applied> {
        let fs = session.tracefs().clone();
        let mut out = Applied::default();

        for name in &self.delete_instances {
            fs.remove_instance(name)?;
        }

        // The top level takes part if it has something to do (trace-cmd's first_instance).
        let mut plans: Vec<&InstancePlan> = Vec::new();
        for p in &self.instances {
            let top = p.name.is_none();
            if top && !p.does_something() && !self.filter_task && self.instances.len() > 1 {
                continue;
            }
            plans.push(p);
        }
        let mut insts = Vec::new();
        for p in &plans {
            insts.push(match &p.name {
                Some(n) => session.create_instance(n)?,
                None => fs.top(),
            });
        }

        // Probes before events: their events must exist to be resolved.
        let mut probe_events: Vec<Vec<String>> = vec![Vec::new(); plans.len()];
        for (i, p) in plans.iter().enumerate() {
            for def in &p.kprobes {
                let created = session.add_probe(ProbeKind::Kprobe, def)?;
                for ev in created {
                    probe_events[i].push(ev.event().to_string());
                    out.probes.push(ev);
                }
            }
        }

        // Resolve every event name before changing anything else.
        let mut resolved: Vec<Vec<(Vec<EventTarget>, &EventPlan)>> = Vec::new();
        let probe_plans: Vec<Vec<EventPlan>> = probe_events
            .iter()
            .map(|v| {
                v.iter()
                    .map(|spec| EventPlan {
                        spec: spec.clone(),
                        ..EventPlan::default()
                    })
                    .collect()
            })
            .collect();
        for (i, p) in plans.iter().enumerate() {
            let mut r = Vec::new();
            for ev in p.events.iter().chain(&probe_plans[i]) {
                match insts[i].resolve_events(&ev.spec) {
                    Ok(t) => r.push((t, ev)),
                    Err(Error::NoSuchEvent { .. }) if self.ignore_missing_events => {
                        out.skipped_events.push(ev.spec.clone());
                    }
                    Err(e) => return Err(e),
                }
            }
            resolved.push(r);
        }

        // Names the kernel must know, checked before anything changes.
        for (p, inst) in plans.iter().zip(&insts) {
            if let Some(t) = &p.tracer {
                let available = inst.available_tracers()?;
                if !available.iter().any(|a| a == t) {
                    return Err(Error::NoSuchTracer {
                        name: t.clone(),
                        suggestions: crate::suggest::closest(
                            t,
                            available.iter().map(String::as_str),
                            3,
                        ),
                        available,
                    });
                }
            }
            if let Some(c) = &p.clock {
                let clocks = inst.clock()?;
                if !clocks.available.iter().any(|a| a == c) {
                    return Err(Error::NoSuchClock {
                        name: c.clone(),
                        available: clocks.available,
                    });
                }
            }
            for o in &p.options {
                let name = option_name(inst, o).0;
                inst.option(name)?;
            }
        }

        // Function tracing switches, only when function tracing is involved.
        let wants_functions =
            plans.iter().any(|p| p.wants_functions()) || !self.graph_funcs.is_empty();
        let top = fs.top();
        if self.disable_function_trace || wants_functions {
            let on = !self.disable_function_trace;
            for inst in &insts {
                if inst.exists("options/function-trace") {
                    session.set_option(inst, "function-trace", on).optional()?;
                }
            }
            if (on && wants_functions) || self.total_disable {
                let path = std::path::Path::new(FTRACE_ENABLED);
                if path.exists() {
                    session
                        .set_proc_value(path, if on { "1" } else { "0" })
                        .optional()?;
                }
            }
        }

        if mode != Mode::Set {
            for inst in &insts {
                disable_all(session, inst)?;
            }
        }

        for (p, inst) in plans.iter().zip(&insts) {
            if let Some(c) = &p.clock {
                session.set_clock(inst, c)?;
            }
        }

        for (p, inst) in plans.iter().zip(&insts) {
            set_funcs(session, inst, FilterFile::Filter, &p.filter_funcs, regex)?;
            if inst.is_top() {
                set_funcs(
                    session,
                    inst,
                    FilterFile::GraphFunction,
                    &self.graph_funcs,
                    regex,
                )?;
            }
            // With function_graph, -n means set_graph_notrace (trace-cmd's set_funcs).
            let notrace = if inst.is_top() && p.tracer.as_deref() == Some("function_graph") {
                FilterFile::GraphNotrace
            } else {
                FilterFile::Notrace
            };
            set_funcs(session, inst, notrace, &p.notrace_funcs, regex)?;
            if self.func_stack && inst.is_top() {
                if p.filter_funcs.is_empty() {
                    return Err(Error::Invalid {
                        what: "option",
                        value: "--func-stack".into(),
                        why: "function stack traces need function filtering (-l)".into(),
                    });
                }
                session.set_option(inst, "func_stack_trace", true)?;
            }
            if let Some(m) = &p.cpumask {
                let ncpus = inst.cpus()?.len() as u32;
                let mask = if m == "-1" {
                    CpuMask::from_cpus(0..ncpus)
                } else {
                    CpuMask::parse(m).ok_or_else(|| Error::Invalid {
                        what: "cpumask",
                        value: m.clone(),
                        why: "expected a hexadecimal mask such as 3 or ff,ffffffff".into(),
                    })?
                };
                session.set_cpumask(inst, &mask)?;
            }
        }

        for (r, inst) in resolved.iter().zip(&insts) {
            // Enabled events first, then the -v ones (trace-cmd's enable_events).
            for negate in [false, true] {
                for (targets, ev) in r.iter().filter(|(_, e)| e.negate == negate) {
                    for t in targets {
                        if !negate {
                            if let Some(f) = &ev.filter {
                                session.set_event_filter(inst, t, Some(f))?;
                            }
                            if let EventTarget::Event(id) = t {
                                if !ev.triggers.is_empty() {
                                    session.clear_event_triggers(inst, id)?;
                                }
                                for tr in &ev.triggers {
                                    session.add_event_trigger(inst, id, tr)?;
                                }
                            } else if !ev.triggers.is_empty() {
                                // Triggers belong to events; a system's events each get them.
                                let EventTarget::System(s) = t else { continue };
                                for name in inst.system_events(s)? {
                                    let id = crate::events::EventId {
                                        system: s.clone(),
                                        name,
                                    };
                                    let et = EventTarget::Event(id.clone());
                                    if !inst.exists(&et.file("trigger")) {
                                        continue;
                                    }
                                    session.clear_event_triggers(inst, &id)?;
                                    for tr in &ev.triggers {
                                        session.add_event_trigger(inst, &id, tr)?;
                                    }
                                }
                            }
                        }
                        if inst.exists(&t.file("enable")) {
                            session.enable_event(inst, t, !negate)?;
                        }
                    }
                }
            }
        }

        if let Some(n) = self.saved_cmdlines_size {
            session.set_value(&top, "saved_cmdlines_size", &n.to_string())?;
        }
        for (p, inst) in plans.iter().zip(&insts) {
            if let Some(kb) = p.buffer_size_kb {
                session.set_buffer_size_kb(inst, kb)?;
            }
            if let Some(kb) = p.subbuf_size_kb {
                session.set_subbuf_size_kb(inst, kb)?;
            }
        }
        for (p, inst) in plans.iter().zip(&insts) {
            if let Some(t) = &p.tracer {
                if mode != Mode::Set || t != "nop" {
                    session.set_tracer(inst, t)?;
                }
                if t.starts_with("function")
                    && inst.exists("options/func_stack_trace")
                    && !self.func_stack
                {
                    session.set_option(inst, "func_stack_trace", false)?;
                }
                out.tracers.push((p.name.clone(), t.clone()));
            }
        }
        for (p, inst) in plans.iter().zip(&insts) {
            for o in &p.options {
                let (name, on) = option_name(inst, o);
                session.set_option(inst, name, on)?;
            }
            if p.children {
                for o in ["event-fork", "function-fork"] {
                    if inst.exists(&format!("options/{o}")) {
                        session.set_option(inst, o, true)?;
                    }
                }
            }
        }
        for (p, inst) in plans.iter().zip(&insts) {
            if let Some(d) = &p.max_graph_depth {
                session.set_value(inst, "max_graph_depth", d)?;
            }
        }
        for (p, inst) in plans.iter().zip(&insts) {
            if !p.pids.is_empty() {
                apply_pids(session, inst, &p.pids)?;
            }
        }
        if mode == Mode::Start {
            for inst in &insts {
                session.set_tracing_on(inst, true)?;
            }
        }
        out.instances = insts;
        Ok(out)
    }
}

/// An `-O` word: `NAME` sets, `noNAME` clears (an option whose own name starts with "no"
/// is set).
fn option_name<'a>(inst: &Instance, o: &'a str) -> (&'a str, bool) {
    match o.strip_prefix("no") {
        Some(rest) if !inst.exists(&format!("options/{o}")) => (rest, false),
        _ => (o, true),
    }
}

/// Limits tracing to `pids`: `set_event_pid` and, when the kernel lets us, `set_ftrace_pid`.
pub fn apply_pids(session: &mut Session, inst: &Instance, pids: &[u32]) -> Result<()> {
    if !inst.exists("set_event_pid") {
        return Err(Error::Unsupported {
            feature: "pid filtering of events".into(),
            detail: format!(
                "{} is missing (needs Linux 4.4 or later)",
                inst.path("set_event_pid").display()
            ),
        });
    }
    session.set_event_pids(inst, pids)?;
    if inst.exists("set_ftrace_pid") {
        session.set_ftrace_pids(inst, pids).optional()?;
    }
    Ok(())
}

/// trace-cmd's `tracecmd_disable_all_tracing(1)` through a session.
pub fn disable_all(session: &mut Session, inst: &Instance) -> Result<()> {
    session.set_tracing_on(inst, false)?;
    if let Some(t) = inst.current_tracer().optional()? {
        if t.starts_with("function") && inst.exists("options/func_stack_trace") {
            session
                .set_option(inst, "func_stack_trace", false)
                .optional()?;
        }
        session.set_value(inst, "current_tracer", "nop")?;
    }
    if inst.exists("events/enable") {
        session.enable_event(inst, &EventTarget::All, false)?;
        for s in inst.event_systems()? {
            let t = EventTarget::System(s);
            if inst.exists(&t.file("filter")) {
                session.set_event_filter(inst, &t, None)?;
            }
        }
    }
    if inst.exists("set_ftrace_pid") {
        session.set_ftrace_pids(inst, &[]).optional()?;
    }
    inst.clear_trace()
}

fn set_funcs(
    session: &mut Session,
    inst: &Instance,
    file: FilterFile,
    funcs: &[FuncSpec],
    regex: &RegexCompiler,
) -> Result<()> {
    if funcs.is_empty() {
        return Ok(());
    }
    let mut pats = Vec::new();
    for f in funcs {
        pats.push(func_pattern(&f.func, f.module.as_deref(), regex)?);
    }
    session.set_function_filter(inst, file, &pats, true)
}

/// Turns a `-l`/`-n`/`-g` word into a pattern (libtracefs's glob/regex rule).
pub fn func_pattern(
    word: &str,
    module: Option<&str>,
    regex: &RegexCompiler,
) -> Result<FuncPattern> {
    use crate::functions::{classify, FuncKind};
    let (kind, body, wmod) = classify(word);
    let module = wmod.or(module).map(str::to_string);
    Ok(match kind {
        FuncKind::Glob => FuncPattern::Glob {
            glob: body.to_string(),
            module,
        },
        FuncKind::Regex => FuncPattern::Regex {
            pattern: body.to_string(),
            matcher: regex(&anchor_regex(body))?,
            module,
        },
        FuncKind::Exclude => FuncPattern::Exclude(body.to_string()),
        FuncKind::Command => FuncPattern::Command(body.to_string()),
    })
}

/// libtracefs's `update_regex`: a function regex matches whole names (`^...$`).
pub fn anchor_regex(re: &str) -> String {
    let mut s = String::new();
    if !re.starts_with('^') {
        s.push('^');
    }
    s.push_str(re);
    if !re.ends_with('$') {
        s.push('$');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_combine_as_trace_cmd_does() {
        let mut e = EventPlan::default();
        e.add_filter("prev_pid==1");
        assert_eq!(e.filter.as_deref(), Some("(prev_pid==1)"));
        e.add_filter("next_pid==2");
        assert_eq!(e.filter.as_deref(), Some("(prev_pid==1)&&(next_pid==2)"));
    }

    #[test]
    fn regexes_are_anchored() {
        assert_eq!(anchor_regex("sched"), "^sched$");
        assert_eq!(anchor_regex("^sched.*"), "^sched.*$");
        assert_eq!(anchor_regex("^a$"), "^a$");
    }

    #[test]
    fn instances_keep_command_line_order() {
        let mut p = Plan::default();
        p.instance_mut(Some("b")).tracer = Some("nop".into());
        p.instance_mut(None).events.push(EventPlan {
            spec: "sched".into(),
            ..EventPlan::default()
        });
        p.instance_mut(Some("a"));
        let names: Vec<_> = p.instances.iter().map(|i| i.name.clone()).collect();
        assert_eq!(names, [None, Some("b".into()), Some("a".into())]);
        assert!(p.does_something());
    }
}
