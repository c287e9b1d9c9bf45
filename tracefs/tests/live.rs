//! The library against this machine's kernel: everything it supports here (instances,
//! events, filters, triggers, buffer sizes, clocks, options, cpumask, markers,
//! set_event_pid, uprobes, error_log), serialized by the tracefs lock, each test proving by
//! fingerprint that the kernel is left as it was found. Work happens in scratch instances
//! wherever the kernel allows, so the top level is touched as little as possible.

mod common;

use std::path::Path;

use common::state::{diff, fingerprint};
use common::{live, ScratchInstance};
use tracefs::{
    BufferSize, CpuMask, EnableState, Error, EventId, EventTarget, Optional, ProbeKind, Session,
};

fn assert_same(before: &str, after: &str) {
    assert!(
        before == after,
        "tracefs was not left as it was found:\n{}",
        diff(before, after)
    );
}

fn ev(system: &str, name: &str) -> EventId {
    EventId {
        system: system.into(),
        name: name.into(),
    }
}

#[test]
fn instances_are_created_listed_and_removed() {
    let Some((_lock, fs)) = live() else { return };
    let before = fingerprint(&fs);
    let name = common::scratch_name("inst");
    let (inst, created) = fs.create_instance(&name).unwrap();
    assert!(created);
    assert!(fs.instance_names().unwrap().contains(&name));
    let (_, again) = fs.create_instance(&name).unwrap();
    assert!(!again, "a second create opens the existing instance");
    assert_eq!(inst.cpus().unwrap(), fs.cpus().unwrap());
    fs.remove_instance(&name).unwrap();
    match fs.instance(Some(&name)) {
        Err(Error::NoSuchInstance { name: n, .. }) => assert_eq!(n, name),
        other => panic!("expected NoSuchInstance, got {other:?}"),
    }
    assert!(matches!(
        fs.create_instance("a/b"),
        Err(Error::Invalid { .. })
    ));
    assert_same(&before, &fingerprint(&fs));
}

#[test]
fn a_session_restores_every_setting_it_changed() {
    let Some((_lock, fs)) = live() else { return };
    let (_scratch, inst) = ScratchInstance::new(&fs, "session");
    let before = fingerprint(&fs);
    let mut s = Session::new(&fs);

    assert!(s.set_tracing_on(&inst, false).unwrap());
    assert!(!inst.tracing_on().unwrap());

    let other_clock = if inst.clock().unwrap().current == "mono" {
        "global"
    } else {
        "mono"
    };
    assert!(s.set_clock(&inst, other_clock).unwrap());
    assert_eq!(inst.clock().unwrap().current, other_clock);
    assert!(matches!(
        s.set_clock(&inst, "sundial"),
        Err(Error::NoSuchClock { .. })
    ));

    assert!(s.set_buffer_size_kb(&inst, 256).unwrap());
    // The kernel rounds up to whole sub-buffers.
    let BufferSize::Uniform { kb, expanded: None } = inst.buffer_size_kb().unwrap() else {
        panic!("expected one size for all CPUs");
    };
    assert!((256..300).contains(&kb), "{kb}");
    assert!(
        !s.set_buffer_size_kb(&inst, kb).unwrap(),
        "read before write"
    );
    s.set_cpu_buffer_size_kb(&inst, 0, 128).unwrap();
    match inst.buffer_size_kb().unwrap() {
        BufferSize::PerCpu(v) => assert!(v[0].0 == 0 && (128..150).contains(&v[0].1), "{v:?}"),
        other => panic!("expected per-CPU sizes, got {other:?}"),
    }

    if inst.exists("buffer_subbuf_size_kb") {
        s.set_subbuf_size_kb(&inst, 8).unwrap();
        assert_eq!(inst.subbuf_size_kb().unwrap(), 8);
    }

    assert!(s.set_option(&inst, "stacktrace", true).unwrap());
    assert!(inst.option("stacktrace").unwrap());
    match s.set_option(&inst, "stacktrase", true) {
        Err(Error::NoSuchOption { suggestions, .. }) => {
            assert!(suggestions.contains(&"stacktrace".to_string()))
        }
        other => panic!("expected NoSuchOption, got {other:?}"),
    }

    s.set_cpumask(&inst, &CpuMask::from_cpus([0])).unwrap();
    assert_eq!(inst.cpumask().unwrap().to_string(), "1");

    let me = std::process::id();
    assert!(s.set_event_pids(&inst, &[me]).unwrap());
    assert_eq!(inst.event_pids().unwrap(), [me]);

    let switch = EventTarget::Event(ev("sched", "sched_switch"));
    assert!(s.enable_event(&inst, &switch, true).unwrap());
    assert_eq!(inst.event_enabled(&switch).unwrap(), EnableState::On);
    assert_eq!(
        inst.event_enabled(&EventTarget::System("sched".into()))
            .unwrap(),
        EnableState::Mixed
    );
    let irq = EventTarget::System("irq".into());
    s.enable_event(&inst, &irq, true).unwrap();
    s.set_event_filter(&inst, &switch, Some("prev_pid == 0"))
        .unwrap();
    assert_eq!(
        inst.event_filter(&switch).unwrap().as_deref(),
        Some("prev_pid == 0")
    );
    s.set_event_filter(&inst, &irq, Some("irq == 1")).unwrap();
    let entry = EventTarget::Event(ev("irq", "irq_handler_entry"));
    assert_eq!(
        inst.event_filter(&entry).unwrap().as_deref(),
        Some("irq == 1")
    );
    s.add_event_trigger(
        &inst,
        &ev("sched", "sched_switch"),
        "stacktrace if prev_pid == 0",
    )
    .unwrap();
    s.add_event_trigger(&inst, &ev("sched", "sched_wakeup"), "traceoff:5")
        .unwrap();
    assert_eq!(
        inst.event_triggers(&ev("sched", "sched_switch")).unwrap(),
        ["stacktrace:unlimited if prev_pid == 0"]
    );

    assert!(s.saved_count() > 10);
    s.restore().unwrap();
    assert_same(&before, &fingerprint(&fs));
}

