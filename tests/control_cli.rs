//! The tracefs subcommands on this machine's kernel, and against trace-cmd where it works
//! here. Every test takes the cross-process tracefs lock, saves every setting first (a
//! `tracefs::Session` that restores on drop, also when the test panics) and proves with a
//! fingerprint that the kernel is left as it was found.
//!
//! Kernel features this kernel lacks (kprobes, snapshot, dynamic debug, function tracing)
//! give real "not supported" errors here; the qemu lane (tools/qemu/control-lane.sh) runs
//! them where they exist. A fake tracefs (`RTRACE_TRACEFS`) is used only for error paths a
//! real kernel does not produce on demand.

#[path = "../tracefs/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::guard::Guard;
use common::ScratchInstance;
use tracefs::{EventId, EventTarget, Session, Tracefs};

fn rtrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtrace-cmd"))
        .args(args)
        .env_remove("RTRACE_TRACEFS")
        .output()
        .expect("running rtrace-cmd")
}

fn rtrace_env(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rtrace-cmd"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("running rtrace-cmd")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

fn fails(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(1),
        "expected status 1:\nstdout: {}\nstderr: {}",
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stderr)
}

/// trace-cmd 3.3.1 (Debian 13), whose output spelling rtrace-cmd follows.
fn reference_3_3() -> PathBuf {
    if let Some(p) = std::env::var_os("RTRACE_REF_3_3") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let p = Path::new(&home).join(".local/trace-cmd-3.3/trace-cmd-deb13");
    assert!(
        p.exists(),
        "{} is missing: install the references with tools/install-references.sh (or set RTRACE_REF_3_3)",
        p.display()
    );
    p
}

/// Debian 12's trace-cmd 3.1.6, the one that dies on this kernel.
fn reference_3_1() -> PathBuf {
    std::env::var_os("RTRACE_REF_3_1")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("trace-cmd"))
}

/// Whether this kernel refuses writes to /proc/sys/kernel/ftrace_enabled (where trace-cmd's
/// start and record die). Writing the value it holds changes nothing where it is allowed.
fn ftrace_enabled_refused() -> bool {
    let p = Path::new("/proc/sys/kernel/ftrace_enabled");
    let Ok(cur) = std::fs::read_to_string(p) else {
        return false;
    };
    std::fs::write(p, cur.trim()).is_err()
}

fn read(fs: &Tracefs, f: &str) -> String {
    fs.top().read(f).unwrap().trim().to_string()
}

#[test]
fn start_and_reset_work_where_trace_cmd_dies() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Guard::new(&fs);
    let refused = ftrace_enabled_refused();
    if refused {
        // trace-cmd 3.1.6 writes ftrace_enabled without reading it and dies.
        let o = Command::new(reference_3_1())
            .args(["start", "-e", "sched"])
            .output()
            .expect("running trace-cmd 3.1.6 (tools/install-references.sh)");
        assert!(!o.status.success(), "trace-cmd start worked here?");
        assert!(
            text(&o.stderr).contains("Operation not permitted"),
            "{}",
            text(&o.stderr)
        );
    }

    ok(&rtrace(&["start", "-e", "sched"]));
    assert_eq!(read(&fs, "events/sched/enable"), "1");
    assert_eq!(read(&fs, "tracing_on"), "1");
    // Recording: some scheduling happens while we wait for it.
    let mut seen = false;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        if fs.top().read("trace").unwrap().contains("sched_switch:") {
            seen = true;
            break;
        }
    }
    assert!(seen, "no sched_switch in the buffer after start -e sched");
    let stat = ok(&rtrace(&["stat"]));
    assert!(stat.contains("Individual systems:\n   sched\n"), "{stat}");

    if refused {
        // trace-cmd 3.1.6's reset dies on set_ftrace_filter (EPERM) before turning tracing
        // back on.
        let o = Command::new(reference_3_1()).arg("reset").output().unwrap();
        assert!(!o.status.success(), "trace-cmd reset worked here?");
        assert!(
            text(&o.stderr).contains("set_ftrace_filter"),
            "{}",
            text(&o.stderr)
        );
        // Put back what it changed before dying, to test our reset from start's state.
        ok(&rtrace(&["start", "-e", "sched"]));
    }

    ok(&rtrace(&["reset"]));
    assert_eq!(read(&fs, "events/enable"), "0");
    assert_eq!(read(&fs, "tracing_on"), "1");
    assert_eq!(read(&fs, "current_tracer"), "nop");
    assert!(fs
        .top()
        .read("trace")
        .unwrap()
        .lines()
        .all(|l| l.starts_with('#')));
    let stat = ok(&rtrace(&["stat"]));
    assert!(stat.contains("Events:\n All disabled\n"), "{stat}");
    guard.finish();
}

