//! `rtrace-cmd`: trace-cmd's command line, backed by the `tracedat` library.

fn main() {
    eprintln!("rtrace-cmd: no subcommands yet");
    std::process::exit(2);
}
