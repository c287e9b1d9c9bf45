//! `rtrace-cmd`: trace-cmd's command line, backed by the `tracedat` (trace.dat) and `tracefs`
//! (kernel control) libraries.
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

/// Keeps glibc from raising its mmap threshold as large blocks are freed: the report's
/// multi-MB buffers (inflated chunks, print batches, the symbol table's arrays) would then
/// be carved from the heaps of several threads, whose freed space fragments and is not given
/// back, and the peak RSS on a large file would vary from run to run by up to 10 MB and more.
/// With a fixed threshold every block of 512 KiB or more is its own mapping, returned to the
/// kernel when freed (measured on a 51 MB zstd trace: 128 KiB costs system time in mmap
/// churn, 2 MiB saves little memory; 512 KiB saves 2-3 MB at no cost in time).
fn fix_malloc_thresholds() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 * 1024);
    }
}

fn main() -> ExitCode {
    fix_malloc_thresholds();
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
    let sub = |name: &str| {
        matches
            .subcommand_matches(name)
            .expect("subcommand matches")
    };
    let result = match cli.command {
        cli::Command::Report(args) => cmd::report::run(*args, sub("report")),
        cli::Command::Start(args) => cmd::start::run(&args, sub("start"), false),
        cli::Command::Set(args) => cmd::start::run(&args, sub("set"), true),
        cli::Command::Stop(_) => cmd::stop::run(false, sub("stop")),
        cli::Command::Restart(_) => cmd::stop::run(true, sub("restart")),
        cli::Command::Reset(_) => cmd::reset::run(sub("reset")),
        cli::Command::Clear(args) => cmd::clear::run(&args),
        cli::Command::Show(args) => cmd::show::run(&args, sub("show")),
        cli::Command::Stat(args) => cmd::stat::run(&args, sub("stat")),
        cli::Command::List(args) => cmd::list::run(&args),
        cli::Command::Options(args) => cmd::options::run(&args),
        cli::Command::Snapshot(args) => cmd::snapshot::run(&args),
        cli::Command::Kprobe(args) => cmd::probe::run(tracefs::ProbeKind::Kprobe, &args),
        cli::Command::Uprobe(args) => cmd::probe::run(tracefs::ProbeKind::Uprobe, &args),
        cli::Command::Dyndbg(args) => cmd::dyndbg::run(&args),
        cli::Command::Record(args) => cmd::record::run(&args, sub("record")),
        cli::Command::Extract(args) => cmd::extract::run(&args, sub("extract")),
        cli::Command::Stream(args) => cmd::stream::run(&args, sub("stream")),
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
