//! tep-diff: differential testing of `tracedat::tep` against the real libtraceevent.
//!
//! ```text
//! tep-diff sysfs-bundle [TRACEFS [PRINTK]]   bundle of a running kernel's formats (read only),
//!                                            PRINTK: write synthetic trace_printk formats there
//! tep-diff dat-bundle FILE OUTDIR            bundle of a trace.dat's metadata (via trace-cmd)
//! tep-diff gen BUNDLE SEED PER_EVENT         synthetic records for every event, to stdout
//! tep-diff print BUNDLE RECORDS 3.1|3.3      what tracedat::tep prints (tep-ref's format)
//! tep-diff compare OURS REFERENCE [SHOW]     mismatch summary; exit 1 on any mismatch
//! ```
//! See tools/tep-diff/README.md.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use tracedat::format::FieldFlags;
use tracedat::tep::Tep;
use tracedat::{Dialect, Endian};

struct Bundle {
    endian: Endian,
    long: u32,
    kallsyms: Option<Vec<u8>>,
    printk: Option<Vec<u8>>,
    formats: Vec<(String, Vec<u8>)>,
}

fn load_bundle(path: &str) -> io::Result<Bundle> {
    let text = fs::read_to_string(path)?;
    let mut b = Bundle {
        endian: Endian::Little,
        long: 8,
        kallsyms: None,
        printk: None,
        formats: Vec::new(),
    };
    for line in text.lines() {
        let mut w = line.split_whitespace();
        match (w.next(), w.next(), w.next()) {
            (Some("endian"), Some(v), _) => {
                b.endian = if v == "1" {
                    Endian::Big
                } else {
                    Endian::Little
                }
            }
            (Some("long"), Some(v), _) => b.long = v.parse().unwrap_or(8),
            (Some("kallsyms"), Some(p), _) => b.kallsyms = Some(fs::read(p)?),
            (Some("printk"), Some(p), _) => {
                // several printk lines are parsed one after the other
                let t = fs::read(p)?;
                b.printk.get_or_insert_with(Vec::new).extend_from_slice(&t);
            }
            (Some("format"), Some(s), Some(p)) => b.formats.push((s.to_string(), fs::read(p)?)),
            _ => {}
        }
    }
    Ok(b)
}

fn make_tep(b: &Bundle, d: Dialect) -> Tep<'_> {
    let mut tep = Tep::new(b.endian, b.long, d);
    for (sys, text) in &b.formats {
        let _ = tep.add_event_format(sys, text);
    }
    if let Some(k) = &b.kallsyms {
        tep.set_kallsyms(k);
    }
    if let Some(p) = &b.printk {
        tep.set_printk_formats(p);
    }
    tep
}

/// `trace_printk()` formats exercising make_bprint_args() and the conversions, at addresses
/// no kernel uses (the running kernel's printk_formats has few conversions).
const SYNTHETIC_PRINTK: &[&str] = &[
    "%d %u %x %X %o",
    "%ld %lu %lx %lld %llu %llx",
    "%s and %s",
    "%pS %ps %pF %pf",
    "%p %pK %pB",
    "%*d|%5s|%x",
    "%08lx %+d %#o %#x %8d|",
    "%zu %zd %#llx",
    "100%% done %d",
    "%.*s|%5.2s",
    "%pI4 %pM %pU",
    "%d\\n",
    "%s: %d %s",
    "no conversions",
    "%lx %s %lx %s %d",
    // these fail the bprint event for the rest of the run (fewer arguments decoded than
    // conversions), so they come last and are rarely picked
    "%-5s %hhd %hd %c %4$d %n %q %j",
];

