//! The event printer: what libtraceevent does for trace-cmd (src/event-parse.c of
//! libtraceevent 1.7.1 and 1.8.4), in both [`Dialect`]s.
//!
//! - format files → [`EventFormat`] (`event.rs`, with libtraceevent's tokenizer `token.rs`);
//! - `print fmt:` → argument tree (`printfmt.rs`) and print cache (here, `parse_args`);
//! - evaluation and printing of a record (`eval.rs`) with a glibc-compatible printf
//!   (`printf.rs`), kallsyms (`kallsyms.rs`) and printk_formats (`printk.rs`).
//!
//! A [`Tep`] borrows the metadata texts from the file. Adding formats only reads their `name:`
//! and `ID:` lines; the rest of a format is parsed, and its print format compiled, on first use
//! (once, thread-safely). kallsyms and printk_formats are parsed on first lookup.
//!
//! Printing appends to a caller's `Vec<u8>` exactly the bytes libtraceevent's `trace_seq`
//! would hold (which may include a NUL from a `%c` of 0: trace-cmd's final `printf("%.*s")`
//! stops there, the line printer must too).
//!
//! Behaviour worth knowing (all checked against both libraries by tools/tep-diff):
//! - enum names the kernel did not convert (`{ HRTIMER_MODE_ABS, "ABS" }`) are never
//!   resolved: such an entry's value is -1 (`eval_flag()`), so `__print_symbolic` prints the
//!   number (`mode=0x0`); only softirq and hrtimer-restart names are known. A bare identifier
//!   in an expression evaluates to the address of the kernel symbol of that name, or 0.
//! - state that libtraceevent changes while printing is kept: a char array found unprintable
//!   by `-R` stays printed as `ARRAY[..]`; a `trace_printk` format with fewer decoded
//!   arguments than conversions fails the bprint event for the rest of the trace.
//! - where libtraceevent reads past a record, the caller may pass the rest of the page
//!   ([`Tep::print_pretty_in`]); `__get_dynamic_array()` values (host pointers in C) are
//!   relative to [`HOST_DATA_BASE`].

mod eval;
mod event;
mod expr;
mod kallsyms;
mod plugin_funcs;
pub(crate) mod printf;
mod printfmt;
mod printk;
mod token;

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

pub use eval::HOST_DATA_BASE;
pub use kallsyms::Symbol;
pub use printf::{cprintf, cprintf_u64, PArg};
pub use printfmt::FlagSym;
pub use printk::PrintkFmt;

use crate::format::{EventFormat, Field};
use crate::{Dialect, Endian};
use eval::Ctx;
use printfmt::{Arg, Atom, Parser};

/// Errors from adding metadata.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TepError {
    /// libtraceevent could not read the `name:`/`ID:` lines, so the event does not exist for
    /// it either (trace-cmd counts it as a parsing failure and goes on).
    #[error("format of {system} at byte {offset}: no valid `name:`/`ID:` header")]
    BadHeader {
        /// The system the format was added under.
        system: String,
        /// Where parsing stopped, relative to the format text.
        offset: usize,
    },
}

/// One element of the print cache (`struct tep_print_parse`).
#[derive(Debug)]
pub(crate) struct PrintParse {
    pub kind: PKind,
    pub format: Vec<u8>,
    /// `format` parsed once, where it is a single plain conversion.
    pub spec: Option<printf::Spec>,
    pub arg: Option<u32>,
    pub len_arg: Option<u32>,
    pub ls: i32,
    /// For a `%s` of `__get_str(field)`: the field's index.
    pub str_field: Option<u32>,
    /// For an integer, bare `%p` or `%pS`-like conversion: the argument compiled, where it
    /// can be (a plain field becomes an offset and size read straight from the record), and
    /// how its value is printed.
    pub value: Option<(expr::Expr, eval::FieldConv)>,
    /// For a `%s` conversion (no `*`): the argument compiled, where it can be.
    pub text: Option<expr::StrExpr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PKind {
    Literal,
    Digit,
    Pointer,
    String,
}

/// How an integer, bare `%p` or `%pS`-like conversion (without `*`) prints the value of its
/// argument; `None` for the other conversions.
fn value_conv(p: &PrintParse) -> Option<eval::FieldConv> {
    if p.len_arg.is_some() {
        return None;
    }
    Some(match p.kind {
        PKind::Digit => {
            // lengths print_arg_number cannot cast fail the event: the general path
            eval::ls_cast(0, p.ls)?;
            p.spec.as_ref().filter(|s| s.conv != b's')?;
            eval::FieldConv::Int
        }
        // a bare `%p`, or a symbol; the other printers read the field as an address of bytes
        PKind::Pointer => match eval::pointer_printer(&p.format).0 {
            ptr @ (eval::Pointer::Function(_) | eval::Pointer::Plain) => {
                eval::FieldConv::Pointer(ptr)
            }
            _ => return None,
        },
        _ => return None,
    })
}

/// A conversion's argument compiled (see [`expr`]).
fn compiled_value(
    p: &PrintParse,
    args: &[Arg],
    format: &EventFormat,
) -> Option<(expr::Expr, eval::FieldConv)> {
    let how = value_conv(p)?;
    let arg = args.get(p.arg? as usize)?;
    // `%p` of a string literal prints the string (print_arg_pointer)
    if matches!(arg, Arg::BStr(_)) {
        return None;
    }
    Some((expr::Expr::compile(arg, format)?, how))
}

/// A `%s` conversion's argument compiled (see [`expr`]).
fn compiled_text(p: &PrintParse, args: &[Arg], format: &EventFormat) -> Option<expr::StrExpr> {
    if p.kind != PKind::String || p.len_arg.is_some() {
        return None;
    }
    p.spec.as_ref().filter(|s| s.conv == b's')?;
    expr::StrExpr::compile(args.get(p.arg? as usize)?, format)
}

/// The field of a `%s` conversion (no `*`) of `__get_str(field)`.
fn plain_str_field(p: &PrintParse, args: &[Arg]) -> Option<u32> {
    if p.kind != PKind::String || p.len_arg.is_some() {
        return None;
    }
    p.spec.as_ref().filter(|s| s.conv == b's')?;
    match args.get(p.arg? as usize) {
        Some(Arg::Str { field: Some(i) }) => Some(*i),
        _ => None,
    }
}

/// Literal text, then the conversion `cache[conv]` (if any).
struct Step {
    lead: Box<[u8]>,
    conv: Option<u32>,
    /// The conversion, when [`Tep::pretty`] can print it itself.
    int: Option<PlainInt>,
}

/// Groups a print cache into [`Step`]s (`little`: records are little-endian).
fn steps_of(cache: &[PrintParse], little: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut lead = Vec::new();
    for (k, p) in cache.iter().enumerate() {
        if p.kind == PKind::Literal {
            lead.extend_from_slice(&p.format);
        } else {
            steps.push(Step {
                lead: std::mem::take(&mut lead).into(),
                conv: Some(k as u32),
                int: PlainInt::of(p).filter(|_| little),
            });
        }
    }
    if !lead.is_empty() {
        steps.push(Step {
            lead: lead.into(),
            conv: None,
            int: None,
        });
    }
    steps
}

/// An integer field of a little-endian record printed with no flags, width or precision
/// (`%d`, `%lu`, `%x`...), which most conversions of most print formats are: printed by
/// [`Tep::pretty`] in a few operations decided when the format was compiled, with the value
/// and digits the general path makes (`operand`, `ls_cast`, `cprintf_int_spec`).
#[derive(Clone, Copy, Debug)]
struct PlainInt {
    off: u32,
    /// `off` plus the field's size: the record must hold the field (the general path reads
    /// 0 for a field beyond it).
    end: u32,
    /// 64 less the field's bits: zero-extends the eight bytes read to the field.
    size_shift: u32,
    /// `print_arg_number`'s cast by the conversion's length: sign-extends from 64 less this.
    ls_shift: u32,
    /// The length modifier's: 64 less the bits printed.
    len_shift: u32,
    /// `b'd'`, `b'u'` or `b'x'`.
    conv: u8,
}

impl PlainInt {
    fn of(p: &PrintParse) -> Option<PlainInt> {
        let (expr::Expr::Field { off, size }, eval::FieldConv::Int) = p.value.as_ref()? else {
            return None;
        };
        let (conv, len_shift) = p.spec.as_ref()?.plain_int()?;
        let ls_shift = eval::ls_shift(p.ls)?;
        // the general path's bounds check is in `i32`: offsets far below its limits only
        if !matches!(size, 1 | 2 | 4 | 8) || *off >= 1 << 20 {
            return None;
        }
        Some(PlainInt {
            off: *off,
            end: off + size,
            size_shift: 64 - 8 * size,
            ls_shift,
            len_shift,
            conv,
        })
    }

