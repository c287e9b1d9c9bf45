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
    /// Record a trace into a trace.dat file.
    Record(Box<RecordArgs>),
    /// Extract the current ring-buffer contents into a trace.dat file.
    Extract(ExtractArgs),
    /// Print the events live, as they are recorded.
    Stream(Box<StreamArgs>),
    /// Convert a trace.dat file to another file version or compression.
    Convert(ConvertArgs),
    /// Start tracing without recording into a file.
    Start(Box<StartArgs>),
    /// Set a ftrace configuration parameter (like start, without touching tracing_on).
    Set(Box<StartArgs>),
    /// Stop the kernel from recording trace data.
    Stop(InstanceSelect),
    /// Restart the kernel trace data recording (after stop).
    Restart(InstanceSelect),
    /// Disable all kernel tracing and clear the trace buffers.
    Reset(ResetArgs),
    /// Clear the trace buffers.
    Clear(ClearArgs),
    /// Show the contents of the kernel tracing buffer (or of a tracing file).
    Show(Box<ShowArgs>),
    /// Show the status of the running tracing (ftrace) system.
    Stat(StatArgs),
    /// List the available events, tracers, options, functions, clocks, instances.
    List(ListArgs),
    /// List the plugin options available for report -O.
    Options(OptionsArgs),
    /// Take, clear, free or show a snapshot of the running trace.
    Snapshot(SnapshotArgs),
    /// Define, list or remove kprobes (kernel dynamic probes), in the kernel's syntax.
    Kprobe(ProbeArgs),
    /// Define, list or remove uprobes (user-space dynamic probes), in the kernel's syntax.
    Uprobe(ProbeArgs),
    /// Apply dynamic debug queries or list pr_debug call sites and their flags.
    Dyndbg(DyndbgArgs),
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

    /// Threads that print lines (rtrace-cmd only; default: the CPUs available). The output
    /// is the same for any number; 1 runs the report on one thread.
    #[arg(long = "threads", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

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

/// Options of `start` and `set`: trace-cmd's record options that set up the kernel
/// ([`SetupArgs`]), and the command to run.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_long_help = "Unlike trace-cmd, rtrace-cmd reads every file before writing it, only \
                       touches options/function-trace and /proc/sys/kernel/ftrace_enabled when a \
                       function tracer or function filter is asked for, treats files the kernel \
                       refuses or lacks as unavailable when they were not asked for, and puts \
                       every setting back if it fails half-way."
)]
pub struct StartArgs {
    #[command(flatten)]
    pub setup: SetupArgs,

    /// With a command: return as soon as it is started.
    #[arg(long = "fork")]
    pub fork: bool,

    /// Accepted for compatibility with trace-cmd (only record saves all event formats).
    #[arg(short = 'a', action = ArgAction::Count, hide = true)]
    pub all: u8,

    /// Log level (accepted for compatibility).
    #[arg(long = "verbose", value_name = "LEVEL", num_args = 0..=1, require_equals = true,
          default_missing_value = "")]
    pub verbose: Option<String>,

    /// A command to run once tracing is set up (tracing stays on after it exits).
    // No allow_hyphen_values: an unknown option is a usage error, not a command; the
    // command's own options follow its name (or `--`).
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    pub command: Vec<String>,
}

