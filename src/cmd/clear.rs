//! `clear`: empties ring buffers (tracecmd/trace-clear.c): the top level's, or each `-B`
//! instance's, or with `-a` every instance's and the top level's.

use std::process::ExitCode;

use crate::cli::ClearArgs;

use super::tracing::open_tracefs;

pub fn run(args: &ClearArgs) -> anyhow::Result<ExitCode> {
    let fs = open_tracefs()?;
    let mut insts = Vec::new();
    for name in &args.instance {
        insts.insert(0, fs.instance(Some(name))?);
    }
    if args.all {
        for n in fs.instance_names()? {
            insts.insert(0, fs.instance(Some(&n))?);
        }
    }
    if insts.is_empty() || args.all {
        insts.push(fs.top());
    }
    for inst in insts {
        inst.clear_trace()?;
    }
    Ok(ExitCode::SUCCESS)
}