/// Runs the same command with rtrace-cmd and trace-cmd 3.3.1 and compares stdout and status.
fn same_as_trace_cmd(args: &[&str]) {
    let mine = rtrace(args);
    let theirs = Command::new(reference_3_3())
        .args(args)
        .output()
        .expect("running trace-cmd 3.3.1");
    assert_eq!(
        text(&mine.stdout),
        text(&theirs.stdout),
        "rtrace-cmd {} differs from trace-cmd (stderr: {})",
        args.join(" "),
        text(&mine.stderr)
    );
    assert_eq!(
        mine.status.success(),
        theirs.status.success(),
        "{}: {}",
        args.join(" "),
        text(&mine.stderr)
    );
}

#[test]
fn stat_show_and_list_print_what_trace_cmd_prints() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Guard::new(&fs);
    let (_scratch, inst) = ScratchInstance::new(&fs, "cmp");
    let name = inst.name().unwrap().to_string();
    let ev = |s: &str, n: &str| EventId {
        system: s.into(),
        name: n.into(),
    };
    let mut s = Session::new(&fs);
    s.enable_event(
        &inst,
        &EventTarget::Event(ev("sched", "sched_switch")),
        true,
    )
    .unwrap();
    s.enable_event(&inst, &EventTarget::Event(ev("timer", "timer_start")), true)
        .unwrap();
    s.enable_event(&inst, &EventTarget::System("irq".into()), true)
        .unwrap();
    s.set_event_filter(
        &inst,
        &EventTarget::Event(ev("sched", "sched_switch")),
        Some("prev_pid == 999999"),
    )
    .unwrap();
    s.add_event_trigger(
        &inst,
        &ev("sched", "sched_wakeup"),
        "stacktrace if pid == 999999",
    )
    .unwrap();
    s.set_clock(&inst, "global").unwrap();
    s.set_buffer_size_kb(&inst, 512).unwrap();
    s.set_cpumask(&inst, &tracefs::CpuMask::from_cpus([0]))
        .unwrap();
    s.set_event_pids(&inst, &[1, std::process::id()]).unwrap();
    s.set_option(&inst, "stacktrace", true).unwrap();
    s.set_tracing_on(&inst, false).unwrap();

    for args in [
        vec!["stat"],
        vec!["stat", "-B", &name],
        vec!["stat", "-B", &name, "-o"],
        vec!["stat", "-t", "-B", &name],
        vec![
            "show",
            "-B",
            &name,
            "--tracing_on",
            "--current_tracer",
            "--buffer_size",
            "--buffer_total_size",
            "--cpumask",
            "--buffer_percent",
        ],
        vec!["show", "--tracing_on", "-B", &name, "--tracing_on"],
        vec!["show", "-B", &name, "--trigger", "sched_wakeup"],
        vec!["show", "-B", &name, "-f", "-c", "0"],
        vec!["list", "-B"],
        vec!["list", "-C"],
        vec!["list", "-o"],
        vec!["list", "-t"],
        vec!["list", "-s"],
        vec!["list", "-e"],
        vec!["list", "-e", "sched"],
        vec!["list", "-e", "sched:"],
        vec!["list", "-e", "sched:sched_w"],
        vec!["list", "-e", "^irq$"],
        vec!["list", "-e", "ftrace"],
        vec!["list", "-e", "wakeup"],
        vec!["list", "-e", "sched_switch", "-F"],
        vec!["list", "-e", "sched_switch", "-F", "--full"],
        vec!["list", "-e", "sched_wakeup", "-R"],
        vec!["list", "-e", "sched_switch", "-l"],
        vec!["options"],
        vec!["list", "-O"],
    ] {
        same_as_trace_cmd(&args);
    }

    // The top level in a state with filters and triggers of its own.
    s.set_event_filter(
        &fs.top(),
        &EventTarget::Event(ev("sched", "sched_switch")),
        Some("next_pid == 999998"),
    )
    .unwrap();
    s.add_event_trigger(
        &fs.top(),
        &ev("sched", "sched_wakeup"),
        "traceon if pid == 999997",
    )
    .unwrap();
    s.enable_event(&fs.top(), &EventTarget::System("timer".into()), true)
        .unwrap();
    for args in [
        vec!["stat"],
        vec!["stat", "-o"],
        vec!["list", "-e", "sched_switch", "-l"],
        vec!["list", "-e", "sched_wakeup", "-R"],
    ] {
        same_as_trace_cmd(&args);
    }
    s.restore().unwrap();
    drop(_scratch);
    guard.finish();
}

