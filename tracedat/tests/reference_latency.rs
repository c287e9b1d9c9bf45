//! Latency-tracer files (v6 `latency  ` tag, v7 BUFFER_TEXT, compressed or not): the text
//! `report` prints, rebuilt from [`TraceFile::latency_blocks`] the way trace-cmd prints it
//! (`cpus=N`, each block up to its first NUL, a final newline), must equal both references'
//! output byte for byte.

mod common;

use common::*;
use tracedat::{BufferData, TraceFile};

fn render(f: &TraceFile<'_>) -> Vec<u8> {
    let mut out = format!("cpus={}\n", f.cpus()).into_bytes();
    for b in f.latency_blocks(0).expect("latency text") {
        let end = memchr_nul(&b);
        out.extend_from_slice(&b[..end]);
    }
    out.push(b'\n');
    out
}

fn memchr_nul(b: &[u8]) -> usize {
    b.iter().position(|&c| c == 0).unwrap_or(b.len())
}

#[test]
fn latency_text_matches_trace_cmd() {
    let refs = references();
    let files: Vec<_> = real_files()
        .into_iter()
        .filter(|p| {
            let m = map(p);
            TraceFile::parse(&m)
                .map(|f| matches!(f.top().data, BufferData::Latency { .. }))
                .unwrap_or(false)
        })
        .collect();
    if files.is_empty() {
        skip("no latency-format trace files found (fixtures/lat_*.dat)");
        return;
    }
    let mut compared = 0;
    for p in &files {
        let m = map(p);
        let f = TraceFile::parse(&m).unwrap();
        let ours = render(&f);
        for r in &refs {
            let (out, err, ok) = r.run(&["report", "-i", p.to_str().unwrap()]);
            if !ok && out.is_empty() {
                eprintln!("  {} cannot read {}: {err}", r.name, p.display());
                continue;
            }
            if out != ours {
                let i = out
                    .iter()
                    .zip(&ours)
                    .position(|(a, b)| a != b)
                    .unwrap_or(out.len().min(ours.len()));
                panic!(
                    "{} {}: output differs at byte {i} (reference {} bytes, ours {}):\n  reference: {:?}\n  ours:      {:?}",
                    r.name,
                    p.display(),
                    out.len(),
                    ours.len(),
                    String::from_utf8_lossy(&out[i.saturating_sub(40)..(i + 40).min(out.len())]),
                    String::from_utf8_lossy(&ours[i.saturating_sub(40)..(i + 40).min(ours.len())]),
                );
            }
            compared += 1;
        }
    }
    eprintln!("compared {compared} latency (file, reference) outputs");
}
