//! `rtrace-cmd convert` against the reference trace-cmds, on every real trace.dat at hand
//! (this repository's `fixtures/`, the shared `fixtures/qemu-6.1` and `fixtures/foreign`, read
//! in place).
//!
//! Each file is converted to v6, v7 uncompressed, v7 zstd and v7 zlib. For each result:
//! - `trace-cmd dump --all` of 3.3.1, and of 3.1.6 except for zlib (Debian's 3.1.6 has no
//!   zlib), exits 0;
//! - `trace-cmd report` of the result prints exactly what it prints for the original (stdout
//!   and exit status), for 3.3.1 and for 3.1.6 (not for zlib results, nor for zlib originals,
//!   which 3.1.6 cannot read: there the result, which 3.1.6 can read, is compared with
//!   `rtrace-cmd report --compat 3.1` only);
//! - `rtrace-cmd report` (and `--compat 3.1`) of the result prints the same.
//!
//! For originals that trace-cmd 3.1.6 wrote as v7 zstd (`record`/`extract`), the zstd result
//! must have the same sections and options in the same order (`dump --sections --options`
//! with offsets and compressed sizes blanked): the writer lays files out as `record` does.
//! What legitimately differs and is not compared: offsets and compressed sizes (other zstd
//! build, `report --stat`/`--debug` print them), and the STRINGS section's size (each
//! description is stored once).
//!
//! Cost: each check runs six reference processes. The full matrix (every file in every
//! variant, ~85 s on the 2-core development machine) runs with `RTRACE_CONVERT_ALL=1`. By
//! default, to keep CI to a few tens of seconds, the files in [`EVERY_VARIANT`] (one of each
//! layout the inputs have: instances, latency text v6 and v7, zlib input, 16 KiB sub-buffers,
//! DATE/OFFSET options, v6 without data, empty CPUs, foreign v6 files) get all four variants and
//! every other file one variant, taken in turn (v6, none, zstd, zlib, v6, ...), so each file is
//! converted and each variant is checked on a quarter of the rest.
//!
//! Environment: `RTRACE_REF_3_1` / `RTRACE_REF_3_3` name the references (defaults as in
//! tests/golden.rs, installed by tools/install-references.sh); `RTRACE_CONVERT_FILTER=a,b`
//! limits the run to files whose name contains one of the substrings (all their variants);
//! `RTRACE_CONVERT_JOBS` sets the worker threads; `RTRACE_CONVERT_TIMES=1` prints each file's
//! time; `RTRACE_REQUIRE_REFERENCES=1` makes missing references a failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_rtrace-cmd");
const TMP: &str = env!("CARGO_TARGET_TMPDIR");

fn shared_dir() -> Option<PathBuf> {
    if let Ok(s) = std::env::var("RTRACE_SHARED") {
        return Some(PathBuf::from(s));
    }
    [
        Path::new(REPO).join("../shared"),
        PathBuf::from("/work/shared"),
    ]
    .into_iter()
    .find(|p| p.join("fixtures").is_dir())
}

fn home_ref(name: &str) -> Option<PathBuf> {
    let h = std::env::var_os("HOME")?;
    let p = PathBuf::from(h).join(".local/trace-cmd-3.3").join(name);
    p.exists().then_some(p)
}

/// (3.1.6, 3.3.1) as tests/golden.rs finds them.
fn references() -> (Option<PathBuf>, Option<PathBuf>) {
    let works = |p: &Path| {
        Command::new(p)
            .arg("-h")
            .output()
            .map(|o| !o.stdout.is_empty() || !o.stderr.is_empty())
            .unwrap_or(false)
    };
    let r31 = std::env::var_os("RTRACE_REF_3_1")
        .map(PathBuf::from)
        .or_else(|| home_ref("trace-cmd-deb12"))
        .or_else(|| Some(PathBuf::from("trace-cmd")))
        .filter(|p| works(p));
    let r33 = std::env::var_os("RTRACE_REF_3_3")
        .map(PathBuf::from)
        .or_else(|| home_ref("trace-cmd-deb13"))
        .filter(|p| works(p));
    (r31, r33)
}

