//! The command line, spelled as trace-cmd spells it (tracecmd/trace-usage.c, trace-read.c).
//!
//! One clap definition serves parsing, `--help` and the man pages in `man/`.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Linux ftrace tooling: a fast, drop-in compatible trace-cmd.
#[derive(Debug, Parser)]
#[command(
    name = "rtrace-cmd",
    version,
    about = "Linux ftrace tooling: a fast, drop-in compatible trace-cmd",
    long_about = "rtrace-cmd reads and records Linux ftrace data. Its subcommands and options \
                  are spelled as trace-cmd's, and `report` prints the same bytes trace-cmd \
                  prints, many times faster.",
    max_term_width = 100,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read out the trace stored in a trace.dat file.
    Report(Box<ReportArgs>),
    /// Convert a trace.dat file to another file version or compression.
    Convert(ConvertArgs),
    /// Write the man pages to a directory (used to keep man/ current).
    #[command(hide = true, name = "generate-man")]
    GenerateMan {
        /// Output directory.
        dir: std::path::PathBuf,
    },
}

/// Which trace-cmd's output `report` reproduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Compat {
    /// trace-cmd 3.1.6 with libtraceevent 1.7.1 (Debian 12).
    #[value(name = "3.1")]
    V3_1,
    /// trace-cmd 3.3.1 with libtraceevent 1.8.4 (Debian 13).
    #[value(name = "3.3")]
    V3_3,
}

/// `rtrace-cmd report`: options as trace-cmd's (getopt "+hSIi:H:feGpRr:tPNn:LlEwF:V::vTqO:").
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_long_help = "Output is byte-identical to trace-cmd report's: trace-cmd 3.3.1 with \
                       libtraceevent 1.8.4 by default, trace-cmd 3.1.6 with libtraceevent 1.7.1 \
                       with --compat 3.1."
)]
pub struct ReportArgs {
    /// Input file (repeatable; several files are merged by timestamp) [default: trace.dat].
    #[arg(short = 'i', value_name = "FILE", action = ArgAction::Append)]
    pub input: Vec<String>,

    /// Input files given without -i.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Reproduce the output of this trace-cmd release.
    #[arg(long, value_enum, default_value = "3.3", value_name = "VERSION")]
    pub compat: Compat,

    /// Show the file's endianness and the host's, then exit.
    #[arg(short = 'e')]
    pub endian: bool,

    /// Show the function (kallsyms) mapping list.
    #[arg(short = 'f')]
    pub functions: bool,

    /// Show the printk format list.
    #[arg(short = 'P')]
    pub printk: bool,

    /// Show the event formats stored in the file (system:event).
    #[arg(short = 'E')]
    pub event_list: bool,

    /// Filter to apply to the output: 'event[,event]:filter' (repeatable).
    #[arg(short = 'F', value_name = "FILTER", action = ArgAction::Append)]
    pub filter: Vec<String>,

    /// Negate all -F filters that follow (do not show their matches).
    #[arg(short = 'v', action = ArgAction::Count)]
    pub negate: u8,

    /// Filter out events with the HARDIRQ flag set.
    #[arg(short = 'I')]
    pub no_irqs: bool,

    /// Filter out events with the SOFTIRQ flag set.
    #[arg(short = 'S')]
    pub no_softirqs: bool,

    /// Print full nanosecond timestamps instead of microseconds.
    #[arg(short = 't')]
    pub nanosec: bool,

    /// Raw format: ignore print formats and show the field data.
    #[arg(short = 'R')]
    pub raw: bool,

    /// Raw format for the events that match this regex (repeatable).
    #[arg(short = 'r', value_name = "EVENTS", action = ArgAction::Append)]
    pub raw_events: Vec<String>,

    /// Ignore plugin handlers for the events that match this regex (repeatable).
    #[arg(short = 'n', value_name = "EVENTS", action = ArgAction::Append)]
    pub no_handler: Vec<String>,

    /// Print the filter strings created and exit.
    #[arg(short = 'T', long = "filter-test")]
    pub filter_test: bool,

