//! `report -F`: libtraceevent's event filter language and trace-cmd's use of it.
//!
//! - [`EventFilter`] is one `-F` argument compiled against the events of one file:
//!   libtraceevent's `struct tep_event_filter` after `tep_filter_add_filter_str`
//!   (src/parse-filter.c, identical in 1.7.1 and 1.8.4 for everything observable). Its
//!   [`EventFilter::matches`] is `tep_filter_match`.
//! - [`FilterSet`] is trace-cmd's `struct tracecmd_filter` (lib/trace-cmd/trace-filter.c):
//!   the positive and `-v` filters of one input and the rule that keeps `kernel_stack` /
//!   `user_stack` records after a shown record.
//! - [`FilterArgs`] decides which `-F` strings apply to which input file, from the order of
//!   `-F`, `-v` and `-i` on the command line (tracecmd/trace-read.c `add_filter`,
//!   `add_first_input`, `process_filters`), which differs between trace-cmd 3.1.6 and 3.3.1.
//!
//! The text of a filter is `EVENTS[:EXPRESSION]`. `EVENTS` is a comma-separated list of
//! `system/event` or `name` regexes (POSIX basic, case-insensitive, anchored; a lone name
//! matches an event or a whole system); with no `:` the events pass unfiltered. The expression
//! language and its many quirks are described in `parse.rs` and `eval.rs`. Behaviour verified
//! with the reference tools is recorded in the tests (tests/filter_oracle.rs runs every case of
//! tests/data/filter/ against expectations produced by libtraceevent itself).
//!
//! Nothing is allocated per record: regexes, field offsets and the per-event trees are built
//! once by [`EventFilter::parse`].
//!
//! How `report` uses it, as trace-cmd does (tracecmd/trace-read.c, lib/trace-cmd):
//! 1. Feed `-F`, `-v` and the inputs to [`FilterArgs`] in command-line order (the order of
//!    `-F` relative to `-v` and `-i` matters); `--pid`/`--comm` become [`pid_filter_text`].
//! 2. Per handle, [`FilterSet::new`], then each [`FilterArgs::filters_for`] entry through
//!    [`EventFilter::parse_with_test_output`] + [`FilterSet::push`]. With `-T`, print the
//!    collected lines to stdout as they come (and stop per [`FilterArgs::test_mode_exits`]).
//!    A [`FilterError`] ends the program as `die()` does: `trace-cmd: <strerror>` first when
//!    [`FilterError::errno`] has one, then `  ` + [`FilterError::reference_message`]; exit
//!    status the errno, else 255.
//! 3. Call [`FilterSet::matches`] for every record of the handle in output order, before
//!    `--cpu`, `-I`/`-S` and printing (trace-cmd tests it in `tracecmd_iterate_events`, before
//!    the report callback); records function_graph consumes while merging a leaf are never
//!    tested. An `Err` means trace-cmd crashes on that record.
//! 4. [`FilterEnv::comm`] must be the report's live comm table: plugins add comms while
//!    printing, and `COMM` filters see them from the next record on.

mod eval;
mod lex;
mod parse;
pub mod posix;
mod set;

pub use set::{pid_filter_text, FilterArg, FilterArgs, FilterSet, TypePrefilter};

use crate::endian::Endian;
use crate::format::EventFormat;
use crate::record::Record;

use eval::{Ctx, PidField};
use parse::Tree;
use posix::PosixRegex;

/// What libtraceevent's filter code reports: the members of `enum tep_errno` it can return
/// while adding a filter, plus the cases where the reference does not return at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterErrorKind {
    /// `TEP_ERRNO__MEM_ALLOC_FAILED`. The only way to get it is a `,` after the `:`, which
    /// makes `tep_filter_add_filter_str` compute a negative length for the next event name.
    MemAllocFailed,
    InvalidArgType,
    InvalidEventName,
    /// No event matches a name of the event list.
    EventNotFound,
    SyntaxError,
    IllegalRvalue,
    IllegalLvalue,
    /// The regex of `=~`/`!~` does not compile.
    InvalidRegex,
    IllegalStringCmp,
    IllegalIntegerCmp,
    ReparentNotOp,
    ReparentFailed,
    BadFilterArg,
    UnexpectedType,
    IllegalToken,
    InvalidParen,
    UnbalancedParen,
    UnknownToken,
    /// An empty event name (`-F ':x'`, `-F 'a,'`).
    FilterNotFound,
    /// The regex is valid for glibc but uses a back-reference, which this implementation
    /// cannot match.
    UnsupportedRegex,
    /// libtraceevent dereferences NULL on this filter and trace-cmd dies with SIGSEGV.
    ReferenceCrash(CrashReason),
}

