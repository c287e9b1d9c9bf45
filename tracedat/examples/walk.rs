//! Walks every record of a trace.dat file in trace-cmd's merged order and prints the count
//! and the time it took: the floor of `report` speed.
//!
//! `cargo run --release --example walk -- FILE [--dump] [--raw-ts]`; `--dump` prints one
//! `cpu ts missed size` line per record instead.

use std::io::Write;
use std::time::Instant;

use tracedat::{Input, Merge, TimeConfig, TraceFile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .ok_or("usage: walk FILE")?;
    let dump = args.iter().any(|a| a == "--dump");
    let time = TimeConfig {
        raw_ts: args.iter().any(|a| a == "--raw-ts"),
        ..Default::default()
    };
    let f = std::fs::File::open(path)?;
    // SAFETY: the file is opened read-only and not modified while mapped.
    let map = unsafe { memmap2::Mmap::map(&f)? };
    let t0 = Instant::now();
    let file = TraceFile::parse(&map)?;
    let t1 = Instant::now();
    let mut m = Merge::for_report(
        &[Input {
            file: &file,
            time: &time,
        }],
        false,
        |_| true,
    )?;
    let t2 = Instant::now();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut n, mut bytes, mut sum) = (0u64, 0u64, 0u64);
    while let Some((i, r)) = m.peek() {
        if dump {
            writeln!(
                out,
                "{} {} {} {}",
                r.cpu,
                r.ts,
                r.missed_events,
                r.data.len()
            )?;
        }
        n += 1;
        bytes += r.data.len() as u64;
        sum = sum.wrapping_add(r.ts ^ r.data.first().copied().unwrap_or(0) as u64);
        m.consume(i);
    }
    let t3 = Instant::now();
    out.flush()?;
    for w in file.warnings().iter().chain(m.warnings()) {
        eprintln!("warning: {w}");
    }
    let walk = (t3 - t2).as_secs_f64();
    eprintln!(
        "{n} records, {bytes} payload bytes (check {sum:x}); parse {:.3} ms, setup {:.3} ms, \
         walk {:.3} ms = {:.1} ns/record",
        (t1 - t0).as_secs_f64() * 1e3,
        (t2 - t1).as_secs_f64() * 1e3,
        walk * 1e3,
        if n > 0 { walk * 1e9 / n as f64 } else { 0.0 }
    );
    Ok(())
}
