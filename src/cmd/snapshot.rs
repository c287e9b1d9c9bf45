//! `snapshot`: the snapshot buffer (tracecmd/trace-snapshot.c; Documentation/trace/ftrace.rst
//! "Snapshot"): `-s` takes one, `-r` clears it, `-f` frees it, none of them shows it; for an
//! instance with `-B` (which trace-cmd accepts but ignores) and one CPU with `-c`.

use std::process::ExitCode;

use tracefs::SnapshotOp;

use super::tracing::open_tracefs;
use crate::cli::SnapshotArgs;

pub fn run(args: &SnapshotArgs) -> anyhow::Result<ExitCode> {
    let fs = open_tracefs()?;
    let inst = fs.instance(args.instance.as_deref())?;
    let cpu = args
        .cpu
        .as_deref()
        .map(super::show::parse_cpu)
        .transpose()?;
    let file = match cpu {
        Some(c) => format!("per_cpu/cpu{c}/snapshot"),
        None => "snapshot".into(),
    };
    if !inst.exists(&file) {
        anyhow::bail!(
            "the snapshot buffer is not supported by this kernel ({} is missing; it needs \
             CONFIG_TRACER_SNAPSHOT)",
            inst.path(&file).display()
        );
    }
    if !args.take && !args.reset && !args.free {
        let text = inst.read(&file)?;
        use std::io::Write;
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        lock.write_all(text.as_bytes())?;
        lock.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    // trace-cmd's order: clear, free, take.
    if args.reset {
        inst.snapshot(cpu, SnapshotOp::Clear)?;
    }
    if args.free {
        inst.snapshot(cpu, SnapshotOp::Free)?;
    }
    if args.take {
        inst.snapshot(cpu, SnapshotOp::Take)?;
    }
    Ok(ExitCode::SUCCESS)
}