/// Why the reference would crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashReason {
    /// An operator without its right operand (`pid ==`, `a == 1 ||`) reaches `test_arg`.
    UnfinishedExpression,
    /// An operand the parser never filled.
    NullArgument,
}

impl FilterErrorKind {
    /// libtraceevent's `tep_strerror` text.
    pub fn strerror(self) -> &'static str {
        use FilterErrorKind::*;
        match self {
            MemAllocFailed => "failed to allocate memory",
            InvalidArgType => "invalid argument type",
            InvalidEventName => "invalid event name",
            EventNotFound => "no event found",
            SyntaxError => "syntax error",
            IllegalRvalue => "illegal rvalue",
            IllegalLvalue => "illegal lvalue for string comparison",
            InvalidRegex => "regex did not compute",
            IllegalStringCmp => "illegal comparison for string",
            IllegalIntegerCmp => "illegal comparison for integer",
            ReparentNotOp => "cannot reparent other than OP",
            ReparentFailed => "failed to reparent filter OP",
            BadFilterArg => "bad arg in filter tree",
            UnexpectedType => "unexpected type (not a value)",
            IllegalToken => "illegal token",
            InvalidParen => "open parenthesis cannot come here",
            UnbalancedParen => "unbalanced number of parenthesis",
            UnknownToken => "unknown token",
            FilterNotFound => "no filter found",
            UnsupportedRegex => "regex back-references are not supported",
            ReferenceCrash(CrashReason::UnfinishedExpression) => {
                "unfinished expression (trace-cmd crashes on it)"
            }
            ReferenceCrash(CrashReason::NullArgument) => {
                "missing operand (trace-cmd crashes on it)"
            }
        }
    }
}

/// A filter that libtraceevent rejects (or crashes on).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct FilterError {
    /// The whole `-F` argument.
    pub filter: Box<str>,
    pub kind: FilterErrorKind,
    /// `system:name` of the event whose expression failed, when it was an expression.
    pub event: Option<Box<str>>,
    /// The message libtraceevent's `show_error` wrote (`Syntax error`, `Illegal rvalue`...).
    pub message: Option<Box<str>>,
    /// Byte offset in [`Self::filter`] where the parser stood when it gave up.
    pub position: Option<usize>,
}

impl FilterError {
    fn plain(filter: &str, kind: FilterErrorKind) -> Self {
        FilterError {
            filter: filter.into(),
            kind,
            event: None,
            message: None,
            position: None,
        }
    }

    fn describe(&self) -> String {
        let mut s = format!("filter '{}': ", self.filter);
        s.push_str(self.message.as_deref().unwrap_or(self.kind.strerror()));
        if let Some(ev) = &self.event {
            s.push_str(&format!(" (event {ev}"));
            if let Some(p) = self.position {
                s.push_str(&format!(", at byte {p}"));
            }
            s.push(')');
        }
        s
    }

    /// The line trace-cmd's `die()` prints (after two spaces) when the filter is rejected.
    pub fn reference_message(&self) -> String {
        format!("Failed to create event filter: {}", self.filter)
    }

    /// The `errno` trace-cmd dies with: it prints `trace-cmd: <strerror>` first when there is
    /// one and exits with it (else it exits with 255). Only the allocation failure sets it.
    pub fn errno(&self) -> Option<i32> {
        (self.kind == FilterErrorKind::MemAllocFailed).then_some(12)
    }
}