#[test]
fn dropping_a_session_on_an_error_path_restores_too() {
    let Some((_lock, fs)) = live() else { return };
    let (_scratch, inst) = ScratchInstance::new(&fs, "drop");
    let before = fingerprint(&fs);
    let result = (|| -> tracefs::Result<()> {
        let mut s = Session::new(&fs);
        s.enable_event(&inst, &EventTarget::System("timer".into()), true)?;
        s.set_option(&inst, "stacktrace", true)?;
        // Fails: the session goes out of scope through `?`.
        s.set_event_filter(
            &inst,
            &EventTarget::Event(ev("sched", "sched_switch")),
            Some("no_such_field == 1"),
        )?;
        s.keep();
        Ok(())
    })();
    let err = result.unwrap_err();
    assert_same(&before, &fingerprint(&fs));
    // The kernel's reason came with the error.
    match err {
        Error::Write { log: Some(log), .. } => {
            assert!(log.message.contains("Field not found"), "{log}");
            assert_eq!(log.command, "no_such_field == 1");
            // The kernel points just after the unknown field.
            assert_eq!(&log.command[log.position.unwrap()..], "== 1");
        }
        other => panic!("expected a refused write with the kernel's log, got {other:?}"),
    }
}

#[test]
fn a_whole_instance_saved_is_put_back_after_a_reset() {
    let Some((_lock, fs)) = live() else { return };
    let (_scratch, inst) = ScratchInstance::new(&fs, "saveall");
    // Something to lose: events, a filter, a trigger, an option, a clock.
    let mut setup = Session::new(&fs);
    setup
        .enable_event(&inst, &EventTarget::System("sched".into()), true)
        .unwrap();
    setup
        .set_event_filter(
            &inst,
            &EventTarget::Event(ev("sched", "sched_waking")),
            Some("pid > 1"),
        )
        .unwrap();
    setup
        .add_event_trigger(&inst, &ev("sched", "sched_process_exec"), "stacktrace")
        .unwrap();
    setup.set_option(&inst, "sym-offset", true).unwrap();
    setup.set_clock(&inst, "global").unwrap();
    setup.keep();
    let before = fingerprint(&fs);

    let mut s = Session::new(&fs);
    s.save_instance(&inst).unwrap();
    s.save_global().unwrap();
    let mut errs = tracefs::reset::Errors::default();
    inst.disable_all(true, &mut errs);
    inst.clear_all_event_filters(&mut errs);
    inst.clear_all_event_triggers(&mut errs);
    inst.reset_misc(&mut errs);
    assert!(errs.0.is_empty(), "{:?}", errs.0);
    assert_ne!(before, fingerprint(&fs), "the reset changed nothing");
    s.restore().unwrap();
    assert_same(&before, &fingerprint(&fs));
}

