//! `rtrace-cmd`: trace-cmd's command line, backed by the `tracedat` library.
//!
//! The binary is thin: `cli` defines the options, one module per subcommand under `cmd/`
//! turns them into library calls. Exit status: 0 success, 1 failure, 2 usage error. A closed
//! stdout (`rtrace-cmd report | head`) ends the program quietly with status 0.

mod cli;
mod cmd;
mod signals;

use std::io;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let matches = match cli::Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            // clap prints usage errors with status 2 and --help with 0.
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    let cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    let result = match cli.command {
        cli::Command::Report(args) => {
            let sub = matches
                .subcommand_matches("report")
                .expect("report matches");
            cmd::report::run(*args, sub)
        }
        cli::Command::Convert(args) => cmd::convert::run(args),
        cli::Command::GenerateMan { dir } => cmd::man::run(&dir),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rtrace-cmd: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Unix tools stop quietly when their reader goes away; Rust ignores SIGPIPE, so the write
/// error arrives here instead.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