/// trace-cmd's record options that set up the kernel, shared by `start`, `set` and
/// `record`. They apply in command-line order: `-f`/`-R` to the `-e` before them, and
/// everything after `-B NAME` to that instance.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Enable an event: all, SYSTEM, SYSTEM:EVENT or EVENT (globs allowed; repeatable).
    #[arg(short = 'e', value_name = "EVENT", action = ArgAction::Append)]
    pub event: Vec<String>,

    /// Filter for the previous -e event (repeatable; several are joined with &&).
    #[arg(short = 'f', value_name = "FILTER", action = ArgAction::Append)]
    pub filter: Vec<String>,

    /// Trigger for the previous -e event (repeatable).
    #[arg(short = 'R', value_name = "TRIGGER", action = ArgAction::Append)]
    pub trigger: Vec<String>,

    /// The -e options that follow disable their events instead (with set: -B deletes).
    #[arg(short = 'v', action = ArgAction::Count)]
    pub negate: u8,

    /// Tracer (plugin) to run: function, function_graph, nop, ... (one per instance).
    #[arg(short = 'p', value_name = "TRACER", action = ArgAction::Append)]
    pub plugin: Vec<String>,

    /// Limit function tracers to functions matching this name, glob or regex (repeatable;
    /// !GLOB removes, FUNC:traceoff:3 and other commands are added to set_ftrace_filter).
    #[arg(short = 'l', value_name = "FUNC", action = ArgAction::Append)]
    pub filter_func: Vec<String>,

    /// Do not trace functions matching this name, glob or regex (repeatable).
    #[arg(short = 'n', value_name = "FUNC", action = ArgAction::Append)]
    pub notrace_func: Vec<String>,

    /// Make function_graph start at this function (repeatable; top instance only).
    #[arg(short = 'g', value_name = "FUNC", action = ArgAction::Append)]
    pub graph_func: Vec<String>,

    /// Limit the following -l, -n and -g to this module (alone: all of its functions).
    #[arg(long = "module", value_name = "MODULE", action = ArgAction::Append)]
    pub module: Vec<String>,

    /// Trace only these pids (comma separated; repeatable).
    #[arg(short = 'P', value_name = "PID", action = ArgAction::Append)]
    pub pid: Vec<String>,

    /// Also trace the children of -F (or of -P, with the kernel's event-fork).
    #[arg(short = 'c', action = ArgAction::Count)]
    pub children: u8,

    /// Trace only the given command (and with -c its children).
    #[arg(short = 'F', action = ArgAction::Count)]
    pub filter_task: u8,

    /// Trace clock: local, global, counter, uptime, perf, mono, mono_raw, boot, x86-tsc, ...
    #[arg(short = 'C', value_name = "CLOCK", action = ArgAction::Append)]
    pub clock: Vec<String>,

    /// Record a stack trace with every event (options/stacktrace).
    #[arg(short = 'T', action = ArgAction::Count)]
    pub stacktrace: u8,

    /// Trace option to set, or clear with a "no" prefix (repeatable).
    #[arg(short = 'O', value_name = "OPTION", action = ArgAction::Append)]
    pub option: Vec<String>,

    /// Per-CPU buffer size in kilobytes.
    #[arg(short = 'b', value_name = "KB", action = ArgAction::Append)]
    pub buffer_size: Vec<String>,

    /// Sub-buffer size in kilobytes (Linux 6.8+).
    #[arg(long = "subbuf-size", value_name = "KB", action = ArgAction::Append)]
    pub subbuf_size: Vec<String>,

    /// Apply the following options to this instance (created if needed).
    #[arg(short = 'B', value_name = "NAME", action = ArgAction::Append)]
    pub instance: Vec<String>,

    /// CPU mask to trace (hexadecimal; -1 for all).
    #[arg(short = 'M', value_name = "MASK", action = ArgAction::Append)]
    pub cpumask: Vec<String>,

    /// Keep function tracing of other tracers off (options/function-trace).
    #[arg(short = 'd', action = ArgAction::Count)]
    pub disable: u8,

    /// Like -d, and also turn off /proc/sys/kernel/ftrace_enabled (for all users).
    #[arg(short = 'D', action = ArgAction::Count)]
    pub total_disable: u8,

    /// Skip events that do not exist instead of failing.
    #[arg(short = 'i', action = ArgAction::Count)]
    pub ignore_missing: u8,

    /// Print nothing but errors.
    #[arg(short = 'q', long = "quiet", action = ArgAction::Count)]
    pub quiet: u8,

    /// Limit the function_graph depth.
    #[arg(long = "max-graph-depth", value_name = "N", action = ArgAction::Append)]
    pub max_graph_depth: Vec<String>,

    /// Kernel saved_cmdlines_size (pid-to-comm cache entries).
    #[arg(long = "cmdlines-size", value_name = "N")]
    pub cmdlines_size: Option<String>,

    /// Record a stack trace of every traced function (needs -l).
    #[arg(long = "func-stack")]
    pub func_stack: bool,

    /// Define a kprobe in the kernel's syntax and enable its event (repeatable); reset
    /// removes it.
    #[arg(long = "kprobe", value_name = "DEF", action = ArgAction::Append)]
    pub kprobe: Vec<String>,
}