/// Files (stems) checked in all four variants even in the default, reduced run.
const EVERY_VARIANT: &[&str] = &[
    "instances",
    "events_instance",
    "lat_wakeup",
    "lat_wakeup_v6",
    "fg_zlib",
    "fg_v6",
    "subbuf_16k",
    "opt_date",
    "opt_offset",
    "onecpu",
    "hip24_masterarbeit_trace_v6_nodata",
    "nish_97_working_set_estimation_trace_empty",
    "arm_software_trappy_tests_trace_thermal",
    "kinmax_buildroot_kernel_trace_listen",
];

fn real_files() -> Vec<PathBuf> {
    let mut dirs = vec![
        Path::new(REPO).join("fixtures"),
        Path::new(REPO).join("fixtures/qemu-captures"),
    ];
    if let Some(s) = shared_dir() {
        dirs.push(s.join("fixtures/qemu-6.1"));
        dirs.push(s.join("fixtures/foreign"));
    }
    let filter: Vec<String> = std::env::var("RTRACE_CONVERT_FILTER")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let mut v = Vec::new();
    for d in dirs {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "dat"))
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                filter.is_empty() || filter.iter().any(|f| n.contains(f.as_str()))
            })
            .collect();
        files.sort();
        v.extend(files);
    }
    v
}

fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

/// stdout plus the exit status, what the comparisons look at.
fn report(program: &Path, pre: &[&str], file: &Path) -> (Vec<u8>, Option<i32>) {
    let mut args = vec!["report"];
    args.extend_from_slice(pre);
    args.extend_from_slice(&["-i", file.to_str().unwrap()]);
    let o = run(program, &args);
    (o.stdout, o.status.code())
}

/// [`report`] by a reference trace-cmd, twice, and a third time when those two differ,
/// keeping the output two runs agree on. trace-cmd 3.1.6 is not deterministic on some files:
/// on foreign/wsdias_labsisop_sched_fifo_trace.dat it printed raw timestamps
/// (`3263408978039:` for `  3263.408978:`) in 3 of 200 runs here, which made this test fail
/// once in CI with rtrace-cmd's output right.
fn reference_report(program: &Path, file: &Path) -> (Vec<u8>, Option<i32>) {
    let a = report(program, &[], file);
    let b = report(program, &[], file);
    if a == b {
        return a;
    }
    let c = report(program, &[], file);
    if c == b {
        b
    } else {
        a
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    V6,
    None,
    Zstd,
    Zlib,
}

impl Variant {
    const ALL: [Variant; 4] = [Variant::V6, Variant::None, Variant::Zstd, Variant::Zlib];
    fn name(self) -> &'static str {
        match self {
            Variant::V6 => "v6",
            Variant::None => "none",
            Variant::Zstd => "zstd",
            Variant::Zlib => "zlib",
        }
    }
    fn args(self) -> &'static [&'static str] {
        match self {
            Variant::V6 => &["--file-version", "6"],
            Variant::None => &["--compression", "none"],
            Variant::Zstd => &[],
            Variant::Zlib => &["--compression", "zlib"],
        }
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (la, lb): (Vec<&[u8]>, Vec<&[u8]>) = (
        a.split(|&c| c == b'\n').collect(),
        b.split(|&c| c == b'\n').collect(),
    );
    match la.iter().zip(&lb).position(|(x, y)| x != y) {
        Some(i) => format!(
            "line {}: {:?} vs {:?}",
            i + 1,
            String::from_utf8_lossy(la[i]),
            String::from_utf8_lossy(lb[i])
        ),
        None => format!("{} lines vs {} lines", la.len(), lb.len()),
    }
}

