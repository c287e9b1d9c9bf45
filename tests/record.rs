//! `rtrace-cmd record` on this machine's kernel (events work here; function tracers and
//! kprobes are tested in the qemu lane). Every test takes the cross-process tracefs lock and
//! checks with the state fingerprint (`tracefs/tests/common/state.rs`) that record left the
//! kernel as it found it: on success, on a failure half-way, on SIGINT and SIGTERM, and when
//! the output disk is full.
//!
//! What the files hold is checked against the kernel and the references:
//! - a known workload (N writes to `trace_marker` by the traced command) is found whole, by
//!   `rtrace-cmd report` and `trace-cmd report`, and each CPU's events in the file are the
//!   kernel's `read events` for it (nothing lost in user space), with nothing overrun;
//! - trace-cmd 3.1.6 and 3.3.1 `report` and `dump` read every version and compression
//!   record writes (3.1.6: not zlib), and print what `rtrace-cmd report` prints.

#[path = "../tracefs/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::guard::Guard;
use common::state::{diff, fingerprint};
use tracefs::Tracefs;

const BIN: &str = env!("CARGO_BIN_EXE_rtrace-cmd");
const TMP: &str = env!("CARGO_TARGET_TMPDIR");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn rtrace(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RTRACE_TRACEFS")
        .stdin(Stdio::null())
        .output()
        .expect("running rtrace-cmd")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stderr)
}

fn home_ref(name: &str) -> Option<PathBuf> {
    let h = std::env::var_os("HOME")?;
    let p = PathBuf::from(h).join(".local/trace-cmd-3.3").join(name);
    p.exists().then_some(p)
}

/// (3.1.6, 3.3.1), as tests/golden.rs finds them.
fn references() -> (PathBuf, PathBuf) {
    let r31 = std::env::var_os("RTRACE_REF_3_1")
        .map(PathBuf::from)
        .or_else(|| home_ref("trace-cmd-deb12"))
        .unwrap_or_else(|| PathBuf::from("trace-cmd"));
    let r33 = std::env::var_os("RTRACE_REF_3_3")
        .map(PathBuf::from)
        .or_else(|| home_ref("trace-cmd-deb13"))
        .expect("trace-cmd 3.3.1 (tools/install-references.sh, or RTRACE_REF_3_3)");
    (r31, r33)
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(TMP).join(format!("record-{name}"));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// The fingerprint before, compared after.
struct Unchanged {
    fs: Tracefs,
    before: String,
}

impl Unchanged {
    fn new(fs: &Tracefs) -> Unchanged {
        Unchanged {
            fs: fs.clone(),
            before: fingerprint(fs),
        }
    }

    fn check(&self, what: &str) {
        let after = fingerprint(&self.fs);
        assert!(
            self.before == after,
            "{what}: tracefs was not left as it was found:\n{}",
            diff(&self.before, &after)
        );
    }
}

fn report(program: &Path, pre: &[&str], file: &Path) -> (String, String) {
    let mut args = vec!["report"];
    args.extend_from_slice(pre);
    args.extend_from_slice(&["-i", file.to_str().unwrap()]);
    let o = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    assert!(
        o.status.success(),
        "{} report {}: {}",
        program.display(),
        file.display(),
        text(&o.stderr)
    );
    (text(&o.stdout), text(&o.stderr))
}

fn first_difference(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    match la.iter().zip(&lb).position(|(x, y)| x != y) {
        Some(i) => format!("line {}: {:?} vs {:?}", i + 1, la[i], lb[i]),
        None => format!("{} lines vs {} lines", la.len(), lb.len()),
    }
}

/// Both references read the file (`dump --all`, `report`) and print what rtrace-cmd prints.
fn check_with_references(file: &Path, zlib: bool) {
    let (r31, r33) = references();
    let ours33 = report(Path::new(BIN), &[], file).0;
    let ours31 = report(Path::new(BIN), &["--compat", "3.1"], file).0;
    let mut refs = vec![(&r33, &ours33)];
    if !zlib {
        refs.push((&r31, &ours31));
    }
    for (r, ours) in refs {
        let d = Command::new(r)
            .args(["dump", "--all", file.to_str().unwrap()])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            d.status.success(),
            "{} dump --all {}: {}",
            r.display(),
            file.display(),
            text(&d.stderr)
        );
        let theirs = report(r, &[], file).0;
        assert!(
            &theirs == ours,
            "{}: {} report differs from rtrace-cmd's: {}",
            file.display(),
            r.display(),
            first_difference(ours, &theirs)
        );
    }
}

