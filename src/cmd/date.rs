//! `record --date`: the offset from the trace clock to the time of day, measured as
//! trace-cmd's `get_date_to_ts` (tracecmd/trace-record.c) measures it: a marker ("stamp")
//! is written to `trace_marker` between two `CLOCK_REALTIME` readings; its timestamp in the
//! ring buffer, taken from the raw pages (`ftrace:print` events, field `buf`), is compared
//! with the middle of the two readings. The try with the closest readings wins; the file
//! stores the difference in µs (the DATE option), which `report` adds to every timestamp.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use tracedat::ring_buffer::{HeaderPage, PageDecoder, PageFormat};
use tracedat::Endian;
use tracefs::{Instance, Session, Tracefs};

/// trace-cmd's marker text (`STAMP`); the kernel adds the newline.
const STAMP: &[u8] = b"stamp";

/// trace-cmd's `date2ts_tries`.
const TRIES: usize = 50;

fn realtime_ns() -> i128 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.as_nanos() as i128
}

/// The offset in µs, or `None` (with a warning, as trace-cmd says "--date ignored") when no
/// marker could be found. Uses the top level's buffer, which it clears each try (before any
/// recording starts) and leaves with tracing off.
pub fn offset_usecs(
    session: &mut Session,
    fs: &Tracefs,
    top: &Instance,
) -> anyhow::Result<Option<i64>> {
    let hp_text = fs.header_page()?;
    let long = std::mem::size_of::<std::ffi::c_long>() as u8;
    let hp = HeaderPage::parse(&hp_text, long, 4096);
    let endian = if cfg!(target_endian = "big") {
        Endian::Big
    } else {
        Endian::Little
    };
    let fmt = PageFormat::new(endian, &hp);
    let subbuf = hp.sub_buffer_size().max(4096) as usize;
    let print = std::fs::read_to_string(fs.path("events/ftrace/print/format"))?;
    let Some((id, buf_off)) = print_layout(&print) else {
        eprintln!("rtrace-cmd: cannot read the print event's format, --date ignored");
        return Ok(None);
    };
    let cpus = fs.cpus()?;
    let mut marker = OpenOptions::new()
        .write(true)
        .open(top.path("trace_marker"))?;
    let mut page = vec![0u8; subbuf];
    let mut best: Option<(i128, i128)> = None; // (reading spread, realtime - ts)
    for _ in 0..TRIES {
        session.set_tracing_on(top, false)?;
        top.clear_trace()?;
        session.set_tracing_on(top, true)?;
        let start = realtime_ns();
        marker.write_all(STAMP)?;
        let end = realtime_ns();
        session.set_tracing_on(top, false)?;
        let mut found = None;
        for &cpu in &cpus {
            let Ok(mut raw) = OpenOptions::new()
                .read(true)
                .custom_flags(nix::libc::O_NONBLOCK)
                .open(top.per_cpu(cpu).trace_pipe_raw())
            else {
                continue;
            };
            while found.is_none() {
                let n = match std::io::Read::read(&mut raw, &mut page) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                page[n..].fill(0);
                let mut d = PageDecoder::load(&page, fmt);
                while let Some(ev) = d.next_event() {
                    let p = d.payload(&ev);
                    let ty = p.get(..2).map(|b| u16::from_ne_bytes([b[0], b[1]]));
                    if ty == Some(id) && p.get(buf_off..).is_some_and(is_stamp) {
                        found = Some(ev.ts);
                        break;
                    }
                }
            }
        }
        let Some(ts) = found else { continue };
        let spread = end - start;
        if best.is_none_or(|(s, _)| spread < s) {
            best = Some((spread, end - spread / 2 - ts as i128));
        }
    }
    top.clear_trace()?;
    match best {
        Some((_, diff)) => Ok(Some((diff / 1000) as i64)),
        None => {
            eprintln!("rtrace-cmd: failed to make date offset, --date ignored");
            Ok(None)
        }
    }
}

/// `"stamp\n"` then a NUL, as the kernel stores the marker.
fn is_stamp(b: &[u8]) -> bool {
    b.starts_with(STAMP) && b.get(STAMP.len()) == Some(&b'\n') && b.get(STAMP.len() + 1) == Some(&0)
}

/// The print event's id and the offset of its `buf` field.
fn print_layout(format: &str) -> Option<(u16, usize)> {
    let id = format
        .lines()
        .find_map(|l| l.strip_prefix("ID: "))?
        .trim()
        .parse()
        .ok()?;
    let line = format.lines().find(|l| l.contains(" buf[];"))?;
    let off = line
        .split("offset:")
        .nth(1)?
        .split(';')
        .next()?
        .trim()
        .parse()
        .ok()?;
    Some((id, off))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_format_layout() {
        let f = "name: print\nID: 5\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n\tfield:char buf[];\toffset:16;\tsize:0;\tsigned:0;\n";
        assert_eq!(print_layout(f), Some((5, 16)));
        assert!(is_stamp(b"stamp\n\0\0"));
        assert!(!is_stamp(b"stamps\n\0"));
    }
}
