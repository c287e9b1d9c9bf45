//! `reset`: disables tracing and puts the selected instances back to the kernel's defaults,
//! in trace-cmd's order (tracecmd/trace-record.c `trace_reset`): tracing off, tracer nop,
//! events off, filters, triggers, all dynamic events, error logs, clock `local`,
//! `set_event_pid`, `tracing_max_latency`, cpumask, `-d` instances removed, function
//! filters, tracing back on. Each step reads before it writes and skips files the kernel
//! lacks or refuses, so it works where trace-cmd 3.1.6's reset dies; the steps that fail for
//! other reasons are all reported, and the exit status is 1.

use std::process::ExitCode;

use clap::ArgMatches;
use tracefs::reset::Errors;

use super::tracing::{atoi_u64, in_order, open_tracefs};

pub fn run(m: &ArgMatches) -> anyhow::Result<ExitCode> {
    let fs = open_tracefs()?;
    // trace-cmd's state machine: -b and -d apply to the last -B, or to all after -a.
    struct Sel {
        name: String,
        keep: bool,
        buffer_kb: Option<u64>,
    }
    let mut named: Vec<Sel> = Vec::new();
    let mut top_buffer: Option<u64> = None;
    let mut last_all = false;
    let mut current_top = true;
    let mut topt = false;
    for o in in_order(m, &["buffer_size", "instance", "all", "delete", "top"]) {
        match o.id {
            "buffer_size" => {
                // trace-cmd: anything below 1 becomes 1.
                let kb = atoi_u64("buffer size", &o.value).unwrap_or(0).max(1);
                if last_all {
                    for s in &mut named {
                        s.buffer_kb = Some(kb);
                    }
                } else if current_top {
                    top_buffer = Some(kb);
                } else if let Some(s) = named.first_mut() {
                    s.buffer_kb = Some(kb);
                }
            }
            "instance" => {
                fs.instance(Some(&o.value))?;
                last_all = false;
                current_top = false;
                named.insert(
                    0,
                    Sel {
                        name: o.value.clone(),
                        keep: true,
                        buffer_kb: None,
                    },
                );
            }
            "top" => {
                last_all = false;
                current_top = true;
                topt = true;
            }
            "all" => {
                last_all = true;
                for n in fs.instance_names()? {
                    named.insert(
                        0,
                        Sel {
                            name: n,
                            keep: true,
                            buffer_kb: None,
                        },
                    );
                }
            }
            "delete" => {
                if last_all {
                    for s in &mut named {
                        s.keep = false;
                    }
                } else if current_top {
                    anyhow::bail!("Can not delete top level buffer");
                } else if let Some(s) = named.first_mut() {
                    s.keep = false;
                }
            }
            _ => {}
        }
    }
    let with_top = topt || current_top;
    let mut insts = Vec::new();
    if with_top {
        insts.push((fs.top(), top_buffer, true));
    }
    for s in &named {
        insts.push((fs.instance(Some(&s.name))?, s.buffer_kb, s.keep));
    }
    let ncpus = fs.cpus()?.len() as u32;
    let mut errs = Errors::default();
    for (inst, _, _) in &insts {
        inst.disable_all(true, &mut errs);
    }
    for (inst, kb, _) in &insts {
        if let Some(kb) = kb {
            errs.note(inst.set_buffer_size_kb(*kb));
        }
    }
    for (inst, _, _) in &insts {
        inst.clear_all_event_filters(&mut errs);
    }
    for (inst, _, _) in &insts {
        inst.clear_all_event_triggers(&mut errs);
    }
    fs.remove_all_dynamic_events(&mut errs);
    for (inst, _, _) in &insts {
        inst.reset_misc(&mut errs);
        inst.reset_cpumask(ncpus, &mut errs);
    }
    for (inst, _, keep) in &insts {
        if !keep {
            if let Some(name) = inst.name() {
                errs.note(fs.remove_instance(name));
            }
        }
    }
    let remaining: Vec<_> = insts.iter().filter(|(_, _, keep)| *keep).collect();
    for (inst, _, _) in &remaining {
        inst.clear_function_filters(&mut errs);
    }
    for (inst, _, _) in &remaining {
        errs.note(inst.set_tracing_on(true));
    }
    if errs.0.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for e in &errs.0 {
        eprintln!("rtrace-cmd: reset: {e}");
    }
    Ok(ExitCode::FAILURE)
}