/// `record`: trace-cmd's record options (tracecmd/trace-record.c, trace-usage.c).
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_long_help = "Records until COMMAND exits or, without one, until Ctrl-C (SIGINT) or \
                       SIGTERM; a second signal while the file is being written gives it up. \
                       The kernel's tracing settings are put back as they were found in every \
                       case (unless -k), including errors half-way and a full disk. The file \
                       is written under a temporary name and renamed when complete. With \
                       COMMAND, its exit status is rtrace-cmd's."
)]
pub struct RecordArgs {
    #[command(flatten)]
    pub setup: SetupArgs,

    /// Output file [default: trace.dat].
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<String>,

    /// Save the formats of all events in the file, not only of the recorded ones.
    #[arg(short = 'a', action = ArgAction::Count)]
    pub all: u8,

    /// Leave the tracing setup in place after recording (tracing is off).
    #[arg(short = 'k', action = ArgAction::Count)]
    pub keep: u8,

    /// Longest time the readers sleep between looks at the buffers, in microseconds (the
    /// kernel also wakes them when a buffer is buffer_percent full) [default: 250000].
    #[arg(short = 's', value_name = "USECS")]
    pub sleep: Option<String>,

    /// Keep only about the newest KB kilobytes of data per CPU (between half of it and all
    /// of it, in whole sub-buffers).
    #[arg(short = 'm', value_name = "KB")]
    pub max_kb: Option<String>,

    /// Directory for the per-CPU spool files [default: the output file's directory].
    #[arg(long = "temp", value_name = "DIR")]
    pub temp: Option<String>,

    /// Include rtrace-cmd's own threads in the trace (by default they are left out with
    /// set_event_notrace_pid).
    #[arg(long = "no-filter")]
    pub no_filter: bool,

    /// Store the offset of the trace clock from the time of day (DATE option), so that
    /// report shows wall-clock times.
    #[arg(long = "date", conflicts_with = "ts_offset")]
    pub date: bool,

    /// Store an offset (ns) to add to every timestamp (OFFSET option).
    #[arg(long = "ts-offset", value_name = "NS")]
    pub ts_offset: Option<String>,

    /// File version of the output: 6 or 7 [default: 7].
    #[arg(long = "file-version", value_name = "VERSION")]
    pub file_version: Option<String>,

    /// Compression of the output: any (the best available: zstd), none, zstd or zlib
    /// [default: any for version 7].
    #[arg(long = "compression", value_name = "NAME")]
    pub compression: Option<String>,

    /// Log level (accepted for compatibility).
    #[arg(long = "verbose", value_name = "LEVEL", num_args = 0..=1, require_equals = true,
          default_missing_value = "")]
    pub verbose: Option<String>,

    /// A command to record (its exit status is passed on); without one, record until Ctrl-C.
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    pub command: Vec<String>,
}

/// `stream`: trace-cmd's stream (tracecmd/trace-record.c `trace_stream`).
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_long_help = "Prints the events as they are recorded, as report prints them. \
                       Events come in batches (every -s interval); a CPU's events are shown \
                       once a whole sub-buffer of them is in, so the order across CPUs holds \
                       within a batch, not always across batches, as with trace-cmd stream. \
                       Runs until COMMAND exits or until Ctrl-C; the kernel's settings are put \
                       back afterwards."
)]
pub struct StreamArgs {
    #[command(flatten)]
    pub setup: SetupArgs,

    /// Time between two batches of printed events, in microseconds [default: 500000].
    #[arg(short = 's', value_name = "USECS")]
    pub sleep: Option<String>,

    /// Include rtrace-cmd's own threads in the trace.
    #[arg(long = "no-filter")]
    pub no_filter: bool,

    /// Log level (accepted for compatibility).
    #[arg(long = "verbose", value_name = "LEVEL", num_args = 0..=1, require_equals = true,
          default_missing_value = "")]
    pub verbose: Option<String>,

    /// A command to trace; without one, stream until Ctrl-C.
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    pub command: Vec<String>,
}