/// `dump --sections --options` with offsets and compressed sizes blanked, STRINGS left out.
fn layout(r31: &Path, file: &Path) -> Vec<String> {
    let o = run(
        r31,
        &["dump", "--sections", "--options", file.to_str().unwrap()],
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let offset = regex::Regex::new(r"@ *\d+").unwrap();
    let compressed = regex::Regex::new(r"\d+ compressed").unwrap();
    let bytes = regex::Regex::new(r"\d+ bytes\]").unwrap();
    let cpu = regex::Regex::new(r"^(\s+\d+) \d+\t\d+\t").unwrap();
    let number = regex::Regex::new(r"^\d+( \[offset\])?$").unwrap();
    text.lines()
        .filter(|l| !l.contains("\"strings\"") && !l.contains(" sections]"))
        .map(|l| {
            let l = offset.replace_all(l, "@ N");
            let l = compressed.replace_all(&l, "N compressed");
            let l = bytes.replace_all(&l, "N bytes]");
            let l = cpu.replace_all(&l, "$1 N N\t");
            number.replace_all(&l, "N$1").into_owned()
        })
        .collect()
}

struct Ctx {
    r31: PathBuf,
    r33: PathBuf,
    dir: PathBuf,
}

/// Everything checked for one file; returns the failures.
fn check_file(ctx: &Ctx, src: &Path, variants: &[Variant]) -> Vec<String> {
    let mut fails = Vec::new();
    let name = src.file_stem().unwrap().to_string_lossy().into_owned();
    let want33 = reference_report(&ctx.r33, src);
    let want31 = reference_report(&ctx.r31, src);
    // 3.1.6 cannot open zlib files (it prints nothing and fails).
    let readable31 = want31.1 == Some(0) || !want31.0.is_empty();
    let orig = fs::read(src).unwrap();
    let from_tc31_zstd = {
        let f = tracedat::TraceFile::parse(&orig);
        f.is_ok_and(|f| {
            f.header().codec == Some(tracedat::file::compress::Codec::Zstd)
                && f.version().is_some_and(|v| v.starts_with("3.1.6"))
        })
    };
    for &v in variants {
        let key = format!("{name}.{}", v.name());
        let out = ctx.dir.join(format!("{key}.dat"));
        let mut args = vec![
            "convert",
            "-i",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(v.args());
        let o = run(Path::new(BIN), &args);
        if !o.status.success() {
            fails.push(format!(
                "{key}: convert failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            continue;
        }
        let mut dumps = vec![&ctx.r33];
        if v != Variant::Zlib {
            dumps.push(&ctx.r31);
        }
        for r in dumps {
            let d = run(r, &["dump", "--all", out.to_str().unwrap()]);
            if !d.status.success() {
                fails.push(format!(
                    "{key}: {} dump --all fails: {}",
                    r.display(),
                    String::from_utf8_lossy(&d.stderr).trim()
                ));
            }
        }
        let mut cmp = |what: &str, got: (Vec<u8>, Option<i32>), want: &(Vec<u8>, Option<i32>)| {
            if &got != want {
                fails.push(format!(
                    "{key}: {what}: status {:?} vs {:?}, {}",
                    got.1,
                    want.1,
                    first_difference(&got.0, &want.0)
                ));
            }
        };
        cmp("3.3.1 report", reference_report(&ctx.r33, &out), &want33);
        cmp(
            "rtrace-cmd report",
            report(Path::new(BIN), &[], &out),
            &want33,
        );
        let ours31 = report(Path::new(BIN), &["--compat", "3.1"], &out);
        if v != Variant::Zlib {
            let got31 = reference_report(&ctx.r31, &out);
            if readable31 {
                cmp("3.1.6 report", got31, &want31);
            } else {
                cmp(
                    "3.1.6 report of the converted zlib original",
                    ours31.clone(),
                    &got31,
                );
            }
        }
        if readable31 {
            cmp("rtrace-cmd report --compat 3.1", ours31, &want31);
        }
        if v == Variant::Zstd && from_tc31_zstd {
            let (a, b) = (layout(&ctx.r31, src), layout(&ctx.r31, &out));
            if a != b {
                let i = a
                    .iter()
                    .zip(&b)
                    .position(|(x, y)| x != y)
                    .unwrap_or(a.len().min(b.len()));
                fails.push(format!(
                    "{key}: sections/options differ from trace-cmd's at line {i}: {:?} vs {:?}",
                    a.get(i),
                    b.get(i)
                ));
            }
        }
        let _ = fs::remove_file(&out);
    }
    fails
}

#[test]
fn convert_matches_trace_cmd() {
    let (r31, r33) = references();
    let (Some(r31), Some(r33)) = (r31, r33) else {
        let msg = "the reference trace-cmds are not installed (tools/install-references.sh)";
        if std::env::var_os("RTRACE_REQUIRE_REFERENCES").is_some() {
            panic!("{msg}");
        }
        eprintln!("\n*** SKIPPED: {msg} ***\n");
        return;
    };
    let files = real_files();
    assert!(!files.is_empty(), "no trace.dat files found");
    let dir = Path::new(TMP).join("convert");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let ctx = Ctx { r31, r33, dir };
    let all = std::env::var_os("RTRACE_CONVERT_ALL").is_some()
        || std::env::var_os("RTRACE_CONVERT_FILTER").is_some();
    let mut turn = 0;
    let work: Vec<(&PathBuf, Vec<Variant>)> = files
        .iter()
        .map(|f| {
            let stem = f.file_stem().unwrap().to_string_lossy();
            if all || EVERY_VARIANT.contains(&&*stem) {
                (f, Variant::ALL.to_vec())
            } else {
                turn += 1;
                (f, vec![Variant::ALL[(turn - 1) % Variant::ALL.len()]])
            }
        })
        .collect();
    let checks: usize = work.iter().map(|(_, v)| v.len()).sum();
    let jobs = std::env::var("RTRACE_CONVERT_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let next = AtomicUsize::new(0);
    let fails = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((f, variants)) = work.get(i) else {
                    break;
                };
                let t = std::time::Instant::now();
                let fl = check_file(&ctx, f, variants);
                if std::env::var_os("RTRACE_CONVERT_TIMES").is_some() {
                    eprintln!("{:6.2}s {}", t.elapsed().as_secs_f64(), f.display());
                }
                fails.lock().unwrap().extend(fl);
            });
        }
    });
    let fails = fails.into_inner().unwrap();
    eprintln!(
        "convert: {} files, {checks} conversions checked{}, {} failures",
        files.len(),
        if all { " (all variants)" } else { "" },
        fails.len()
    );
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    let _ = fs::remove_dir_all(&ctx.dir);
}

