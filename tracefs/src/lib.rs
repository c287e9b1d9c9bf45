//! Drives the Linux kernel's tracing through tracefs: instances, tracers, clocks, buffers,
//! options, events (enable, filter, trigger), function filters, pid filters, kprobes,
//! uprobes and other dynamic events, markers, snapshots, and dynamic debug — the
//! equivalent of libtracefs as trace-cmd uses it, written for kernels where trace-cmd
//! fails.
//!
//! Rules it keeps (see each module for the kernel file it implements):
//! - read before write: a setter reads the file and writes only if the value differs, and
//!   says whether it wrote;
//! - a file that is missing or that the kernel refuses to open is "not available"
//!   ([`Error::is_unavailable`], [`Optional::optional`]), which callers ignore for files the
//!   user did not ask for; a refused write carries the errno and the kernel's `error_log`
//!   entry;
//! - [`Session`] remembers every setting it changes and puts them back on
//!   [`Session::restore`] or drop, removing the instances and dynamic events it created.
//!
//! ```no_run
//! use tracefs::{Session, Tracefs};
//! let fs = Tracefs::open()?;
//! let top = fs.top();
//! let mut s = Session::new(&fs);
//! for t in top.resolve_events("sched:sched_switch")? {
//!     s.enable_event(&top, &t, true)?;
//! }
//! s.set_tracing_on(&top, true)?;
//! // ... read per_cpu/cpuN/trace_pipe_raw ...
//! s.restore().map_err(|mut e| e.remove(0))?;
//! # Ok::<(), tracefs::Error>(())
//! ```
//!
//! The crate knows nothing of trace.dat; `rtrace-cmd` builds its subcommands on it.

pub mod dyndbg;
pub mod dynevent;
pub mod error;
pub mod events;
pub mod fs;
pub mod functions;
pub mod instance;
pub mod io;
pub mod lock;
pub mod metadata;
pub mod plan;
pub mod recorder;
pub mod reset;
pub mod session;
pub mod suggest;

pub use dyndbg::DynDebug;
pub use dynevent::{DynEvent, ProbeKind};
pub use error::{Error, KernelLog, Optional, Result};
pub use events::{EnableState, EventId, EventTarget};
pub use fs::Tracefs;
pub use functions::{FilterFile, FuncPattern};
pub use instance::{BufferSize, Clocks, CpuMask, CpuStats, Instance, PerCpu, SnapshotOp};
pub use session::Session;