/// `extract`: trace-cmd's extract (tracecmd/trace-record.c `trace_extract`).
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_long_help = "Reads what the ring buffers hold now (without waiting for more) into a \
                       trace.dat file. As trace-cmd does, tracing is then disabled and the \
                       buffers cleared (the tracer set to nop, events disabled, filters \
                       cleared) unless -k is given. The file is written under a temporary name \
                       and renamed when complete."
)]
pub struct ExtractArgs {
    /// Output file [default: trace.dat].
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<String>,

    /// Extract this instance's buffer (repeatable; the top level's only with -t then).
    #[arg(short = 'B', value_name = "NAME", action = ArgAction::Append)]
    pub instance: Vec<String>,

    /// Extract every instance's buffer.
    #[arg(short = 'a', action = ArgAction::Count)]
    pub all: u8,

    /// Extract the top level's buffer too (with -B).
    #[arg(short = 't', action = ArgAction::Count)]
    pub top: u8,

    /// Extract the snapshot buffer instead of the main one.
    #[arg(short = 's', action = ArgAction::Count)]
    pub snapshot: u8,

    /// Leave tracing as it is afterwards (do not disable it and clear the buffers).
    #[arg(short = 'k', action = ArgAction::Count)]
    pub keep: u8,

    /// Store the offset of the trace clock from the time of day (DATE option).
    #[arg(long = "date")]
    pub date: bool,

    /// Print nothing but errors.
    #[arg(short = 'q', long = "quiet", action = ArgAction::Count)]
    pub quiet: u8,

    /// File version of the output: 6 or 7 [default: 7].
    #[arg(long = "file-version", value_name = "VERSION")]
    pub file_version: Option<String>,

    /// Compression of the output: any (the best available: zstd), none, zstd or zlib
    /// [default: any for version 7].
    #[arg(long = "compression", value_name = "NAME")]
    pub compression: Option<String>,

    /// Log level (accepted for compatibility).
    #[arg(long = "verbose", value_name = "LEVEL", num_args = 0..=1, require_equals = true,
          default_missing_value = "")]
    pub verbose: Option<String>,
}

/// Which instances `stop` and `restart` act on; as in trace-cmd, -a also covers the top level
/// unless a -B is given.
#[derive(Debug, Args)]
pub struct InstanceSelect {
    /// An instance (repeatable).
    #[arg(short = 'B', value_name = "NAME", action = ArgAction::Append)]
    pub instance: Vec<String>,

    /// Every instance.
    #[arg(short = 'a', action = ArgAction::Count)]
    pub all: u8,

    /// The top level too (with -B or -a).
    #[arg(short = 't', action = ArgAction::Count)]
    pub top: u8,
}

/// `reset`: disable tracing, clear filters, triggers, probes and buffers.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Reset reads every file before writing it and skips files the \
                             kernel lacks or refuses (set_ftrace_pid, set_ftrace_filter, \
                             tracing_max_latency on restricted kernels), where trace-cmd 3.1.6 \
                             dies. All dynamic events (kprobes, uprobes, ...) are removed."
)]
pub struct ResetArgs {
    /// Set the per-CPU buffer size (kilobytes) of the previous -B instance, or of all
    /// instances after -a.
    #[arg(short = 'b', value_name = "KB", action = ArgAction::Append)]
    pub buffer_size: Vec<String>,

    /// Reset this instance (repeatable).
    #[arg(short = 'B', value_name = "NAME", action = ArgAction::Append)]
    pub instance: Vec<String>,

    /// Reset every instance (the top level too unless -B is given).
    #[arg(short = 'a', action = ArgAction::Count)]
    pub all: u8,

    /// Delete the previous -B instance (or all after -a).
    #[arg(short = 'd', action = ArgAction::Count)]
    pub delete: u8,

    /// Reset the top level too (with -B or -a).
    #[arg(short = 't', action = ArgAction::Count)]
    pub top: u8,
}

/// `clear`: empty ring buffers.
#[derive(Debug, Args)]
pub struct ClearArgs {
    /// Clear this instance's buffer (repeatable).
    #[arg(short = 'B', value_name = "NAME", action = ArgAction::Append)]
    pub instance: Vec<String>,

