//! What the tracefs subcommands share: finding tracefs, the order of options (trace-cmd's
//! options act on the instance or event given before them), instance selection with
//! trace-cmd's `-B`/`-a`/`-t` rules, and turning a session's restore errors into one error.

use std::path::PathBuf;

use anyhow::Context;
use clap::ArgMatches;
use tracefs::{Instance, Tracefs};

/// The tracing directory: `RTRACE_TRACEFS` if set (another mount, or a test tree), else the
/// mounted tracefs (mounted if needed).
pub fn open_tracefs() -> anyhow::Result<Tracefs> {
    if let Some(dir) = std::env::var_os("RTRACE_TRACEFS") {
        let dir = PathBuf::from(dir);
        anyhow::ensure!(
            dir.is_dir(),
            "RTRACE_TRACEFS={}: not a directory",
            dir.display()
        );
        let fs = Tracefs::at(dir);
        fs.check_access()?;
        return Ok(fs);
    }
    let fs = Tracefs::open()?;
    fs.check_access()?;
    Ok(fs)
}

/// One occurrence of an option on the command line, in order.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// The clap id.
    pub id: &'static str,
    /// Its value (empty for flags).
    pub value: String,
}

/// The occurrences of the given options in command-line order.
pub fn in_order(m: &ArgMatches, ids: &[&'static str]) -> Vec<Occurrence> {
    let mut v: Vec<(usize, Occurrence)> = Vec::new();
    for &id in ids {
        // Flags have a default value, which has an index too: only what was typed counts.
        if m.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
            continue;
        }
        let Some(idx) = m.indices_of(id) else {
            continue;
        };
        let idx: Vec<usize> = idx.collect();
        let vals: Vec<String> = match m.try_get_raw(id) {
            Ok(Some(raw)) => raw.map(|s| s.to_string_lossy().into_owned()).collect(),
            _ => Vec::new(),
        };
        for (i, pos) in idx.iter().enumerate() {
            let value = if vals.len() == idx.len() {
                vals[i].clone()
            } else {
                String::new()
            };
            v.push((*pos, Occurrence { id, value }));
        }
    }
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, o)| o).collect()
}

/// trace-cmd's instance list for `stop`, `restart`, `reset`, `stat`: `-B` instances are
/// added in front (so they come out newest first), `-a` adds every existing one, and the
/// top level comes first when `-t` is given or when the last selection was not a `-B`.
#[derive(Debug, Default)]
pub struct Selection {
    /// Instances, newest first (trace-cmd's `buffer_instances` list).
    pub named: Vec<String>,
    /// Whether the top level is included (first).
    pub top: bool,
}

impl Selection {
    /// Builds the selection from occurrences of `B` (instance), `a` (all), `t` (top).
    pub fn from(fs: &Tracefs, occ: &[Occurrence]) -> anyhow::Result<Selection> {
        let mut named: Vec<String> = Vec::new();
        let mut topt = false;
        let mut last_is_top = true;
        for o in occ {
            match o.id {
                "instance" => {
                    fs.instance(Some(&o.value))?;
                    named.insert(0, o.value.clone());
                    last_is_top = false;
                }
                "all" => {
                    for n in fs.instance_names()? {
                        named.insert(0, n);
                    }
                }
                "top" => {
                    topt = true;
                    last_is_top = true;
                }
                _ => {}
            }
        }
        Ok(Selection {
            named,
            top: topt || last_is_top,
        })
    }

    /// The instances in trace-cmd's `for_all_instances` order.
    pub fn instances(&self, fs: &Tracefs) -> Vec<Instance> {
        let mut v = Vec::new();
        if self.top {
            v.push(fs.top());
        }
        for n in &self.named {
            if let Ok(i) = fs.instance(Some(n)) {
                v.push(i);
            }
        }
        v
    }
}

/// Restores a session and reports every step that failed as one error.
pub fn restore(session: tracefs::Session) -> anyhow::Result<()> {
    match session.restore() {
        Ok(()) => Ok(()),
        Err(errs) => {
            let lines: Vec<String> = errs.iter().map(|e| format!("  {e}")).collect();
            anyhow::bail!(
                "could not put back {} setting(s):\n{}",
                errs.len(),
                lines.join("\n")
            )
        }
    }
}

/// Parses a trace-cmd number argument as `atoi` does for sizes (leading digits).
pub fn atoi_u64(what: &str, s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits
        .parse()
        .with_context(|| format!("invalid {what} '{s}': expected a number"))
}
