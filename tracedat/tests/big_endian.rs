//! Big-endian files. No big-endian capture is at hand, so real little-endian v6 files are
//! rewritten as the same trace recorded on a big-endian machine: every integer of the
//! container, the page headers, every event header (with the big-endian bit layout of
//! `type_len`/`time_delta`), `array[0]` words, stored lost-event counts and each record's
//! common header (`common_type`, `common_pid`) are byte-swapped. The reader must give the same
//! records as from the original, and the same (cpu, ts, missed) sequence as trace-cmd reading
//! the rewritten file.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use tracedat::file::options::id;
use tracedat::{BufferData, Input, Merge, TimeConfig, TraceFile};

struct W(Vec<u8>);

impl W {
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// One page, little-endian to big-endian, walking events the way kbuffer does.
fn swap_page(src: &[u8], long8: bool) -> Vec<u8> {
    let mut p = src.to_vec();
    if p.len() < 16 {
        return p;
    }
    let ts = u64::from_le_bytes(src[..8].try_into().unwrap());
    p[..8].copy_from_slice(&ts.to_be_bytes());
    let start = if long8 { 16 } else { 12 };
    let flags = if long8 {
        let v = u64::from_le_bytes(src[8..16].try_into().unwrap());
        p[8..16].copy_from_slice(&v.to_be_bytes());
        v
    } else {
        let v = le32(src, 8).unwrap();
        p[8..12].copy_from_slice(&v.to_be_bytes());
        v as u64
    };
    let size = (flags & ((1 << 27) - 1)) as usize;
    if flags & (1 << 31) != 0 && flags & (1 << 30) != 0 {
        let at = start + size;
        if long8 && at + 8 <= p.len() {
            let v = u64::from_le_bytes(src[at..at + 8].try_into().unwrap());
            p[at..at + 8].copy_from_slice(&v.to_be_bytes());
        } else if !long8 && at + 4 <= p.len() {
            let v = le32(src, at).unwrap();
            p[at..at + 4].copy_from_slice(&v.to_be_bytes());
        }
    }
    let mut curr = 0usize;
    while curr < size {
        let at = start + curr;
        let Some(w) = le32(src, at) else { break };
        let (type_len, delta) = (w & 0x1f, w >> 5);
        p[at..at + 4].copy_from_slice(&((type_len << 27) | delta).to_be_bytes());
        let arr = le32(src, at + 4);
        let swap_arr = |p: &mut Vec<u8>| {
            if let Some(a) = arr {
                p[at + 4..at + 8].copy_from_slice(&a.to_be_bytes());
            }
        };
        let (payload, next) = match type_len {
            29 => {
                swap_arr(&mut p);
                (
                    None,
                    (curr + 4).wrapping_add(arr.unwrap_or(0) as i32 as isize as usize),
                )
            }
            30 | 31 => {
                swap_arr(&mut p);
                (None, curr + 8)
            }
            0 => {
                swap_arr(&mut p);
                let len = (arr.unwrap_or(4).wrapping_sub(4) as i32).wrapping_add(3) & !3;
                (Some(at + 8), (curr + 8).wrapping_add(len as isize as usize))
            }
            n => (Some(at + 4), curr + 4 + 4 * n as usize),
        };
        if let Some(d) = payload {
            // common_type (u16), flags, preempt_count (u8), common_pid (s32)
            if d + 8 <= p.len() {
                p.swap(d, d + 1);
                p[d + 4..d + 8].reverse();
            }
        }
        if next <= curr {
            break;
        }
        curr = next;
    }
    p
}

/// The v6 file `f` (little-endian, no instances) written big-endian.
fn to_big_endian(f: &TraceFile<'_>) -> Vec<u8> {
    let h = f.header();
    let mut w = W(Vec::new());
    w.bytes(tracedat::file::MAGIC);
    w.bytes(b"6\0");
    w.bytes(&[1, h.long_size]);
    w.u32(h.page_size);
    let hi = f.header_info().unwrap();
    w.bytes(b"header_page\0");
    w.u64(hi.header_page.len() as u64);
    w.bytes(hi.header_page);
    w.bytes(b"header_event\0");
    w.u64(hi.header_event.len() as u64);
    w.bytes(hi.header_event);
    let ft = f.ftrace_formats().unwrap();
    w.u32(ft.len() as u32);
    for t in ft {
        w.u64(t.len() as u64);
        w.bytes(t);
    }
    let ev = f.event_systems().unwrap();
    w.u32(ev.len() as u32);
    for s in ev {
        w.bytes(s.name);
        w.bytes(b"\0");
        w.u32(s.formats.len() as u32);
        for t in s.formats {
            w.u64(t.len() as u64);
            w.bytes(t);
        }
    }
    let k = f.kallsyms().unwrap();
    w.u32(k.len() as u32);
    w.bytes(k);
    let p = f.printk_formats().unwrap();
    w.u32(p.len() as u32);
    w.bytes(p);
    let c = f.cmdlines().unwrap();
    w.u64(c.len() as u64);
    w.bytes(c);
    w.u32(f.option_cpus());
    w.bytes(b"options  \0");
    for o in f.options() {
        let d = &o.data[..];
        let payload: Vec<u8> = match o.id {
            id::CPUCOUNT => u32::from_le_bytes(d[..4].try_into().unwrap())
                .to_be_bytes()
                .to_vec(),
            id::TRACEID => u64::from_le_bytes(d[..8].try_into().unwrap())
                .to_be_bytes()
                .to_vec(),
            id::TSC2NSEC => {
                let mut v = Vec::new();
                v.extend(u32::from_le_bytes(d[0..4].try_into().unwrap()).to_be_bytes());
                v.extend(u32::from_le_bytes(d[4..8].try_into().unwrap()).to_be_bytes());
                v.extend(u64::from_le_bytes(d[8..16].try_into().unwrap()).to_be_bytes());
                v
            }
            id::BUFFER | id::TIME_SHIFT | id::GUEST => continue,
            _ => d.to_vec(),
        };
        w.u16(o.id);
        w.u32(payload.len() as u32);
        w.bytes(&payload);
    }
    w.u16(0);
    w.bytes(b"flyrecord\0");
    let BufferData::Flyrecord { cpus, .. } = &f.top().data else {
        panic!("not a flyrecord file");
    };
    let table_at = w.0.len();
    for _ in cpus {
        w.u64(0);
        w.u64(0);
    }
    if let Some(Ok(clock)) = f.v6_clock_text() {
        w.u64(clock.len() as u64);
        w.bytes(clock);
    }
    let long8 = f.header_page().unwrap().long_size() == 8;
    let ps = h.page_size as usize;
    for (i, c) in cpus.iter().enumerate() {
        let pad = w.0.len().next_multiple_of(ps);
        w.0.resize(pad, 0);
        let off = w.0.len() as u64;
        let data = &f.bytes()[c.offset as usize..(c.offset + c.size) as usize];
        for page in data.chunks(ps) {
            w.bytes(&swap_page(page, long8));
        }
        let t = table_at + 16 * i;
        w.0[t..t + 8].copy_from_slice(&off.to_be_bytes());
        w.0[t + 8..t + 16].copy_from_slice(&c.size.to_be_bytes());
    }
    w.0
}

fn records(f: &TraceFile<'_>) -> Vec<(u32, u64, i64, Vec<u8>)> {
    let t = TimeConfig::default();
    let mut m = Merge::for_report(&[Input { file: f, time: &t }], false, |_| true).unwrap();
    let mut v = Vec::new();
    while let Some((i, r)) = m.peek() {
        v.push((r.cpu, r.ts, r.missed_events, r.data.to_vec()));
        m.consume(i);
    }
    v
}

fn converted() -> Vec<(PathBuf, PathBuf)> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("big-endian");
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = Vec::new();
    for p in real_files() {
        let m = map(&p);
        let Ok(f) = TraceFile::parse(&m) else {
            continue;
        };
        let plain_v6 = !f.header().sectioned()
            && f.buffers().len() == 1
            && matches!(&f.top().data, BufferData::Flyrecord { cpus, .. } if cpus.iter().any(|c| c.size > 0));
        if !plain_v6 {
            continue;
        }
        let be = to_big_endian(&f);
        let dst = dir.join(format!(
            "{}.be.dat",
            p.file_stem().unwrap().to_string_lossy()
        ));
        std::fs::write(&dst, be).unwrap();
        out.push((p, dst));
    }
    out
}

