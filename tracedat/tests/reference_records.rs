//! The merged record sequence of every real file, compared with what the reference
//! trace-cmds print with `report -R -t` (every record, raw, ns timestamps, `CPU:N [..EVENTS
//! DROPPED]` before records that follow lost events): the (cpu, timestamp, missed) sequence
//! and the `cpus=` line must be equal, for both references, with several timestamp options.

mod common;

use std::path::PathBuf;

use common::*;
use regex::Regex;
use tracedat::{Dialect, Input, Merge, TimeConfig, TraceFile};

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rec {
    cpu: u32,
    ts: Ts,
    missed: i64,
}

/// A timestamp as printed. trace-cmd 3.3 prints `-R` flags as `-0x%x` glued to a `%12d`
/// timestamp when the clock is not a µs clock, so `-0x91464179963720` is flags `9` or `91`
/// followed by the timestamp: such a value is kept as its digits.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ts {
    Ns(u64),
    Glued(String),
}

impl Ts {
    fn matches(&self, ours: u64) -> bool {
        match self {
            Ts::Ns(t) => *t == ours,
            Ts::Glued(g) => {
                let o = ours.to_string();
                g.ends_with(&o) && (1..=2).contains(&(g.len() - o.len()))
            }
        }
    }
}

/// Parses `report -R -t` output: the first cpus= line and the records (and whether the
/// first record's timestamp was printed as `secs.nsecs`, i.e. in µs mode).
fn parse_report(out: &[u8]) -> (Option<u32>, Vec<Rec>) {
    parse_report_clock(out).0
}

type Parsed = ((Option<u32>, Vec<Rec>), Option<bool>);

fn parse_report_clock(out: &[u8]) -> Parsed {
    let text = String::from_utf8_lossy(out);
    let line_re =
        Regex::new(r"-\d+\s+\[(\d{3,})\](-0x[0-9a-f]+)?(\s*)(\d*)(?:\.(\d{9}))?:").unwrap();
    let drop_re = Regex::new(r"^(?:.*: |\s*)CPU:(\d+) \[(?:(\d+) )?EVENTS DROPPED\]$").unwrap();
    let cpus_re = Regex::new(r"^(?:.*: )?cpus=(\d+)$").unwrap();
    let mut cpus = None;
    let mut recs = Vec::new();
    let mut pending: Option<i64> = None;
    let mut usecs = None;
    for line in text.lines() {
        if let Some(c) = cpus_re.captures(line) {
            cpus = cpus.or(c[1].parse().ok());
            continue;
        }
        if let Some(c) = drop_re.captures(line) {
            pending = Some(c.get(2).map_or(-1, |m| m.as_str().parse().unwrap()));
            continue;
        }
        if let Some(c) = line_re.captures(line) {
            let cpu: u32 = c[1].parse().unwrap();
            let glued = c.get(2).is_some() && c[3].is_empty() && c[4].is_empty();
            usecs = usecs.or(Some(c.get(5).is_some()));
            let ts = if glued {
                Ts::Glued(c[2][3..].to_string())
            } else {
                let whole: u64 = c[4].parse().unwrap();
                Ts::Ns(match c.get(5) {
                    Some(ns) => whole * 1_000_000_000 + ns.as_str().parse::<u64>().unwrap(),
                    None => whole,
                })
            };
            recs.push(Rec {
                cpu,
                ts,
                missed: pending.take().unwrap_or(0),
            });
        }
    }
    ((cpus, recs), usecs)
}

