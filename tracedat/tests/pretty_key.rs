//! The report reuses an event's info text for records with an equal `Tep::pretty_key` (and
//! length): see tracedat/src/report/info_cache.rs. Checked on the records of every real file:
//! changing any one byte of a record, or of the page after it, either changes its key (or
//! makes it uncacheable) or leaves its text as it was; records with equal keys print equal
//! texts; and the text of an event said to be NUL-free has no NUL. Where the key leaves a
//! hole (`PrettyReads::hole`), "the text" is what surrounds the hole's own text when that is
//! found once in it (the report keeps nothing otherwise).

mod common;

use std::collections::HashMap;

use common::*;
use tracedat::tep::{Event, PrettyReads, Tep};
use tracedat::{Dialect, Input, Merge, TimeConfig, TraceFile};

/// Records checked byte by byte per event and file (each costs a print per byte).
const MUTATED_PER_EVENT: usize = 12;
/// Records checked for equal keys per file.
const RECORDS_PER_FILE: usize = 40_000;
/// Page bytes after a record that the printer could read.
const TAIL: usize = 48;

fn tep_of<'a>(f: &'a TraceFile<'_>, d: Dialect) -> Tep<'a> {
    let mut tep = Tep::new(f.endian(), f.header().long_size as u32, d);
    for text in f.ftrace_formats().unwrap_or_default() {
        let _ = tep.add_ftrace_format(text);
    }
    for sys in f.event_systems().unwrap_or_default() {
        for text in &sys.formats {
            let _ = tep.add_event_format(&String::from_utf8_lossy(sys.name), text);
        }
    }
    if let Ok(k) = f.kallsyms() {
        tep.set_kallsyms(k);
    }
    if let Ok(p) = f.printk_formats() {
        tep.set_printk_formats(p);
    }
    tep
}

/// What the report keeps of `text`, the text of the record `page[..len]`: the text, or with
/// a hole the text around the hole's text, `None` when that is not found exactly once.
fn kept<'a>(
    tep: &Tep<'a>,
    ev: &Event<'_, 'a>,
    reads: &PrettyReads,
    page: &[u8],
    len: usize,
    text: &[u8],
) -> Option<Vec<u8>> {
    let Some(h) = reads.hole() else {
        return Some(text.to_vec());
    };
    let mut alone = Vec::new();
    tep.print_hole(ev, h, page, len, &mut alone);
    let at = text.windows(alone.len()).position(|w| w == alone)?;
    let again = text[at + 1..].windows(alone.len()).any(|w| w == alone);
    if alone.is_empty() || again {
        return None;
    }
    Some([&text[..at], b"<hole>", &text[at + alone.len()..]].concat())
}

#[test]
fn texts_depend_on_their_keys_alone() {
    let files = real_files();
    if files.is_empty() {
        skip("no real trace files found (../shared/fixtures)");
        return;
    }
    let t = TimeConfig::default();
    let (mut keyed, mut mutated, mut nul_free, mut holed) = (0usize, 0usize, 0usize, 0usize);
    for p in &files {
        let m = map(p);
        let Ok(f) = TraceFile::parse(&m) else {
            continue;
        };
        let tep = tep_of(&f, Dialect::V3_3);
        let inputs = [Input { file: &f, time: &t }];
        let Ok(mut merge) = Merge::for_report(&inputs, false, |_| true) else {
            continue;
        };
        let mut seen: HashMap<(i32, usize, Vec<u8>), Vec<u8>> = HashMap::new();
        let mut per_event: HashMap<i32, usize> = HashMap::new();
        let mut kbuf = [0u8; 128];
        let mut n = 0;
        while let Some((i, r)) = merge.peek() {
            n += 1;
            if n > RECORDS_PER_FILE {
                break;
            }
            let data = r.data.to_vec();
            merge.consume(i);
            let Some(ev) = tep.record_type(&data).and_then(|id| tep.event_by_id(id)) else {
                continue;
            };
            let Some(reads) = ev.pretty_reads() else {
                continue;
            };
            if reads.nul_free() {
                let mut page = data.clone();
                page.extend([0u8; TAIL]);
                let mut text = Vec::new();
                tep.print_pretty_in(&ev, &page, data.len(), &mut text);
                assert!(
                    !text.contains(&0),
                    "{}: {} is said NUL-free but printed {:?}",
                    p.display(),
                    ev.name(),
                    String::from_utf8_lossy(&text)
                );
                nul_free += 1;
            }
            let Some(key) = tep.pretty_key(&ev, &reads, &data, &mut kbuf) else {
                continue;
            };
            let key = key.to_vec();
            keyed += 1;
            // the page after the record: text that is not NUL, so a string running on
            // would show
            let mut page = data.clone();
            page.extend((0..TAIL).map(|k| b'a' + (k % 26) as u8));
            let mut text = Vec::new();
            tep.print_pretty_in(&ev, &page, data.len(), &mut text);
            holed += reads.hole().is_some() as usize;
            let Some(text) = kept(&tep, &ev, &reads, &page, data.len(), &text) else {
                continue;
            };
            let id = ev.id();
            if let Some(prev) = seen.get(&(id, data.len(), key.clone())) {
                assert_eq!(
                    String::from_utf8_lossy(prev),
                    String::from_utf8_lossy(&text),
                    "{}: {} records with equal keys print differently",
                    p.display(),
                    ev.name()
                );
            } else {
                seen.insert((id, data.len(), key.clone()), text.clone());
            }
            let count = per_event.entry(id).or_default();
            if *count >= MUTATED_PER_EVENT {
                continue;
            }
            *count += 1;
            mutated += 1;
            for at in 0..page.len() {
                for change in [0xffu8, 0] {
                    let mut page2 = page.clone();
                    page2[at] = if change == 0 { 0 } else { page2[at] ^ change };
                    let data2 = &page2[..data.len()];
                    let mut kbuf2 = [0u8; 128];
                    let same_key = tep.pretty_key(&ev, &reads, data2, &mut kbuf2) == Some(&key);
                    if !same_key {
                        continue;
                    }
                    let mut text2 = Vec::new();
                    tep.print_pretty_in(&ev, &page2, data.len(), &mut text2);
                    let Some(text2) = kept(&tep, &ev, &reads, &page2, data.len(), &text2) else {
                        continue;
                    };
                    assert_eq!(
                        String::from_utf8_lossy(&text),
                        String::from_utf8_lossy(&text2),
                        "{}: {} byte {at} changed to {:#x}: same key, other text",
                        p.display(),
                        ev.name(),
                        page2[at]
                    );
                }
            }
        }
    }
    eprintln!(
        "{keyed} records with keys ({holed} with a hole), {mutated} checked byte by byte, \
         {nul_free} NUL-free"
    );
    assert!(
        keyed > 1000 && mutated > 100 && nul_free > 1000,
        "too few cacheable records: {keyed}, {mutated}, {nul_free}"
    );
}
