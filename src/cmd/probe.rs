//! `kprobe` and `uprobe`: define, list and remove dynamic probes in the kernel's own syntax
//! (Documentation/trace/kprobetrace.rst, uprobetracer.rst). trace-cmd leaves this to
//! `echo ... >> kprobe_events`; here a refused definition shows the kernel's reason and
//! where in the definition it points.

use std::io::Write as _;
use std::process::ExitCode;

use tracefs::ProbeKind;

use super::tracing::open_tracefs;
use crate::cli::ProbeArgs;

pub fn run(kind: ProbeKind, args: &ProbeArgs) -> anyhow::Result<ExitCode> {
    let fs = open_tracefs()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for name in &args.remove {
        if name == "all" {
            fs.remove_all_probes(kind)?;
            continue;
        }
        for ev in fs.find_probes(kind, &name.replacen(':', "/", 1))? {
            fs.remove_probe(kind, &ev)?;
        }
    }
    for def in &args.definitions {
        for ev in fs.add_probe(kind, def)? {
            // The event to enable, so that scripts can capture it.
            writeln!(out, "{}", ev.event())?;
        }
    }
    if args.list || (args.definitions.is_empty() && args.remove.is_empty()) {
        for ev in fs.probes(kind)? {
            writeln!(out, "{}", ev.line)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