    /// Clear every instance's buffer and the top level's.
    #[arg(short = 'a', long = "all")]
    pub all: bool,
}

/// `show`: print a tracing file (trace by default).
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Read trace_pipe instead (consumes the events; waits for more).
    #[arg(short = 'p', conflicts_with = "snapshot")]
    pub pipe: bool,

    /// Read the snapshot buffer instead.
    #[arg(short = 's')]
    pub snapshot: bool,

    /// Only this CPU's buffer.
    #[arg(short = 'c', value_name = "CPU")]
    pub cpu: Option<String>,

    /// The instance to read (the options after it apply to it).
    #[arg(short = 'B', value_name = "NAME")]
    pub instance: Option<String>,

    /// Print the path of the file first.
    #[arg(short = 'f')]
    pub show_name: bool,

    /// Show tracing_on, then exit.
    #[arg(long = "tracing_on", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub tracing_on: Vec<String>,
    /// Show current_tracer, then exit.
    #[arg(long = "current_tracer", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub current_tracer: Vec<String>,
    /// Show buffer_size_kb, then exit.
    #[arg(long = "buffer_size", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub buffer_size: Vec<String>,
    /// Show buffer_total_size_kb, then exit.
    #[arg(long = "buffer_total_size", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub buffer_total_size: Vec<String>,
    /// Show buffer_subbuf_size_kb, then exit.
    #[arg(long = "buffer_subbuf_size", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub buffer_subbuf_size: Vec<String>,
    /// Show buffer_percent, then exit.
    #[arg(long = "buffer_percent", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub buffer_percent: Vec<String>,
    /// Show set_ftrace_filter, then exit.
    #[arg(long = "ftrace_filter", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub ftrace_filter: Vec<String>,
    /// Show set_ftrace_notrace, then exit.
    #[arg(long = "ftrace_notrace", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub ftrace_notrace: Vec<String>,
    /// Show set_ftrace_pid, then exit.
    #[arg(long = "ftrace_pid", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub ftrace_pid: Vec<String>,
    /// Show set_graph_function, then exit.
    #[arg(long = "graph_function", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub graph_function: Vec<String>,
    /// Show set_graph_notrace, then exit.
    #[arg(long = "graph_notrace", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub graph_notrace: Vec<String>,
    /// Show tracing_cpumask, then exit.
    #[arg(long = "cpumask", action = ArgAction::Append, num_args = 0, default_missing_value = "")]
    pub cpumask: Vec<String>,
    /// Show the hist file of [SYSTEM:]EVENT, then exit.
    #[arg(long = "hist", value_name = "EVENT")]
    pub hist: Option<String>,
    /// Show the trigger file of [SYSTEM:]EVENT, then exit.
    #[arg(long = "trigger", value_name = "EVENT")]
    pub trigger: Option<String>,
}

/// `stat`: what is set up, as trace-cmd prints it.
#[derive(Debug, Args)]
pub struct StatArgs {
    /// Show this instance (repeatable).
    #[arg(short = 'B', value_name = "NAME", action = ArgAction::Append)]
    pub instance: Vec<String>,

    /// Show the top level too (with -B).
    #[arg(short = 't', action = ArgAction::Count)]
    pub top: u8,

    /// List the trace options too.
    #[arg(short = 'o')]
    pub options: bool,
}