/// What can go wrong while testing a record (`tep_filter_match` returning an error code).
/// trace-cmd treats every one of them as "does not match".
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// A string used where a number is needed (`prev_pid & "x"`).
    #[error("must have number field")]
    NotANumber,
    /// The `~` operator.
    #[error("invalid expression type")]
    InvalidExpType,
    #[error("invalid argument type")]
    InvalidArgType,
    #[error("illegal comparison for integer")]
    IllegalIntegerCmp,
    /// `/ 0` or `% 0`: the reference dies with SIGFPE.
    #[error("division by zero (trace-cmd dies with SIGFPE)")]
    DivisionByZero,
    /// `CPU` compared with a string: libtraceevent reads the pseudo-field's NULL event and
    /// the reference dies with SIGSEGV.
    #[error("CPU compared with a string (trace-cmd dies with SIGSEGV)")]
    CpuStringCompare,
}

impl MatchError {
    /// True for the errors where trace-cmd does not go on but dies: a report that meets one
    /// should stop with an error rather than print what trace-cmd never prints.
    pub fn is_reference_crash(self) -> bool {
        matches!(
            self,
            MatchError::DivisionByZero | MatchError::CpuStringCompare
        )
    }
}

/// What the filter needs from the rest of the report for one record.
pub trait FilterEnv {
    /// `tep_data_comm_from_pid`: `<idle>` for pid 0, the comm, or `<...>`. It is called for
    /// every `COMM` the evaluation reaches, also where only its address is used, because the
    /// first lookup freezes libtraceevent's comm list (see `report::comm`).
    fn comm(&mut self, pid: i32) -> &[u8];
    /// `tep_find_function`: the kernel function containing `addr`.
    fn function(&mut self, addr: u64) -> Option<&[u8]>;
}

/// A [`FilterEnv`] with no saved comms and no kernel symbols.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEnv;

impl FilterEnv for NoEnv {
    fn comm(&mut self, pid: i32) -> &[u8] {
        if pid == 0 {
            b"<idle>"
        } else {
            b"<...>"
        }
    }

    fn function(&mut self, _addr: u64) -> Option<&[u8]> {
        None
    }
}

/// `tep_filter_match`'s answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterMatch {
    /// `TEP_ERRNO__FILTER_MATCH`.
    Match,
    /// `TEP_ERRNO__FILTER_MISS`.
    Miss,
    /// `TEP_ERRNO__FILTER_NOT_FOUND`: the filter does not name the record's event.
    NotFound,
    /// `TEP_ERRNO__NO_FILTER`: the filter names no event at all.
    NoFilter,
    /// The evaluation failed.
    Error(MatchError),
}

#[derive(Clone, Debug)]
struct EventEntry {
    id: u32,
    tree: Tree,
}

/// One `-F` argument compiled for the events of one file.
#[derive(Clone, Debug)]
pub struct EventFilter {
    text: Box<str>,
    endian: Endian,
    /// `common_type` of the file's first event (libtraceevent reads it from `events[0]`).
    type_field: Option<PidField>,
    pid_field: Option<PidField>,
    /// Sorted by id, one entry per id.
    events: Vec<EventEntry>,
}

