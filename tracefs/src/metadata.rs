//! What a recording keeps beside the ring-buffer pages, read as trace-cmd's
//! `lib/trace-cmd/trace-output.c` reads it: `events/header_page` and `events/header_event`,
//! the `events/ftrace/*/format` files, the format files of the recorded event systems
//! (`read_event_files` with trace-cmd's list of `-e` globs), `/proc/kallsyms`,
//! `printk_formats`, `saved_cmdlines`, `trace_clock` and the per-CPU `stats`.
//!
//! The texts are returned as bytes, unchanged; this crate does not know how a file stores
//! them. Lists come in trace-cmd's order: it prepends each match to a linked list, so the
//! files it writes list systems and events in the reverse of its discovery order.

use std::path::Path;

use crate::error::{Error, Result};
use crate::events::glob_match;
use crate::fs::Tracefs;
use crate::io;

/// One event system and its format texts, in trace-cmd's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemFormats {
    /// The system's name.
    pub name: String,
    /// `(event name, format text)`.
    pub events: Vec<(String, Vec<u8>)>,
}

impl Tracefs {
    /// `events/header_page`.
    pub fn header_page(&self) -> Result<Vec<u8>> {
        read_in_one(&self.path("events/header_page"))
    }

    /// `events/header_event`.
    pub fn header_event(&self) -> Result<Vec<u8>> {
        read_in_one(&self.path("events/header_event"))
    }

    /// The format texts of the `ftrace` pseudo-system's events (function, print, ...).
    pub fn ftrace_formats(&self) -> Result<Vec<Vec<u8>>> {
        let systems = self.formats_matching(&["ftrace/*"])?;
        Ok(systems
            .into_iter()
            .flat_map(|s| s.events.into_iter().map(|(_, f)| f))
            .collect())
    }

    /// The format texts of the event systems a recording lists: those `globs` (the `-e`
    /// arguments in command-line order) name, or every system when `globs` is empty or holds
    /// `all`. An argument without `:` or `/` names a system and an event (`sched` matches
    /// `sched/*` and `*/sched`). The `ftrace` system is never included here.
    pub fn event_formats(&self, globs: &[&str]) -> Result<Vec<SystemFormats>> {
        if globs.is_empty() || globs.contains(&"all") {
            return self.formats_matching(&["*/*"]);
        }
        // trace-cmd prepends every -e to its list: the last one is looked up first.
        let mut patterns = Vec::new();
        for g in globs.iter().rev() {
            if let Some((sys, ev)) = g.split_once([':', '/']) {
                patterns.push(format!("{sys}/{ev}"));
            } else {
                patterns.push(format!("{g}/*"));
                patterns.push(format!("*/{g}"));
            }
        }
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        self.formats_matching(&refs)
    }

    /// glob(3) of `events/PATTERN/format` for each pattern, gathered as trace-cmd's
    /// `add_list_event_system` does: new systems and new events go in front. The `ftrace`
    /// system only matches a pattern that names it (`ftrace/...`), as in `glob_events`.
    fn formats_matching(&self, patterns: &[&str]) -> Result<Vec<SystemFormats>> {
        let events = self.path("events");
        let mut all: Vec<(String, String)> = Vec::new();
        for sys in io::list_dir(&events, true)? {
            for ev in io::list_dir(&events.join(&sys), true)? {
                if io::exists(&events.join(&sys).join(&ev).join("format")) {
                    all.push((sys.clone(), ev));
                }
            }
        }
        // glob(3) sorts its matches by the whole path.
        all.sort_by(|a, b| format!("{}/{}", a.0, a.1).cmp(&format!("{}/{}", b.0, b.1)));
        let mut out: Vec<SystemFormats> = Vec::new();
        for pat in patterns {
            let Some((psys, pev)) = pat.split_once('/') else {
                continue;
            };
            let ftrace = pat.starts_with("ftrace/");
            for (sys, ev) in &all {
                if !glob_match(psys, sys) || !glob_match(pev, ev) || (!ftrace && sys == "ftrace") {
                    continue;
                }
                let i = match out.iter().position(|s| &s.name == sys) {
                    Some(i) => i,
                    None => {
                        out.insert(
                            0,
                            SystemFormats {
                                name: sys.clone(),
                                events: Vec::new(),
                            },
                        );
                        0
                    }
                };
                if out[i].events.iter().any(|(n, _)| n == ev) {
                    continue;
                }
                let text = io::read_bytes(&events.join(sys).join(ev).join("format"))?;
                out[i].events.insert(0, (ev.clone(), text));
            }
        }
        Ok(out)
    }

    /// `printk_formats` (empty when the kernel has none).
    pub fn printk_formats(&self) -> Result<Vec<u8>> {
        optional_bytes(&self.path("printk_formats"))
    }

    /// `saved_cmdlines`: the kernel's pid → comm cache.
    pub fn saved_cmdlines(&self) -> Result<Vec<u8>> {
        optional_bytes(&self.path("saved_cmdlines"))
    }
}

/// `/proc/kallsyms`, read whole (its size cannot be known without reading it). Addresses are
/// zeros unless `kptr_restrict` lets this process see them; the caller may lower it first.
pub fn kallsyms() -> Result<Vec<u8>> {
    optional_bytes(Path::new("/proc/kallsyms"))
}

/// Reads a file whose kernel handler answers only a read at offset 0
/// (kernel/trace/trace_events.c `show_header_page_file`, `show_header_event_file` return 0
/// once `*ppos` is set): one `read(2)` with room for all of it. A small first read, as
/// `read_to_end` does, would get only its first bytes.
fn read_in_one(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| io::open_error(path, e))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0;
    loop {
        match f.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                if got == buf.len() {
                    buf.resize(buf.len() * 2, 0);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Read {
                    path: path.to_path_buf(),
                    errno: e,
                })
            }
        }
    }
    buf.truncate(got);
    Ok(buf)
}

fn optional_bytes(path: &Path) -> Result<Vec<u8>> {
    match io::read_bytes(path) {
        Ok(b) => Ok(b),
        Err(Error::NotAvailable { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}
