//! `report --cpus --first-event --last-event -t`: the CPUs with data and the timestamps of
//! their first and last records (`tracecmd_read_cpu_first`/`tracecmd_read_cpu_last`), from
//! [`CpuStream::peek`] and [`CpuStream::last_ts`], against both references.

mod common;

use common::*;
use regex::Regex;
use tracedat::{BufferData, CpuStream, TimeConfig, TraceFile, TsPipeline};

fn ts(whole: &str, frac: Option<&str>) -> u64 {
    let w: u64 = whole.parse().unwrap();
    match frac {
        Some(f) => w * 1_000_000_000 + f.parse::<u64>().unwrap(),
        None => w,
    }
}

#[test]
fn first_and_last_events_match_trace_cmd() {
    let refs = references();
    let re = Regex::new(
        r"(?m)^  (\d+)\tFirst event:\s*(\d+)(?:\.(\d{9}))?\tLast event:\s*(\d+)(?:\.(\d{9}))?$",
    )
    .unwrap();
    let mut compared = 0;
    for p in real_files() {
        let m = map(&p);
        let Ok(f) = TraceFile::parse(&m) else {
            continue;
        };
        let BufferData::Flyrecord { cpus, .. } = &f.top().data else {
            continue;
        };
        let pipe = TsPipeline::new(&f, 0, &TimeConfig::default());
        let mut ours = Vec::new();
        for (e, c) in cpus.iter().enumerate() {
            if c.size == 0 {
                continue;
            }
            let s = CpuStream::new(&f, 0, e, pipe.clone()).unwrap();
            if let Some(first) = s.peek_ts() {
                ours.push((c.cpu, first, s.last_ts().unwrap().unwrap()));
            }
        }
        for r in &refs {
            let args = [
                "report",
                "--cpus",
                "--first-event",
                "--last-event",
                "-t",
                "-i",
            ];
            let mut a = args.to_vec();
            a.push(p.to_str().unwrap());
            let (out, _, _) = r.run(&a);
            let out = String::from_utf8_lossy(&out);
            if !out.contains("with data:") {
                continue;
            }
            let want: Vec<(u32, u64, u64)> = re
                .captures_iter(&out)
                .map(|c| {
                    (
                        c[1].parse().unwrap(),
                        ts(&c[2], c.get(3).map(|m| m.as_str())),
                        ts(&c[4], c.get(5).map(|m| m.as_str())),
                    )
                })
                .collect();
            assert_eq!(want, ours, "{} {}", r.name, p.display());
            compared += 1;
        }
    }
    eprintln!("compared {compared} (file, reference) CPU lists");
    if compared == 0 {
        skip("no file to compare --cpus with");
    }
}
