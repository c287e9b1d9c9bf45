//! trace-cmd's record options that set up the kernel, read in command-line order into a
//! `tracefs::plan::Plan` (tracecmd/trace-record.c `parse_record_options`). Shared by
//! `start` and `set`, and meant for `record`.

use clap::ArgMatches;
use tracefs::plan::{EventPlan, FuncSpec, Plan};

use super::tracing::{atoi_u64, in_order};
use crate::cli::SetupArgs;

/// The options in the order they act.
const IDS: &[&str] = &[
    "event",
    "filter",
    "trigger",
    "negate",
    "plugin",
    "filter_func",
    "notrace_func",
    "graph_func",
    "module",
    "pid",
    "children",
    "filter_task",
    "clock",
    "stacktrace",
    "option",
    "buffer_size",
    "subbuf_size",
    "instance",
    "cpumask",
    "max_graph_depth",
    "kprobe",
];

/// Which command the options are for (some options only make sense for some).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum For {
    Start,
    Set,
    Record,
}

/// Reads the options into a plan.
pub fn plan(args: &SetupArgs, has_command: bool, m: &ArgMatches, cmd: For) -> anyhow::Result<Plan> {
    let mut plan = Plan::default();
    plan.instance_mut(None);
    let mut cur: Option<String> = None;
    let mut negative = false;
    // Index of the last -e in the current instance's event list.
    let mut last_event: Option<(Option<String>, usize)> = None;
    let mut modules: std::collections::HashMap<Option<String>, String> = Default::default();
    let mut filtered = false;
    let mut first_clock: Option<String> = None;
    let mut children = false;
    let mut npids = 0usize;
    for o in in_order(m, IDS) {
        let inst = cur.clone();
        match o.id {
            "event" => {
                let p = plan.instance_mut(inst.as_deref());
                p.events.push(EventPlan {
                    spec: o.value.clone(),
                    negate: negative,
                    ..EventPlan::default()
                });
                last_event = Some((inst, p.events.len() - 1));
            }
            "filter" | "trigger" => {
                let Some((ei, idx)) = &last_event else {
                    anyhow::bail!(
                        "{} must come after event",
                        if o.id == "filter" {
                            "filter"
                        } else {
                            "trigger"
                        }
                    );
                };
                let ev = &mut plan.instance_mut(ei.as_deref()).events[*idx];
                if o.id == "filter" {
                    ev.add_filter(&o.value);
                } else {
                    ev.triggers.push(o.value.clone());
                }
            }
            "negate" => negative = true,
            "plugin" => {
                let p = plan.instance_mut(inst.as_deref());
                if p.tracer.is_some() {
                    anyhow::bail!("only one plugin allowed");
                }
                p.tracer = Some(o.value.trim().to_string());
            }
            "filter_func" | "notrace_func" | "graph_func" => {
                let spec = FuncSpec {
                    func: o.value.clone(),
                    module: modules.get(&inst).cloned(),
                };
                filtered = true;
                match o.id {
                    "filter_func" => plan.instance_mut(inst.as_deref()).filter_funcs.push(spec),
                    "notrace_func" => plan.instance_mut(inst.as_deref()).notrace_funcs.push(spec),
                    _ => plan.graph_funcs.push(spec),
                }
            }
            "module" => {
                // A --module with no function after it means all of its functions.
                if let Some(prev) = modules.get(&inst).cloned() {
                    plan.instance_mut(inst.as_deref())
                        .filter_funcs
                        .push(FuncSpec {
                            func: "*".into(),
                            module: Some(prev),
                        });
                }
                modules.insert(inst, o.value.clone());
                filtered = false;
            }
            "pid" => {
                let p = plan.instance_mut(inst.as_deref());
                for w in o.value.split(',').filter(|w| !w.is_empty()) {
                    let pid: u32 = w
                        .trim()
                        .parse()
                        .map_err(|_| anyhow::anyhow!("invalid pid '{w}' in -P {}", o.value))?;
                    p.pids.push(pid);
                    npids += 1;
                }
            }
            "children" => {
                children = true;
                plan.instance_mut(inst.as_deref()).children = true;
            }
            "filter_task" => plan.filter_task = true,
            "clock" => {
                plan.instance_mut(inst.as_deref()).clock = Some(o.value.clone());
                first_clock.get_or_insert(o.value.clone());
            }
            "stacktrace" => plan
                .instance_mut(inst.as_deref())
                .options
                .push("stacktrace".into()),
            "option" => plan
                .instance_mut(inst.as_deref())
                .options
                .push(o.value.clone()),
            "buffer_size" => {
                plan.instance_mut(inst.as_deref()).buffer_size_kb =
                    Some(atoi_u64("buffer size", &o.value)?)
            }
            "subbuf_size" => {
                plan.instance_mut(inst.as_deref()).subbuf_size_kb =
                    Some(atoi_u64("sub-buffer size", &o.value)?)
            }
            "instance" => {
                if cmd == For::Set && negative {
                    plan.delete_instances.push(o.value.clone());
                    // The options after it have no instance to act on: back to the top.
                    cur = None;
                } else {
                    plan.instance_mut(Some(&o.value));
                    cur = Some(o.value.clone());
                }
                negative = false;
            }
            "cpumask" => plan.instance_mut(inst.as_deref()).cpumask = Some(o.value.clone()),
            "max_graph_depth" => {
                plan.instance_mut(inst.as_deref()).max_graph_depth = Some(o.value.clone())
            }
            "kprobe" => plan
                .instance_mut(inst.as_deref())
                .kprobes
                .push(o.value.clone()),
            _ => {}
        }
    }
    if !filtered {
        if let Some(m) = modules.get(&cur).cloned() {
            plan.instance_mut(cur.as_deref())
                .filter_funcs
                .push(FuncSpec {
                    func: "*".into(),
                    module: Some(m),
                });
        }
    }
    // trace-cmd: an instance without -C of its own uses the first -C given.
    if let Some(c) = first_clock {
        for p in &mut plan.instances {
            if p.clock.is_none() {
                p.clock = Some(c.clone());
            }
        }
    }
    if children && !plan.filter_task && npids == 0 {
        anyhow::bail!("-c can only be used with -F (or -P with event-fork support)");
    }
    plan.disable_function_trace = args.disable > 0 || args.total_disable > 0;
    plan.total_disable = args.total_disable > 0;
    plan.ignore_missing_events = args.ignore_missing > 0;
    plan.func_stack = args.func_stack;
    if let Some(n) = &args.cmdlines_size {
        plan.saved_cmdlines_size = Some(atoi_u64("cmdlines size", n)?);
    }
    if plan.filter_task && !has_command {
        anyhow::bail!("-F needs a command to trace");
    }
    Ok(plan)
}

/// Function filter regexes as libtracefs compiles them: POSIX basic, case-insensitive.
pub fn compile_regex(re: &str) -> tracefs::Result<tracefs::functions::Matcher> {
    let r = tracedat::filter::posix::PosixRegex::new(re.as_bytes()).map_err(|e| {
        tracefs::Error::Invalid {
            what: "function regex",
            value: re.to_string(),
            why: e.to_string(),
        }
    })?;
    Ok(Box::new(move |name: &str| r.is_match(name.as_bytes())))
}
