//! Corrupt input never panics or hangs: every real file truncated at many offsets and with
//! bytes flipped, read through every entry point (`tracedat::fuzzing::exercise`), and real
//! kallsyms texts cut and damaged, parsed and looked up (`tracedat::fuzzing::exercise_kallsyms`).

mod common;

use common::*;
use tracedat::fuzzing::{exercise, exercise_kallsyms};

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn files() -> Vec<std::path::PathBuf> {
    let mut v = real_files();
    let refs = references();
    v.extend(conversions(&refs));
    // Keep the test quick: the smaller files cover every layout.
    v.retain(|p| {
        std::fs::metadata(p)
            .map(|m| m.len() <= 4 << 20)
            .unwrap_or(false)
    });
    v
}

/// Offsets worth cutting at: the header area densely, every structure boundary we know of,
/// and evenly spread offsets.
fn cut_points(data: &[u8], rng: &mut Rng) -> Vec<usize> {
    let mut v: Vec<usize> = (0..data.len().min(160)).collect();
    if let Ok(f) = tracedat::TraceFile::parse(data) {
        for o in f.options() {
            if let tracedat::Pos::File(p) = o.pos {
                v.extend([p as usize, p as usize + 3, p as usize + 6, p as usize + 7]);
            }
        }
        for s in f.sections() {
            v.extend([
                s.offset as usize,
                s.offset as usize + 9,
                s.offset as usize + 17,
            ]);
        }
        for b in f.buffers() {
            for c in b.cpus() {
                for d in [0, 1, 5, 13, 17, 100, 4095, 4096, 4100] {
                    v.push(c.offset as usize + d);
                }
                v.push((c.offset + c.size) as usize - 1);
            }
        }
    }
    for i in 0..120 {
        v.push(data.len() * i / 120);
    }
    for _ in 0..30 {
        v.push(rng.below(data.len()));
    }
    v.retain(|&p| p < data.len());
    v.sort();
    v.dedup();
    v
}

#[test]
fn truncated_files_do_not_panic() {
    let files = files();
    if files.is_empty() {
        skip("no real trace files found (../shared/fixtures)");
        return;
    }
    let mut runs = 0;
    for p in &files {
        let data = std::fs::read(p).unwrap();
        let full = exercise(&data);
        assert!(full.parsed, "{} does not parse", p.display());
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ data.len() as u64);
        for cut in cut_points(&data, &mut rng) {
            let s = exercise(&data[..cut]);
            // A prefix never yields more than the whole file.
            assert!(
                s.records <= full.records,
                "{} cut at {cut}: {} records, whole file {}",
                p.display(),
                s.records,
                full.records
            );
            runs += 1;
        }
    }
    eprintln!("{runs} truncations of {} files", files.len());
}

#[test]
fn flipped_bytes_do_not_panic() {
    let files = files();
    if files.is_empty() {
        skip("no real trace files found (../shared/fixtures)");
        return;
    }
    let mut runs = 0;
    for p in &files {
        let data = std::fs::read(p).unwrap();
        let f = tracedat::TraceFile::parse(&data).unwrap();
        // Regions worth hitting: headers and options, section headers, page headers.
        let mut hot: Vec<(usize, usize)> = vec![(0, 200.min(data.len()))];
        for o in f.options() {
            if let tracedat::Pos::File(at) = o.pos {
                hot.push((
                    at as usize,
                    (at as usize + 6 + o.data.len()).min(data.len()),
                ));
            }
        }
        for s in f.sections() {
            hot.push((s.offset as usize, (s.offset as usize + 32).min(data.len())));
        }
        for b in f.buffers() {
            for c in b.cpus() {
                let end = (c.offset + c.size) as usize;
                hot.push((c.offset as usize, end.min(data.len())));
            }
        }
        hot.retain(|(a, b)| a < b);
        let mut rng = Rng(0x1234_5678 ^ data.len() as u64);
        let mut copy = data.clone();
        for _ in 0..150 {
            let n = 1 + rng.below(4);
            let mut touched = Vec::with_capacity(n);
            for _ in 0..n {
                let (a, b) = hot[rng.below(hot.len())];
                let at = a + rng.below(b - a);
                let v = match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    2 => copy[at] ^ (1 << rng.below(8)),
                    _ => rng.next() as u8,
                };
                touched.push((at, copy[at]));
                copy[at] = v;
            }
            exercise(&copy);
            for (at, old) in touched.into_iter().rev() {
                copy[at] = old;
            }
            runs += 1;
        }
    }
    eprintln!("{runs} mutated copies of {} files", files.len());
}

#[test]
#[ignore]
fn time_per_file() {
    for p in files() {
        let data = std::fs::read(&p).unwrap();
        let t = std::time::Instant::now();
        for _ in 0..3 {
            exercise(&data);
        }
        eprintln!(
            "{:8.2} ms {}",
            t.elapsed().as_secs_f64() * 1e3 / 3.0,
            p.display()
        );
    }
}

#[test]
fn damaged_kallsyms_do_not_panic() {
    let mut texts = Vec::new();
    for p in real_files() {
        let data = std::fs::read(&p).unwrap();
        let Ok(f) = tracedat::TraceFile::parse(&data) else {
            continue;
        };
        if let Ok(t) = f.kallsyms() {
            // the layouts differ by kernel and word size, not by file: one of each length
            if !t.is_empty() && !texts.iter().any(|(_, u): &(_, Vec<u8>)| u.len() == t.len()) {
                texts.push((p.clone(), t.to_vec()));
            }
        }
    }
    if texts.is_empty() {
        skip("no real trace files with kallsyms found (../shared/fixtures)");
        return;
    }
    let mut rng = Rng(0x05ee_d4b5);
    let mut runs = 0;
    for (p, text) in &texts {
        // the whole text: parsed alike both ways, and its symbols found
        assert!(exercise_kallsyms(text) > 0, "{}", p.display());
        for _ in 0..60 {
            // a piece of it, cut anywhere, with bytes changed to what the parse looks at
            let from = rng.below(text.len());
            let to = (from + rng.below(8192) + 1).min(text.len());
            let mut piece = text[from..to].to_vec();
            for _ in 0..rng.below(8) {
                let at = rng.below(piece.len());
                piece[at] = match rng.below(8) {
                    0 => b'\n',
                    1 => b'\t',
                    2 => b' ',
                    3 => 0,
                    4 => b'[',
                    5 => 0x80 | rng.below(0x80) as u8,
                    6 => b"0123456789abcdefxX-+$Aa"[rng.below(23)],
                    _ => rng.next() as u8,
                };
            }
            exercise_kallsyms(&piece);
            runs += 1;
        }
    }
    eprintln!("{runs} damaged pieces of {} kallsyms texts", texts.len());
}
