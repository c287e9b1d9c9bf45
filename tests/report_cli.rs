//! `rtrace-cmd report` as a command: exit statuses, pipes, bad input. The byte-for-byte output
//! is tests/golden.rs's job; this checks what happens around it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rtrace-cmd");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn report(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("report")
        .args(args)
        .output()
        .expect("run rtrace-cmd")
}

fn stderr_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn closed_stdout_ends_quietly() {
    // all_events prints ~300 KB: far more than a pipe holds once the reader is gone.
    let mut child = Command::new(BIN)
        .args(["report", "-i"])
        .arg(fixture("all_events.dat"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "cpus=2\n");
    // stdout is dropped here: the next write fails with EPIPE.
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "status {:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = report(&["--no-such-option"]);
    assert_eq!(o.status.code(), Some(2));
    let o = report(&["--compat", "2.9"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_file_is_one_line_and_status_1() {
    let o = report(&["-i", "/nonexistent/trace.dat"]);
    assert_eq!(o.status.code(), Some(1));
    let lines = stderr_lines(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("/nonexistent/trace.dat"), "{lines:?}");
    assert!(o.stdout.is_empty());
}

#[test]
fn bad_magic_names_file_and_offset() {
    let dir = std::env::temp_dir().join(format!("rtrace-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("not-a-trace.dat");
    std::fs::write(&p, b"this is not a trace.dat file at all").unwrap();
    let o = report(&["-i", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let lines = stderr_lines(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("not-a-trace.dat"), "{lines:?}");
    assert!(lines[0].contains("offset 0x0"), "{lines:?}");
    assert!(lines[0].contains("magic"), "{lines:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Truncated copies of a real capture: every cut either still reads (the data part shrank) or
/// fails with one line naming the file; none panics or hangs.
#[test]
fn truncated_files_fail_cleanly() {
    let src = std::fs::read(fixture("sched.dat")).unwrap();
    let dir = std::env::temp_dir().join(format!("rtrace-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cuts: Vec<usize> = (0..64).collect();
    let mut at = 64;
    while at < src.len() {
        cuts.push(at);
        at = at * 5 / 4 + 13;
    }
    cuts.push(src.len() - 1);
    let mut failed = 0;
    for cut in cuts {
        let p = dir.join(format!("cut-{cut}.dat"));
        std::fs::write(&p, &src[..cut]).unwrap();
        let o = report(&["-i", p.to_str().unwrap()]);
        let code = o.status.code();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "cut {cut}: {err}");
        assert!(
            matches!(code, Some(0) | Some(1)),
            "cut {cut}: status {code:?}: {err}"
        );
        if code == Some(1) {
            failed += 1;
            let lines = stderr_lines(&o);
            assert_eq!(lines.len(), 1, "cut {cut}: {lines:?}");
            assert!(
                lines[0].contains(&format!("cut-{cut}.dat")),
                "cut {cut}: {lines:?}"
            );
        }
        let _ = std::fs::remove_file(&p);
    }
    assert!(failed > 10, "only {failed} truncations were rejected");
    let _ = std::fs::remove_dir_all(&dir);
}

/// trace-cmd segfaults on any -F for a file with instances; rtrace-cmd applies the filter to
/// every buffer.
#[test]
fn filter_applies_to_instances() {
    let all = report(&["-i", fixture("instances.dat").to_str().unwrap()]);
    assert!(all.status.success());
    let all = String::from_utf8(all.stdout).unwrap();
    let o = report(&[
        "-F",
        "sched_wakeup",
        "-i",
        fixture("instances.dat").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let events: Vec<&str> = out.lines().skip(1).collect();
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|l| l.contains(" sched_wakeup: ")),
        "{events:?}"
    );
    // Every sched_wakeup line of the unfiltered report, instances included, is kept.
    let want: Vec<&str> = all
        .lines()
        .filter(|l| l.contains(" sched_wakeup: "))
        .collect();
    assert_eq!(events, want);
    // Lines of an instance carry its name: `fx: `.
    assert!(
        want.iter().any(|l| l.trim_start().starts_with("fx: ")),
        "no instance lines"
    );
}