/// Per CPU of the top buffer: (records in the file, the CPUSTAT "read events", overrun,
/// entries left).
fn per_cpu_counts(file: &Path) -> BTreeMap<u32, (u64, u64, u64, u64)> {
    let data = fs::read(file).unwrap();
    let f = tracedat::TraceFile::parse(&data).unwrap();
    let t = tracedat::TimeConfig::default();
    let mut m =
        tracedat::Merge::for_report(&[tracedat::Input { file: &f, time: &t }], false, |_| true)
            .unwrap();
    let mut out: BTreeMap<u32, (u64, u64, u64, u64)> = BTreeMap::new();
    while let Some((i, r)) = m.peek() {
        out.entry(r.cpu).or_default().0 += 1;
        m.consume(i);
    }
    for o in f.options() {
        if o.id != tracedat::file::options::id::CPUSTAT {
            continue;
        }
        let s = text(&o.data);
        let Some(cpu) = s
            .lines()
            .find_map(|l| l.strip_prefix("CPU: "))
            .and_then(|c| c.trim().parse().ok())
        else {
            continue;
        };
        let field = |k: &str| -> u64 {
            s.lines()
                .find_map(|l| l.strip_prefix(k))
                .and_then(|v| v.trim().trim_end_matches('\0').parse().ok())
                .unwrap_or_else(|| panic!("no {k} in {s:?}"))
        };
        let e = out.entry(cpu).or_default();
        e.1 = field("read events:");
        e.2 = field("overrun:");
        e.3 = field("entries:");
    }
    out
}

const MARKS: usize = 10_000;

/// The command's N writes to trace_marker are all in the file; every CPU's count is the
/// kernel's.
#[test]
fn a_known_workload_is_recorded_whole() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Unchanged::new(&fs);
    let dir = scratch("workload");
    let out = dir.join("marks.dat");
    let marker = fs.path("trace_marker");
    let script = format!(
        "i=0; while [ $i -lt {MARKS} ]; do echo \"rtrace-mark $i\"; i=$((i+1)); done > {}",
        marker.display()
    );
    let o = rtrace(&[
        "record",
        "-e",
        "sched:sched_process_exit",
        "-b",
        "4096",
        "-o",
        out.to_str().unwrap(),
        "sh",
        "-c",
        &script,
    ]);
    let err = ok(&o);
    assert!(err.contains("CPU0 data recorded at offset=0x"), "{err}");
    guard.check("record");

    let (r31, r33) = references();
    for (who, text) in [
        ("rtrace-cmd", report(Path::new(BIN), &[], &out).0),
        ("trace-cmd 3.3.1", report(&r33, &[], &out).0),
        ("trace-cmd 3.1.6", report(&r31, &[], &out).0),
    ] {
        let mut seen = vec![false; MARKS];
        for l in text.lines() {
            if let Some(i) = l.split("rtrace-mark ").nth(1) {
                let i: usize = i.trim().parse().unwrap();
                assert!(!seen[i], "{who}: mark {i} twice");
                seen[i] = true;
            }
        }
        let missing = seen.iter().filter(|s| !**s).count();
        assert_eq!(missing, 0, "{who}: {missing} of {MARKS} marks missing");
    }
    let counts = per_cpu_counts(&out);
    let mut total = 0;
    for (cpu, (in_file, read, overrun, entries)) in &counts {
        assert_eq!(
            (*in_file, *overrun, *entries),
            (*read, 0, 0),
            "CPU {cpu}: events in the file vs the kernel's read events (overrun, entries left)"
        );
        total += in_file;
    }
    assert!(total as usize >= MARKS, "{counts:?}");
    eprintln!(
        "workload: {MARKS} marks found; per CPU (file, kernel read, overrun, entries): {counts:?}"
    );
}

