//! The metadata pieces of a trace.dat file: header page/event, ftrace and event formats,
//! kallsyms, printk formats, saved cmdlines.
//!
//! The byte layout is the same in v6 (one after another after the initial header) and in v7
//! (one per section, 16–21): Documentation/trace-cmd/trace-cmd.dat.v6.5.txt, readers
//! `read_header_files`, `read_ftrace_files`, `read_event_files`, `read_proc_kallsyms`,
//! `read_ftrace_printk`, `read_and_parse_cmdlines` in lib/trace-cmd/trace-input.c.
//! Parsing here only finds where each text is; the texts are handed out as borrowed bytes.

use super::cursor::Cursor;
use crate::error::{Error, Result};

/// The two texts of the HEADER_INFO piece.
#[derive(Clone, Copy, Debug)]
pub struct HeaderInfo<'s> {
    /// `events/header_page` text.
    pub header_page: &'s [u8],
    /// `events/header_event` text.
    pub header_event: &'s [u8],
}

/// One event system and its format texts.
#[derive(Clone, Debug)]
pub struct EventSystem<'s> {
    /// The system name (directory under `events/`).
    pub name: &'s [u8],
    /// One `format` text per event.
    pub formats: Vec<&'s [u8]>,
}

fn tag(c: &mut Cursor<'_>, want: &[u8], what: &str) -> Result<()> {
    let at = c.here();
    let got = c.take(want.len(), what)?;
    if got != want {
        return Err(Error::Unexpected {
            pos: at,
            expected: format!("{:?}", String::from_utf8_lossy(want)),
            found: format!("{:?}", String::from_utf8_lossy(got)),
        });
    }
    Ok(())
}

/// `"header_page\0"`, u64 size, text, `"header_event\0"`, u64 size, text.
pub(crate) fn header_info<'s>(c: &mut Cursor<'s>) -> Result<HeaderInfo<'s>> {
    tag(c, b"header_page\0", "header_page tag")?;
    let n = c.u64("header_page size")?;
    let header_page = c.sized(n, "header_page")?;
    tag(c, b"header_event\0", "header_event tag")?;
    let n = c.u64("header_event size")?;
    let header_event = c.sized(n, "header_event")?;
    Ok(HeaderInfo {
        header_page,
        header_event,
    })
}

/// u32 count, then per event u64 size + format text.
pub(crate) fn ftrace_formats<'s>(c: &mut Cursor<'s>) -> Result<Vec<&'s [u8]>> {
    let count = c.u32("ftrace event count")?;
    let mut v = Vec::with_capacity((count as usize).min(c.remaining() / 8));
    for i in 0..count {
        let n = c.u64("ftrace format size")?;
        v.push(c.sized(n, &format!("ftrace format {i}"))?);
    }
    Ok(v)
}

/// u32 system count, then per system: name, u32 count, per event u64 size + format text.
pub(crate) fn event_systems<'s>(c: &mut Cursor<'s>) -> Result<Vec<EventSystem<'s>>> {
    let systems = c.u32("event system count")?;
    let mut v = Vec::with_capacity((systems as usize).min(c.remaining() / 5));
    for _ in 0..systems {
        let name = c.cstr("event system name")?;
        let count = c.u32("event count")?;
        let mut formats = Vec::with_capacity((count as usize).min(c.remaining() / 8));
        for i in 0..count {
            let n = c.u64("event format size")?;
            let what = format!("format {i} of system {}", String::from_utf8_lossy(name));
            formats.push(c.sized(n, &what)?);
        }
        v.push(EventSystem { name, formats });
    }
    Ok(v)
}

/// u32 size + text (KALLSYMS, PRINTK).
pub(crate) fn sized32<'s>(c: &mut Cursor<'s>, what: &str) -> Result<&'s [u8]> {
    let n = c.u32(&format!("{what} size"))?;
    c.sized(n as u64, what)
}

/// u64 size + text (CMDLINES).
pub(crate) fn sized64<'s>(c: &mut Cursor<'s>, what: &str) -> Result<&'s [u8]> {
    let n = c.u64(&format!("{what} size"))?;
    c.sized(n, what)
}