    /// Prints the conversion for the record `buf[..size]`; false, having printed nothing,
    /// where the general path must: the field is not wholly in the record, or lies too near
    /// the end of `buf` for one eight-byte read.
    #[inline(always)]
    fn print(self, out: &mut Vec<u8>, buf: &[u8], size: usize) -> bool {
        let off = self.off as usize;
        let Some(w) = buf.get(off..off + 8) else {
            return false;
        };
        if self.end as usize > size {
            return false;
        }
        let raw = u64::from_le_bytes(w.try_into().expect("eight bytes"));
        let v = raw << self.size_shift >> self.size_shift;
        let v = ((v << self.ls_shift) as i64 >> self.ls_shift) as u64;
        match self.conv {
            b'd' => {
                let s = (v << self.len_shift) as i64 >> self.len_shift;
                if s < 0 {
                    out.push(b'-');
                }
                crate::outbuf::push_decimal(out, s.unsigned_abs());
            }
            b'u' => crate::outbuf::push_decimal(out, v << self.len_shift >> self.len_shift),
            _ => crate::outbuf::push_hex(out, v << self.len_shift >> self.len_shift, false),
        }
        true
    }
}

/// A compiled event: fields, argument tree, print cache and the bits of state libtraceevent
/// changes while printing.
pub(crate) struct Compiled {
    pub format: EventFormat,
    /// `TEP_EVENT_FL_FAILED` from parsing.
    pub failed: bool,
    /// `TEP_EVENT_FL_FAILED` set later while printing (a `trace_printk` format that does not
    /// match its arguments fails the bprint event for the rest of the trace).
    pub runtime_failed: AtomicBool,
    pub args: Vec<Arg>,
    pub cache: Vec<PrintParse>,
    /// `cache` as the pretty printer walks it: each conversion with the literal text before
    /// it (consecutive literals joined), and a last step for the trailing text.
    steps: Vec<Step>,
    pub is_bprint: bool,
    /// Per field (common first): libtraceevent clears `TEP_FIELD_IS_STRING` of a char array
    /// the first time `-R` finds it unprintable.
    cleared: Vec<AtomicBool>,
    /// See [`Compiled::field_plan`].
    field_plan: OnceLock<Option<Vec<FieldStep>>>,
}

/// One field of [`Tep::fields`] worked out ahead: ` name=`, then the conversion that shows
/// it (and whether a `0x` precedes it) or, with `None`, the raw value.
struct FieldStep {
    label: Box<[u8]>,
    idx: u32,
    conv: Option<(u32, bool)>,
}

impl Compiled {
    /// The conversion (and its `0x`) `print_field()` finds for field `idx`, walking the cache
    /// circularly from `start`.
    fn conv_of_field(&self, idx: u32, start: usize) -> Option<(usize, bool)> {
        let n = self.cache.len();
        let mut k = start;
        let mut has_0x = false;
        loop {
            let p = &self.cache[k];
            if p.kind == PKind::Literal {
                has_0x = p.format.len() > 1 && p.format.ends_with(b"0x");
            } else {
                let mut a = p.arg.and_then(|i| self.args.get(i as usize));
                while let Some(Arg::Type { item, .. }) = a {
                    a = Some(item);
                }
                if let Some(Arg::Field { field: Some(fi) }) = a {
                    if *fi == idx {
                        return Some((k, has_0x));
                    }
                }
                has_0x = false;
            }
            k = if k + 1 < n { k + 1 } else { 0 };
            if k == start {
                return None;
            }
        }
    }

    /// [`Tep::fields`]' walk, which depends only on the format while the event has not
    /// failed: `None` where a field's treatment can change as records are printed (a
    /// string that is not an array, which `-R` may find unprintable).
    fn field_plan(&self) -> Option<&[FieldStep]> {
        self.field_plan
            .get_or_init(|| {
                let nc = self.format.common_fields.len();
                let mut cursor = if self.cache.is_empty() { None } else { Some(0) };
                let mut plan = Vec::new();
                for (i, f) in self.format.fields.iter().enumerate() {
                    let idx = (nc + i) as u32;
                    let is_string = f.flags.has(crate::FieldFlags::STRING);
                    let is_array = f.flags.has(crate::FieldFlags::ARRAY);
                    if is_string && !is_array {
                        return None;
                    }
                    let mut label = vec![b' '];
                    label.extend_from_slice(f.name.as_bytes());
                    label.push(b'=');
                    let mut conv = None;
                    if let (Some(start), false) = (cursor, is_array || is_string) {
                        if let Some((k, zero_x)) = self.conv_of_field(idx, start) {
                            conv = Some((k as u32, zero_x));
                            cursor = (k + 1 < self.cache.len()).then_some(k + 1);
                        }
                    }
                    plan.push(FieldStep {
                        label: label.into(),
                        idx,
                        conv,
                    });
                }
                Some(plan)
            })
            .as_deref()
    }

    pub(crate) fn field_at(&self, idx: u32) -> &Field {
        self.format
            .field_at(idx)
            .expect("field index from this event's argument tree")
    }

    pub(crate) fn string_cleared(&self, idx: u32) -> &AtomicBool {
        &self.cleared[idx as usize]
    }

    fn is_failed(&self) -> bool {
        self.failed || self.runtime_failed.load(Ordering::Relaxed)
    }
}

struct Entry<'a> {
    id: i32,
    name: Box<str>,
    system: Box<str>,
    text: Cow<'a, [u8]>,
    rest: usize,
    compiled: OnceLock<Compiled>,
}

/// The event printer state for one trace file (libtraceevent's `struct tep_handle`).
pub struct Tep<'a> {
    endian: Endian,
    long_size: u32,
    dialect: Dialect,
    plugin_funcs: bool,
    /// Ordered by id as libtraceevent's `add_event()` keeps them.
    events: Vec<Entry<'a>>,
    /// Indexes of `events` ordered by id, equal ids in the order added (as libtraceevent's
    /// `add_event()` inserts before the first larger id); made on first use, so adding
    /// thousands of formats does not shift the list each time.
    order: OnceLock<(Vec<u32>, Vec<u32>)>,
    kallsyms: kallsyms::Kallsyms<'a>,
    printk: printk::Printk<'a>,
}

/// See [`Event::pretty_reads`].
#[derive(Clone, Debug)]
pub struct PrettyReads {
    /// The record's byte ranges (start, end) the text reads: sorted, touching ones joined.
    ranges: Vec<(u32, u32)>,
    /// The fields printed as `__get_str` strings.
    strs: Vec<u32>,
    /// No text printed can hold a NUL: digits, hex, symbol names, flag names and the
    /// format's own text, no `%c` and no string from the record.
    nul_free: bool,
    /// A bare `%p` of a field no other conversion reads, left out of `ranges`.
    hole: Option<Hole>,
}

/// A conversion whose text depends on one field alone and which the rest of the text does
/// not read: a bare `%p` of a field (kmalloc's `ptr`). Its value rarely repeats when the
/// rest of the record does (the same call site allocating the same size), so a report can
/// keep the text around it under the other fields and print this one anew
/// ([`Tep::print_hole`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hole {
    step: u32,
    off: u32,
    end: u32,
}

impl PrettyReads {
    /// True when the text never holds a NUL byte.
    pub fn nul_free(&self) -> bool {
        self.nul_free
    }

    /// The conversion left out of the key, if any.
    pub fn hole(&self) -> Option<Hole> {
        self.hole
    }

    /// Adds a field that something printed with the text reads too (a plugin).
    pub fn include(&mut self, off: u32, size: u32) {
        let end = off.saturating_add(size);
        self.ranges.push((off, end));
        if let Some(h) = self.hole.filter(|h| off < h.end && h.off < end) {
            // read by something else too: a field of the key
            self.ranges.push((h.off, h.end));
            self.hole = None;
        }
        self.normalize();
    }

    fn normalize(&mut self) {
        self.ranges.sort_unstable();
        let mut joined: Vec<(u32, u32)> = Vec::with_capacity(self.ranges.len());
        for &(s, e) in &self.ranges {
            match joined.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => joined.push((s, e)),
            }
        }
        self.ranges = joined;
        self.strs.sort_unstable();
        self.strs.dedup();
    }
}

/// The KALLSYMS text for [`Tep::set_symbol_table`].
pub struct SymbolTable<'a>(kallsyms::Kallsyms<'a>);

impl<'a> SymbolTable<'a> {
    /// The table of `text`, parsed on first use.
    pub fn new(text: &'a [u8]) -> Self {
        SymbolTable(kallsyms::Kallsyms::new(text))
    }

    /// The table of the text at `range` of `buf`, parsed now. It indexes the text rather
    /// than copying names out of it, so an owned `buf` (several MB when inflated) is kept,
    /// not copied.
    pub fn parse_now(buf: std::borrow::Cow<'a, [u8]>, range: std::ops::Range<usize>) -> Self {
        SymbolTable(kallsyms::Kallsyms::parse_now(buf, range))
    }
}

/// A handle on one event of a [`Tep`].
#[derive(Clone, Copy)]
pub struct Event<'t, 'a> {
    tep: &'t Tep<'a>,
    entry: &'t Entry<'a>,
}

impl<'t, 'a> Event<'t, 'a> {
    /// `ID:`.
    pub fn id(&self) -> i32 {
        self.entry.id
    }