/// Every version and compression record writes is read by both references as rtrace-cmd
/// reads it; an instance is recorded beside the top buffer; sub-buffers of 16 KiB.
#[test]
fn every_format_is_read_by_trace_cmd() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Unchanged::new(&fs);
    let dir = scratch("formats");
    let inst = common::scratch_name("rec");
    // (name, options for the file and the top buffer, options of the instance, zlib, page
    // sizes of the top buffer and the instance)
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], bool, (u32, u32));
    let cases: &[Case] = &[
        ("v7zstd", &[], &[], false, (4096, 4096)),
        (
            "v7none",
            &["--compression", "none"],
            &[],
            false,
            (4096, 4096),
        ),
        (
            "v7zlib",
            &["--compression", "zlib"],
            &[],
            true,
            (4096, 4096),
        ),
        ("v6", &["--file-version", "6"], &[], false, (4096, 4096)),
        // Sub-buffers of 16 KiB (Linux 6.8+): the file's page size is the top buffer's; v7
        // gives each buffer its own, v6 has one for all.
        (
            "v7sub16",
            &["--subbuf-size", "16"],
            &[],
            false,
            (16384, 4096),
        ),
        (
            "v6sub16",
            &["--subbuf-size", "16", "--file-version", "6"],
            &["--subbuf-size", "16"],
            false,
            (16384, 16384),
        ),
    ];
    for (name, extra, inst_extra, zlib, sizes) in cases {
        if sizes.0 != 4096 && !fs.top().exists("buffer_subbuf_size_kb") {
            eprintln!("{name}: no buffer_subbuf_size_kb on this kernel, not checked");
            continue;
        }
        let out = dir.join(format!("{name}.dat"));
        let mut args = vec!["record", "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[
            "-e",
            "sched:sched_switch",
            "-e",
            "sched:sched_wakeup*",
            "-e",
            "syscalls:sys_enter_write",
            "-B",
            &inst,
            "-e",
            "sched:sched_process_*",
        ]);
        args.extend_from_slice(inst_extra);
        args.extend_from_slice(&[
            "sh",
            "-c",
            "for i in 1 2 3; do echo $i | cat > /dev/null; done; sleep 0.05",
        ]);
        let err = ok(&rtrace(&args));
        assert!(err.contains(&format!("Buffer: {inst}")), "{name}: {err}");
        guard.check(name);
        let data = fs::read(&out).unwrap();
        let f = tracedat::TraceFile::parse(&data).unwrap();
        assert_eq!(f.buffers().len(), 2, "{name}: top and the instance");
        assert_eq!(f.buffers()[1].name, inst);
        assert_eq!(
            f.header().page_size,
            sizes.0,
            "{name}: the file's page size"
        );
        assert_eq!(
            (f.buffers()[0].page_size, f.buffers()[1].page_size),
            *sizes,
            "{name}: the buffers' page sizes"
        );
        check_with_references(&out, *zlib);
    }

    // v6 has one page size: buffers that differ are refused before anything is recorded.
    let out = dir.join("v6mixed.dat");
    let o = rtrace(&[
        "record",
        "--file-version",
        "6",
        "-o",
        out.to_str().unwrap(),
        "--subbuf-size",
        "16",
        "-e",
        "sched:sched_switch",
        "-B",
        &inst,
        "-e",
        "sched:sched_switch",
        "true",
    ]);
    if fs.top().exists("buffer_subbuf_size_kb") {
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("one page size"),
            "{}",
            text(&o.stderr)
        );
        assert!(!out.exists());
        guard.check("v6 with two page sizes");
    }
}

/// A failure half-way (an unknown event after a valid one; a filter the kernel refuses
/// after events were enabled) leaves the kernel as it was and no file.
#[test]
fn a_failure_half_way_puts_everything_back() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Unchanged::new(&fs);
    let dir = scratch("fail");
    let out = dir.join("t.dat");
    let inst = common::scratch_name("fail");
    for args in [
        vec!["-e", "sched:sched_switch", "-e", "sched:no_such_event"],
        vec![
            "-B",
            &inst,
            "-e",
            "sched:sched_switch",
            "-e",
            "irq:irq_handler_entry",
            "-f",
            "no_such_field == 1",
        ],
    ] {
        let mut a = vec!["record", "-o", out.to_str().unwrap()];
        a.extend_from_slice(&args);
        a.extend_from_slice(&["sleep", "0.01"]);
        let o = rtrace(&a);
        assert_eq!(o.status.code(), Some(1), "{a:?}: {}", text(&o.stderr));
        guard.check(&format!("{args:?}"));
        assert!(
            fs::read_dir(&dir).unwrap().next().is_none(),
            "{args:?}: a file was left"
        );
    }
}

