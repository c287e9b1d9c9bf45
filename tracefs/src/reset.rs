//! Putting an instance back to the kernel's defaults, step by step as trace-cmd's `reset`
//! does (tracecmd/trace-record.c `trace_reset`, `tracecmd_disable_all_tracing`,
//! `clear_filters`, `clear_triggers`, `clear_func_filters`, ...), with two differences that
//! make it work on restricted kernels: every file is read before it is written (nothing is
//! written that already holds its default), and a file the kernel does not have or refuses
//! to open (`set_ftrace_pid` under lockdown, `tracing_max_latency` without latency
//! tracers) is skipped, not fatal. Every step runs; the errors are collected.

use crate::dynevent::ProbeKind;
use crate::error::{Error, Optional, Result};
use crate::events::{EventId, EventTarget};
use crate::fs::Tracefs;
use crate::functions::FilterFile;
use crate::instance::{CpuMask, Instance};

/// Collects errors of steps that must not stop the others.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<Error>);

impl Errors {
    /// Records a step's error, ignoring "not available" ones.
    pub fn note<T>(&mut self, r: Result<T>) -> Option<T> {
        match r.optional() {
            Ok(v) => v,
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
}

impl Instance {
    /// Stops recording and disables what records: `tracing_on` off, `func_stack_trace`
    /// off under a function tracer, `current_tracer` `nop` (with `disable_tracer`), every
    /// event and system filter off, `set_ftrace_pid` emptied, the buffer cleared
    /// (trace-cmd's `tracecmd_disable_all_tracing`).
    pub fn disable_all(&self, disable_tracer: bool, errs: &mut Errors) {
        errs.note(self.set_tracing_on(false));
        if let Some(t) = errs.note(self.current_tracer()) {
            if t.starts_with("function") && self.exists("options/func_stack_trace") {
                errs.note(self.set_option("func_stack_trace", false));
            }
        }
        if disable_tracer && self.exists("current_tracer") {
            errs.note(self.set_value("current_tracer", "nop"));
        }
        if self.exists("events/enable") {
            errs.note(self.disable_all_events());
            if let Some(systems) = errs.note(self.event_systems()) {
                for s in systems {
                    let t = EventTarget::System(s);
                    if self.exists(&t.file("filter")) {
                        errs.note(self.set_event_filter(&t, None));
                    }
                }
            }
        }
        if self.exists("set_ftrace_pid") {
            errs.note(self.set_ftrace_pids(&[]));
        }
        errs.note(self.clear_trace());
    }

    /// Clears the filter of every event (trace-cmd's `clear_filters`).
    pub fn clear_all_event_filters(&self, errs: &mut Errors) {
        let Some(events) = errs.note(self.all_events()) else {
            return;
        };
        for e in events {
            let t = EventTarget::Event(e);
            if self.exists(&t.file("filter")) {
                errs.note(self.set_event_filter(&t, None));
            }
        }
    }

    /// Removes every trigger of every event (trace-cmd's `clear_triggers`). Triggers that
    /// depend on each other in another event (`enable_hist` on a `hist` elsewhere) are
    /// retried after the first pass.
    pub fn clear_all_event_triggers(&self, errs: &mut Errors) {
        let Some(events) = errs.note(self.all_events()) else {
            return;
        };
        let with_triggers = |ids: Vec<EventId>| -> Vec<EventId> {
            ids.into_iter()
                .filter(|e| {
                    let t = EventTarget::Event(e.clone());
                    self.exists(&t.file("trigger"))
                        && self.event_triggers(e).is_ok_and(|v| !v.is_empty())
                })
                .collect()
        };
        let mut left = with_triggers(events);
        for _pass in 0..4 {
            if left.is_empty() {
                return;
            }
            for e in &left {
                let _ = self.clear_event_triggers(e);
            }
            let next = with_triggers(left.clone());
            if next.len() == left.len() {
                break;
            }
            left = next;
        }
        for e in &left {
            errs.note(self.clear_event_triggers(e));
        }
    }

    /// Empties the four function filter files (trace-cmd's `clear_func_filters`).
    pub fn clear_function_filters(&self, errs: &mut Errors) {
        for f in FilterFile::ALL {
            if !self.exists(f.file()) {
                continue;
            }
            // Read first: an empty filter is left alone, and a refused read means the
            // kernel does not let us use function tracing at all.
            match self.function_filter(f).optional() {
                Ok(Some(v)) if v.is_empty() => {}
                Ok(Some(_)) => {
                    errs.note(self.clear_function_filter(f));
                }
                Ok(None) => {}
                Err(e) => errs.0.push(e),
            }
        }
    }

    /// Sets `tracing_cpumask` to every CPU (trace-cmd's `reset_cpu_mask`).
    pub fn reset_cpumask(&self, ncpus: u32, errs: &mut Errors) {
        if self.exists("tracing_cpumask") {
            errs.note(self.set_cpumask(&CpuMask::from_cpus(0..ncpus)));
        }
    }

    /// Clears the settings `reset` clears besides tracing: error log, clock (`local`),
    /// `set_event_pid`, `tracing_max_latency`.
    pub fn reset_misc(&self, errs: &mut Errors) {
        if self.exists("error_log") {
            match self.read("error_log") {
                Ok(t) if t.trim().is_empty() => {}
                r => {
                    errs.note(r);
                    errs.note(self.clear_error_log());
                }
            }
        }
        if self.exists("trace_clock") {
            errs.note(self.set_clock("local"));
        }
        if self.exists("set_event_pid") {
            errs.note(self.set_event_pids(&[]));
        }
        if self.exists("tracing_max_latency") {
            errs.note(self.set_value("tracing_max_latency", "0"));
        }
    }
}

impl Tracefs {
    /// Removes every dynamic event (kprobes, uprobes, eprobes, synthetic events), as
    /// trace-cmd's `clear_all_dynamic_events`; without `dynamic_events`, the kprobe and
    /// uprobe lists one by one.
    pub fn remove_all_dynamic_events(&self, errs: &mut Errors) {
        let kinds: &[ProbeKind] = if self.has_probes(ProbeKind::Any) {
            &[ProbeKind::Any]
        } else {
            &[ProbeKind::Kprobe, ProbeKind::Uprobe]
        };
        for &k in kinds {
            if self.has_probes(k) {
                errs.note(self.remove_all_probes(k));
            }
        }
    }
}
