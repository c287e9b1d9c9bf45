//! Drives every reader entry point over untrusted bytes, for the fuzz targets and the
//! robustness tests: parse, every metadata accessor, every buffer's records in merged order
//! (with function_graph-style look-ahead), the last timestamps and latency text.
//!
//! Whatever the input, this must return (errors are fine) without panicking, hanging or
//! allocating more than the input justifies.

use crate::file::TraceFile;
use crate::merge::{Input, Merge};
use crate::stream::{CpuStream, TimeConfig, TsPipeline};
use crate::BufferData;

/// What [`exercise`] saw, to check it did something.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// The file parsed.
    pub parsed: bool,
    /// Records walked in merged order.
    pub records: u64,
    /// Payload bytes walked.
    pub bytes: u64,
}

/// Reads everything readable in `data`.
pub fn exercise(data: &[u8]) -> Seen {
    let mut seen = Seen::default();
    let Ok(f) = TraceFile::parse(data) else {
        return seen;
    };
    seen.parsed = true;
    let _ = f.header_page();
    let _ = f.header_event_text();
    let _ = f.ftrace_formats();
    let _ = f.event_systems();
    let _ = f.kallsyms();
    let _ = f.printk_formats();
    let _ = f.cmdlines();
    let _ = f.cpustats();
    let _ = f.clock_info(false, false);
    for s in f.sections() {
        let _ = f.section_description(s);
    }
    for (i, b) in f.buffers().iter().enumerate() {
        if let BufferData::Latency { .. } = b.data {
            let _ = f.latency_blocks(i);
        }
        for e in 0..b.cpus().len() {
            if let Ok(s) = CpuStream::new(&f, i, e, TsPipeline::raw()) {
                let _ = s.last_ts();
                let _ = s.first_ts();
            }
        }
    }
    let time = TimeConfig::default();
    if let Ok(mut m) = Merge::for_report(
        &[Input {
            file: &f,
            time: &time,
        }],
        true,
        |_| true,
    ) {
        // Every record consumes at least 4 bytes of page data: more records than that means
        // the walk is not advancing.
        let limit = data.len() as u64 / 4 + 1;
        while let Some((i, r)) = m.peek() {
            seen.records += 1;
            seen.bytes += r.data.len() as u64;
            assert!(seen.records <= limit, "record walk does not advance");
            let odd = r.ts & 1 == 1;
            let _ = m.debug_info(i);
            let follow = m.peek_following_in_source(i).map(|(k, _)| k);
            let _ = m.peek_following(i);
            m.consume(i);
            // Like function_graph's leaf merging, sometimes consume the peeked record too.
            if let Some(k) = follow.filter(|_| odd) {
                m.consume(k);
            }
        }
        let _ = m.warnings();
    }
    seen
}

/// Reads `data` as a KALLSYMS text twice, borrowed and as a compressed section's buffer holds
/// it (after its size, cut at a NUL), and looks up the address each line starts with, its
/// neighbours and the symbols in map order in both. Returns how many lookups found a symbol.
pub fn exercise_kallsyms(data: &[u8]) -> usize {
    use crate::tep::{SymbolTable, Tep};
    use std::borrow::Cow;
    let tep = |table| {
        let mut t = Tep::new(crate::Endian::Little, 8, crate::Dialect::default());
        t.set_symbol_table(table);
        t
    };
    let lazy = tep(SymbolTable::new(data));
    let mut buf = (data.len() as u32).to_le_bytes().to_vec();
    buf.extend_from_slice(data);
    buf.extend_from_slice(b"\0\xff");
    let now = tep(SymbolTable::parse_now(
        Cow::Owned(buf),
        4..4 + data.len() + 2,
    ));
    let starts = data.split(|&b| b == b'\n').take(1000).filter_map(|l| {
        let n = l
            .iter()
            .take(16)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        u64::from_str_radix(std::str::from_utf8(&l[..n]).ok()?, 16).ok()
    });
    let mut found = 0;
    for a in starts.flat_map(|a| [a.wrapping_sub(1), a, a.wrapping_add(1)]) {
        let one = lazy.find_function_info(a);
        assert_eq!(one, now.find_function_info(a), "lookup of {a:#x}");
        assert_eq!(lazy.find_function_module(a), now.find_function_module(a));
        found += one.is_some() as usize;
    }
    assert!(lazy.symbols().eq(now.symbols()), "symbols in map order");
    found
}