#[test]
fn events_resolve_like_trace_cmd_and_misspellings_get_suggestions() {
    let Some((_lock, fs)) = live() else { return };
    let top = fs.top();
    assert_eq!(
        top.resolve_events("sched").unwrap(),
        [EventTarget::System("sched".into())]
    );
    assert_eq!(
        top.resolve_events("sched_switch").unwrap(),
        [EventTarget::Event(ev("sched", "sched_switch"))]
    );
    let globbed = top.resolve_events("sched:sched_wak*").unwrap();
    assert!(globbed.contains(&EventTarget::Event(ev("sched", "sched_wakeup"))));
    assert!(globbed
        .iter()
        .all(|t| matches!(t, EventTarget::Event(e) if e.name.starts_with("sched_wak"))));
    let all = top.resolve_events("all").unwrap();
    assert!(all.contains(&EventTarget::System("irq".into())));
    assert_eq!(
        top.resolve_events("sched:").unwrap().len(),
        top.system_events("sched").unwrap().len()
    );
    match top.resolve_events("sched:sched_swich") {
        Err(Error::NoSuchEvent { suggestions, .. }) => {
            assert_eq!(
                suggestions.first().map(String::as_str),
                Some("sched:sched_switch")
            )
        }
        other => panic!("expected NoSuchEvent, got {other:?}"),
    }
    match top.resolve_events("shced") {
        Err(e @ Error::NoSuchEvent { .. }) => {
            assert!(e.to_string().contains("did you mean 'sched'"), "{e}")
        }
        other => panic!("expected NoSuchEvent, got {other:?}"),
    }
}

#[test]
fn tracers_are_checked_and_refusals_are_unavailable() {
    let Some((_lock, fs)) = live() else { return };
    let (_scratch, inst) = ScratchInstance::new(&fs, "tracer");
    let before = fingerprint(&fs);
    match inst.set_tracer("functoin") {
        Err(Error::NoSuchTracer {
            available,
            suggestions,
            ..
        }) => {
            assert!(available.contains(&"nop".to_string()));
            if available.contains(&"function".to_string()) {
                assert_eq!(suggestions, ["function"]);
            }
        }
        other => panic!("expected NoSuchTracer, got {other:?}"),
    }
    assert!(
        !inst.set_tracer("nop").unwrap(),
        "nop is already set: nothing written"
    );
    // On kernels that list the function tracer but refuse it (this machine: EPERM), the
    // refusal reads as "not available"; where it works, the session puts nop back.
    if inst
        .available_tracers()
        .unwrap()
        .contains(&"function".to_string())
    {
        let mut s = Session::new(&fs);
        match s.set_tracer(&inst, "function") {
            Ok(changed) => assert!(changed),
            Err(e) => assert!(e.is_unavailable(), "{e}"),
        }
        s.restore().unwrap();
    }
    assert_same(&before, &fingerprint(&fs));
}

#[test]
fn ftrace_enabled_is_read_before_it_is_written() {
    let Some((_lock, fs)) = live() else { return };
    let path = Path::new("/proc/sys/kernel/ftrace_enabled");
    if !path.exists() {
        return;
    }
    let cur = std::fs::read_to_string(path).unwrap().trim().to_string();
    let mut s = Session::new(&fs);
    // The value it holds: no write, hence no EPERM on kernels that refuse writes to it
    // (this one), which is where trace-cmd's record and start die.
    assert!(!s.set_proc_value(path, &cur).unwrap());
    s.restore().unwrap();
}

#[test]
fn markers_land_in_the_instance_buffer() {
    let Some((_lock, fs)) = live() else { return };
    let (_scratch, inst) = ScratchInstance::new(&fs, "marker");
    let before = fingerprint(&fs);
    let mut s = Session::new(&fs);
    s.set_tracing_on(&inst, true).unwrap();
    let text = format!("rtrace marker {}", std::process::id());
    inst.marker(&text).unwrap();
    if inst.exists("trace_marker_raw") {
        inst.marker_raw(0x1234, b"raw payload").unwrap();
    }
    let trace = inst.read("trace").unwrap();
    assert!(trace.contains(&text), "marker not in the trace:\n{trace}");
    let total: u64 = inst
        .cpus()
        .unwrap()
        .into_iter()
        .map(|c| inst.per_cpu(c).stats().unwrap().entries.unwrap_or(0))
        .sum();
    assert!(total >= 1, "per-CPU stats count no entries");
    inst.clear_trace().unwrap();
    assert!(!inst.read("trace").unwrap().contains(&text));
    s.restore().unwrap();
    assert_same(&before, &fingerprint(&fs));
}