#[test]
fn big_endian_rewrites_read_like_the_originals() {
    let pairs = converted();
    if pairs.is_empty() {
        skip("no little-endian v6 real files to rewrite");
        return;
    }
    for (orig, be) in &pairs {
        let (m1, m2) = (map(orig), map(be));
        let (a, b) = (
            TraceFile::parse(&m1).unwrap(),
            TraceFile::parse(&m2).unwrap(),
        );
        assert_eq!(b.endian(), tracedat::Endian::Big);
        assert_eq!(a.cpus(), b.cpus());
        let (ra, rb) = (records(&a), records(&b));
        assert_eq!(ra.len(), rb.len(), "{}", be.display());
        for (x, y) in ra.iter().zip(&rb) {
            assert_eq!((x.0, x.1, x.2), (y.0, y.1, y.2), "{}", be.display());
            // The common header was swapped, the rest of the payload kept.
            assert_eq!(x.3.len(), y.3.len());
            if x.3.len() >= 8 {
                assert_eq!(&x.3[8..], &y.3[8..]);
                assert_eq!(
                    u16::from_le_bytes([x.3[0], x.3[1]]),
                    u16::from_be_bytes([y.3[0], y.3[1]])
                );
            }
        }
        eprintln!("{}: {} records", be.display(), rb.len());
    }
}

