//! The parallel report prints exactly what the one-thread report prints: every real file,
//! both dialects and the options that change what the record loop does (raw, latency,
//! filters including comm filters, `--cpu`, `-r`/`-n`, several inputs), with several printing
//! thread counts and batch sizes (1 included, so every batch boundary is crossed).
//!
//! `large_file_parallel_equals_sequential` does the same on the benchmark trace
//! (`RTRACE_BENCH_FILE`, default `/var/tmp/rtrace-bench/large.dat` from
//! tools/make-large-trace.sh); it is ignored by default (minutes, and the file is local).

mod common;

use std::path::Path;

use tracedat::filter::FilterArgs;
use tracedat::report::{self, InputFile, Options};
use tracedat::Dialect;

fn render(inputs: &[(&Path, &[u8])], opts: &Options) -> (String, Vec<u8>, Vec<u8>) {
    let files: Vec<InputFile> = inputs
        .iter()
        .map(|(p, b)| InputFile {
            path: p.display().to_string(),
            bytes: b,
            ts_offset: 0,
            ts2secs: None,
        })
        .collect();
    let mut out = Vec::new();
    let mut warn = Vec::new();
    let r = report::run(&files, opts, &mut out, &mut warn);
    let status = match r {
        Ok(s) => format!("exit {s}"),
        Err(e) => format!("error {e}"),
    };
    (status, out, warn)
}

fn option_sets() -> Vec<(String, Options)> {
    let mut v = Vec::new();
    for dialect in [Dialect::V3_3, Dialect::V3_1] {
        let base = Options {
            dialect,
            ..Options::default()
        };
        let name = |s: &str| format!("{dialect:?} {s}");
        v.push((name("default"), base.clone()));
        v.push((
            name("-R"),
            Options {
                raw: true,
                ..base.clone()
            },
        ));
        if dialect == Dialect::V3_1 {
            // the rest does not depend on the dialect in the record loop
            continue;
        }
        v.push((
            name("-l -t"),
            Options {
                latency: true,
                nanosec: true,
                ..base.clone()
            },
        ));
        v.push((
            name("--cpu 0"),
            Options {
                cpus: Some(vec![0]),
                ..base.clone()
            },
        ));
        let mut f = FilterArgs::new();
        f.filter("sched_switch,sched_wakeup,print,function");
        v.push((
            name("-F sched_switch,..."),
            Options {
                filters: f,
                ..base.clone()
            },
        ));
        // comm filters read the comms learned so far: order-dependent on the producer
        let mut f = FilterArgs::new();
        f.filter("COMM ~ \"*k*\"");
        v.push((
            name("-F COMM"),
            Options {
                filters: f,
                ..base.clone()
            },
        ));
        v.push((
            name("-r sched.* -n irq.*"),
            Options {
                raw_events: vec!["sched.*".into()],
                no_handler: vec!["irq.*".into()],
                ..base.clone()
            },
        ));
    }
    v
}

/// (threads, batch) pairs compared with the one-thread report.
const SPLITS: [(usize, usize); 3] = [(2, 1), (3, 5), (2, 0)];

fn check(inputs: &[(&Path, &[u8])], name: &str, opts: &Options, failures: &mut Vec<String>) {
    let seq = render(
        inputs,
        &Options {
            threads: 1,
            ..opts.clone()
        },
    );
    for (threads, batch) in SPLITS {
        let par = render(
            inputs,
            &Options {
                threads,
                batch,
                ..opts.clone()
            },
        );
        if par != seq {
            let at = seq
                .1
                .iter()
                .zip(&par.1)
                .position(|(a, b)| a != b)
                .unwrap_or(seq.1.len().min(par.1.len()));
            failures.push(format!(
                "{:?} [{name}] threads {threads} batch {batch}: {} vs {}, {} vs {} bytes, first difference at byte {at}",
                inputs.iter().map(|i| i.0).collect::<Vec<_>>(),
                seq.0,
                par.0,
                seq.1.len(),
                par.1.len()
            ));
        }
    }
}

#[test]
fn parallel_equals_sequential_on_all_fixtures() {
    let files = common::real_files();
    assert!(
        files.len() >= 20,
        "the repository's fixtures are missing: {files:?}"
    );
    let maps: Vec<_> = files.iter().map(|p| common::map(p)).collect();
    let mut failures = Vec::new();
    let mut runs = 0;
    for (p, m) in files.iter().zip(&maps) {
        for (name, opts) in option_sets() {
            check(&[(p, &m[..])], &name, &opts, &mut failures);
            runs += 1;
        }
    }
    // several inputs: file-name prefixes, per-file comm tables, handles of two files merged
    for pair in files.windows(2).step_by(7) {
        let a = common::map(&pair[0]);
        let b = common::map(&pair[1]);
        let opts = Options {
            multi_inputs: true,
            ..Options::default()
        };
        check(
            &[(&pair[0], &a[..]), (&pair[1], &b[..])],
            "two inputs",
            &opts,
            &mut failures,
        );
        runs += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "parallel report: {runs} cases x {} splits identical",
        SPLITS.len()
    );
}

#[test]
#[ignore = "minutes on the large benchmark trace (tools/make-large-trace.sh)"]
fn large_file_parallel_equals_sequential() {
    let path = std::env::var_os("RTRACE_BENCH_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/rtrace-bench/large.dat".into());
    assert!(
        path.exists(),
        "{} missing: make it with tools/make-large-trace.sh",
        path.display()
    );
    let m = common::map(&path);
    let mut failures = Vec::new();
    for (name, opts) in option_sets()
        .into_iter()
        .filter(|(n, _)| n.ends_with("default") || n.ends_with("-R"))
    {
        let seq = render(
            &[(&path, &m[..])],
            &Options {
                threads: 1,
                ..opts.clone()
            },
        );
        for (threads, batch) in [(2, 0), (3, 1000)] {
            let par = render(
                &[(&path, &m[..])],
                &Options {
                    threads,
                    batch,
                    ..opts.clone()
                },
            );
            if par != seq {
                failures.push(format!("[{name}] threads {threads} batch {batch}"));
            }
        }
    }
    assert!(failures.is_empty(), "differ: {failures:?}");
}
