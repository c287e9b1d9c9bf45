//! `rtrace-cmd report`: trace-cmd's report (tracecmd/trace-read.c).

use std::process::ExitCode;

use crate::cli::ReportArgs;

pub fn run(_args: ReportArgs, _matches: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    anyhow::bail!("report is not implemented yet")
}