/// Misuse gets trace-cmd's messages; usage errors exit 2, failures 1.
#[test]
fn command_line() {
    let src = Path::new(REPO).join("fixtures/sched.dat");
    let dir = Path::new(TMP).join("convert-cli");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let out = dir.join("o.dat");
    let (s, o) = (src.to_str().unwrap(), out.to_str().unwrap());
    let cases: &[(&[&str], i32, &str)] = &[
        (&["-i", s], 2, "output file is mandatory"),
        (&["-i", s, "-o", o, o], 2, "both with -o and as an argument"),
        (
            &["-i", s, "-i", s, o],
            1,
            "Only one input file is supported",
        ),
        (
            &["-i", s, "-o", o, "-o", o],
            1,
            "Only one output file is supported",
        ),
        (
            &["-i", s, "--file-version", "5", o],
            1,
            "Unsupported file version 5",
        ),
        (
            &["-i", s, "--compression", "lz4", o],
            1,
            "Compression algorithm  lz4 is not supported",
        ),
        (
            &["-i", "/nonexistent.dat", o],
            1,
            "error reading /nonexistent.dat",
        ),
        (&["-i", REPO, o], 1, "error reading"),
    ];
    for (args, code, msg) in cases {
        let mut a = vec!["convert"];
        a.extend_from_slice(args);
        let r = run(Path::new(BIN), &a);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(*code), "{a:?}: {err}");
        assert!(err.contains(msg), "{a:?}: {err}");
        assert!(!out.exists(), "{a:?}");
    }
    // The output as the last argument; --file-version 6 with a compression becomes 7, as in
    // trace-cmd; the progress lines are trace-cmd's.
    let r = run(
        Path::new(BIN),
        &[
            "convert",
            "-i",
            s,
            "--file-version",
            "6",
            "--compression",
            "zstd",
            o,
        ],
    );
    assert!(r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("CPU0 data recorded at offset=0x"), "{err}");
    assert!(err.contains(" uncompressed)"), "{err}");
    let b = fs::read(&out).unwrap();
    assert_eq!(&b[10..12], b"7\0");
    // An existing output is replaced only once the new one is complete.
    let r = run(
        Path::new(BIN),
        &["convert", "-i", s, "--file-version", "6", "-o", o],
    );
    assert!(r.status.success());
    let b = fs::read(&out).unwrap();
    assert_eq!(&b[10..12], b"6\0");
    let names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let _ = fs::remove_dir_all(&dir);
}