    /// Verbose: shows plugins being loaded (optional level, see --verbose).
    #[arg(short = 'V', long = "verbose", value_name = "LEVEL", num_args = 0..=1,
          require_equals = true, default_missing_value = "")]
    pub verbose: Option<String>,

    /// Load only local (~/.trace-cmd/plugins) plugins.
    #[arg(short = 'L')]
    pub local_plugins: bool,

    /// Do not load any plugins.
    #[arg(short = 'N')]
    pub no_plugins: bool,

    /// Show wakeup latencies.
    #[arg(short = 'w')]
    pub wakeup: bool,

    /// Show latency format (default with latency tracers).
    #[arg(short = 'l')]
    pub latency: bool,

    /// Plugin option: [plugin:]var[=val] (repeatable).
    #[arg(short = 'O', value_name = "OPTION", action = ArgAction::Append)]
    pub plugin_option: Vec<String>,

    /// Show the file's page size and the host's, then exit.
    #[arg(short = 'p')]
    pub page_size: bool,

    /// Silence warnings.
    #[arg(short = 'q')]
    pub quiet: bool,

    /// When profiling, treat soft and hard irqs as global.
    #[arg(short = 'G')]
    pub global: bool,

    /// Hook two events together for timings (used with --profile).
    #[arg(short = 'H', value_name = "HOOK", action = ArgAction::Append)]
    pub hook: Vec<String>,

    /// Only show events from these CPUs: a list such as 0,2-3.
    #[arg(long = "cpu", value_name = "CPUS", action = ArgAction::Append)]
    pub cpu: Vec<String>,

    /// List the CPUs that have data, then exit.
    #[arg(long = "cpus")]
    pub cpus: bool,

    /// Show the timestamp of the first event of every CPU.
    #[arg(long = "first-event")]
    pub first_event: bool,

    /// Show the timestamp of the last event of every CPU.
    #[arg(long = "last-event")]
    pub last_event: bool,

    /// Print every event format stored in the file.
    #[arg(long = "events")]
    pub events: bool,

    /// Print the formats of the events matching this regex.
    #[arg(long = "event", value_name = "REGEX")]
    pub event: Option<String>,

    /// Read function symbols from this kallsyms file instead of the file's.
    #[arg(long = "kallsyms", value_name = "FILE")]
    pub kallsyms: Option<String>,

    /// Only show events of these pids (comma separated; repeatable).
    #[arg(long = "pid", value_name = "PID", action = ArgAction::Append)]
    pub pid: Vec<String>,

    /// Only show events of tasks with these comms (comma separated; repeatable).
    #[arg(long = "comm", value_name = "COMM", action = ArgAction::Append)]
    pub comm: Vec<String>,

    /// Exit with 0 if all event formats parse, non-zero otherwise.
    #[arg(long = "check-events")]
    pub check_events: bool,

    /// Ignore the --date adjustment of trace-cmd record.
    #[arg(long = "nodate")]
    pub nodate: bool,

    /// Show the buffer statistics recorded at the end of the trace.
    #[arg(long = "stat")]
    pub stat: bool,

    /// Show sub-buffer boundaries.
    #[arg(long = "boundary")]
    pub boundary: bool,

    /// Show sub-buffer boundaries and raw record details.
    #[arg(long = "debug")]
    pub debug: bool,

    /// Report where tasks are blocked and such.
    #[arg(long = "profile")]
    pub profile: bool,

    /// Show the uname of the recording machine, if saved.
    #[arg(long = "uname")]
    pub uname: bool,

    /// Show the version of the trace-cmd that created the file.
    #[arg(long = "version")]
    pub version: bool,

    /// With --profile, merge events of related comms.
    #[arg(long = "by-comm")]
    pub by_comm: bool,

    /// Add this many nanoseconds to the timestamps of the previous input file.
    #[arg(long = "ts-offset", value_name = "NS", allow_hyphen_values = true,
          action = ArgAction::Append)]
    pub ts_offset: Vec<String>,

    /// Timestamp frequency (per second) of the previous file, to show seconds.
    #[arg(long = "ts2secs", value_name = "HZ", action = ArgAction::Append)]
    pub ts2secs: Vec<String>,

    /// Show the delta timestamp between events.
    #[arg(long = "ts-diff")]
    pub ts_diff: bool,

    /// Warn when a timestamp on any CPU goes backwards.
    #[arg(long = "ts-check")]
    pub ts_check: bool,

    /// Display raw timestamps, without any corrections.
    #[arg(long = "raw-ts")]
    pub raw_ts: bool,

    /// Display timestamps aligned to the first event.
    #[arg(long = "align-ts")]
    pub align_ts: bool,
}

/// `rtrace-cmd convert`: options as trace-cmd's (getopt "+hi:o:", --file-version,
/// --compression).
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_long_help = "The output is written under a temporary name beside OUTPUT and renamed \
                       when complete, so an interrupted conversion leaves no partial file. \
                       Files are readable by trace-cmd 3.1 (v6, v7 uncompressed or zstd) and \
                       3.3 (also zlib)."
)]
pub struct ConvertArgs {
    /// Input file [default: trace.dat].
    #[arg(short = 'i', value_name = "FILE", action = ArgAction::Append)]
    pub input: Vec<String>,

    /// Output file (mandatory; may also be given as the last argument).
    #[arg(short = 'o', value_name = "FILE", action = ArgAction::Append)]
    pub output: Vec<String>,

    /// Output file given without -o.
    #[arg(value_name = "OUTPUT")]
    pub files: Vec<String>,

    /// File version of the output: 6 or 7 [default: 7].
    #[arg(long = "file-version", value_name = "VERSION")]
    pub file_version: Option<String>,

    /// Compression of the output: any (the best available: zstd), none, zstd or zlib
    /// [default: any for version 7].
    #[arg(long = "compression", value_name = "NAME")]
    pub compression: Option<String>,
}