    /// `name:`.
    pub fn name(&self) -> &'t str {
        &self.entry.name
    }

    /// The system it was added under.
    pub fn system(&self) -> &'t str {
        &self.entry.system
    }

    fn compiled(&self) -> &'t Compiled {
        self.tep.compile(self.entry)
    }

    /// The parsed format (fields). Fields read before a parse failure are kept.
    pub fn format(&self) -> &'t EventFormat {
        &self.compiled().format
    }

    /// True when libtraceevent marks the event `TEP_EVENT_FL_FAILED` (it then prints
    /// `[FAILED TO PARSE]` and the raw fields).
    pub fn failed(&self) -> bool {
        self.compiled().is_failed()
    }

    /// True when printing a record of this event (pretty, or with `raw` the fields as `-R`
    /// prints them) changes no printer state, so records can be printed in any order:
    /// false for `bprint` (a bad `trace_printk` format fails the event for the rest of the
    /// trace) and where the raw field printer may print a char array, whose string flag the
    /// first unprintable value clears for good.
    pub fn prints_statelessly(&self, raw: bool) -> bool {
        let c = self.compiled();
        if raw || c.is_failed() {
            !c.format.fields.iter().any(|f| {
                f.flags.has(crate::FieldFlags::ARRAY) && f.flags.has(crate::FieldFlags::STRING)
            })
        } else {
            !c.is_bprint
        }
    }

    /// Which bytes of a record the text [`Tep::print_pretty_in`] prints for it can depend on,
    /// where that is known ahead: every conversion compiled (fields, numbers, symbols,
    /// arithmetic, `__print_flags`, `__print_symbolic`, `__get_str`), not `bprint` (its
    /// format can fail the event), parsed. With [`Tep::pretty_key`] this lets a report reuse
    /// the text printed for a record whose fields are equal.
    pub fn pretty_reads(&self) -> Option<PrettyReads> {
        let c = self.compiled();
        if c.is_failed() || c.is_bprint {
            return None;
        }
        let mut r = PrettyReads {
            ranges: Vec::new(),
            strs: Vec::new(),
            nul_free: true,
            hole: None,
        };
        let holes: Vec<Hole> = (c.steps.iter().enumerate())
            .filter_map(|(i, st)| {
                let p = &c.cache[st.conv? as usize];
                match p.value.as_ref()? {
                    (
                        expr::Expr::Field { off, size },
                        eval::FieldConv::Pointer(eval::Pointer::Plain),
                    ) if &p.format[..] == b"%p" => Some(Hole {
                        step: i as u32,
                        off: *off,
                        end: off.saturating_add(*size),
                    }),
                    _ => None,
                }
            })
            .collect();
        let hole = match holes[..] {
            [h] => Some(h),
            _ => None,
        };
        for (i, st) in c.steps.iter().enumerate() {
            if hole.is_some_and(|h| h.step == i as u32) {
                continue;
            }
            r.nul_free &= memchr::memchr(0, &st.lead).is_none();
            let Some(k) = st.conv else { continue };
            let p = &c.cache[k as usize];
            let mut at = |off: u32, size: u32| r.ranges.push((off, off.saturating_add(size)));
            if let Some((e, how)) = &p.value {
                // digits, hex or a symbol's name; a `%c` can print a NUL
                let digits = p.spec.as_ref().is_some_and(|s| b"diuxXo".contains(&s.conv));
                r.nul_free &= !matches!(how, eval::FieldConv::Int) || digits;
                e.each_field(&mut at);
            } else if let (Some(i), Some(_)) = (p.str_field, &p.spec) {
                let f = c.field_at(i);
                at(f.offset, f.size);
                r.strs.push(i);
            } else if let Some(t) = &p.text {
                t.each_field(&mut at);
            } else {
                return None;
            }
        }
        // a string that does not end inside the record is printed by the general path
        r.nul_free &= r.strs.is_empty();
        if let Some(h) = hole {
            if r.ranges.iter().any(|&(s, e)| s < h.end && h.off < e) {
                r.ranges.push((h.off, h.end));
            } else {
                r.hole = Some(h);
            }
        }
        r.normalize();
        Some(r)
    }

    /// The `__print_flags()` symbols libtraceevent 1.8's sched_switch plugin derives the task
    /// state letters from: the first `__print_flags` (searching each print argument through its
    /// operators, left before right) whose value expression is a field or an operation on
    /// `field_name`.
    pub fn print_flags_for_field(&self, field_name: &str) -> Option<&'t [FlagSym]> {
        let c = self.compiled();
        let target = c
            .format
            .common_fields
            .iter()
            .chain(c.format.fields.iter())
            .position(|f| &*f.name == field_name)
            .map(|i| i as u32)?;
        fn arg_field(a: &Arg, t: u32) -> Option<Option<u32>> {
            match a {
                Arg::Field { field, .. } => Some(*field),
                Arg::Op { left, right, .. } => {
                    for side in [left, right].into_iter().flatten() {
                        if let Some(f) = arg_field(side, t) {
                            if f == Some(t) {
                                return Some(f);
                            }
                        }
                    }
                    None
                }
                _ => None,
            }
        }
        fn search(a: &Arg, t: u32) -> Option<&[FlagSym]> {
            match a {
                Arg::Op { left, right, .. } => [left, right]
                    .into_iter()
                    .flatten()
                    .find_map(|s| search(s, t)),
                Arg::Flags { field, flags, .. } => arg_field(field, t).map(|_| flags.as_slice()),
                _ => None,
            }
        }
        c.args.iter().find_map(|a| search(a, target))
    }
}

impl<'a> Tep<'a> {
    /// A printer for a file of the given byte order and `sizeof(long)` (the file header's
    /// long size: libtraceevent's `tep_set_long_size`).
    pub fn new(endian: Endian, long_size: u32, dialect: Dialect) -> Self {
        Tep {
            endian,
            long_size,
            dialect,
            plugin_funcs: true,
            events: Vec::new(),
            order: OnceLock::new(),
            kallsyms: kallsyms::Kallsyms::new(&[]),
            printk: printk::Printk::new(&[]),
        }
    }