#[test]
fn stop_restart_and_clear_act_on_the_selected_instances() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Guard::new(&fs);
    let (_a, a) = ScratchInstance::new(&fs, "sa");
    let (_b, b) = ScratchInstance::new(&fs, "sb");
    let an = a.name().unwrap().to_string();
    // The top level may be on or off here; either way -B leaves it alone.
    let top_on = fs.top().tracing_on().unwrap();
    ok(&rtrace(&["stop", "-B", &an]));
    assert!(!a.tracing_on().unwrap());
    assert!(b.tracing_on().unwrap());
    assert_eq!(fs.top().tracing_on().unwrap(), top_on);
    ok(&rtrace(&["restart", "-B", &an]));
    assert!(a.tracing_on().unwrap());
    // -a alone covers the top level too, as trace-cmd's does.
    ok(&rtrace(&["stop", "-a"]));
    assert!(!a.tracing_on().unwrap() && !b.tracing_on().unwrap());
    assert!(!fs.top().tracing_on().unwrap());
    ok(&rtrace(&["restart", "-a"]));
    assert!(a.tracing_on().unwrap() && b.tracing_on().unwrap());
    assert!(fs.top().tracing_on().unwrap());

    a.marker("rtrace-clear-test").unwrap();
    b.marker("rtrace-clear-test").unwrap();
    ok(&rtrace(&["clear", "-B", &an]));
    assert!(!a.read("trace").unwrap().contains("rtrace-clear-test"));
    assert!(b.read("trace").unwrap().contains("rtrace-clear-test"));
    let e = fails(&rtrace(&["stop", "-B", "rtrace-no-such-instance"]));
    assert!(
        e.contains("no tracing instance 'rtrace-no-such-instance'"),
        "{e}"
    );
    drop((_a, _b));
    guard.finish();
}

#[test]
fn start_in_an_instance_with_filters_triggers_and_settings() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Guard::new(&fs);
    let name = common::scratch_name("start");
    ok(&rtrace(&[
        "start",
        "-B",
        &name,
        "-e",
        "sched:sched_switch",
        "-f",
        "prev_pid == 0",
        "-f",
        "next_pid != 0",
        "-R",
        "stacktrace if prev_pid == 999999",
        "-e",
        "irq",
        "-C",
        "mono",
        "-b",
        "300",
        "-O",
        "sym-offset",
        "-O",
        "noirq-info",
        "-M",
        "1",
        "-T",
    ]));
    let inst = fs.instance(Some(&name)).unwrap();
    let sw = EventTarget::Event(EventId {
        system: "sched".into(),
        name: "sched_switch".into(),
    });
    assert_eq!(
        inst.event_filter(&sw).unwrap().as_deref(),
        Some("(prev_pid == 0)&&(next_pid != 0)")
    );
    assert_eq!(
        inst.event_triggers(&EventId {
            system: "sched".into(),
            name: "sched_switch".into()
        })
        .unwrap(),
        ["stacktrace:unlimited if prev_pid == 999999"]
    );
    assert_eq!(inst.read_trimmed("events/irq/enable").unwrap(), "1");
    assert_eq!(inst.clock().unwrap().current, "mono");
    assert!(inst.option("sym-offset").unwrap());
    assert!(!inst.option("irq-info").unwrap());
    assert!(inst.option("stacktrace").unwrap());
    assert_eq!(inst.cpumask().unwrap().to_string(), "1");
    assert!(inst.tracing_on().unwrap());
    // The top level did not take part.
    assert_eq!(read(&fs, "events/sched/sched_switch/enable"), "0");
    // reset -B NAME -d resets the instance and deletes it.
    ok(&rtrace(&["reset", "-B", &name, "-d"]));
    assert!(fs.instance(Some(&name)).is_err());
    guard.finish();
}

