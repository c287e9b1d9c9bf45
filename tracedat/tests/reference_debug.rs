//! Page-level details per record (`Merge::debug_info`) compared with what trace-cmd 3.3.1
//! prints with `report --debug`: `CPU:N [SUBBUFFER START] [page ts:0xpage offset]` before the
//! first record of a page, ` [delta:0xoffset in page:size]` after each record, and the
//! PADDING / TIME EXTEND / TIME STAMP entries that follow it.

mod common;

use common::*;
use regex::Regex;
use tracedat::{Input, Merge, TimeConfig, TraceFile};

#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct Dbg {
    start: Option<(u64, u64)>,
    delta: u32,
    offset: u64,
    size: i64,
    following: Vec<String>,
}

fn parse(out: &[u8]) -> Vec<Dbg> {
    let text = String::from_utf8_lossy(out);
    let start_re = Regex::new(r"CPU:\d+ \[SUBBUFFER START\] \[(\d+):0x([0-9a-f]+)\]$").unwrap();
    let suffix_re = Regex::new(r" \[(\d+):0x([0-9a-f]+):(-?\d+)\]$").unwrap();
    let meta_re = Regex::new(
        r"^ (PADDING|TIME EXTEND|TIME STAMP): (?:delta|timestamp):(\d+) length:(-?\d+)$",
    )
    .unwrap();
    let mut v: Vec<Dbg> = Vec::new();
    let mut pending = None;
    for l in text.lines() {
        if let Some(c) = start_re.captures(l) {
            pending = Some((
                c[1].parse().unwrap(),
                u64::from_str_radix(&c[2], 16).unwrap(),
            ));
        } else if let Some(c) = meta_re.captures(l) {
            if let Some(last) = v.last_mut() {
                last.following
                    .push(format!("{} {} {}", &c[1], &c[2], &c[3]));
            }
        } else if let Some(c) = suffix_re.captures(l) {
            v.push(Dbg {
                start: pending.take(),
                delta: c[1].parse().unwrap(),
                offset: u64::from_str_radix(&c[2], 16).unwrap(),
                size: c[3].parse().unwrap(),
                following: Vec::new(),
            });
        }
    }
    v
}

fn ours(f: &TraceFile<'_>) -> Vec<Dbg> {
    let t = TimeConfig::default();
    let mut m = Merge::for_report(&[Input { file: f, time: &t }], false, |_| true).unwrap();
    let mut v = Vec::new();
    while let Some((i, _)) = m.peek() {
        let d = m.debug_info(i).unwrap();
        v.push(Dbg {
            start: d.first_in_page.then_some((d.page_ts, d.page_offset)),
            delta: d.ts_delta,
            offset: d.offset_in_page,
            size: d.size as i64,
            following: d
                .following
                .iter()
                .map(|x| {
                    let name = match x.type_len {
                        29 => "PADDING",
                        30 => "TIME EXTEND",
                        _ => "TIME STAMP",
                    };
                    format!("{name} {} {}", x.delta, x.length)
                })
                .collect(),
        });
        m.consume(i);
    }
    v
}

#[test]
fn debug_details_match_trace_cmd() {
    let refs = references();
    let Some(r) = refs.iter().find(|r| r.name == "3.3.1") else {
        skip("trace-cmd 3.3.1 is needed for report --debug");
        return;
    };
    let files = real_files();
    let mut compared = 0;
    let (mut starts, mut metas) = (0, 0);
    for p in &files {
        let m = map(p);
        let Ok(f) = TraceFile::parse(&m) else {
            continue;
        };
        let (out, _, _) = r.run(&["report", "-R", "-t", "--debug", "-i", p.to_str().unwrap()]);
        if !String::from_utf8_lossy(&out).contains("cpus=") {
            continue;
        }
        let want = parse(&out);
        let got = ours(&f);
        assert_eq!(want.len(), got.len(), "{}: record count", p.display());
        for (k, (a, b)) in want.iter().zip(&got).enumerate() {
            assert_eq!(a, b, "{}: record {k}", p.display());
        }
        starts += want.iter().filter(|d| d.start.is_some()).count();
        metas += want.iter().map(|d| d.following.len()).sum::<usize>();
        compared += 1;
    }
    eprintln!("compared {compared} files: {starts} page starts, {metas} time/padding entries");
    if compared == 0 {
        skip("no file trace-cmd 3.3.1 --debug could read");
    }
}
