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
