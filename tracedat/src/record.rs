//! One event record as it comes out of the ring-buffer pages, the equivalent of
//! libtraceevent's `struct tep_record` (include/traceevent/event-parse.h).
//!
//! A record borrows its payload from the mapped file (or from a decompressed chunk); nothing is
//! copied per event.

/// A decoded ring-buffer event.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Timestamp after the file's timestamp pipeline (TSC2NSEC, OFFSET, DATE, `--ts-offset`...).
    pub ts: u64,
    /// The CPU whose buffer held the record.
    pub cpu: u32,
    /// The event payload, starting at `common_type`. Its length is the record's data size
    /// (libtraceevent `record->size`), which may include trailing alignment bytes.
    pub data: &'a [u8],
    /// Events the kernel dropped just before this record: 0 none, -1 a count was not stored
    /// (`CPU:N [EVENTS DROPPED]`), otherwise the stored count.
    pub missed_events: i64,
    /// Offset of the record in the (uncompressed) per-CPU stream, used by `--debug`-style output
    /// and as a stable identity.
    pub offset: u64,
}