    /// Whether the helper functions of libtraceevent's plugins (`jiffies_to_msecs` ...) are
    /// known, as when trace-cmd loads its plugins (the default); `report -N` loads none.
    /// Set before the first event is used.
    pub fn set_plugin_functions(&mut self, on: bool) {
        self.plugin_funcs = on;
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The file byte order.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// `tep_get_long_size`.
    pub fn long_size(&self) -> u32 {
        self.long_size
    }

    /// Adds an `events/ftrace/*` format (FTRACE_EVENTS section).
    pub fn add_ftrace_format(&mut self, text: &'a [u8]) -> Result<i32, TepError> {
        self.add_event_format("ftrace", text)
    }

    /// Adds one format file of `system` (`tep_parse_event`). Only the header is read now.
    pub fn add_event_format(&mut self, system: &str, text: &'a [u8]) -> Result<i32, TepError> {
        self.add_format(system, Cow::Borrowed(text))
    }

    /// [`Tep::add_event_format`] for a format text made at run time (trace-cmd's synthetic
    /// `ftrace:blktrace`).
    pub fn add_event_format_owned(&mut self, system: &str, text: Vec<u8>) -> Result<i32, TepError> {
        self.add_format(system, Cow::Owned(text))
    }

    fn add_format(&mut self, system: &str, text: Cow<'a, [u8]>) -> Result<i32, TepError> {
        let h = event::parse_header(&text).ok_or_else(|| TepError::BadHeader {
            system: system.to_string(),
            offset: 0,
        })?;
        let e = Entry {
            id: h.id,
            name: h.name.into_boxed_str(),
            system: system.into(),
            text,
            rest: h.rest,
            compiled: OnceLock::new(),
        };
        // insert before the first event with a larger id, as add_event() does
        let id = e.id;
        self.events.push(e);
        self.order = OnceLock::new();
        Ok(id)
    }

    /// The KALLSYMS text (`/proc/kallsyms`), parsed on first lookup.
    pub fn set_kallsyms(&mut self, text: &'a [u8]) {
        self.kallsyms = kallsyms::Kallsyms::new(text);
    }

    /// A symbol table made (and possibly parsed) elsewhere, e.g. on another thread.
    pub fn set_symbol_table(&mut self, table: SymbolTable<'a>) {
        self.kallsyms = table.0;
    }

    /// The PRINTK text (`printk_formats`), parsed on first lookup.
    pub fn set_printk_formats(&mut self, text: &'a [u8]) {
        self.printk = printk::Printk::new(text);
    }

    /// `tep_find_event`: bisection over the id-ordered events.
    pub fn event_by_id(&self, id: i32) -> Option<Event<'_, 'a>> {
        self.event_index_by_id(id).and_then(|i| self.event_at(i))
    }

    fn order(&self) -> &[u32] {
        &self.index().0
    }

    /// The id order, and a table from id to the position the bisection finds (ids below
    /// 2^17; records carry 16-bit types), made together on first use.
    fn index(&self) -> &(Vec<u32>, Vec<u32>) {
        self.order.get_or_init(|| {
            let mut keyed: Vec<(i32, u32)> = self
                .events
                .iter()
                .enumerate()
                .map(|(i, e)| (e.id, i as u32))
                .collect();
            keyed.sort_by_key(|k| k.0);
            let order: Vec<u32> = keyed.iter().map(|k| k.1).collect();
            let max = keyed.last().map_or(-1, |k| k.0);
            let mut dense = Vec::new();
            if (0..1 << 17).contains(&max) && keyed.first().is_some_and(|k| k.0 >= 0) {
                dense = vec![u32::MAX; max as usize + 1];
                for &(id, _) in &keyed {
                    if dense[id as usize] == u32::MAX {
                        let at = Self::bisect(&self.events, &order, id);
                        dense[id as usize] = at.map_or(u32::MAX, |a| a as u32);
                    }
                }
            }
            (order, dense)
        })
    }

    /// `tep_find_event`'s bisection over the id order.
    fn bisect(events: &[Entry<'a>], order: &[u32], id: i32) -> Option<usize> {
        let (mut l, mut u) = (0usize, order.len());
        while l < u {
            let idx = (l + u) / 2;
            let e = &events[order[idx] as usize];
            if id < e.id {
                u = idx;
            } else if id > e.id {
                l = idx + 1;
            } else {
                return Some(idx);
            }
        }
        None
    }

    /// The position of the event with `id` in [`Tep::events`] order.
    #[inline]
    pub fn event_index_by_id(&self, id: i32) -> Option<usize> {
        let (order, dense) = self.index();
        if !dense.is_empty() {
            return match dense.get(usize::try_from(id).ok()?) {
                Some(&i) if i != u32::MAX => Some(i as usize),
                _ => None,
            };
        }
        Self::bisect(&self.events, order, id)
    }

    /// The event at position `index` of [`Tep::events`] order.
    pub fn event_at(&self, index: usize) -> Option<Event<'_, 'a>> {
        let i = *self.order().get(index)?;
        self.events.get(i as usize).map(|e| Event {
            tep: self,
            entry: e,
        })
    }

    /// How many events there are.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// All events in id order (`tep_list_events(TEP_EVENT_SORT_ID)`).
    pub fn events(&self) -> impl Iterator<Item = Event<'_, 'a>> {
        self.order().iter().map(move |&i| Event {
            tep: self,
            entry: &self.events[i as usize],
        })
    }

    /// How many event formats have been parsed so far (they are parsed on first use).
    #[doc(hidden)]
    pub fn formats_parsed(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.compiled.get().is_some())
            .count()
    }

    /// `tep_find_event_by_name`: the first event (in id order) called `name`, in `system`
    /// when given.
    pub fn find_event(&self, system: Option<&str>, name: &str) -> Option<Event<'_, 'a>> {
        self.events()
            .find(|e| e.name() == name && system.is_none_or(|s| s == e.system()))
    }

    /// `tep_data_type`: the event id of a record, read with the `common_type` field of the
    /// lowest-id event (as libtraceevent does).
    pub fn record_type(&self, data: &[u8]) -> Option<i32> {
        let first = &self.events[*self.order().first()? as usize];
        let c = self.compile(first);
        let f = c.format.common_field("common_type")?;
        let v = f.read_uint(self.endian, data)?;
        Some(v as i32)
    }

    /// `find_func()`: the kernel symbol containing `addr` and its start address.
    pub fn find_function(&self, addr: u64) -> Option<(&str, u64)> {
        self.kallsyms.find(addr).map(|(s, _)| (s.name, s.addr))
    }

    /// `tep_find_function_info`: name, start and size (up to the next symbol's start).
    pub fn find_function_info(&self, addr: u64) -> Option<(&str, u64, u64)> {
        self.kallsyms
            .find(addr)
            .map(|(s, next)| (s.name, s.addr, next.wrapping_sub(s.addr)))
    }

    /// The module of the symbol containing `addr`, if it has one.
    pub fn find_function_module(&self, addr: u64) -> Option<&str> {
        self.kallsyms.find(addr).and_then(|(s, _)| s.module)
    }

    /// The symbols in libtraceevent's order (`tep_print_funcs`, `report -f`).
    pub fn symbols(&self) -> impl Iterator<Item = Symbol<'_>> {
        self.kallsyms.in_map_order()
    }

    /// `tep_print_num_field()`: the event field `name` (sizes 1/2/4/8) printed with the
    /// printf format `fmt` (given the value as an `unsigned long long`). When the field is
    /// missing or of another size, prints `CAN'T FIND FIELD "name"` if `err` and returns
    /// false.
    pub fn print_num_field(
        &self,
        out: &mut Vec<u8>,
        fmt: &[u8],
        ev: &Event<'_, 'a>,
        name: &str,
        data: &[u8],
        err: bool,
    ) -> bool {
        match ev
            .format()
            .field(name)
            .filter(|f| matches!(f.size, 1 | 2 | 4 | 8))
        {
            Some(f) => {
                let v = f.read_uint(self.endian, data).unwrap_or(0);
                cprintf(out, fmt, &[PArg::Int(v)]);
                true
            }
            None => {
                if err {
                    out.extend_from_slice(format!("CAN'T FIND FIELD \"{name}\"").as_bytes());
                }
                false
            }
        }
    }

    /// `tep_print_func_field()`: the field as `symbol/0x<symbol start - value>` (the
    /// subtraction wraps, as in libtraceevent) or `0x%08llx`, printed through the `%s` of `fmt`.
    pub fn print_func_field(
        &self,
        out: &mut Vec<u8>,
        fmt: &[u8],
        ev: &Event<'_, 'a>,
        name: &str,
        data: &[u8],
        err: bool,
    ) -> bool {
        match ev
            .format()
            .field(name)
            .filter(|f| matches!(f.size, 1 | 2 | 4 | 8))
        {
            Some(f) => {
                let v = f.read_uint(self.endian, data).unwrap_or(0);
                let mut tmp = Vec::with_capacity(64);
                match self.find_function(v) {
                    Some((sym, start)) => {
                        tmp.extend_from_slice(sym.as_bytes());
                        tmp.extend_from_slice(format!("/0x{:x}", start.wrapping_sub(v)).as_bytes());
                        // snprintf(tmp, 128, ...)
                        tmp.truncate(127);
                    }
                    None => tmp.extend_from_slice(format!("0x{v:08x}").as_bytes()),
                }
                cprintf(out, fmt, &[PArg::Str(&tmp)]);
                true
            }
            None => {
                if err {
                    out.extend_from_slice(format!("CAN'T FIND FIELD \"{name}\"").as_bytes());
                }
                false
            }
        }
    }

    /// `find_printk()`: the printk format stored at `addr`.
    pub fn find_printk(&self, addr: u64) -> Option<&[u8]> {
        self.printk.find(addr).map(|p| &*p.fmt)
    }

    /// The printk formats in address order (`tep_print_printk`, `report -P`).
    pub fn printk_formats(&self) -> &[PrintkFmt<'a>] {
        self.printk.map()
    }