#[test]
fn a_failed_start_puts_everything_back() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Guard::new(&fs);
    let name = common::scratch_name("fail");
    // The event is misspelt: nothing may change, not even the instance may stay.
    let e = fails(&rtrace(&[
        "start",
        "-B",
        &name,
        "-e",
        "irq",
        "-e",
        "sched:sched_swich",
    ]));
    assert!(
        e.contains("no event matches 'sched:sched_swich'; did you mean")
            && e.contains("'sched:sched_switch'"),
        "{e}"
    );
    assert!(fs.instance(Some(&name)).is_err());
    // A tracer that does not exist.
    let e = fails(&rtrace(&["start", "-e", "sched", "-p", "functoin"]));
    assert!(e.contains("tracer 'functoin' is not available"), "{e}");
    // An option the kernel refuses half-way (after events were enabled and the buffer
    // cleared): the session undoes the events.
    let e = fails(&rtrace(&["start", "-e", "sched", "-O", "stacktrase"]));
    assert!(e.contains("did you mean 'stacktrace'"), "{e}");
    let e = fails(&rtrace(&[
        "start",
        "-B",
        &name,
        "-e",
        "sched",
        "-f",
        "no_field == 1",
    ]));
    assert!(
        e.contains("Field not found") || e.contains("subsystem"),
        "{e}"
    );
    assert!(fs.instance(Some(&name)).is_err());
    guard.finish();
}

#[test]
fn set_changes_only_what_it_is_given_and_v_b_deletes() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Guard::new(&fs);
    let (scratch, inst) = ScratchInstance::new(&fs, "set");
    let name = inst.name().unwrap().to_string();
    inst.set_tracing_on(false).unwrap();
    inst.enable_event(&EventTarget::System("timer".into()), true)
        .unwrap();
    ok(&rtrace(&["set", "-B", &name, "-e", "sched:sched_switch"]));
    assert_eq!(
        inst.read_trimmed("events/sched/sched_switch/enable")
            .unwrap(),
        "1"
    );
    assert_eq!(
        inst.read_trimmed("events/timer/enable").unwrap(),
        "1",
        "set must not disable others"
    );
    assert!(!inst.tracing_on().unwrap(), "set must not touch tracing_on");
    ok(&rtrace(&["set", "-v", "-B", &name]));
    assert!(fs.instance(Some(&name)).is_err());
    drop(scratch);
    guard.finish();
}

#[test]
fn start_with_a_command_traces_only_that_command() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Guard::new(&fs);
    let name = common::scratch_name("cmd");
    ok(&rtrace(&[
        "start",
        "-B",
        &name,
        "-e",
        "sched:sched_process_exec",
        "-e",
        "syscalls:sys_enter_exit_group",
        "-F",
        "/bin/true",
    ]));
    let inst = fs.instance(Some(&name)).unwrap();
    let trace = inst.read("trace").unwrap();
    let lines: Vec<&str> = trace.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("sched_process_exec") && l.contains("filename=/bin/true")),
        "{trace}"
    );
    let pid = inst.event_pids().unwrap();
    assert_eq!(pid.len(), 1);
    for l in &lines {
        assert!(
            l.contains(&format!("-{} ", pid[0])),
            "an event of another task: {l}"
        );
    }
    ok(&rtrace(&["reset", "-B", &name, "-d"]));
    guard.finish();
}

#[test]
fn uprobes_from_the_command_line() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    if !fs.has_probes(tracefs::ProbeKind::Uprobe) {
        return;
    }
    let log_was_empty = read(&fs, "error_log").is_empty();
    let guard = Guard::new(&fs);
    let name = format!("rtrace_cli_{}", std::process::id());
    let out = ok(&rtrace(&[
        "uprobe",
        &format!("p:{name} /bin/true:0x10 ax=%ax"),
    ]));
    assert_eq!(out, format!("uprobes:{name}\n"));
    let listed = ok(&rtrace(&["uprobe", "-l"]));
    assert!(
        listed.contains(&format!("p:uprobes/{name} /bin/true:0x")),
        "{listed}"
    );
    let e = fails(&rtrace(&[
        "uprobe",
        &format!("p:{name}2 /bin/true:0x10 x=%zz"),
    ]));
    // The kernel's reason and its caret under the bad argument.
    assert!(
        e.contains("trace_uprobe: error: Invalid register name"),
        "{e}"
    );
    let caret = e.lines().find(|l| l.trim() == "^").expect("caret line");
    let cmd = e.lines().find(|l| l.starts_with("  Command: ")).unwrap();
    assert_eq!(&cmd[caret.find('^').unwrap()..], "%zz");
    ok(&rtrace(&["uprobe", "-r", &name]));
    assert!(!ok(&rtrace(&["uprobe", "-l"])).contains(&name));
    let e = fails(&rtrace(&["uprobe", "-r", &name]));
    assert!(e.contains(&format!("no uprobe named '{name}'")), "{e}");
    if log_was_empty {
        fs.top().clear_error_log().unwrap();
    }
    guard.finish();
}