fn ours(
    files: &[&TraceFile<'_>],
    time: &[TimeConfig],
    align: bool,
    cpus: Option<(&[u32], Dialect)>,
) -> Vec<(u32, u64, i64)> {
    let inputs: Vec<Input> = files
        .iter()
        .zip(time)
        .map(|(f, t)| Input { file: f, time: t })
        .collect();
    let keep = |i: &tracedat::StreamInfo| match cpus {
        Some((list, d)) => list.contains(&i.slot(d)),
        None => true,
    };
    let mut m = Merge::for_report(&inputs, align, keep).expect("merge");
    let mut v = Vec::new();
    while let Some((i, r)) = m.peek() {
        v.push((r.cpu, r.ts, r.missed_events));
        m.consume(i);
    }
    v
}

fn compare(what: &str, want: &[Rec], got: &[(u32, u64, i64)]) -> Result<(), String> {
    let same = |a: &Rec, b: &(u32, u64, i64)| a.cpu == b.0 && a.ts.matches(b.1) && a.missed == b.2;
    if let Some(i) = want.iter().zip(got).position(|(a, b)| !same(a, b)) {
        let lo = i.saturating_sub(3);
        return Err(format!(
            "{what}: record {i} differs\n  reference: {:?}\n  ours:      {:?}",
            &want[lo..(i + 3).min(want.len())],
            &got[lo..(i + 3).min(got.len())]
        ));
    }
    if want.len() != got.len() {
        return Err(format!(
            "{what}: reference has {} records, ours {}",
            want.len(),
            got.len()
        ));
    }
    Ok(())
}

struct Case {
    name: String,
    args: Vec<String>,
    time: Vec<TimeConfig>,
    files: Vec<PathBuf>,
    align: bool,
    /// `--cpu LIST` (global CPU indexes).
    cpus: Option<Vec<u32>>,
}

fn cases(files: &[PathBuf]) -> Vec<Case> {
    let mut v = Vec::new();
    for f in files {
        v.push(Case {
            name: "default".into(),
            args: vec![],
            time: vec![TimeConfig::default()],
            files: vec![f.clone()],
            align: false,
            cpus: None,
        });
    }
    // Timestamp options on a few files with different clocks, versions and compressions.
    let pick: Vec<&PathBuf> = files
        .iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("fg_sched_mix")
                || n.starts_with("hip24_masterarbeit_host_kvm")
                || n.starts_with("hebel23")
                || n.starts_with("tiago")
        })
        .collect();
    for f in pick {
        let one = |name: &str, args: &[&str], t: TimeConfig, align: bool| Case {
            name: name.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            time: vec![t],
            files: vec![f.clone()],
            align,
            cpus: None,
        };
        v.push(one(
            "--raw-ts",
            &["--raw-ts"],
            TimeConfig {
                raw_ts: true,
                ..Default::default()
            },
            false,
        ));
        v.push(one(
            "--align-ts",
            &["--align-ts"],
            TimeConfig::default(),
            true,
        ));
        v.push(one(
            "--ts2secs",
            &["--ts2secs", "500000000"],
            TimeConfig {
                ts2secs: Some(500_000_000),
                ..Default::default()
            },
            false,
        ));
        v.push(one(
            "--nodate",
            &["--nodate"],
            TimeConfig {
                no_date: true,
                ..Default::default()
            },
            false,
        ));
        // Two inputs: the same file, the second shifted (--ts-offset applies to the -i
        // before it only when there are several inputs).
        v.push(Case {
            name: "two inputs, --ts-offset".into(),
            args: vec!["--ts-offset".into(), "1234567".into()],
            time: vec![
                TimeConfig::default(),
                TimeConfig {
                    ts_offset: 1234567,
                    ..Default::default()
                },
            ],
            files: vec![f.clone(), f.clone()],
            align: false,
            cpus: None,
        });
        v.push(Case {
            name: "two inputs, ties".into(),
            args: vec![],
            time: vec![TimeConfig::default(), TimeConfig::default()],
            files: vec![f.clone(), f.clone()],
            align: false,
            cpus: None,
        });
    }
    // --cpu selects global CPU indexes, which 3.1.6 and 3.3.1 count differently when a file
    // has fewer CPU slots than CPUs (v7 BUFFER lists only CPUs with data).
    for f in files.iter().filter(|p| {
        let n = p.file_name().unwrap().to_string_lossy();
        n.starts_with("djseb")
            || n.starts_with("hip24_masterarbeit_host")
            || n.starts_with("fg_write")
    }) {
        let list = vec![0u32, 2, 7, 9, 12, 17, 23, 30];
        v.push(Case {
            name: "--cpu".into(),
            args: vec!["--cpu".into(), "0,2,7,9,12,17,23,30".into()],
            time: vec![TimeConfig::default()],
            files: vec![f.clone()],
            align: false,
            cpus: Some(list.clone()),
        });
        v.push(Case {
            name: "two inputs, --cpu".into(),
            args: vec!["--cpu".into(), "0,2,7,9,12,17,23,30".into()],
            time: vec![TimeConfig::default(), TimeConfig::default()],
            files: vec![f.clone(), f.clone()],
            align: false,
            cpus: Some(list),
        });
    }
    v
}