    fn compile<'t>(&'t self, e: &'t Entry<'a>) -> &'t Compiled {
        e.compiled.get_or_init(|| {
            let is_ftrace = &*e.system == "ftrace";
            let (fields, lx) = event::parse_fields(&e.text, e.rest, is_ftrace, self.long_size);
            let is_bprint = is_ftrace && &*e.name == "bprint";
            let print_fmt = {
                let t: &[u8] = &e.text;
                let at = memchr::memmem::find(t, b"print fmt: ").map(|p| p + 11);
                let s = at.map(|p| &t[p..]).unwrap_or(b"");
                let s = s.strip_suffix(b"\n").unwrap_or(s);
                String::from_utf8_lossy(s).into_owned().into_boxed_str()
            };
            let mut format = EventFormat {
                id: e.id as u32,
                system: e.system.clone(),
                name: e.name.clone(),
                common_fields: fields.common,
                fields: fields.fields,
                print_fmt,
            };
            let mut failed = !fields.ok;
            let mut args = Vec::new();
            let mut cache = Vec::new();
            if !failed {
                let v18 = self.dialect != Dialect::V3_1;
                let mut p = Parser::new(
                    lx,
                    &format.common_fields,
                    &format.fields,
                    v18,
                    self.long_size,
                    self.plugin_funcs,
                );
                match p.event_read_print() {
                    Some(pf) => {
                        failed |= p.failed;
                        args = pf.args;
                        if args.is_empty() && is_ftrace {
                            let nc = format.common_fields.len();
                            args = format
                                .fields
                                .iter()
                                .enumerate()
                                .map(|(i, _)| Arg::Field {
                                    field: Some((nc + i) as u32),
                                })
                                .collect();
                        }
                        if !is_bprint {
                            cache = parse_args(pf.format.as_bytes(), args.len(), &mut failed, v18);
                            for p in &mut cache {
                                p.str_field = plain_str_field(p, &args);
                                p.value = compiled_value(p, &args, &format);
                                if p.str_field.is_none() {
                                    p.text = compiled_text(p, &args, &format);
                                }
                            }
                        }
                    }
                    None => failed = true,
                }
            }
            let n = format.common_fields.len() + format.fields.len();
            format.common_fields.shrink_to_fit();
            Compiled {
                format,
                failed,
                runtime_failed: AtomicBool::new(false),
                args,
                steps: steps_of(&cache, self.endian == Endian::Little),
                cache,
                is_bprint,
                cleared: (0..n).map(|_| AtomicBool::new(false)).collect(),
                field_plan: OnceLock::new(),
            }
        })
    }

    fn ctx<'t, 'd>(&'t self, c: &'t Compiled, buf: &'d [u8], size: usize) -> Ctx<'t, 'a, 'd> {
        Ctx {
            tep: self,
            ev: c,
            buf,
            size: size.min(buf.len()),
            crash: Cell::new(false),
        }
    }

    /// The bytes the pretty text of `data` (a whole record of `ev`, whose reads `r`
    /// describes) depends on besides the record's length, gathered into `buf`: the fields
    /// read, then each `__get_str` string and a NUL. `None` when the text may depend on other
    /// bytes (a field beyond the record, a string not ending inside it: libtraceevent reads
    /// on into the page) or the key does not fit in `buf`.
    pub fn pretty_key<'b>(
        &self,
        ev: &Event<'_, 'a>,
        r: &PrettyReads,
        data: &'b [u8],
        buf: &'b mut [u8],
    ) -> Option<&'b [u8]> {
        // One range, and at most one string starting where it ends (kfree, sys_exit,
        // kmem_cache_free...): the key is those bytes of the record as they are. Not copied,
        // it is also read (hashed) without waiting for the copy's stores.
        if let [(s, e)] = r.ranges[..] {
            let (s, e) = (s as usize, e as usize);
            match r.strs[..] {
                [] if e - s <= buf.len() => return data.get(s..e),
                [i] => {
                    let c = ev.compiled();
                    let (off, len) = self.ctx(c, data, data.len()).dyn_range(c.field_at(i));
                    if len != 0 && off as usize == e {
                        let z = memchr::memchr(0, data.get(e..)?)?;
                        if z + 1 + e - s <= buf.len() {
                            return data.get(s..e + z + 1);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut n = 0;
        let mut put = |b: &[u8]| -> Option<()> {
            buf.get_mut(n..n + b.len())?.copy_from_slice(b);
            n += b.len();
            Some(())
        };
        for &(s, e) in &r.ranges {
            put(data.get(s as usize..e as usize)?)?;
        }
        if !r.strs.is_empty() {
            let c = ev.compiled();
            let cx = self.ctx(c, data, data.len());
            for &i in &r.strs {
                let (off, len) = cx.dyn_range(c.field_at(i));
                if len == 0 {
                    continue;
                }
                let rest = data.get(off as usize..)?;
                let z = memchr::memchr(0, rest)?;
                put(&rest[..=z])?;
            }
        }
        Some(&buf[..n])
    }

    /// The text of the conversion `h` of [`Event::pretty_reads`] for the record
    /// `buf[..size]`, as [`Tep::print_pretty_in`] prints it within the whole text.
    pub fn print_hole(
        &self,
        ev: &Event<'_, 'a>,
        h: Hole,
        buf: &[u8],
        size: usize,
        out: &mut Vec<u8>,
    ) {
        // what print_parse does for a bare `%p` of a field, without finding that out again
        let c = ev.compiled();
        let field = expr::Expr::Field {
            off: h.off,
            size: h.end - h.off,
        };
        eval::plain_pointer(out, self.ctx(c, buf, size).operand(&field));
    }

    /// libtraceevent's `pretty_print()` (the info part of a report line without plugin
    /// handlers): the evaluated print format, or `[FAILED TO PARSE]` and the raw fields.
    pub fn print_pretty(&self, ev: &Event<'_, 'a>, data: &[u8], out: &mut Vec<u8>) {
        self.print_pretty_in(ev, data, data.len(), out);
    }

    /// [`Tep::print_pretty`] for a record that is `buf[..size]`, where the bytes after it
    /// (the rest of the ring-buffer page) are what libtraceevent reads when a record's own
    /// lengths point past its end.
    pub fn print_pretty_in(&self, ev: &Event<'_, 'a>, buf: &[u8], size: usize, out: &mut Vec<u8>) {
        self.pretty(ev, buf, size, out);
    }

    /// As [`Tep::print_pretty_in`]; returns false where libtraceevent would have crashed
    /// (read outside its memory, divided by zero): the differential harness's view.
    #[doc(hidden)]
    pub fn print_pretty_checked(
        &self,
        ev: &Event<'_, 'a>,
        buf: &[u8],
        size: usize,
        out: &mut Vec<u8>,
    ) -> bool {
        self.pretty(ev, buf, size, out)
    }

    fn pretty(&self, ev: &Event<'_, 'a>, buf: &[u8], size: usize, out: &mut Vec<u8>) -> bool {
        let c = ev.compiled();
        if c.is_failed() {
            out.extend_from_slice(b"[FAILED TO PARSE]");
            return self.fields(c, buf, size, out, false);
        }
        let cx = self.ctx(c, buf, size);
        if c.is_bprint {
            let (fmt, args) = self.bprint_args(&cx);
            let mut failed = false;
            let cache = parse_args(&fmt, args.len(), &mut failed, self.dialect != Dialect::V3_1);
            if failed {
                c.runtime_failed.store(true, Ordering::Relaxed);
            }
            for p in &cache {
                cx.print_parse(out, p, &args, false);
            }
        } else {
            for st in &c.steps {
                crate::outbuf::put(out, &st.lead);
                if let Some(k) = st.conv {
                    if !st.int.is_some_and(|f| f.print(out, buf, size)) {
                        cx.print_parse(out, &c.cache[k as usize], &c.args, false);
                    }
                }
            }
        }
        !cx.crash.get()
    }

    /// `-R`: every event field as ` name=value` (`print_selected_fields` with 1.8's raw
    /// flag: `%ps` arguments also show the address).
    pub fn print_raw_fields(&self, ev: &Event<'_, 'a>, data: &[u8], out: &mut Vec<u8>) {
        self.fields(ev.compiled(), data, data.len(), out, true);
    }

    /// [`Tep::print_raw_fields`] with trailing page bytes; false where libtraceevent crashes.
    #[doc(hidden)]
    pub fn print_raw_fields_checked(
        &self,
        ev: &Event<'_, 'a>,
        buf: &[u8],
        size: usize,
        out: &mut Vec<u8>,
    ) -> bool {
        self.fields(ev.compiled(), buf, size, out, true)
    }

    /// `tep_print_fields()`: like `-R` but without 1.8's raw `%ps` addresses (some plugins
    /// print this after their own text).
    pub fn print_fields(&self, ev: &Event<'_, 'a>, data: &[u8], out: &mut Vec<u8>) {
        self.fields(ev.compiled(), data, data.len(), out, false);
    }

    fn fields(&self, c: &Compiled, buf: &[u8], size: usize, out: &mut Vec<u8>, raw: bool) -> bool {
        let cx = self.ctx(c, buf, size);
        if let (Some(plan), false) = (c.field_plan(), c.is_failed()) {
            for st in plan {
                crate::outbuf::put(out, &st.label);
                match st.conv {
                    Some((k, zero_x)) => {
                        if zero_x {
                            out.extend_from_slice(b"0x");
                        }
                        cx.print_parse(out, &c.cache[k as usize], &c.args, raw);
                    }
                    None => cx.print_field_raw(out, st.idx),
                }
            }
            return !cx.crash.get();
        }
        let nc = c.format.common_fields.len();
        let mut cursor: Option<usize> = if c.cache.is_empty() { None } else { Some(0) };
        for (i, f) in c.format.fields.iter().enumerate() {
            out.push(b' ');
            out.extend_from_slice(f.name.as_bytes());
            out.push(b'=');
            let idx = (nc + i) as u32;
            self.print_field(&cx, c, idx, &mut cursor, out, raw);
        }
        !cx.crash.get()
    }

    /// `print_field()`: the field through the print-fmt argument that shows it (walking the
    /// cache circularly from `cursor`), else raw.
    fn print_field(
        &self,
        cx: &Ctx<'_, 'a, '_>,
        c: &Compiled,
        idx: u32,
        cursor: &mut Option<usize>,
        out: &mut Vec<u8>,
        raw: bool,
    ) {
        let f = c.field_at(idx);
        let cleared = c.string_cleared(idx).load(Ordering::Relaxed);
        let is_string = f.flags.has(crate::FieldFlags::STRING) && !cleared;
        let is_array = f.flags.has(crate::FieldFlags::ARRAY);
        let usable = !c.is_failed() && !is_array && !is_string;
        if let (Some(start), true) = (*cursor, usable) {
            if let Some((k, zero_x)) = c.conv_of_field(idx, start) {
                if zero_x {
                    out.extend_from_slice(b"0x");
                }
                cx.print_parse(out, &c.cache[k], &c.args, raw);
                *cursor = if k + 1 < c.cache.len() {
                    Some(k + 1)
                } else {
                    None
                };
                return;
            }
        }
        cx.print_field_raw(out, idx);
    }

    /// `get_bprint_format()` + `make_bprint_args()`.
    fn bprint_args(&self, cx: &Ctx<'_, 'a, '_>) -> (Vec<u8>, Vec<Arg>) {
        let c = cx.ev;
        let ff = c.format.field("fmt");
        let addr = ff.map_or(0, |f| cx_num(cx, f));
        let mut fmt: Vec<u8> = b"%ps: ".to_vec();
        match self.printk.find(addr) {
            Some(p) => fmt.extend_from_slice(&p.fmt),
            None => {
                fmt.extend_from_slice(b"(NO FORMAT FOUND at ");
                eval_push_hex(&mut fmt, addr);
                fmt.extend_from_slice(b")\n");
            }
        }
        let (Some(bf), Some(ipf)) = (c.format.field("buf"), c.format.field("ip")) else {
            return (fmt, Vec::new());
        };
        let ip = cx_num(cx, ipf);
        let mut args = vec![Arg::Atom(Atom::new((ip as i64).to_string()))];
        let data = cx.buf;
        let size = cx.size;
        let v18 = self.dialect != Dialect::V3_1;
        let at = |k: usize| fmt.get(k).copied().unwrap_or(0);
        let mut ptr = 5usize;
        let mut bptr = bf.offset as usize;
        while bptr < size && at(ptr) != 0 {
            if at(ptr) == b'%' {
                let mut ls = 0i32;
                'again: loop {
                    ptr += 1;
                    let ch = at(ptr);
                    let mut as_string = false;
                    match ch {
                        b'%' => break 'again,
                        b'l' => {
                            ls += 1;
                            continue 'again;
                        }
                        b'L' => {
                            ls = 2;
                            continue 'again;
                        }
                        b'0'..=b'9' | b'.' | b'#' => continue 'again,
                        b'+' if v18 => continue 'again,
                        b'z' | b'Z' => {
                            ls = 1;
                            continue 'again;
                        }
                        b'p' => {
                            ls = 1;
                            if at(ptr + 1).is_ascii_alphanumeric() {
                                ptr += 1;
                                let c2 = at(ptr);
                                let special = matches!(c2, b's' | b'S' | b'x')
                                    || (matches!(c2, b'f' | b'F') && at(ptr + 1) != b'w');
                                if !special {
                                    let b = data.get(bptr).copied().unwrap_or(0);
                                    if (0x20..0x7f).contains(&b) {
                                        as_string = true;
                                    }
                                }
                            }
                        }
                        b'd' | b'u' | b'i' | b'x' | b'X' | b'o' | b'*' | b's' => {}
                        _ => break 'again,
                    }
                    if ch == b's' || as_string {
                        let rest = data.get(bptr..).unwrap_or(&[]);
                        let n = memchr::memchr(0, rest).unwrap_or(rest.len());
                        args.push(Arg::BStr(rest[..n].to_vec()));
                        bptr += n + 1;
                        break 'again;
                    }
                    let vsize: u32 = if ch == b'*' {
                        4
                    } else {
                        match ls {
                            0 => 4,
                            1 => self.long_size,
                            2 => 8,
                            n => n as u32,
                        }
                    };
                    bptr = (bptr + 3) & !3;
                    let val = match vsize {
                        1 | 2 | 4 | 8 => self.endian.uint(data, bptr, vsize as usize).unwrap_or(0),
                        _ => 0,
                    };
                    bptr += vsize as usize;
                    args.push(Arg::Atom(Atom::new((val as i64).to_string())));
                    if ch == b'*' {
                        continue 'again;
                    }
                    break 'again;
                }
            }
            ptr += 1;
        }
        (fmt, args)
    }
}

fn cx_num(cx: &Ctx<'_, '_, '_>, f: &Field) -> u64 {
    cx.tep
        .endian
        .uint(cx.buf, f.offset as usize, f.size as usize)
        .unwrap_or(0)
}

fn eval_push_hex(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(format!("{v:x}").as_bytes());
}

/// `parse_args()`: splits a print format into literal text and conversions bound to
/// successive arguments (`nargs` of them). Sets `failed` where libtraceevent sets
/// `TEP_EVENT_FL_FAILED`.
pub(crate) fn parse_args(
    format: &[u8],
    nargs: usize,
    failed: &mut bool,
    v18: bool,
) -> Vec<PrintParse> {
    let end = memchr::memchr(0, format).unwrap_or(format.len());
    let f = &format[..end];
    let mut out = Vec::new();
    let mut argi = 0usize;
    let mut i = 0usize;
    let mut len = f.len() as isize;
    while i < f.len() {
        let ret = if f[i] == b'%' && f.get(i + 1) != Some(&b'%') {
            parse_arg_format(f, i, &mut argi, nargs, &mut out, failed, v18)
        } else {
            parse_arg_string(f, i, &mut out)
        };
        len -= ret as isize;
        if len > 0 {
            i += ret;
        } else {
            break;
        }
    }
    out
}

fn pointer_ext(f: &[u8]) -> usize {
    let at = |k: usize| f.get(k).copied().unwrap_or(0);
    match at(0) {
        b'F' | b'S' | b'f' | b's' => 1,
        b'M' | b'm' => 1 + matches!(at(1), b'R' | b'F') as usize,
        b'I' | b'i' => {
            let mut ret = 0;
            let mut index = 2;
            match at(1) {
                b'S' => {
                    while matches!(at(index), b'p' | b'f' | b's') {
                        ret += 1;
                        index += 1;
                    }
                    if matches!(at(index), b'h' | b'n' | b'l' | b'b') {
                        ret += 1;
                        index += 1;
                    }
                    if at(index) == b'c' {
                        ret += 1;
                    }
                    ret += 1;
                }
                b'4' => {
                    if matches!(at(index), b'h' | b'n' | b'l' | b'b') {
                        ret += 1;
                    }
                    ret += 1;
                }
                b'6' => {
                    if at(index) == b'c' {
                        ret += 1;
                    }
                    ret += 1;
                }
                _ => {}
            }
            ret + 1
        }
        b'U' => 1 + matches!(at(1), b'L' | b'l' | b'B' | b'b') as usize,
        b'h' => 1 + matches!(at(1), b'C' | b'D' | b'N') as usize,
        _ => 0,
    }
}

#[allow(clippy::too_many_arguments)]
fn parse_arg_format(
    f: &[u8],
    start: usize,
    argi: &mut usize,
    nargs: usize,
    out: &mut Vec<PrintParse>,
    failed: &mut bool,
    v18: bool,
) -> usize {
    let mut ret = 1usize;
    let mut p = start + 1;
    let mut ls = 0i32;
    let mut len_arg: Option<u32> = None;
    while p < f.len() {
        let c = f[p];
        match c {
            b'#' | b'.' | b'0'..=b'9' | b'-' => {}
            b'+' if v18 => {}
            b'h' => ls -= 1,
            b'l' => ls += 1,
            b'L' => ls = 2,
            b'z' | b'Z' => ls = 1,
            b'*' => {
                if *argi >= nargs || len_arg.is_some() {
                    *failed = true;
                    return ret;
                }
                len_arg = Some(*argi as u32);
                *argi += 1;
            }
            b'p' => {
                if *argi >= nargs {
                    *failed = true;
                    return ret;
                }
                let res = pointer_ext(&f[p + 1..]);
                p += res;
                ret += res;
                let mut l = p + 1 - start;
                if l > 31 {
                    *failed = true;
                    l = 31;
                }
                let spec = f[start..(start + l).min(f.len())].to_vec();
                out.push(PrintParse {
                    kind: PKind::Pointer,
                    spec: None,
                    format: spec,
                    arg: Some(*argi as u32),
                    len_arg,
                    ls,
                    str_field: None,
                    value: None,
                    text: None,
                });
                *argi += 1;
                return ret + 1;
            }
            b'd' | b'u' | b'i' | b'x' | b'X' | b'o' | b's' => {}
            b'c' if v18 => {}
            _ => {
                out.push(PrintParse {
                    kind: PKind::Literal,
                    spec: None,
                    format: vec![b'>', c, b'<'],
                    arg: None,
                    len_arg: None,
                    ls: 0,
                    str_field: None,
                    value: None,
                    text: None,
                });
                return ret + 1;
            }
        }
        if matches!(c, b'd' | b'u' | b'i' | b'x' | b'X' | b'o' | b's') || (c == b'c' && v18) {
            if *argi >= nargs {
                *failed = true;
                return ret;
            }
            let mut l = p + 1 - start;
            let is_str = c == b's';
            if (is_str && l > 31) || (!is_str && l > 30) {
                *failed = true;
                l = 31;
            }
            let spec = f[start..(start + l).min(f.len())].to_vec();
            if !is_str && !(-2..=2).contains(&ls) {
                *failed = true;
            }
            out.push(PrintParse {
                kind: if is_str { PKind::String } else { PKind::Digit },
                spec: printf::precompile(&spec),
                format: spec,
                arg: Some(*argi as u32),
                len_arg,
                ls: if is_str { 0 } else { ls },
                str_field: None,
                value: None,
                text: None,
            });
            *argi += 1;
            return ret + 1;
        }
        ret += 1;
        p += 1;
    }
    ret
}

fn parse_arg_string(f: &[u8], start: usize, out: &mut Vec<PrintParse>) -> usize {
    let mut s = Vec::new();
    let mut ret = 0usize;
    let mut p = start;
    while p < f.len() {
        let c = f[p];
        if c == b'\\' {
            p += 1;
            ret += 1;
            let Some(&e) = f.get(p) else {
                break;
            };
            s.push(match e {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                other => other,
            });
        } else if c == b'%' {
            if f.get(p + 1) == Some(&b'%') {
                s.push(b'%');
                p += 1;
                ret += 1;
            } else {
                break;
            }
        } else {
            s.push(c);
        }
        ret += 1;
        p += 1;
    }
    if let Some(z) = memchr::memchr(0, &s) {
        s.truncate(z);
    }
    out.push(PrintParse {
        kind: PKind::Literal,
        spec: None,
        format: s,
        arg: None,
        len_arg: None,
        ls: 0,
        str_field: None,
        value: None,
        text: None,
    });
    ret
}

#[cfg(test)]
mod tests {
    use super::*;

    const FMT: &[u8] = b"name: tst\nID: 7\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
\tfield:unsigned long func;\toffset:8;\tsize:8;\tsigned:0;\n\
\tfield:int v;\toffset:16;\tsize:4;\tsigned:1;\n\n\
print fmt: \"%ps %d\", REC->func, REC->v\n";

    fn record(func: u64, v: i32) -> Vec<u8> {
        let mut d = vec![0u8; 24];
        d[0..2].copy_from_slice(&7u16.to_le_bytes());
        d[8..16].copy_from_slice(&func.to_le_bytes());
        d[16..20].copy_from_slice(&v.to_le_bytes());
        d
    }

    #[test]
    fn lazy_compile_and_helpers() {
        let ks = b"ffffffff81000000 T start\nffffffff81000100 t next\n";
        let mut tep = Tep::new(Endian::Little, 8, Dialect::V3_3);
        assert_eq!(tep.add_event_format("sys", FMT), Ok(7));
        assert!(tep.add_event_format("sys", b"garbage").is_err());
        tep.set_kallsyms(ks);
        let data = record(0xffff_ffff_8100_0010, -3);
        assert_eq!(tep.record_type(&data), Some(7));
        let ev = tep.event_by_id(7).unwrap();
        assert!(!ev.failed());
        let mut out = Vec::new();
        tep.print_pretty(&ev, &data, &mut out);
        assert_eq!(out, b"start -3");
        out.clear();
        tep.print_raw_fields(&ev, &data, &mut out);
        assert_eq!(out, b" func=start (0xffffffff81000010) v=-3");
        out.clear();
        assert!(tep.print_func_field(&mut out, b"[%s]", &ev, "func", &data, true));
        // symbol start minus value, wrapping like the C unsigned subtraction
        assert_eq!(out, b"[start/0xfffffffffffffff0]");
        out.clear();
        assert!(!tep.print_num_field(&mut out, b"%d", &ev, "nope", &data, true));
        assert_eq!(out, b"CAN'T FIND FIELD \"nope\"");
        out.clear();
        assert!(tep.print_num_field(&mut out, b"<%d>", &ev, "v", &data, true));
        assert_eq!(out, b"<-3>");
    }

    #[test]
    fn a_filter_parses_only_the_formats_it_needs() {
        let texts: Vec<Vec<u8>> = [(9, "other"), (5, "first"), (7, "tst")]
            .iter()
            .map(|(id, name)| {
                String::from_utf8_lossy(FMT)
                    .replace("name: tst\nID: 7", &format!("name: {name}\nID: {id}"))
                    .into_bytes()
            })
            .collect();
        let mut tep = Tep::new(Endian::Little, 8, Dialect::V3_3);
        for t in &texts {
            tep.add_event_format("sys", t).unwrap();
        }
        assert_eq!(tep.formats_parsed(), 0);
        let f =
            crate::filter::EventFilter::parse("tst:v < 0", tep.events(), Endian::Little).unwrap();
        assert_eq!(f.event_ids().collect::<Vec<_>>(), [7]);
        // the selected event, and the first by id (its common fields locate type and pid)
        assert_eq!(tep.formats_parsed(), 2);
    }

    const EXPR_FMT: &[u8] = b"name: ex\nID: 8\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
\tfield:unsigned long pfn;\toffset:8;\tsize:8;\tsigned:0;\n\
\tfield:unsigned int gfp;\toffset:16;\tsize:4;\tsigned:0;\n\
\tfield:int d;\toffset:20;\tsize:4;\tsigned:1;\n\n\
print fmt: \"page=%p pfn=0x%lx q=%d m=%u s=%pS f=%s y=%s a=%s w=%10s\", \
REC->pfn != -1UL ? (((struct page *)start) + (REC->pfn)) : ((void *)0), \
REC->pfn != -1UL ? REC->pfn : 0, REC->pfn / REC->d, \
(unsigned char)(REC->gfp >> 1) * 3 - 1 + (REC->d == 1) + (REC->d <= 0 || REC->d != 3), \
(void *)start + REC->d, \
(REC->gfp) ? __print_flags(REC->gfp, \"|\", {0x1, \"A\"}, {0x6, \"BC\"}, {0x4, \"C\"}) : \"none\", \
__print_symbolic(REC->d & 3, {0, \"ZERO\"}, {1, \"ONE\"}), \
REC->d < 0 ? \"neg\" : REC->d ? \"pos\" : \"zero\", \
__print_flags(REC->gfp, \"\", {0x8, \"H\"})\n";

    /// The pretty line of the record `buf[..size]` through the general evaluator alone.
    fn pretty_general(
        tep: &Tep<'_>,
        ev: &Event<'_, '_>,
        buf: &[u8],
        size: usize,
        out: &mut Vec<u8>,
    ) -> bool {
        let c = ev.compiled();
        let cx = tep.ctx(c, buf, size);
        for st in &c.steps {
            crate::outbuf::put(out, &st.lead);
            if let Some(k) = st.conv {
                cx.print_parse_general(out, &c.cache[k as usize], &c.args, false);
            }
        }
        !cx.crash.get()
    }

    /// A little-endian 64-bit printer of events `(id, print format)`, each with the common
    /// type and pid, then `fields` (format lines). The texts are leaked: tests only.
    fn tep_of<'c>(fields: &str, events: impl Iterator<Item = (u32, &'c str)>) -> Tep<'static> {
        let mut tep = Tep::new(Endian::Little, 8, Dialect::V3_3);
        for (id, print) in events {
            let text = format!(
                "name: e{id}\nID: {id}\nformat:\n\
                 \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
                 \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
                 {fields}\nprint fmt: {print}\n"
            );
            let text: &'static [u8] = Box::leak(text.into_bytes().into_boxed_slice());
            tep.add_event_format("sys", text).unwrap();
        }
        tep
    }

    #[test]
    fn nul_free_events_print_no_char_conversion_and_no_record_string() {
        let fields = "\tfield:unsigned int v;\toffset:8;\tsize:4;\tsigned:0;\n\
                      \tfield:__data_loc char[] s;\toffset:12;\tsize:4;\tsigned:0;\n";
        let cases = [
            (20, r#""v=%u x=%x o=%o", REC->v, REC->v, REC->v"#, true),
            (21, r#""v=%c", REC->v"#, false),
            (22, r#""s=%s", __get_str(s)"#, false),
            (23, r#""f=%s", __print_symbolic(REC->v, {0, "Z"})"#, true),
        ];
        let tep = tep_of(fields, cases.iter().map(|&(id, p, _)| (id, p)));
        for (id, print, want) in cases {
            let ev = tep.event_by_id(id as i32).unwrap();
            // an event left to the general path (`%c` is) is never said NUL-free either
            let got = ev.pretty_reads().is_some_and(|r| r.nul_free());
            assert_eq!(got, want, "{print}");
        }
        assert!(tep.event_by_id(22).unwrap().pretty_reads().is_some());
        assert!(tep.event_by_id(23).unwrap().pretty_reads().is_some());
    }

    #[test]
    fn a_bare_pointer_of_a_field_nothing_else_reads_is_a_hole() {
        let fields = "\tfield:unsigned long site;\toffset:8;\tsize:8;\tsigned:0;\n\
                      \tfield:const void * ptr;\toffset:16;\tsize:8;\tsigned:0;\n\
                      \tfield:unsigned int n;\toffset:24;\tsize:4;\tsigned:0;\n";
        let cases = [
            // kmalloc's shape: the hole, and the fields around it in the key
            (
                30,
                r#""site=%pS ptr=%p n=%u", (void *)REC->site, REC->ptr, REC->n"#,
                Some(16),
            ),
            // read by another conversion too
            (31, r#""ptr=%p raw=%lx", REC->ptr, REC->ptr"#, None),
            // two bare pointers: none is a hole
            (32, r#""a=%p b=%p", REC->site, REC->ptr"#, None),
            // not a field alone, not a bare `%p`
            (33, r#""p=%p", REC->ptr + 1"#, None),
            (34, r#""p=%pS", REC->ptr"#, None),
        ];
        let tep = tep_of(fields, cases.iter().map(|&(id, p, _)| (id, p)));
        for (id, print, want) in cases {
            let ev = tep.event_by_id(id as i32).unwrap();
            let r = ev.pretty_reads().unwrap();
            assert_eq!(r.hole().map(|h| h.off), want, "{print}");
            // the key's fields never hold the hole's
            if let Some(h) = r.hole() {
                assert!(r.ranges.iter().all(|&(s, e)| e <= h.off || h.end <= s));
                assert_eq!(r.ranges, [(8, 16), (24, 28)]);
                // a plugin reading the field puts it back in the key
                let mut with = r.clone();
                with.include(16, 8);
                assert_eq!((with.hole(), &with.ranges[..]), (None, &[(8, 28)][..]));
            }
        }
        // the hole's text is what the whole text holds for it
        let ev = tep.event_by_id(30).unwrap();
        let h = ev.pretty_reads().unwrap().hole().unwrap();
        for ptr in [0u64, 0xffff_8881_004f_4c30] {
            let mut rec = vec![30u8, 0, 0, 0, 1, 0, 0, 0];
            rec.extend_from_slice(&0xffff_ffff_8100_0010u64.to_le_bytes());
            rec.extend_from_slice(&ptr.to_le_bytes());
            rec.extend_from_slice(&7u32.to_le_bytes());
            let (mut whole, mut alone) = (Vec::new(), Vec::new());
            tep.print_pretty(&ev, &rec, &mut whole);
            tep.print_hole(&ev, h, &rec, rec.len(), &mut alone);
            let want = format!(" ptr={} n=7", String::from_utf8_lossy(&alone));
            let whole = String::from_utf8_lossy(&whole);
            assert!(
                whole.starts_with("site=") && whole.ends_with(&want),
                "{whole}"
            );
            assert!(alone == b"(nil)" || alone == b"0xffff8881004f4c30");
        }
    }

    #[test]
    fn compiled_arguments_print_as_the_general_evaluator() {
        let mut tep = Tep::new(Endian::Little, 8, Dialect::V3_3);
        tep.add_event_format("sys", EXPR_FMT).unwrap();
        tep.set_kallsyms(b"ffffffff81000000 T start\nffffffff81000100 t next\n");
        let ev = tep.event_by_id(8).unwrap();
        let c = ev.compiled();
        assert!(!c.is_failed());
        // every conversion is compiled (`%10s` too: the width is the spec's)
        let values = c.cache.iter().filter(|p| p.value.is_some()).count();
        let texts = c.cache.iter().filter(|p| p.text.is_some()).count();
        assert_eq!((values, texts), (5, 4));
        let mut seen = 0;
        for pfn in [0u64, 5, u64::MAX, 0x1234] {
            for gfp in [0u32, 1, 7, 0x19, 0xff] {
                for d in [0i32, 1, -5, 3] {
                    let mut data = vec![0u8; 24];
                    data[0..2].copy_from_slice(&8u16.to_le_bytes());
                    data[8..16].copy_from_slice(&pfn.to_le_bytes());
                    data[16..20].copy_from_slice(&gfp.to_le_bytes());
                    data[20..24].copy_from_slice(&d.to_le_bytes());
                    // twice: the second line comes from the flags cache
                    for _ in 0..2 {
                        let (mut a, mut b) = (Vec::new(), Vec::new());
                        let ok_a = tep.print_pretty_checked(&ev, &data, data.len(), &mut a);
                        let ok_b = pretty_general(&tep, &ev, &data, data.len(), &mut b);
                        assert_eq!(
                            (String::from_utf8_lossy(&a), ok_a),
                            (String::from_utf8_lossy(&b), ok_b),
                            "pfn {pfn} gfp {gfp} d {d}"
                        );
                        seen += 1;
                    }
                }
            }
        }
        assert_eq!(seen, 160);
        // a zero divisor is a crash of the C library on either path
        let mut data = vec![0u8; 24];
        data[0..2].copy_from_slice(&8u16.to_le_bytes());
        let mut out = Vec::new();
        assert!(!tep.print_pretty_checked(&ev, &data, data.len(), &mut out));
        assert!(String::from_utf8_lossy(&out).starts_with("page=0xffffffff81000000 pfn=0x0 q=0 "));
    }

    const INT_FMT: &[u8] = b"name: ints\nID: 9\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
\tfield:u8 a;\toffset:8;\tsize:1;\tsigned:0;\n\
\tfield:s8 b;\toffset:9;\tsize:1;\tsigned:1;\n\
\tfield:s16 c;\toffset:10;\tsize:2;\tsigned:1;\n\
\tfield:int d;\toffset:12;\tsize:4;\tsigned:1;\n\
\tfield:unsigned long e;\toffset:16;\tsize:8;\tsigned:0;\n\
\tfield:char f[3];\toffset:24;\tsize:3;\tsigned:0;\n\n\
print fmt: \"%d %u %x %hhd %hu %ld %lu %lx %llx %lld|%d %u %hhx %hd %hx|%d %u %x %ld %lx %hhu|\
%d %u %x %ld %lu %lx %llu %lld %hd|%d %u %x %hhd %hu %hx\", \
REC->a, REC->a, REC->a, REC->a, REC->a, REC->a, REC->a, REC->a, REC->a, REC->a, \
REC->b, REC->b, REC->b, REC->c, REC->c, \
REC->d, REC->d, REC->d, REC->d, REC->d, REC->d, \
REC->e, REC->e, REC->e, REC->e, REC->e, REC->e, REC->e, REC->e, REC->e, \
REC->f, REC->f, REC->f, REC->f, REC->f, REC->f\n";

    #[test]
    fn plain_integer_fields_print_as_the_general_evaluator() {
        let mut tep = Tep::new(Endian::Little, 8, Dialect::V3_3);
        tep.add_event_format("sys", INT_FMT).unwrap();
        let ev = tep.event_by_id(9).unwrap();
        let c = ev.compiled();
        assert!(!c.is_failed());
        // every conversion of a 1, 2, 4 or 8-byte field is printed by the short way
        let short: Vec<bool> = c
            .steps
            .iter()
            .filter(|s| s.conv.is_some())
            .map(|s| s.int.is_some())
            .collect();
        assert_eq!(short.len(), 36);
        assert!(short[..30].iter().all(|&b| b) && !short[30..].iter().any(|&b| b));
        let values: [u64; 7] = [
            0,
            1,
            0x7f,
            0x80,
            0xffff_8000,
            u64::MAX,
            0x8000_0000_0000_0001,
        ];
        let mut record = vec![0u8; 27];
        record[0..2].copy_from_slice(&9u16.to_le_bytes());
        let mut seen = 0;
        for &v in &values {
            for &w in &values {
                record[8] = v as u8;
                record[9] = w as u8;
                record[10..12].copy_from_slice(&(v as u16).to_le_bytes());
                record[12..16].copy_from_slice(&(w as u32).to_le_bytes());
                record[16..24].copy_from_slice(&v.rotate_left(w as u32 % 64).to_le_bytes());
                record[24..27].copy_from_slice(&(w as u32).to_le_bytes()[..3]);
                // the whole record with page bytes after it, a record cut inside each field,
                // and records that end where an eight-byte read would not fit
                for (size, tail) in [
                    (27, 16),
                    (27, 0),
                    (20, 16),
                    (14, 16),
                    (9, 0),
                    (16, 0),
                    (24, 3),
                ] {
                    let mut buf = record.clone();
                    buf.extend(std::iter::repeat_n(0xa5, tail));
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    let ok_a = tep.print_pretty_checked(&ev, &buf, size, &mut a);
                    let ok_b = pretty_general(&tep, &ev, &buf, size, &mut b);
                    assert_eq!(
                        (String::from_utf8_lossy(&a), ok_a),
                        (String::from_utf8_lossy(&b), ok_b),
                        "v {v:#x} w {w:#x} size {size} tail {tail}"
                    );
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 343);
        // the casts are C's: a u8 of 0x80 under `%hhd` (sign-extended from its byte by
        // `print_arg_number`) and the rest
        let mut out = Vec::new();
        record[8] = 0x80;
        assert!(tep.print_pretty_checked(&ev, &record, record.len(), &mut out));
        assert!(
            String::from_utf8_lossy(&out).starts_with("128 128 80 -128 128 128 128 80 80 128|"),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }

    #[test]
    fn dialect_raw_pointer_printing_differs() {
        let mut tep = Tep::new(Endian::Little, 8, Dialect::V3_1);
        tep.add_event_format("sys", FMT).unwrap();
        tep.set_kallsyms(b"ffffffff81000000 T start\nffffffff81000100 t next\n");
        let ev = tep.event_by_id(7).unwrap();
        let mut out = Vec::new();
        tep.print_raw_fields(&ev, &record(0xffff_ffff_8100_0010, 1), &mut out);
        assert_eq!(out, b" func=start v=1");
    }
}