/// A large input made from a real file: its metadata and its CPU 0 pages repeated to `bytes`,
/// written as v7 zstd (small on disk, slow to turn into zlib).
fn large_input(path: &Path, bytes: usize) {
    use tracedat::write::{BufferSpec, Config, CpuSource, Writer};
    let src = Path::new(REPO).join("fixtures/sched.dat");
    let plain = Path::new(TMP).join("convert-signal-src.dat");
    let o = run(
        Path::new(BIN),
        &[
            "convert",
            "-i",
            src.to_str().unwrap(),
            "--compression",
            "none",
            plain.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let data = fs::read(&plain).unwrap();
    let f = tracedat::TraceFile::parse(&data).unwrap();
    let (_, off, size) = f.cpu_data_locations(0)[0];
    let pages = &data[off as usize..(off + size) as usize];
    let mut cpu0 = Vec::with_capacity(bytes);
    while cpu0.len() < bytes {
        cpu0.extend_from_slice(pages);
    }
    let hdr = f.header();
    let mut cfg = Config::new(hdr.page_size, 1);
    cfg.endian = hdr.endian;
    let mut w = Writer::create(path, cfg).unwrap();
    let hi = f.header_info().unwrap();
    w.header_info(hi.header_page, hi.header_event).unwrap();
    w.ftrace_events(&f.ftrace_formats().unwrap()).unwrap();
    w.event_systems(&f.event_systems().unwrap()).unwrap();
    let spec = BufferSpec {
        name: "",
        clock: "local",
        page_size: hdr.page_size,
    };
    w.write_buffer(spec, vec![CpuSource::Bytes(&cpu0)]).unwrap();
    w.finish().unwrap();
    let _ = fs::remove_file(&plain);
}

/// SIGINT or SIGTERM during a conversion: exit status 128 + signal, a message saying what was
/// interrupted, and neither the output nor its temporary file left behind.
#[test]
fn signal_leaves_no_file() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let dir = Path::new(TMP).join("convert-signal");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let input = Path::new(TMP).join("convert-signal-large.dat");
    large_input(&input, 256 << 20);
    let out = dir.join("out.dat");
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        let child = Command::new(BIN)
            .args(["convert", "--compression", "zlib", "-i"])
            .arg(&input)
            .arg(&out)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The temporary file appears once the handlers are in place and writing has begun.
        let started = std::time::Instant::now();
        while fs::read_dir(&dir).unwrap().next().is_none() {
            assert!(
                started.elapsed().as_secs() < 60,
                "no temporary file after 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        kill(Pid::from_raw(child.id() as i32), sig).unwrap();
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(128 + sig as i32), "{sig}: {err}");
        assert!(err.contains("interrupted while"), "{sig}: {err}");
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(left.is_empty(), "{sig}: left behind: {left:?}");
    }
    let _ = fs::remove_file(&input);
    let _ = fs::remove_dir_all(&dir);
}
