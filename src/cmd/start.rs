//! `start` and `set`: set up the kernel's tracing as trace-cmd's `record` would, without
//! recording (tracecmd/trace-record.c `trace_start`, `trace_set`). `start` disables
//! everything first and turns tracing on at the end; `set` changes only what it is given.
//! With a command, tracing is turned on just before the command runs (and with `-F` limited
//! to it); rtrace-cmd then waits for it unless `--fork`.
//!
//! Every change goes through a `tracefs::Session`: if anything fails, what was already
//! changed is put back, so a failed `start` leaves the kernel as it was.

use std::process::ExitCode;

use clap::ArgMatches;
use tracefs::plan::{apply_pids, Mode};
use tracefs::Session;

use super::gated::Gated;
use super::setup::{self, For};
use super::tracing::{open_tracefs, restore};
use crate::cli::StartArgs;

pub fn run(args: &StartArgs, m: &ArgMatches, set: bool) -> anyhow::Result<ExitCode> {
    let plan = setup::plan(
        &args.setup,
        !args.command.is_empty(),
        m,
        if set { For::Set } else { For::Start },
    )?;
    if !set && !plan.does_something() {
        anyhow::bail!("no event or plugin was specified... aborting");
    }
    let top = &plan.instances[0];
    if plan.func_stack
        && top
            .tracer
            .as_deref()
            .is_some_and(|t| t.starts_with("function"))
        && top.filter_funcs.is_empty()
    {
        anyhow::bail!("Must supply function filtering with --func-stack");
    }
    let fs = open_tracefs()?;
    let mut session = Session::new(&fs);
    let has_command = !args.command.is_empty();
    let mode = match (set, has_command) {
        (true, _) => Mode::Set,
        (false, true) => Mode::Record,
        (false, false) => Mode::Start,
    };
    let applied = match plan.apply(&mut session, mode, &setup::compile_regex) {
        Ok(a) => a,
        Err(e) => return Err(with_restore(e.into(), session)),
    };
    if args.setup.quiet == 0 {
        for (_, t) in &applied.tracers {
            eprintln!("  plugin '{t}'");
        }
    }
    if !has_command {
        session.keep();
        return Ok(ExitCode::SUCCESS);
    }

    // The command is forked now (its pid goes into the pid filters) and runs once the
    // kernel is set up.
    let argv: Vec<std::ffi::OsString> = args.command.iter().map(Into::into).collect();
    let mut child = match Gated::fork(&argv) {
        Ok(c) => c,
        Err(e) => return Err(with_restore(e, session)),
    };
    let setup = (|| -> anyhow::Result<()> {
        if plan.filter_task {
            for inst in &applied.instances {
                apply_pids(&mut session, inst, &[child.pid()])?;
            }
        }
        if mode != Mode::Set {
            for inst in &applied.instances {
                session.set_tracing_on(inst, true)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = setup {
        // Dropping the gate unopened ends the command before it runs.
        drop(child);
        return Err(with_restore(e, session));
    }
    session.keep();
    child.open()?;
    if args.fork {
        return Ok(ExitCode::SUCCESS);
    }
    child.wait()?;
    Ok(ExitCode::SUCCESS)
}

/// An error, with the settings that could not be put back (if any) added to it.
fn with_restore(e: anyhow::Error, session: Session) -> anyhow::Error {
    match restore(session) {
        Ok(()) => e,
        Err(r) => anyhow::anyhow!("{e:#}\nand then {r:#}"),
    }
}
