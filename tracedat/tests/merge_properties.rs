//! The merge against a naive model on every real file: trace-cmd's linear scan (smallest
//! timestamp, ties to the lowest index) over per-CPU record lists, and the look-ahead
//! (`peek_following*`) equal to what the merge then really yields.

mod common;

use common::*;
use tracedat::{CpuStream, Input, Merge, TimeConfig, TraceFile};

type R = (u32, u64, i64, u64, Vec<u8>);

/// Every stream's records, read stream by stream.
fn per_stream(m: &Merge<'_>, f: &[&TraceFile<'_>], t: &TimeConfig) -> Vec<Vec<R>> {
    (0..m.len())
        .map(|i| {
            let info = m.info(i);
            let file = f[info.input];
            let b = &file.buffers()[info.buffer];
            let entry = b.cpus().iter().position(|c| c.cpu == info.cpu).unwrap();
            let pipe = tracedat::TsPipeline::new(file, info.buffer, t);
            let mut s = CpuStream::new(file, info.buffer, entry, pipe).unwrap();
            let mut v = Vec::new();
            while let Some(r) = s.peek() {
                v.push((r.cpu, r.ts, r.missed_events, r.offset, r.data.to_vec()));
                s.advance();
            }
            v
        })
        .collect()
}

#[test]
fn merge_equals_linear_scan_and_lookahead_is_exact() {
    let files = real_files();
    if files.is_empty() {
        skip("no real trace files found (../shared/fixtures)");
        return;
    }
    let t = TimeConfig::default();
    let mut total = 0usize;
    for p in &files {
        let m = map(p);
        let f = TraceFile::parse(&m).unwrap();
        // The file twice: a second input exercises sources and ties across inputs.
        let inputs = [Input { file: &f, time: &t }, Input { file: &f, time: &t }];
        let mut merge = Merge::for_report(&inputs, false, |_| true).unwrap();
        let lists = per_stream(&merge, &[&f, &f], &t);
        let mut heads = vec![0usize; lists.len()];
        let same_source = |a: usize, b: usize, m: &Merge| m.info(a).source == m.info(b).source;
        loop {
            // Naive model: first stream (lowest index) with the smallest head timestamp.
            let want = (0..lists.len())
                .filter(|&k| heads[k] < lists[k].len())
                .min_by_key(|&k| (lists[k][heads[k]].1, k));
            let got = merge.peek();
            match (want, got) {
                (None, None) => break,
                (Some(k), Some((i, r))) => {
                    assert_eq!(k, i, "{}: stream", p.display());
                    let w = &lists[k][heads[k]];
                    assert_eq!(
                        (w.0, w.1, w.2, w.3, &w.4[..]),
                        (r.cpu, r.ts, r.missed_events, r.offset, r.data),
                        "{}",
                        p.display()
                    );
                    // Look-ahead within the handle and globally, from the model.
                    heads[k] += 1;
                    let next_in = |pred: &dyn Fn(usize) -> bool| {
                        (0..lists.len())
                            .filter(|&j| pred(j) && heads[j] < lists[j].len())
                            .min_by_key(|&j| (lists[j][heads[j]].1, j))
                    };
                    let src = next_in(&|j| same_source(j, k, &merge));
                    let all = next_in(&|_| true);
                    let got_src = merge
                        .peek_following_in_source(i)
                        .map(|(j, r)| (j, r.offset));
                    let got_all = merge.peek_following(i).map(|(j, r)| (j, r.offset));
                    assert_eq!(
                        got_src,
                        src.map(|j| (j, lists[j][heads[j]].3)),
                        "{}",
                        p.display()
                    );
                    assert_eq!(
                        got_all,
                        all.map(|j| (j, lists[j][heads[j]].3)),
                        "{}",
                        p.display()
                    );
                    merge.consume(i);
                    total += 1;
                }
                (w, g) => panic!(
                    "{}: model has {:?}, merge {:?}",
                    p.display(),
                    w,
                    g.map(|x| x.0)
                ),
            }
        }
    }
    eprintln!("{total} merged records checked over {} files", files.len());
    assert!(total > 0);
}

#[test]
fn consuming_the_lookahead_loses_and_repeats_nothing() {
    // function_graph style: after some records, also consume the record peeked in its handle
    // when it is on the same CPU. Every record is still consumed exactly once.
    let t = TimeConfig::default();
    for p in &real_files() {
        let m = map(p);
        let f = TraceFile::parse(&m).unwrap();
        let inputs = [Input { file: &f, time: &t }];
        let mut plain = Merge::for_report(&inputs, false, |_| true).unwrap();
        let mut all = Vec::new();
        while let Some((i, r)) = plain.peek() {
            all.push((i, r.offset));
            plain.consume(i);
        }
        let mut merge = Merge::for_report(&inputs, false, |_| true).unwrap();
        let mut seen = Vec::new();
        let mut n = 0u64;
        while let Some((i, r)) = merge.peek() {
            seen.push((i, r.offset));
            let cpu = r.cpu;
            let follow = merge
                .peek_following_in_source(i)
                .filter(|(_, x)| x.cpu == cpu && n.is_multiple_of(3))
                .map(|(k, x)| (k, x.offset));
            merge.consume(i);
            if let Some((k, off)) = follow {
                assert_eq!(k, i, "same CPU means same stream");
                assert_eq!(merge.head(k).map(|x| x.offset), Some(off));
                seen.push((k, off));
                merge.consume(k);
            }
            n += 1;
        }
        seen.sort();
        all.sort();
        assert_eq!(seen, all, "{}", p.display());
    }
}

#[test]
fn streams_left_out_rejoin_where_the_merge_is() {
    // --cpu leaves the other CPUs' streams out until a function_graph entry needs the record
    // after it whatever its CPU: from the rejoin on, the merge must be the full merge's.
    let t = TimeConfig::default();
    let mut checked = 0usize;
    for p in &real_files() {
        let m = map(p);
        let f = TraceFile::parse(&m).unwrap();
        let inputs = [Input { file: &f, time: &t }];
        let mut full = Merge::for_report(&inputs, false, |_| true).unwrap();
        let mut all = Vec::new();
        while let Some((i, r)) = full.peek() {
            all.push((i, r.offset));
            full.consume(i);
        }
        let Some(&(first, _)) = all.first() else {
            continue;
        };
        let cpu = full.info(first).cpu;
        for at in [0usize, 1, 7, 100, all.len() / 2] {
            let mut merge = Merge::for_report(&inputs, false, |_| true).unwrap();
            merge.leave_out(|info| info.cpu == cpu);
            // consume `at` records of the kept streams, then rejoin at the next one
            let mut n = 0;
            while n < at {
                let Some((i, _)) = merge.peek() else { break };
                merge.consume(i);
                n += 1;
            }
            let Some((i, r)) = merge.peek() else { continue };
            let here = all
                .iter()
                .position(|&x| x == (i, r.offset))
                .expect("a kept record is in the full merge");
            merge.rejoin(i);
            assert!(!merge.has_left_out());
            let mut rest = Vec::new();
            while let Some((i, r)) = merge.peek() {
                rest.push((i, r.offset));
                merge.consume(i);
            }
            assert_eq!(rest, all[here..], "{} rejoined after {at}", p.display());
            checked += 1;
        }
    }
    assert!(checked > 0);
}