#[test]
fn big_endian_rewrites_match_trace_cmd() {
    let refs = references();
    let pairs = converted();
    if refs.is_empty() || pairs.is_empty() {
        return;
    }
    let mut compared = 0;
    let re = regex::Regex::new(r"-\d+\s+\[(\d{3,})\](?:-0x[0-9a-f]+)?\s+(\d+)\.(\d{9}):").unwrap();
    let drop = regex::Regex::new(r"^CPU:\d+ \[(?:(\d+) )?EVENTS DROPPED\]$").unwrap();
    for (_, be) in &pairs {
        let m = map(be);
        let f = TraceFile::parse(&m).unwrap();
        let ours: Vec<String> = records(&f)
            .into_iter()
            .map(|(c, t, x, _)| format!("{c} {t} {x}"))
            .collect();
        for r in &refs {
            let (out, err, _) = r.run(&["report", "-R", "-t", "-i", be.to_str().unwrap()]);
            let text = String::from_utf8_lossy(&out);
            let mut want = Vec::new();
            let mut pending = 0i64;
            let mut cpus = None;
            for l in text.lines() {
                if let Some(n) = l.strip_prefix("cpus=") {
                    cpus = n.parse::<u32>().ok();
                } else if let Some(c) = drop.captures(l) {
                    pending = c.get(1).map_or(-1, |m| m.as_str().parse().unwrap());
                } else if let Some(c) = re.captures(l) {
                    let ts: u64 =
                        c[2].parse::<u64>().unwrap() * 1_000_000_000 + c[3].parse::<u64>().unwrap();
                    want.push(format!(
                        "{} {} {}",
                        c[1].parse::<u32>().unwrap(),
                        ts,
                        pending
                    ));
                    pending = 0;
                }
            }
            assert_eq!(cpus, Some(f.cpus()), "{} {}: {err}", r.name, be.display());
            assert_eq!(want.len(), ours.len(), "{} {}", r.name, be.display());
            if let Some(i) = want.iter().zip(&ours).position(|(a, b)| a != b) {
                panic!(
                    "{} {}: record {i}: trace-cmd {:?}, ours {:?}",
                    r.name,
                    be.display(),
                    want[i],
                    ours[i]
                );
            }
            compared += 1;
        }
    }
    eprintln!("compared {compared} big-endian (file, reference) runs");
    assert!(compared > 0);
}
