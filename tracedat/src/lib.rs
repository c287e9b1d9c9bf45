//! Reading trace-cmd's trace.dat files and printing their events the way trace-cmd's `report`
//! (with libtraceevent) does.
//!
//! Layers, bottom up:
//! - [`endian`], [`record`], [`format`]: shared vocabulary.
//! - the file container ([`file`]: header, v6 layout, v7 sections and options, compression,
//!   buffers), the ring-buffer pages ([`ring_buffer`]), per-CPU record streams with the
//!   timestamp pipeline ([`stream`]) and the merged order of `report` ([`merge`]);
//! - the event printer (format files, print-fmt parsing and evaluation, kallsyms, printk
//!   formats) equivalent to libtraceevent;
//! - the report renderer (line layout, plugins, function_graph, filters, options) equivalent to
//!   `trace-cmd report`; [`filter`] is its `-F` (libtraceevent's filter language).
//!
//! - the writer ([`write`]): trace.dat files as trace-cmd writes them, and `convert`.
//!
//! Nothing here touches the kernel: reading or writing a file needs no tracefs.
//!
//! Reading the records of a file in `report` order:
//!
//! ```no_run
//! use tracedat::{Input, Merge, TimeConfig, TraceFile};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bytes = std::fs::read("trace.dat")?; // the CLI maps the file instead
//! let file = TraceFile::parse(&bytes)?;
//! println!("cpus={}", file.cpus());
//! let time = TimeConfig::default(); // --raw-ts, --nodate, --ts-offset, --ts2secs
//! let mut merge = Merge::for_report(&[Input { file: &file, time: &time }], false, |_| true)?;
//! while let Some((i, record)) = merge.peek() {
//!     // record.cpu, record.ts, record.data (from common_type on), record.missed_events;
//!     // merge.peek_following_in_source(i) is function_graph's look-ahead.
//!     let _ = (record.cpu, record.ts);
//!     merge.consume(i);
//! }
//! # Ok(()) }
//! ```

pub mod cnum;
pub mod endian;
pub mod error;
pub mod file;
pub mod filter;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
pub mod merge;
mod outbuf;
pub mod record;
pub mod report;
pub mod ring_buffer;
pub mod stream;
pub mod tep;
#[cfg(test)]
mod test_rng;
pub mod write;

pub use endian::Endian;
pub use error::{Error, LogLevel, Pos, Warning};
pub use file::{Buffer, BufferData, ClockInfo, CpuData, TraceFile};
pub use format::{EventFormat, Field, FieldFlags};
pub use merge::{Input, Merge, StreamInfo};
pub use record::Record;
pub use stream::{CpuStream, RecordHome, RecordHomeRef, TimeConfig, TsPipeline};

/// Which reference `report` output to reproduce, byte for byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// trace-cmd 3.1.6 with libtraceevent 1.7.1 (Debian 12): `report --compat 3.1`.
    V3_1,
    /// trace-cmd 3.3.1 with libtraceevent 1.8.4 and its plugins (Debian 13): the default.
    #[default]
    V3_3,
}

#[cfg(test)]
mod thread_safety {
    fn sync<T: Sync>() {}
    fn send<T: Send>() {}

    /// Several threads may share a parsed file and each walk their own CPUs.
    #[test]
    fn file_is_sync_streams_are_send() {
        sync::<crate::TraceFile<'static>>();
        send::<crate::TraceFile<'static>>();
        send::<crate::CpuStream<'static>>();
        send::<crate::Merge<'static>>();
    }
}
