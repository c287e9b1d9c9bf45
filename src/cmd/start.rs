//! `start` and `set`: set up the kernel's tracing as trace-cmd's `record` would, without
//! recording (tracecmd/trace-record.c `trace_start`, `trace_set`). `start` disables
//! everything first and turns tracing on at the end; `set` changes only what it is given.
//! With a command, tracing is turned on just before the command runs (and with `-F` limited
//! to it); rtrace-cmd then waits for it unless `--fork`.
//!
//! Every change goes through a `tracefs::Session`: if anything fails, what was already
//! changed is put back, so a failed `start` leaves the kernel as it was.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use anyhow::Context;
use clap::ArgMatches;
use tracefs::plan::{apply_pids, Mode};
use tracefs::Session;

use super::setup::{self, For};
use super::tracing::{open_tracefs, restore};
use crate::cli::StartArgs;

pub fn run(args: &StartArgs, m: &ArgMatches, set: bool) -> anyhow::Result<ExitCode> {
    let plan = setup::plan(args, m, if set { For::Set } else { For::Start })?;
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
    if args.quiet == 0 {
        for (_, t) in &applied.tracers {
            eprintln!("  plugin '{t}'");
        }
    }
    if !has_command {
        session.keep();
        return Ok(ExitCode::SUCCESS);
    }

    // The command waits on a pipe until the pid filters and tracing_on are set.
    // O_CLOEXEC: the command must not inherit either end (the read end is used before exec).
    let (gate_r, gate_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("creating a pipe")?;
    let mut cmd = Command::new(&args.command[0]);
    cmd.args(&args.command[1..]);
    let gate_fd = gate_r;
    // SAFETY: the closure only calls read(2) and close(2), which are async-signal-safe, and
    // touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(move || {
            let mut b = [0u8; 1];
            let _ = nix::unistd::read(&gate_fd, &mut b);
            Ok(())
        });
    }
    let spawned = cmd.spawn();
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Err(with_restore(
                anyhow::anyhow!("Failed to exec {}: {e}", args.command[0]),
                session,
            ))
        }
    };
    let setup = (|| -> anyhow::Result<()> {
        if plan.filter_task {
            for inst in &applied.instances {
                apply_pids(&mut session, inst, &[child.id()])?;
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
        let _ = child.kill();
        let _ = child.wait();
        return Err(with_restore(e, session));
    }
    session.keep();
    nix::unistd::write(&gate_w, b"x").context("starting the command")?;
    drop(gate_w);
    if args.fork {
        return Ok(ExitCode::SUCCESS);
    }
    child
        .wait()
        .with_context(|| format!("waiting for {}", args.command[0]))?;
    Ok(ExitCode::SUCCESS)
}

/// An error, with the settings that could not be put back (if any) added to it.
fn with_restore(e: anyhow::Error, session: Session) -> anyhow::Error {
    match restore(session) {
        Ok(()) => e,
        Err(r) => anyhow::anyhow!("{e:#}\nand then {r:#}"),
    }
}