fn sysfs_bundle(root: &str, extra: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "endian 0\nlong 8\nkallsyms /proc/kallsyms\nprintk {root}/printk_formats"
    )?;
    if !extra.is_empty() {
        let mut t = String::new();
        for (k, f) in SYNTHETIC_PRINTK.iter().enumerate() {
            let addr = 0xffff_ffff_a000_0000u64 + 0x40 * k as u64;
            t.push_str(&format!("0x{addr:x} : \"{f}\\n\"\n"));
        }
        fs::write(extra, t)?;
        writeln!(out, "printk {extra}")?;
    }
    let mut systems: Vec<_> = fs::read_dir(format!("{root}/events"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    systems.sort();
    // trace-cmd stores the ftrace system first
    systems.sort_by_key(|s| s != "ftrace");
    for sys in systems {
        let mut evs: Vec<_> = fs::read_dir(format!("{root}/events/{sys}"))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("format").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        evs.sort();
        for ev in evs {
            writeln!(out, "format {sys} {root}/events/{sys}/{ev}/format")?;
        }
    }
    Ok(())
}

fn run(cmd: &str, args: &[&str]) -> io::Result<Vec<u8>> {
    let o = std::process::Command::new(cmd).args(args).output()?;
    Ok(o.stdout)
}

/// Extracts formats, kallsyms and printk formats of a trace.dat with the reference
/// `trace-cmd` (`dump --ftrace-events --events --kallsyms --printk --summary`).
fn dat_bundle(file: &str, dir: &str) -> io::Result<()> {
    let tc = std::env::var("TRACE_CMD").unwrap_or_else(|_| "trace-cmd".to_string());
    fs::create_dir_all(dir)?;
    let summary =
        String::from_utf8_lossy(&run(&tc, &["dump", "--summary", "-i", file])?).into_owned();
    let mut out = String::new();
    let big = summary.contains("[Big endian]");
    let long = summary
        .lines()
        .find(|l| l.contains("[Bytes in a long]"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("8")
        .to_string();
    out.push_str(&format!("endian {}\nlong {long}\n", big as u8));
    for (what, name) in [("--kallsyms", "kallsyms"), ("--printk", "printk")] {
        let t = run(&tc, &["dump", what, "-i", file])?;
        // the first line is dump's "\t[Kallsyms, N bytes]" title
        let body = match t.iter().position(|&b| b == b'\n') {
            Some(p) => &t[p + 1..],
            None => &[][..],
        };
        let path = format!("{dir}/{name}");
        fs::write(&path, body)?;
        out.push_str(&format!("{name} {path}\n"));
    }
    let mut n = 0;
    // dump does not say which system a format belongs to; only "ftrace" matters to
    // libtraceevent (the ftrace flag and bprint), the others go under "events"
    for (what, system) in [("--ftrace-events", "ftrace"), ("--events", "events")] {
        let ev = String::from_utf8_lossy(&run(&tc, &["dump", what, "-i", file])?).into_owned();
        let mut cur: Option<String> = None;
        let mut flush = |cur: &mut Option<String>, out: &mut String| -> io::Result<()> {
            if let Some(mut t) = cur.take() {
                // dump prints each format followed by a newline of its own
                if t.ends_with("\n\n") {
                    t.pop();
                }
                let path = format!("{dir}/{n:05}.fmt");
                fs::write(&path, t)?;
                out.push_str(&format!("format {system} {path}\n"));
                n += 1;
            }
            Ok(())
        };
        for line in ev.split_inclusive('\n') {
            if line.starts_with("name: ") {
                flush(&mut cur, &mut out)?;
                cur = Some(String::new());
            }
            if let Some(c) = &mut cur {
                c.push_str(line);
            }
        }
        flush(&mut cur, &mut out)?;
    }
    fs::write(format!("{dir}/bundle"), out)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

fn put(data: &mut [u8], off: usize, size: usize, v: u64, e: Endian) {
    for k in 0..size.min(8) {
        let shift = match e {
            Endian::Little => 8 * k,
            Endian::Big => 8 * (size.min(8) - 1 - k),
        };
        if let Some(b) = data.get_mut(off + k) {
            *b = (v >> shift) as u8;
        }
    }
}

fn string_bytes(r: &mut Rng, max: usize) -> Vec<u8> {
    let n = r.below(max as u64 + 1) as usize;
    let mut v: Vec<u8> = match r.below(4) {
        0 => (0..n).map(|_| b'a' + r.below(26) as u8).collect(),
        1 => (0..n).map(|_| 0x20 + r.below(95) as u8).collect(),
        2 => (0..n).map(|_| r.next() as u8).collect(),
        _ => b"swapper/0".iter().copied().take(n).collect(),
    };
    if r.chance(80) {
        v.push(0);
    }
    v
}

fn gen(bundle: &str, seed: u64, per: u32) -> io::Result<()> {
    let b = load_bundle(bundle)?;
    let tep = make_tep(&b, Dialect::V3_3);
    let syms: Vec<u64> = tep.symbols().map(|s| s.addr).collect();
    let printks: Vec<u64> = tep.printk_formats().iter().map(|p| p.addr).collect();
    let mut r = Rng(seed | 1);
    let mut out = BufWriter::new(io::stdout().lock());
    for ev in tep.events() {
        let f = ev.format();
        let all: Vec<_> = f.common_fields.iter().chain(f.fields.iter()).collect();
        let base = all
            .iter()
            .map(|x| (x.offset + x.size) as usize)
            .max()
            .unwrap_or(8)
            .min(4096);
        for _ in 0..per {
            let extra = r.below(160) as usize;
            let size = base + extra;
            let mut data = vec![0u8; size];
            if r.chance(30) {
                for b in data.iter_mut() {
                    *b = r.next() as u8;
                }
            }
            let mut cursor = base;
            for fl in &all {
                let off = fl.offset as usize;
                let sz = fl.size as usize;
                if &*fl.name == "common_type" {
                    put(&mut data, off, sz, ev.id() as u64, b.endian);
                    continue;
                }
                if fl.flags.has(FieldFlags::DYNAMIC) {
                    let mode = r.below(10);
                    let payload = if fl.flags.has(FieldFlags::STRING) || r.chance(50) {
                        string_bytes(&mut r, 40)
                    } else {
                        (0..r.below(48)).map(|_| r.next() as u8).collect()
                    };
                    let (o, l): (u64, u64) = match mode {
                        0 => (0, 0),
                        1 => (r.next() & 0xffff, r.next() & 0xffff),
                        2 => (cursor as u64, 0),
                        3 => ((size + r.below(8) as usize) as u64, payload.len() as u64),
                        _ => {
                            let n = payload.len().min(size.saturating_sub(cursor));
                            data[cursor..cursor + n].copy_from_slice(&payload[..n]);
                            let o = cursor;
                            cursor += n;
                            (o as u64, n as u64)
                        }
                    };
                    let o = if fl.flags.has(FieldFlags::RELATIVE) && mode >= 4 {
                        o.wrapping_sub((off + sz) as u64) & 0xffff
                    } else {
                        o
                    };
                    let v = if sz == 2 { o } else { (l << 16) | (o & 0xffff) };
                    put(&mut data, off, sz.min(4), v, b.endian);
                    continue;
                }
                if &*fl.name == "buf" && ev.name() == "bprint" {
                    // vbin_printf() arguments: 32-bit words, 64-bit values, strings
                    let mut p = off;
                    while p + 8 <= size {
                        match r.below(4) {
                            0 => {
                                let s = string_bytes(&mut r, 12);
                                let n = s.len().min(size - p);
                                data[p..p + n].copy_from_slice(&s[..n]);
                                p += n;
                            }
                            1 if !syms.is_empty() => {
                                let a = syms[r.below(syms.len() as u64) as usize] + r.below(3);
                                put(&mut data, (p + 3) & !3, 8, a, b.endian);
                                p = ((p + 3) & !3) + 8;
                            }
                            _ => {
                                let v =
                                    [0, 1, u64::MAX, r.below(1000), r.next()][r.below(5) as usize];
                                put(&mut data, (p + 3) & !3, 4, v, b.endian);
                                p = ((p + 3) & !3) + 4;
                            }
                        }
                    }
                    continue;
                }
                if fl.flags.has(FieldFlags::ARRAY) {
                    let end = (off + sz).min(size);
                    if off >= end {
                        continue;
                    }
                    let dst = &mut data[off..end];
                    match r.below(5) {
                        0 => dst.fill(0),
                        1 | 2 if fl.flags.has(FieldFlags::STRING) => {
                            let s = string_bytes(&mut r, dst.len());
                            let n = s.len().min(dst.len());
                            dst[..n].copy_from_slice(&s[..n]);
                        }
                        3 => {
                            let es = (fl.element_size as usize).clamp(1, 8);
                            for k in (0..dst.len()).step_by(es) {
                                let v = r.below(300);
                                for j in 0..es.min(dst.len() - k) {
                                    dst[k + j] = (v >> (8 * j)) as u8;
                                }
                            }
                        }
                        _ => dst.iter_mut().for_each(|b| *b = r.next() as u8),
                    }
                    continue;
                }
                let fmt_of_printk =
                    (&*fl.name == "fmt" || &*fl.name == "str") && !printks.is_empty();
                if fmt_of_printk && r.chance(70) {
                    // mostly the well-formed synthetic formats
                    let n = printks.len() as u64;
                    let k = if r.chance(99) {
                        r.below(n.max(2) - 1)
                    } else {
                        n - 1
                    };
                    let v = printks[k as usize];
                    put(&mut data, off, sz, v, b.endian);
                    continue;
                }
                let v: u64 = match r.below(14) {
                    0 => 0,
                    1 => u64::MAX,
                    2 => r.below(16),
                    3 | 4 if !syms.is_empty() => {
                        let a = syms[r.below(syms.len() as u64) as usize];
                        if r.chance(50) {
                            a
                        } else {
                            a + r.below(64)
                        }
                    }
                    5 if !printks.is_empty() => printks[r.below(printks.len() as u64) as usize],
                    6 => 1 << r.below(64),
                    7 => (1 << r.below(16)) | (1 << r.below(16)),
                    8 => [2, 10, 1, 0x20, 0x402][r.below(5) as usize],
                    9 => r.below(1 << 20),
                    10 => (r.next() as i8) as i64 as u64,
                    _ => r.next(),
                };
                if sz <= 8 {
                    put(&mut data, off, sz, v, b.endian);
                }
            }
            out.write_all(&(size as u32).to_le_bytes())?;
            out.write_all(&data)?;
        }
    }
    out.flush()
}

fn escaped(out: &mut impl Write, s: &[u8]) -> io::Result<()> {
    for &c in s {
        if c == b'\\' {
            out.write_all(b"\\\\")?;
        } else if (0x20..0x7f).contains(&c) {
            out.write_all(&[c])?;
        } else {
            write!(out, "\\x{c:02x}")?;
        }
    }
    out.write_all(b"\n")
}

fn print(bundle: &str, records: &str, d: Dialect) -> io::Result<()> {
    let b = load_bundle(bundle)?;
    let tep = make_tep(&b, d);
    let mut out = BufWriter::new(io::stdout().lock());
    for ev in tep.events() {
        let f = ev.format();
        writeln!(
            out,
            "E {} {} {} {}",
            ev.id(),
            ev.system(),
            ev.name(),
            ev.failed() as u8
        )?;
        for x in f.common_fields.iter().chain(f.fields.iter()) {
            writeln!(
                out,
                "F {} {}|{}|{}|{}|{}|{}|{}",
                ev.id(),
                x.type_name,
                x.name,
                x.offset as i32,
                x.size as i32,
                x.array_len,
                x.element_size,
                x.flags.0 & 0x13f
            )?;
        }
    }
    let recs = fs::read(records)?;
    let mut pos = 0;
    let mut n = 0;
    let mut page = vec![0u8; 64 * 1024];
    let mut s = Vec::new();
    while pos + 4 <= recs.len() {
        let sz = u32::from_le_bytes(recs[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4;
        if sz > page.len() || pos + sz > recs.len() {
            break;
        }
        page.fill(0);
        page[..sz].copy_from_slice(&recs[pos..pos + sz]);
        pos += sz;
        for raw in [false, true] {
            s.clear();
            let ok = match tep
                .record_type(&page[..sz])
                .and_then(|id| tep.event_by_id(id))
            {
                None => {
                    s.extend_from_slice(b"[UNKNOWN EVENT]");
                    true
                }
                Some(ev) if raw => tep.print_raw_fields_checked(&ev, &page, sz, &mut s),
                Some(ev) => tep.print_pretty_checked(&ev, &page, sz, &mut s),
            };
            write!(out, "{} {} ", if raw { 'R' } else { 'P' }, n)?;
            if ok {
                escaped(&mut out, &s)?;
            } else {
                escaped(&mut out, b"<CRASH>")?;
            }
        }
        n += 1;
    }
    out.flush()
}

/// Compares two outputs line by line; prints counts per line kind and per event.
fn compare(ours: &str, reference: &str, show: usize) -> io::Result<bool> {
    let a = fs::read_to_string(ours)?;
    let b = fs::read_to_string(reference)?;
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut by_kind: BTreeMap<char, (usize, usize)> = BTreeMap::new();
    let mut shown = 0;
    if la.len() != lb.len() {
        println!(
            "line count differs: ours {} reference {}",
            la.len(),
            lb.len()
        );
    }
    for (x, y) in la.iter().zip(lb.iter()) {
        let k = y.chars().next().unwrap_or('?');
        let e = by_kind.entry(k).or_default();
        e.0 += 1;
        if x != y {
            e.1 += 1;
            if shown < show {
                println!("- ref  {y}\n+ ours {x}");
                shown += 1;
            }
        }
    }
    let mut total = 0;
    for (k, (n, bad)) in &by_kind {
        println!("{k}: {bad} of {n} lines differ");
        total += bad;
    }
    Ok(total == 0 && la.len() == lb.len())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let r = match a(1) {
        "sysfs-bundle" => {
            let root = if a(2).is_empty() {
                "/sys/kernel/tracing"
            } else {
                a(2)
            };
            sysfs_bundle(root, a(3)).map(|_| true)
        }
        "dat-bundle" => dat_bundle(a(2), a(3)).map(|_| true),
        "gen" => gen(a(2), a(3).parse().unwrap_or(1), a(4).parse().unwrap_or(10)).map(|_| true),
        "print" => {
            let d = if a(4) == "3.1" {
                Dialect::V3_1
            } else {
                Dialect::V3_3
            };
            print(a(2), a(3), d).map(|_| true)
        }
        "compare" => compare(a(2), a(3), a(4).parse().unwrap_or(20)),
        _ => {
            eprintln!("usage: tep-diff sysfs-bundle|gen|print|compare ... (see README.md)");
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("tep-diff: {e}");
            ExitCode::from(2)
        }
    }
}

#[allow(dead_code)]
fn exists(p: &str) -> bool {
    Path::new(p).exists()
}
