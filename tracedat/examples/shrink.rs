//! Writes a small v6 copy of a trace.dat file, for fuzzing seeds: the same headers, ftrace
//! formats, only the event formats the kept records use, no kallsyms or printk formats, the
//! options that describe the trace, and the first pages of each CPU (or the start of the
//! latency text). Convert the result with `trace-cmd convert` to get v7 seeds.
//!
//! `cargo run --example shrink -- IN OUT [PAGES]` (uncompressed inputs only).

use std::collections::HashSet;

use tracedat::file::options::id;
use tracedat::{BufferData, TraceFile};

fn put(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(b);
}

fn format_id(text: &[u8]) -> Option<u32> {
    let t = String::from_utf8_lossy(text);
    t.lines()
        .find_map(|l| l.strip_prefix("ID: "))
        .and_then(|v| v.trim().parse().ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (inp, outp) = (
        args.first().ok_or("usage: shrink IN OUT [PAGES]")?,
        args.get(1).ok_or("OUT")?,
    );
    let pages: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(2);
    let data = std::fs::read(inp)?;
    let f = TraceFile::parse(&data)?;
    if f.header().codec.is_some() {
        return Err("compressed input: convert it with --compression none first".into());
    }
    let e = f.endian();
    let (u16b, u32b, u64b) = (
        |v: u16| {
            if e == tracedat::Endian::Big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        },
        |v: u32| {
            if e == tracedat::Endian::Big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        },
        |v: u64| {
            if e == tracedat::Endian::Big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        },
    );
    let ps = f.header().page_size as usize;
    // Pages kept per CPU, and the event ids their records use.
    let mut kept: Vec<(u64, &[u8])> = Vec::new();
    let mut ids = HashSet::new();
    let latency = match &f.top().data {
        BufferData::Flyrecord { cpus, .. } => {
            let fmt = f.page_format()?;
            for c in cpus {
                let n = (c.size as usize).min(pages * ps);
                let d = &data[c.offset as usize..c.offset as usize + n];
                for page in d.chunks(ps) {
                    let mut dec = tracedat::ring_buffer::PageDecoder::load(page, fmt);
                    while let Some(ev) = dec.next_event() {
                        if let Some(t) = e.u16(dec.payload(&ev), 0) {
                            ids.insert(t as u32);
                        }
                    }
                }
                kept.push((c.size, d));
            }
            None
        }
        BufferData::Latency { offset, .. } => {
            let o = *offset as usize;
            Some(&data[o..(o + 4096).min(data.len())])
        }
        BufferData::Unreadable(err) => return Err(err.to_string().into()),
    };
    let mut out = Vec::new();
    put(&mut out, tracedat::file::MAGIC);
    put(&mut out, b"6\0");
    out.push(if e == tracedat::Endian::Big { 1 } else { 0 });
    out.push(f.header().long_size);
    put(&mut out, &u32b(f.header().page_size));
    let hi = f.header_info()?;
    put(&mut out, b"header_page\0");
    put(&mut out, &u64b(hi.header_page.len() as u64));
    put(&mut out, hi.header_page);
    put(&mut out, b"header_event\0");
    put(&mut out, &u64b(hi.header_event.len() as u64));
    put(&mut out, hi.header_event);
    let ft = f.ftrace_formats()?;
    put(&mut out, &u32b(ft.len() as u32));
    for t in ft {
        put(&mut out, &u64b(t.len() as u64));
        put(&mut out, t);
    }
    let systems: Vec<_> = f
        .event_systems()?
        .into_iter()
        .map(|s| {
            let keep: Vec<&[u8]> = s
                .formats
                .iter()
                .copied()
                .filter(|t| format_id(t).is_some_and(|i| ids.contains(&i)))
                .collect();
            (s.name, keep)
        })
        .filter(|(_, k)| !k.is_empty())
        .collect();
    put(&mut out, &u32b(systems.len() as u32));
    for (name, formats) in systems {
        put(&mut out, name);
        put(&mut out, b"\0");
        put(&mut out, &u32b(formats.len() as u32));
        for t in formats {
            put(&mut out, &u64b(t.len() as u64));
            put(&mut out, t);
        }
    }
    put(&mut out, &u32b(0)); // kallsyms
    put(&mut out, &u32b(0)); // printk formats
    let cl = f.cmdlines()?;
    put(&mut out, &u64b(cl.len() as u64));
    put(&mut out, cl);
    put(&mut out, &u32b(f.option_cpus()));
    put(&mut out, b"options  \0");
    for o in f.options() {
        if matches!(
            o.id,
            id::DATE
                | id::TRACECLOCK
                | id::UNAME
                | id::OFFSET
                | id::CPUCOUNT
                | id::VERSION
                | id::TRACEID
                | id::TSC2NSEC
                | id::CPUSTAT
        ) {
            put(&mut out, &u16b(o.id));
            put(&mut out, &u32b(o.data.len() as u32));
            put(&mut out, &o.data);
        }
    }
    put(&mut out, &u16b(0));
    if let Some(text) = latency {
        put(&mut out, b"latency  \0");
        put(&mut out, text);
    } else {
        put(&mut out, b"flyrecord\0");
        let table = out.len();
        for _ in &kept {
            put(&mut out, &[0u8; 16]);
        }
        if let Some(Ok(clock)) = f.v6_clock_text() {
            put(&mut out, &u64b(clock.len() as u64));
            put(&mut out, clock);
        }
        for (i, (size, d)) in kept.iter().enumerate() {
            let at = out.len().next_multiple_of(ps);
            out.resize(at, 0);
            put(&mut out, d);
            let size = if *size == 0 { 0 } else { d.len() as u64 };
            out[table + 16 * i..table + 16 * i + 8].copy_from_slice(&u64b(if size == 0 {
                0
            } else {
                at as u64
            }));
            out[table + 16 * i + 8..table + 16 * i + 16].copy_from_slice(&u64b(size));
        }
    }
    std::fs::write(outp, &out)?;
    eprintln!("{} -> {} ({} bytes)", inp, outp, out.len());
    Ok(())
}