fn run_case(r: &Reference, c: &Case) -> Result<Option<usize>, String> {
    let mut args: Vec<String> = vec!["report".into(), "-R".into(), "-t".into()];
    // Per-input options go after their -i.
    let per_input = c.files.len() > 1;
    for (k, f) in c.files.iter().enumerate() {
        args.push("-i".into());
        args.push(f.to_string_lossy().into_owned());
        if per_input && k == 1 {
            args.extend(c.args.iter().cloned());
        }
    }
    if !per_input {
        args.extend(c.args.iter().cloned());
    }
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let (out, err, ok) = r.run(&a);
    let ((cpus, want), usecs) = parse_report_clock(&out);
    let Some(cpus) = cpus else {
        // The reference cannot read it (3.1.6 and zlib): nothing to compare.
        eprintln!(
            "  {} cannot read {} ({}): {}",
            r.name,
            c.files[0].display(),
            if ok { "no output" } else { "failed" },
            err.lines().next().unwrap_or("")
        );
        return Ok(None);
    };
    let maps: Vec<_> = c.files.iter().map(|p| map(p)).collect();
    let parsed: Vec<TraceFile> = maps
        .iter()
        .zip(&c.files)
        .map(|(m, p)| TraceFile::parse(m).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect();
    let refs: Vec<&TraceFile> = parsed.iter().collect();
    if cpus != parsed[0].cpus() {
        return Err(format!(
            "{} {}: cpus={} but ours {}",
            r.name,
            c.files[0].display(),
            cpus,
            parsed[0].cpus()
        ));
    }
    // The timestamp format tells whether trace-cmd settled on µs display. Not for a file with
    // an empty TRACECLOCK option: trace-cmd then tokenizes the uninitialised bytes of a
    // malloc(0) buffer, and its choice varies from run to run.
    let ci = parsed[0].clock_info(c.time[0].raw_ts, c.time[0].ts2secs.is_some());
    let empty_clock = parsed[0]
        .options()
        .iter()
        .any(|o| o.id == tracedat::file::options::id::TRACECLOCK && o.data.is_empty());
    if let Some(u) = usecs.filter(|_| !empty_clock) {
        if u != ci.in_usecs {
            return Err(format!(
                "{} {} [{}]: trace-cmd prints µs timestamps: {u}, our clock_info says {:?}; \
                 first lines: {:?}",
                r.name,
                c.files[0].display(),
                c.name,
                ci,
                String::from_utf8_lossy(&out)
                    .lines()
                    .take(3)
                    .collect::<Vec<_>>()
            ));
        }
    }
    let dialect = if r.name == "3.1.6" {
        Dialect::V3_1
    } else {
        Dialect::V3_3
    };
    let got = ours(
        &refs,
        &c.time,
        c.align,
        c.cpus.as_deref().map(|l| (l, dialect)),
    );
    compare(
        &format!("{} {} [{}]", r.name, c.files[0].display(), c.name),
        &want,
        &got,
    )?;
    Ok(Some(want.len()))
}

#[test]
fn merged_records_match_trace_cmd() {
    let refs = references();
    if refs.is_empty() {
        return;
    }
    let mut files = real_files();
    if files.is_empty() {
        skip("no real trace files found (../shared/fixtures)");
        return;
    }
    files.extend(conversions(&refs));
    let mut failures = Vec::new();
    let (mut compared, mut records) = (0usize, 0usize);
    for c in cases(&files) {
        for r in &refs {
            match run_case(r, &c) {
                Ok(Some(n)) => {
                    compared += 1;
                    records += n;
                }
                Ok(None) => {}
                Err(e) => failures.push(e),
            }
        }
    }
    eprintln!(
        "compared {compared} (file, options, reference) runs, {records} records, {} files",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared > 0, "nothing was compared");
}

#[test]
fn report_parser_reads_both_layouts() {
    // Lines as the references print them (3.1.6 then 3.3.1), and drop markers.
    let out = b"cpus=2\n\
          <idle>-0     [001]  6610.683718036: sched_switch: x\n\
CPU:0 [5 EVENTS DROPPED]\n\
 example_user_st-11615 [000]-0x0  6610.683732389: kernel_stack: y\n\
CPU:1 [EVENTS DROPPED]\n\
            bash-12    [001]6268068829420: sched_switch: z\n\
            bash-1181  [000]-0x91464179963720: irq_handler_entry: a\n\
            bash-1181  [000]-0xd 1464179996640: irq_handler_exit: b\n\
f.dat: cpus=3\n";
    let (cpus, recs) = parse_report(out);
    assert_eq!(cpus, Some(2));
    assert_eq!(
        recs,
        vec![
            Rec {
                cpu: 1,
                ts: Ts::Ns(6610683718036),
                missed: 0
            },
            Rec {
                cpu: 0,
                ts: Ts::Ns(6610683732389),
                missed: 5
            },
            Rec {
                cpu: 1,
                ts: Ts::Ns(6268068829420),
                missed: -1
            },
            Rec {
                cpu: 0,
                ts: Ts::Glued("91464179963720".into()),
                missed: 0
            },
            Rec {
                cpu: 0,
                ts: Ts::Ns(1464179996640),
                missed: 0
            },
        ]
    );
    assert!(recs[3].ts.matches(1464179963720));
    assert!(recs[3].ts.matches(464179963720));
    assert!(!recs[3].ts.matches(179963720));
}