#[test]
fn set_event_pid_limits_events_to_a_task() {
    let Some((_lock, fs)) = live() else { return };
    let (_scratch, inst) = ScratchInstance::new(&fs, "pid");
    let before = fingerprint(&fs);
    let mut s = Session::new(&fs);
    // The kernel filters on the thread (this test's), not the process.
    let me = nix::unistd::gettid().as_raw() as u32;
    s.set_event_pids(&inst, &[me]).unwrap();
    s.enable_event(&inst, &EventTarget::Event(ev("ftrace", "print")), true)
        .optional()
        .unwrap();
    s.enable_event(&inst, &EventTarget::System("syscalls".into()), true)
        .unwrap();
    s.set_tracing_on(&inst, true).unwrap();
    // Some system calls of this task, and of another one.
    let _ = std::fs::metadata("/");
    std::process::Command::new("true").status().unwrap();
    s.set_tracing_on(&inst, false).unwrap();
    let trace = inst.read("trace").unwrap();
    let lines: Vec<&str> = trace.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(!lines.is_empty(), "no events recorded");
    for l in &lines {
        assert!(
            l.contains(&format!("-{me} ")),
            "an event of another task: {l}"
        );
    }
    inst.clear_trace().unwrap();
    s.restore().unwrap();
    assert_same(&before, &fingerprint(&fs));
}

#[test]
fn uprobes_are_defined_enabled_and_removed() {
    let Some((_lock, fs)) = live() else { return };
    if !fs.has_probes(ProbeKind::Uprobe) {
        // Checked on kernels without uprobes by the qemu lane and the fake tracefs tests.
        return;
    }
    let (_scratch, inst) = ScratchInstance::new(&fs, "uprobe");
    let log_was_empty = fs.top().read("error_log").unwrap().trim().is_empty();
    let before = fingerprint(&fs);
    let name = format!("rtrace_up_{}", std::process::id());
    let mut s = Session::new(&fs);
    let created = s
        .add_probe(ProbeKind::Uprobe, &format!("p:{name} /bin/true:0x10 a=%ax"))
        .unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].event(), ev("uprobes", &name));
    let target = EventTarget::Event(created[0].event());
    s.enable_event(&inst, &target, true).unwrap();
    assert_eq!(inst.event_enabled(&target).unwrap(), EnableState::On);
    match s.add_probe(
        ProbeKind::Uprobe,
        &format!("p:{name}_bad /bin/true:0x10 x=%zz"),
    ) {
        Err(Error::Write { log: Some(log), .. }) => {
            assert!(log.message.contains("Invalid register name"), "{log}");
            assert_eq!(&log.command[log.position.unwrap()..], "%zz");
        }
        other => panic!("expected the kernel's refusal, got {other:?}"),
    }
    s.restore().unwrap();
    if log_was_empty {
        fs.top().clear_error_log().unwrap();
    }
    assert!(fs.find_probes(ProbeKind::Uprobe, &name).is_err());
    assert_same(&before, &fingerprint(&fs));
}

#[test]
fn triggers_with_counts_and_filters_go_and_come_back() {
    let Some((_lock, fs)) = live() else { return };
    let (_scratch, inst) = ScratchInstance::new(&fs, "trigger");
    let e = ev("sched", "sched_process_fork");
    let mut setup = Session::new(&fs);
    // Filters that never match: a trigger that fires would change its count (or tracing_on).
    setup
        .add_event_trigger(&inst, &e, "traceoff:7 if parent_pid == 999999999")
        .unwrap();
    setup
        .add_event_trigger(&inst, &e, "stacktrace:3 if parent_pid == 999999998")
        .unwrap();
    let exec = ev("sched", "sched_process_exec");
    setup
        .add_event_trigger(&inst, &exec, "traceon if pid == 999999997")
        .unwrap();
    setup.keep();
    let before = fingerprint(&fs);
    let mut s = Session::new(&fs);
    s.clear_event_triggers(&inst, &e).unwrap();
    s.clear_event_triggers(&inst, &exec).unwrap();
    assert!(inst.event_triggers(&e).unwrap().is_empty());
    s.restore().unwrap();
    assert_same(&before, &fingerprint(&fs));
}