/// `strim`: C-locale whitespace off both ends.
fn strim(s: &[u8]) -> &[u8] {
    let sp = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = s.iter().position(|b| !sp(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !sp(b)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// An event a filter can name: its id and names, and its format, which is only asked for
/// when the filter selects the event (or it is the first event, whose common fields every
/// filter reads). A file has ~2,000 formats and a filter names a few: the others need not be
/// parsed.
pub trait FilterEvent {
    fn id(&self) -> u32;
    fn system(&self) -> &str;
    fn name(&self) -> &str;
    fn format(&self) -> &EventFormat;
}

impl FilterEvent for &EventFormat {
    fn id(&self) -> u32 {
        self.id
    }
    fn system(&self) -> &str {
        &self.system
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn format(&self) -> &EventFormat {
        self
    }
}

impl FilterEvent for crate::tep::Event<'_, '_> {
    fn id(&self) -> u32 {
        crate::tep::Event::id(self) as u32
    }
    fn system(&self) -> &str {
        crate::tep::Event::system(self)
    }
    fn name(&self) -> &str {
        crate::tep::Event::name(self)
    }
    fn format(&self) -> &EventFormat {
        crate::tep::Event::format(self)
    }
}

/// The events an `EVENTS` name selects (`find_event`), appended in libtraceevent's id order.
fn find_events<'a, E: FilterEvent>(
    text: &str,
    all: &'a [E],
    sys: Option<&[u8]>,
    name: &[u8],
    out: &mut Vec<&'a E>,
) -> Result<(), FilterError> {
    let anchored = |s: &[u8]| {
        let mut v = b"^".to_vec();
        v.extend_from_slice(s);
        v.push(b'$');
        PosixRegex::new(&v)
    };
    let bad_name = |e: posix::BreError| {
        FilterError::plain(
            text,
            match e {
                posix::BreError::Invalid(_) => FilterErrorKind::InvalidEventName,
                _ => FilterErrorKind::UnsupportedRegex,
            },
        )
    };
    let ereg = anchored(name).map_err(bad_name)?;
    let sreg = match sys {
        Some(s) => Some(anchored(s).map_err(bad_name)?),
        None => None,
    };
    let before = out.len();
    for ev in all {
        let hit = match &sreg {
            Some(sreg) => {
                sreg.is_match(ev.system().as_bytes()) && ereg.is_match(ev.name().as_bytes())
            }
            None => ereg.is_match(ev.system().as_bytes()) || ereg.is_match(ev.name().as_bytes()),
        };
        if hit {
            out.push(ev);
        }
    }
    if out.len() == before {
        return Err(FilterError::plain(text, FilterErrorKind::EventNotFound));
    }
    Ok(())
}

impl EventFilter {
    /// Compiles `text` against `events` (all the events of the file, in any order), as
    /// `tep_filter_add_filter_str` does.
    pub fn parse<E: FilterEvent>(
        text: &str,
        events: impl IntoIterator<Item = E>,
        endian: Endian,
    ) -> Result<Self, FilterError> {
        Self::parse_with_test_output(text, events, endian, None)
    }

    /// [`Self::parse`], also collecting what `report -T` prints: one line per selected event
    /// whose expression compiled, `" 'name: <filter as libtraceevent prints it>'"` (without
    /// the newline), in libtraceevent's order. Those lines are printed even when the filter
    /// then fails for another of its events.
    pub fn parse_with_test_output<E: FilterEvent>(
        text: &str,
        events: impl IntoIterator<Item = E>,
        endian: Endian,
        mut test_output: Option<&mut Vec<String>>,
    ) -> Result<Self, FilterError> {
        let mut all: Vec<E> = events.into_iter().collect();
        // libtraceevent keeps its events sorted by id (stable for duplicates).
        all.sort_by_key(|e| e.id());
        let bytes = text.as_bytes();
        let bytes = &bytes[..memchr::memchr(0, bytes).unwrap_or(bytes.len())];
        let colon = memchr::memchr(b':', bytes);

        // The event list, in the order libtraceevent prepends to it.
        let mut selected: Vec<&E> = Vec::new();
        let mut cur = 0usize;
        loop {
            let comma = memchr::memchr(b',', &bytes[cur..]).map(|i| cur + i);
            let this = match (comma, colon) {
                (Some(c), col) if col.is_none_or(|col| c < col) => &bytes[cur..c],
                (_, Some(col)) if col < cur => {
                    // C computes a negative length here and malloc fails.
                    return Err(FilterError::plain(text, FilterErrorKind::MemAllocFailed));
                }
                (_, Some(col)) => &bytes[cur..col],
                _ => &bytes[cur..],
            };
            let mut parts = this.split(|&b| b == b'/').filter(|p| !p.is_empty());
            let Some(sys) = parts.next() else {
                return Err(FilterError::plain(text, FilterErrorKind::FilterNotFound));
            };
            match parts.next() {
                Some(name) => {
                    find_events(text, &all, Some(strim(sys)), strim(name), &mut selected)?
                }
                None => find_events(text, &all, None, strim(sys), &mut selected)?,
            }
            match comma {
                Some(c) => cur = c + 1,
                None => break,
            }
        }

        let first = all.first();
        let field_of = |name: &str| {
            first
                .and_then(|e| e.format().any_field(name))
                .map(|f| PidField {
                    offset: f.offset,
                    size: f.size,
                })
        };
        let mut filter = EventFilter {
            text: text.into(),
            endian,
            type_field: field_of("common_type"),
            pid_field: field_of("common_pid"),
            events: Vec::new(),
        };

        let mut error = None;
        let mut regexes = parse::RegexCache::new();
        for ev in selected.iter().rev() {
            let ev = ev.format();
            let tree = match colon {
                None => Tree {
                    nodes: vec![parse::Arg::Boolean(true)],
                    root: 0,
                },
                Some(col) => match parse::parse_event(&bytes[col + 1..], ev, &mut regexes) {
                    Ok(t) => t,
                    Err(e) => {
                        let err = FilterError {
                            filter: text.into(),
                            kind: e.kind,
                            event: Some(format!("{}:{}", ev.system, ev.name).into()),
                            message: e.message.map(Into::into),
                            position: Some(col + 1 + e.position),
                        };
                        if matches!(e.kind, FilterErrorKind::ReferenceCrash(_)) {
                            return Err(err);
                        }
                        error = Some(err);
                        continue;
                    }
                },
            };
            if let Some(out) = test_output.as_deref_mut() {
                if let Some(s) = tree.to_text() {
                    out.push(format!(" '{}: {}'", ev.name, s));
                }
            }
            filter.events.push(EventEntry { id: ev.id, tree });
        }
        // An event selected twice keeps the filter it got last (`filter_event` replaces it).
        filter.events.reverse();
        filter.events.sort_by_key(|e| e.id);
        filter.events.dedup_by_key(|e| e.id);
        match error {
            Some(e) => Err(e),
            None => Ok(filter),
        }
    }

    /// The `-F` argument this was compiled from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The ids of the events this filter names.
    pub fn event_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.events.iter().map(|e| e.id)
    }

    /// `tep_filter_make_string` for one event: the expression as libtraceevent prints it.
    pub fn event_text(&self, id: u32) -> Option<String> {
        let i = self.events.binary_search_by_key(&id, |e| e.id).ok()?;
        self.events[i].tree.to_text()
    }

    /// Where the record's event id is: byte order, offset and size.
    pub(crate) fn type_field(&self) -> Option<(Endian, usize, usize)> {
        let f = self.type_field?;
        Some((self.endian, f.offset as usize, f.size as usize))
    }

    /// The record's event id, read like `tep_data_type`.
    fn record_type(&self, rec: &Record) -> Option<u32> {
        let f = self.type_field?;
        self.endian
            .uint(rec.data, f.offset as usize, f.size as usize)
            .map(|v| v as i32 as u32)
    }

    /// `tep_filter_match`.
    pub fn matches<E: FilterEnv + ?Sized>(&self, rec: &Record, env: &mut E) -> FilterMatch {
        if self.events.is_empty() {
            return FilterMatch::NoFilter;
        }
        let Some(id) = self.record_type(rec) else {
            return FilterMatch::NotFound;
        };
        let Ok(i) = self.events.binary_search_by_key(&id, |e| e.id) else {
            return FilterMatch::NotFound;
        };
        let mut cx = Ctx {
            endian: self.endian,
            pid: self.pid_field,
            rec,
            env,
        };
        match self.events[i].tree.test(&mut cx) {
            Ok(true) => FilterMatch::Match,
            Ok(false) => FilterMatch::Miss,
            Err(e) => FilterMatch::Error(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Field, FieldFlags};

    fn field(name: &str, offset: u32, size: u32, flags: u16) -> Field {
        Field {
            name: name.into(),
            type_name: "".into(),
            offset,
            size,
            array_len: 0,
            element_size: size,
            flags: FieldFlags(flags),
        }
    }

    fn events() -> Vec<EventFormat> {
        let common = vec![
            field("common_type", 0, 2, 0),
            field("common_pid", 4, 4, FieldFlags::SIGNED),
        ];
        vec![
            EventFormat {
                id: 7,
                system: "sys".into(),
                name: "ev".into(),
                common_fields: common.clone(),
                fields: vec![
                    field("a", 8, 4, FieldFlags::SIGNED),
                    field("s", 12, 8, FieldFlags::STRING | FieldFlags::ARRAY),
                    field(
                        "d",
                        20,
                        4,
                        FieldFlags::STRING | FieldFlags::ARRAY | FieldFlags::DYNAMIC,
                    ),
                    field("p", 24, 8, FieldFlags::POINTER),
                    field("big", 32, 40, 0),
                ],
                print_fmt: "".into(),
            },
            EventFormat {
                id: 9,
                system: "ftrace".into(),
                name: "kernel_stack".into(),
                common_fields: common,
                fields: vec![field("size", 8, 4, FieldFlags::SIGNED)],
                print_fmt: "".into(),
            },
        ]
    }

    use crate::test_rng::Rng;

    /// Arbitrary filter text and records never panic or hang, whatever they contain.
    #[test]
    fn arbitrary_input_is_an_error_not_a_panic() {
        const PIECES: &[&str] = &[
            "a",
            "s",
            "d",
            "p",
            "big",
            "COMM",
            "CPU",
            "x",
            "common_pid",
            "(",
            ")",
            "!",
            "&&",
            "||",
            "==",
            "!=",
            "<",
            ">=",
            "=~",
            "!~",
            "&",
            "|",
            "+",
            "-",
            "/",
            "%",
            "~",
            ",",
            ":",
            "/",
            "\"",
            "'",
            "\"a*\"",
            "'b'",
            "0",
            "0x1f",
            "-1",
            "\\",
            "[",
            "]",
            "*",
            "^",
            "$",
            " ",
            "\t",
            "\n",
            "\u{e9}",
            "\u{1}",
            "ev",
            "sys",
            ".*",
            "\\(",
            "\\{2\\}",
        ];
        let evs = events();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut data = [0u8; 96];
        for _ in 0..4_000 {
            let mut text = String::new();
            if rng.below(4) != 0 {
                text.push_str(["ev:", "sys/ev:", ".*:", "kernel_stack,ev:"][rng.below(4)]);
            }
            for _ in 0..rng.below(12) {
                text.push_str(PIECES[rng.below(PIECES.len())]);
            }
            for b in data.iter_mut() {
                *b = rng.next() as u8;
            }
            data[0..2].copy_from_slice(&[7, 0]);
            data[20] = 40 + rng.below(70) as u8;
            let mut lines = Vec::new();
            let parsed = EventFilter::parse_with_test_output(
                &text,
                evs.iter(),
                Endian::Little,
                Some(&mut lines),
            );
            if let Ok(f) = parsed {
                let cut = rng.below(data.len());
                let rec = Record {
                    ts: 0,
                    cpu: rng.below(4) as u32,
                    data: &data[..cut],
                    missed_events: 0,
                    offset: 0,
                };
                let _ = f.matches(&rec, &mut NoEnv);
            }
            let _ = PosixRegex::new(text.as_bytes());
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        let evs = events();
        let e = EventFilter::parse("ev:a == 1 || )", evs.iter(), Endian::Little).unwrap_err();
        assert_eq!(e.kind, FilterErrorKind::SyntaxError);
        assert_eq!(e.event.as_deref(), Some("sys:ev"));
        assert_eq!(e.position, Some(14));
        assert_eq!(
            e.to_string(),
            "filter 'ev:a == 1 || )': Syntax error (event sys:ev, at byte 14)"
        );
        // A stray `)` ends the C parser with its "found `)`" code, which is not an error
        // message of its own.
        let e = EventFilter::parse("ev:a == 1 )", evs.iter(), Endian::Little).unwrap_err();
        assert_eq!(e.kind, FilterErrorKind::UnbalancedParen);
        assert_eq!(
            e.to_string(),
            "filter 'ev:a == 1 )': unbalanced number of parenthesis (event sys:ev, at byte 11)"
        );
        assert_eq!(
            e.reference_message(),
            "Failed to create event filter: ev:a == 1 )"
        );
        assert_eq!(e.errno(), None);
        let e = EventFilter::parse("ev:s == \"a,b\"", evs.iter(), Endian::Little).unwrap_err();
        assert_eq!(e.kind, FilterErrorKind::MemAllocFailed);
        assert_eq!(e.errno(), Some(12));
        let e = EventFilter::parse("nosuch", evs.iter(), Endian::Little).unwrap_err();
        assert_eq!(e.to_string(), "filter 'nosuch': no event found");
        let e = EventFilter::parse("ev:a ==", evs.iter(), Endian::Little).unwrap_err();
        assert_eq!(
            e.kind,
            FilterErrorKind::ReferenceCrash(CrashReason::UnfinishedExpression)
        );
    }
}