/// Without a command, record runs until a signal; SIGINT and SIGTERM both end it with the
/// file written and the kernel put back.
#[test]
fn signals_end_the_recording_cleanly() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Unchanged::new(&fs);
    let dir = scratch("signals");
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        let out = dir.join(format!("{sig}.dat"));
        let mut child = Command::new(BIN)
            .args(["record", "-e", "sched", "-o", out.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // It says when it records.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "Hit Ctrl^C to stop recording\n");
        std::thread::sleep(Duration::from_millis(200));
        kill(Pid::from_raw(child.id() as i32), sig).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "{sig}: {:?} {}",
            o.status,
            text(&o.stderr)
        );
        guard.check(&format!("{sig}"));
        let data = fs::read(&out).unwrap();
        let f = tracedat::TraceFile::parse(&data).unwrap();
        assert!(
            !f.buffers()[0].cpus().is_empty(),
            "{sig}: sched events of 200 ms recorded"
        );
    }
}

/// A full output disk: a clear error naming the file and what was being written, the
/// kernel put back, no file that looks complete (nor spool files) left behind. Once with
/// the data spooled elsewhere and the file not fitting, once with the spool filling it.
#[test]
fn a_full_disk_fails_cleanly() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Unchanged::new(&fs);
    let dir = scratch("full");
    let small = dir.join("small");
    fs::create_dir_all(&small).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&small)
        .status()
        .is_ok_and(|s| s.success());
    assert!(mounted, "mounting a 1 MiB tmpfs (needs root)");
    let spool = dir.join("spool");
    fs::create_dir_all(&spool).unwrap();
    let out = small.join("t.dat");
    let busy = "i=0; while [ $i -lt 3000 ]; do echo $i > /dev/null; i=$((i+1)); done";
    let cases: [(&str, Vec<&str>); 2] = [
        (
            "the file",
            vec!["--compression", "none", "--temp", spool.to_str().unwrap()],
        ),
        ("the spool", vec!["-b", "8192"]),
    ];
    for (what, extra) in cases {
        let mut a = vec![
            "record",
            "-e",
            "sched",
            "-e",
            "syscalls",
            "-o",
            out.to_str().unwrap(),
        ];
        a.extend_from_slice(&extra);
        a.extend_from_slice(&["sh", "-c", busy]);
        let o = rtrace(&a);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains("No space left on device"), "{what}: {err}");
        assert!(err.contains(small.to_str().unwrap()), "{what}: {err}");
        guard.check(what);
        let left: Vec<_> = fs::read_dir(&small)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{what}: left behind: {left:?}");
        assert!(fs::read_dir(&spool).unwrap().next().is_none());
    }
    let _ = Command::new("umount").arg(&small).status();
    let started = Instant::now();
    while Command::new("mountpoint")
        .arg("-q")
        .arg(&small)
        .status()
        .is_ok_and(|s| s.success())
        && started.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// extract after start: -k keeps the setup, the top buffer and an instance in one file read
/// by both references as by rtrace-cmd; without -k tracing is disabled afterwards, as
/// trace-cmd's extract does. Nothing but what extract is meant to change is changed.
#[test]
fn extract_reads_what_start_set_up() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Guard::new(&fs);
    let dir = scratch("extract");
    let inst = common::scratch_name("ext");
    ok(&rtrace(&[
        "start",
        "-e",
        "sched",
        "-B",
        &inst,
        "-e",
        "irq",
        "-e",
        "sched_switch",
    ]));
    let w = Command::new("sh")
        .args([
            "-c",
            "for i in 1 2 3; do ls / > /dev/null; sleep 0.02; done",
        ])
        .status()
        .unwrap();
    assert!(w.success());
    ok(&rtrace(&["stop", "-a", "-t"]));
    let setup = fingerprint(&fs);
    let kept = dir.join("kept.dat");
    ok(&rtrace(&[
        "extract",
        "-k",
        "-a",
        "-o",
        kept.to_str().unwrap(),
    ]));
    let after = fingerprint(&fs);
    assert!(
        setup == after,
        "extract -k changed tracefs:\n{}",
        diff(&setup, &after)
    );
    let data = fs::read(&kept).unwrap();
    let f = tracedat::TraceFile::parse(&data).unwrap();
    let names: Vec<&str> = f.buffers().iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["", inst.as_str()]);
    assert!(
        f.buffers().iter().all(|b| !b.cpus().is_empty()),
        "both buffers have data"
    );
    check_with_references(&kept, false);

    // Without -k: the instance's tracing is disabled and its buffer cleared.
    let plain = dir.join("plain.dat");
    ok(&rtrace(&[
        "extract",
        "-B",
        &inst,
        "-o",
        plain.to_str().unwrap(),
    ]));
    let i = fs.instance(Some(&inst)).unwrap();
    assert_eq!(i.read_trimmed("set_event").unwrap(), "");
    assert!(!i.tracing_on().unwrap());
    let data = fs::read(&plain).unwrap();
    let f = tracedat::TraceFile::parse(&data).unwrap();
    let names: Vec<&str> = f.buffers().iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        ["", inst.as_str()],
        "an empty top buffer, then the instance"
    );
    assert!(f.buffers()[0].cpus().is_empty());
    check_with_references(&plain, false);
    guard.finish();
}

