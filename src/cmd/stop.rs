//! `stop` and `restart`: `tracing_on` off or on for the selected instances
//! (tracecmd/trace-record.c `trace_stop`, `trace_restart`). Nothing else is touched.

use std::process::ExitCode;

use clap::ArgMatches;

use super::tracing::{in_order, open_tracefs, Selection};

/// Turns recording of the selected instances on (`restart`) or off (`stop`).
pub fn run(on: bool, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    let fs = open_tracefs()?;
    let sel = Selection::from(&fs, &in_order(m, &["instance", "all", "top"]))?;
    for inst in sel.instances(&fs) {
        inst.set_tracing_on(on)?;
    }
    Ok(ExitCode::SUCCESS)
}