/// `list`: what the kernel offers.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// List events (those matching REGEX, a case-insensitive basic regex: SYSTEM[:EVENT]).
    #[arg(short = 'e', value_name = "REGEX", num_args = 0..=1)]
    pub events: Option<Option<String>>,

    /// With -e: show the event formats (without the print fmt unless --full).
    #[arg(short = 'F')]
    pub format: bool,

    /// With -e -F: also show the print fmt.
    #[arg(long = "full")]
    pub full: bool,

    /// With -e: show the event triggers.
    #[arg(short = 'R')]
    pub triggers: bool,

    /// With -e: show the event filters.
    #[arg(short = 'l')]
    pub filters: bool,

    /// List the tracers (plugins).
    #[arg(short = 't', visible_short_alias = 'p')]
    pub tracers: bool,

    /// List the trace options.
    #[arg(short = 'o')]
    pub options: bool,

    /// List the functions that can be filtered on (those matching REGEX).
    #[arg(short = 'f', value_name = "REGEX", num_args = 0..=1)]
    pub functions: Option<Option<String>>,

    /// List the plugin options (as the options subcommand).
    #[arg(short = 'O')]
    pub plugin_options: bool,

    /// List the instances.
    #[arg(short = 'B')]
    pub instances: bool,

    /// List the trace clocks (the current one in brackets).
    #[arg(short = 'C')]
    pub clocks: bool,

    /// List the event systems.
    #[arg(short = 's')]
    pub systems: bool,

    /// List the trace file compression algorithms.
    #[arg(short = 'c')]
    pub compression: bool,

    /// Accepted for compatibility.
    #[arg(long = "debug", hide = true)]
    pub debug: bool,
}

/// `options`: the plugin options `report -O` understands.
#[derive(Debug, Args)]
pub struct OptionsArgs {
    /// List the options of this trace-cmd release's plugins.
    #[arg(long, value_enum, default_value = "3.3", value_name = "VERSION")]
    pub compat: Compat,
}

/// `snapshot`: the snapshot buffer (CONFIG_TRACER_SNAPSHOT).
#[derive(Debug, Args)]
#[command(after_long_help = "Without -s, -r or -f, the snapshot is shown.")]
pub struct SnapshotArgs {
    /// Take a snapshot of the trace buffer.
    #[arg(short = 's', conflicts_with = "free")]
    pub take: bool,

    /// Clear the snapshot.
    #[arg(short = 'r')]
    pub reset: bool,

    /// Free the snapshot buffer.
    #[arg(short = 'f')]
    pub free: bool,

    /// Operate on this instance's snapshot.
    #[arg(short = 'B', value_name = "NAME")]
    pub instance: Option<String>,

    /// Operate on this CPU's snapshot.
    #[arg(short = 'c', value_name = "CPU")]
    pub cpu: Option<String>,
}

/// `kprobe`/`uprobe`: dynamic probes in the kernel's own syntax.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Definitions are passed to the kernel as written, e.g.\n  \
    kprobe 'p:myprobe do_sys_openat2 dfd=%di:s32 filename=+0(%si):string'\n  \
    kprobe 'r:myret do_sys_openat2 ret=$retval:s64'\n  \
    uprobe 'p:bash_readline /bin/bash:0x8f2a0 ret=%ax'\n\
    The probe's event (kprobes:myprobe) can then be enabled with start -e or record -e. A \
    definition the kernel refuses is shown with the kernel's reason and the position it \
    points at."
)]
pub struct ProbeArgs {
    /// Probe definitions to add.
    #[arg(value_name = "DEF")]
    pub definitions: Vec<String>,

    /// List the defined probes.
    #[arg(short = 'l', long = "list")]
    pub list: bool,

    /// Remove a probe by [GROUP/]NAME (globs allowed), or all of them with "all".
    #[arg(short = 'r', long = "remove", value_name = "NAME", action = ArgAction::Append)]
    pub remove: Vec<String>,
}

/// `dyndbg`: the kernel's dynamic debug (pr_debug) control.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Queries are the kernel's: keyword/value pairs (file, module, func, \
    line, format, class) and a flag change (+p prints the message; f, l, m, t add function, \
    line, module, thread id; - removes, = sets), e.g.\n  dyndbg 'module xfs +p'\n  \
    dyndbg 'file kernel/cpu.c line 100-200 +pf'\n  dyndbg -l 'func *alloc*'"
)]
pub struct DyndbgArgs {
    /// Queries to apply (each one, or several separated by ';').
    #[arg(value_name = "QUERY")]
    pub queries: Vec<String>,

    /// List the call sites matching a query without flags (or a word found in the module,
    /// file or function), with their flags; all sites without PATTERN.
    #[arg(short = 'l', long = "list", value_name = "PATTERN", num_args = 0..=1)]
    pub list: Option<Option<String>>,
}
