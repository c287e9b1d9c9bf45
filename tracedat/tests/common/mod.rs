//! Shared helpers of the integration tests: where the real trace files and the reference
//! tools are.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `$RTRACE_SHARED`, else `<repo>/../shared`, else `/work/shared`.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RTRACE_SHARED") {
        return Some(PathBuf::from(p));
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .to_path_buf();
    [repo.join("../shared"), PathBuf::from("/work/shared")]
        .into_iter()
        .find(|p| p.join("fixtures").is_dir())
}

/// True when a missing reference or fixture must fail the test (CI sets it).
pub fn required() -> bool {
    std::env::var_os("RTRACE_REQUIRE_REFERENCES").is_some()
}

/// Says loudly that part of a test did not run (or fails when references are required).
pub fn skip(what: &str) {
    if required() {
        panic!("RTRACE_REQUIRE_REFERENCES is set but {what}");
    }
    eprintln!("\n*** SKIPPED: {what} ***\n");
}

/// The real trace.dat files available: the shared qemu and foreign fixtures, plus this
/// repository's `fixtures/` and the fixtures helpers' work dirs when present.
pub fn real_files() -> Vec<PathBuf> {
    let mut v = Vec::new();
    let mut dirs = Vec::new();
    if let Some(s) = shared_dir() {
        dirs.push(s.join("fixtures/qemu-6.1"));
        dirs.push(s.join("fixtures/foreign"));
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    dirs.push(repo.join("fixtures"));
    dirs.push(repo.join("fixtures/qemu-captures"));
    if let Some(extra) = std::env::var_os("RTRACE_EXTRA_FIXTURES") {
        dirs.extend(std::env::split_paths(&extra));
    }
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "dat"))
            .collect();
        files.sort();
        v.extend(files);
    }
    v
}

/// A reference trace-cmd.
#[derive(Clone, Debug)]
pub struct Reference {
    /// "3.1.6" or "3.3.1".
    pub name: &'static str,
    /// The executable.
    pub path: PathBuf,
}

impl Reference {
    /// Runs it with `args`; `(stdout, stderr, success)`.
    pub fn run(&self, args: &[&str]) -> (Vec<u8>, String, bool) {
        let out = Command::new(&self.path)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.path.display()));
        (
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.success(),
        )
    }
}

fn works(p: &Path) -> bool {
    Command::new(p)
        .arg("-h")
        .output()
        .map(|o| !o.stdout.is_empty() || !o.stderr.is_empty())
        .unwrap_or(false)
}

/// The installed references: `trace-cmd` on PATH (3.1.6) and the 3.3.1 build
/// (`$RTRACE_TRACE_CMD_33`, else `~/.local/trace-cmd-3.3/trace-cmd`).
pub fn references() -> Vec<Reference> {
    let mut v = Vec::new();
    let p31 = std::env::var_os("RTRACE_TRACE_CMD_31")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("trace-cmd"));
    if works(&p31) {
        v.push(Reference {
            name: "3.1.6",
            path: p31,
        });
    } else {
        skip("trace-cmd 3.1.6 is not installed");
    }
    let p33 = std::env::var_os("RTRACE_TRACE_CMD_33")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".local/trace-cmd-3.3/trace-cmd"))
        });
    match p33 {
        Some(p) if works(&p) => v.push(Reference {
            name: "3.3.1",
            path: p,
        }),
        _ => skip("trace-cmd 3.3.1 is not installed (tools/install-references.sh)"),
    }
    v
}

/// Conversions of real files made with the references' `convert` (v6, uncompressed v7, zlib
/// v7, zstd v7 from v6) into a cache dir under the target dir; made once per file.
pub fn conversions(refs: &[Reference]) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conversions");
    std::fs::create_dir_all(&dir).unwrap();
    let r33 = refs.iter().find(|r| r.name == "3.3.1");
    let Some(conv) = r33.or(refs.first()) else {
        return Vec::new();
    };
    // (file stem, suffix of the output, convert options)
    let jobs: &[(&str, &str, &[&str])] = &[
        ("fg_sched_mix", "v6", &["--file-version", "6"]),
        ("fg_sched_mix", "none", &["--compression", "none"]),
        ("fg_sched_mix", "zlib", &["--compression", "zlib"]),
        ("func_sched", "v6", &["--file-version", "6"]),
        ("kprobe_read", "none", &["--compression", "none"]),
        ("hebel23_driver_trace", "v7", &[]),
        (
            "wsdias_labsisop_sched_fifo_trace",
            "zlib",
            &["--compression", "zlib"],
        ),
        ("tiagovignatti_intel_gpu_tools_trace", "v7", &[]),
        (
            "arm_software_trappy_tests_trace_thermal",
            "none",
            &["--compression", "none"],
        ),
        ("djseb_kernel_shark_trace1", "v6", &["--file-version", "6"]),
        ("instances", "v6", &["--file-version", "6"]),
        ("instances", "none", &["--compression", "none"]),
        ("instances", "zlib", &["--compression", "zlib"]),
        ("events_instance", "v6", &["--file-version", "6"]),
        ("overflow_overwrite", "v6", &["--file-version", "6"]),
        ("overflow_nocount", "none", &["--compression", "none"]),
        ("subbuf_16k", "v6", &["--file-version", "6"]),
        ("subbuf_16k", "zlib", &["--compression", "zlib"]),
        ("clock_x86-tsc", "v6", &["--file-version", "6"]),
        ("clock_counter", "none", &["--compression", "none"]),
    ];
    let mut out = Vec::new();
    let mut done = std::collections::HashSet::new();
    for src in real_files() {
        let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
        for (name, suffix, args) in jobs {
            if *name != stem || !done.insert((stem.clone(), *suffix)) {
                continue;
            }
            let dst = dir.join(format!("{stem}.{suffix}.dat"));
            if !dst.exists() {
                let tmp = dst.with_extension("tmp");
                let mut a = vec![
                    "convert",
                    "-i",
                    src.to_str().unwrap(),
                    "-o",
                    tmp.to_str().unwrap(),
                ];
                a.extend_from_slice(args);
                let (_, err, ok) = conv.run(&a);
                if !ok || !tmp.exists() {
                    skip(&format!("{} convert {:?} failed: {err}", conv.name, a));
                    continue;
                }
                std::fs::rename(&tmp, &dst).unwrap();
            }
            out.push(dst);
        }
    }
    out
}

/// Maps a file read-only.
pub fn map(p: &Path) -> memmap2::Mmap {
    let f = std::fs::File::open(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    // SAFETY: read-only map of a file nobody writes during the test.
    unsafe { memmap2::Mmap::map(&f).unwrap() }
}