#[test]
fn missing_kernel_features_are_named() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Guard::new(&fs);
    if !fs.has_probes(tracefs::ProbeKind::Kprobe) {
        let e = fails(&rtrace(&["kprobe", "p:rt do_sys_openat2"]));
        assert!(e.contains("kprobes: not supported by this kernel"), "{e}");
        assert!(e.contains("CONFIG_KPROBE_EVENTS"), "{e}");
        let e = fails(&rtrace(&["start", "--kprobe", "p:rt do_sys_openat2"]));
        assert!(e.contains("kprobes: not supported"), "{e}");
    }
    if !fs.top().has_snapshot() {
        let e = fails(&rtrace(&["snapshot", "-s"]));
        assert!(e.contains("CONFIG_TRACER_SNAPSHOT"), "{e}");
    }
    if tracefs::DynDebug::open().is_err() {
        let e = fails(&rtrace(&["dyndbg", "module xfs +p"]));
        assert!(
            e.contains("dynamic debug: not supported by this kernel"),
            "{e}"
        );
    }
    if !fs
        .top()
        .available_tracers()
        .unwrap()
        .contains(&"function_graph".to_string())
    {
        let e = fails(&rtrace(&["start", "-p", "function_graph"]));
        assert!(
            e.contains("tracer 'function_graph' is not available on this kernel (available: "),
            "{e}"
        );
    }
    guard.finish();
}

#[test]
fn tracing_needs_root_says_so() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_rtrace-cmd"))
        .arg("stat")
        .env_remove("RTRACE_TRACEFS")
        .output()
        .expect("setpriv");
    let e = fails(&o);
    assert!(e.contains("tracing needs root"), "{e}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["start", "--bogus"],
        vec!["reset", "-x"],
        vec!["show", "-p", "-s"],
        vec!["snapshot", "-s", "-f"],
        vec!["stat", "extra"],
    ] {
        let o = rtrace(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
    }
    let e = fails(&rtrace(&["start", "-f", "pid == 1", "-e", "sched"]));
    assert!(e.contains("filter must come after event"), "{e}");
    let e = fails(&rtrace(&["start"]));
    assert!(e.contains("no event or plugin was specified"), "{e}");
}

/// A directory that looks like tracefs, for error paths only.
fn fake_tracefs() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtrace-fake-tracefs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let w = |rel: &str, content: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    };
    w("tracing_on", "1\n");
    w("current_tracer", "nop\n");
    w("available_tracers", "nop\n");
    w("trace_clock", "local global\n");
    w("buffer_size_kb", "lots\n");
    w("trace", "");
    w("per_cpu/cpu0/trace", "");
    w("events/enable", "0\n");
    w("events/sched/enable", "0\n");
    w("events/sched/filter", "none\n");
    w("events/sched/sched_switch/enable", "0\n");
    w("events/sched/sched_switch/filter", "none\n");
    dir
}

#[test]
fn damaged_tracefs_files_are_named() {
    let dir = fake_tracefs();
    let env = [("RTRACE_TRACEFS", dir.as_path())];
    // A clock list without the current clock in brackets.
    let e = fails(&rtrace_env(&["start", "-e", "sched", "-C", "global"], &env));
    assert!(e.contains("trace_clock: unexpected content"), "{e}");
    // A buffer size that is not a number.
    let e = fails(&rtrace_env(&["start", "-e", "sched", "-b", "100"], &env));
    assert!(
        e.contains("buffer_size_kb: unexpected content \"lots\""),
        "{e}"
    );
    // No instances directory: an old kernel.
    let e = fails(&rtrace_env(&["start", "-B", "x", "-e", "sched"], &env));
    assert!(
        e.contains("tracing instances: not supported by this kernel"),
        "{e}"
    );
    // No dynamic_events / uprobe_events.
    let e = fails(&rtrace_env(&["uprobe", "-l"], &env));
    assert!(e.contains("uprobes: not supported by this kernel"), "{e}");
    // The fake tracefs was set up in the right order and left as it was.
    assert_eq!(
        std::fs::read_to_string(dir.join("events/sched/enable"))
            .unwrap()
            .trim(),
        "0"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let e = fails(&rtrace_env(
        &["stat"],
        &[("RTRACE_TRACEFS", Path::new("/nonexistent"))],
    ));
    assert!(
        e.contains("RTRACE_TRACEFS=/nonexistent: not a directory"),
        "{e}"
    );
}