/// stream prints events while the command runs: the command waits for a file the test only
/// creates once stream has printed the command's first marker. Both markers are printed in
/// report's format, the exit status is the command's, and the kernel is put back.
#[test]
fn stream_prints_events_as_they_come() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Unchanged::new(&fs);
    let dir = scratch("stream");
    let go = dir.join("go");
    let marker = fs.path("trace_marker");
    let script = format!(
        "echo stream-mark-1 > {m}; while [ ! -e {go} ]; do sleep 0.02; done; \
         echo stream-mark-2 > {m}; exit 3",
        m = marker.display(),
        go = go.display()
    );
    let mut child = Command::new(BIN)
        .args([
            "stream",
            "-e",
            "sched:sched_process_exit",
            "sh",
            "-c",
            &script,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A stream that never prints the first marker would wait forever: end it after a minute.
    let pid = child.id() as i32;
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            let t = Instant::now();
            while !done.load(Ordering::Relaxed) {
                if t.elapsed() > Duration::from_secs(60) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        })
    };
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("stream-mark-1") {
            fs::write(&go, "").unwrap();
        }
        lines.push(line);
    }
    let o = child.wait_with_output().unwrap();
    done.store(true, Ordering::Relaxed);
    assert!(
        !watchdog.join().unwrap(),
        "stream did not print the first marker live"
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    for m in ["stream-mark-1", "stream-mark-2"] {
        let l: Vec<&String> = lines.iter().filter(|l| l.contains(m)).collect();
        assert_eq!(l.len(), 1, "{m}: {l:?}");
        assert!(
            l[0].contains(": tracing_mark_write: ") || l[0].contains("print:"),
            "{m}: {}",
            l[0]
        );
    }
    assert!(!lines.iter().any(|l| l.starts_with("cpus=")));
    guard.check("stream");
}

/// -m keeps the newest data only: between half of the size and all of it per CPU, and the
/// markers found are the last ones written, without a gap.
#[test]
fn max_size_keeps_the_newest_data() {
    let Some((_lock, fs)) = common::live() else {
        return;
    };
    let guard = Unchanged::new(&fs);
    let dir = scratch("max");
    let out = dir.join("m.dat");
    let marker = fs.path("trace_marker");
    let script = format!(
        "i=0; while [ $i -lt {MARKS} ]; do echo \"rtrace-mark $i\"; i=$((i+1)); done > {}",
        marker.display()
    );
    let err = ok(&rtrace(&[
        "record",
        "-m",
        "64",
        "-b",
        "4096",
        "-e",
        "sched:sched_process_exit",
        "--compression",
        "none",
        "-o",
        out.to_str().unwrap(),
        "taskset",
        "-c",
        "0",
        "sh",
        "-c",
        &script,
    ]));
    guard.check("record -m");
    let data = fs::read(&out).unwrap();
    let f = tracedat::TraceFile::parse(&data).unwrap();
    let cpu0 = f.buffers()[0]
        .cpus()
        .iter()
        .find(|c| c.cpu == 0)
        .map_or(0, |c| c.size);
    assert!(
        (32 << 10..=(64 << 10) + 4096).contains(&cpu0),
        "CPU 0 keeps {cpu0} bytes with -m 64: {err}"
    );
    let text = report(Path::new(BIN), &[], &out).0;
    let marks: Vec<usize> = text
        .lines()
        .filter_map(|l| l.split("rtrace-mark ").nth(1))
        .map(|m| m.trim().parse().unwrap())
        .collect();
    assert!(!marks.is_empty());
    let first = marks[0];
    assert!(first > 0, "the oldest markers are dropped");
    assert_eq!(
        marks,
        (first..MARKS).collect::<Vec<_>>(),
        "the newest markers, in order, without a gap"
    );
    check_with_references(&out, false);
}
