//! Evaluation and printing of a parsed print format against one record, as libtraceevent's
//! `eval_num_arg()`, `print_str_arg()`, `print_arg_pointer()` and the print cache walk of
//! `pretty_print()` do it (src/event-parse.c), including `%p` extensions, bitmasks, cpumasks,
//! `__print_array`, `__print_hex`, `trace_printk` (`bprint`) argument decoding, the raw field
//! printer behind `-R` and the plugin helper functions.
//!
//! libtraceevent reads past the end of a record when a length or offset in it says so (it
//! reads whatever follows in the ring-buffer page); here the bytes after the record are taken
//! from the buffer the caller passes, zeros beyond it. Where the C library would crash (a
//! read beyond its memory, a zero divisor, a NULL dereference) the context records it so the
//! differential harness can tell those cases apart.

use std::cell::Cell;
use std::sync::atomic::Ordering;

use super::expr::{BinOp, Expr, FlagsCache, StrExpr};
use super::printf::{cprintf, cprintf_int_spec, cprintf_str_spec, push_hex, PArg, Spec};
use super::printfmt::{eval_type_str, Arg, FlagSym, Func, FuncArg};
use super::{Compiled, PKind, PrintParse, Tep};
use crate::cnum::{is_print, is_space, strtoull};
use crate::format::{Field, FieldFlags};
use crate::outbuf::{nul_at, put};
use crate::Dialect;

/// The address the differential harness maps each record at; `__get_dynamic_array()` values
/// are host pointers into the record in libtraceevent, so they are reproduced relative to it.
pub const HOST_DATA_BASE: u64 = 0x7e00_0000_0000;

/// A conversion's format text with its precompiled form, when it has one.
#[derive(Clone, Copy)]
pub(crate) struct F<'x> {
    pub text: &'x [u8],
    pub spec: Option<&'x Spec>,
}

pub(crate) struct Ctx<'t, 'a, 'd> {
    pub tep: &'t Tep<'a>,
    pub ev: &'t Compiled,
    pub buf: &'d [u8],
    pub size: usize,
    pub crash: Cell<bool>,
}

fn puts(out: &mut Vec<u8>, s: &[u8]) {
    let end = nul_at(s).unwrap_or(s.len());
    put(out, &s[..end]);
}

fn hex2(out: &mut Vec<u8>, b: u8) {
    const H: &[u8; 16] = b"0123456789abcdef";
    out.push(H[(b >> 4) as usize]);
    out.push(H[(b & 15) as usize]);
}

fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut b = [0u8; 24];
    let at = super::printf::decimal_into(&mut b, v);
    put(out, &b[at..]);
}

fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// The printer a `%p` format selects by the letter after its `p` (`print_arg_pointer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pointer {
    /// `%pF %pf %pS %ps`, with that letter.
    Function(u8),
    Mac,
    Ip,
    Uuid,
    RawBuff,
    /// `%p` alone (or followed by any other letter).
    Plain,
}

/// The printer of a `%p` format, and the format's text after the `p`.
#[inline]
pub(crate) fn pointer_printer(format: &[u8]) -> (Pointer, &[u8]) {
    let p = match format.iter().position(|&c| c == b'p') {
        Some(i) => &format[i + 1..],
        None => &format[format.len()..],
    };
    let printer = match p.first().copied().unwrap_or(0) {
        c @ (b'F' | b'f' | b'S' | b's') => Pointer::Function(c),
        b'M' | b'm' => Pointer::Mac,
        b'I' | b'i' => Pointer::Ip,
        b'U' => Pointer::Uuid,
        b'h' => Pointer::RawBuff,
        _ => Pointer::Plain,
    };
    (printer, p)
}

/// A plain `%p`: `(nil)` or `0x` and the hex digits.
#[inline(always)]
pub(crate) fn plain_pointer(out: &mut Vec<u8>, v: u64) {
    if v == 0 {
        out.extend_from_slice(b"(nil)");
    } else {
        out.extend_from_slice(b"0x");
        push_hex(out, v, false);
    }
}

/// `print_arg_number`'s cast of a value by the conversion's length (`ls`: -2 `hh`, -1 `h`,
/// 0 none, 1 `l`, 2 `ll`); `None` for other lengths, which fail the event.
#[inline(always)]
pub(crate) fn ls_cast(val: u64, ls: i32) -> Option<u64> {
    ls_shift(ls).map(|s| ((val << s) as i64 >> s) as u64)
}

/// [`ls_cast`] as a shift: the value is sign-extended from its low `64 - shift` bits.
#[inline(always)]
pub(crate) fn ls_shift(ls: i32) -> Option<u32> {
    match ls {
        -2 => Some(56),
        -1 => Some(48),
        0 => Some(32),
        1 | 2 => Some(0),
        _ => None,
    }
}

/// How [`Ctx::print_parse`] prints the value of a compiled integer or pointer conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldConv {
    /// An integer conversion (`print_arg_number`).
    Int,
    /// A `%p` printer that takes the value itself: [`Pointer::Function`] or [`Pointer::Plain`].
    Pointer(Pointer),
}

/// `eval_flag()`: the value of a `__print_flags`/`__print_symbolic` entry.
pub(crate) fn eval_flag(s: &str) -> i64 {
    const NAMED: [(&str, i64); 12] = [
        ("HI_SOFTIRQ", 0),
        ("TIMER_SOFTIRQ", 1),
        ("NET_TX_SOFTIRQ", 2),
        ("NET_RX_SOFTIRQ", 3),
        ("BLOCK_SOFTIRQ", 4),
        ("IRQ_POLL_SOFTIRQ", 5),
        ("TASKLET_SOFTIRQ", 6),
        ("SCHED_SOFTIRQ", 7),
        ("HRTIMER_SOFTIRQ", 8),
        ("RCU_SOFTIRQ", 9),
        ("HRTIMER_NORESTART", 0),
        ("HRTIMER_RESTART", 1),
    ];
    if s.as_bytes().first().is_some_and(|c| c.is_ascii_digit()) {
        return strtoull(s.as_bytes(), 0) as i64;
    }
    NAMED.iter().find(|(n, _)| *n == s).map_or(-1, |(_, v)| *v)
}

impl<'t, 'a, 'd> Ctx<'t, 'a, 'd> {
    fn field(&self, idx: u32) -> &'t Field {
        self.ev.field_at(idx)
    }

    fn v18(&self) -> bool {
        self.tep.dialect != Dialect::V3_1
    }

    /// `tep_read_number()` at `off` (file byte order); sizes other than 1/2/4/8 read 0.
    fn num(&self, off: usize, size: u32) -> u64 {
        let e = self.tep.endian;
        let r = match size {
            1 | 2 | 4 | 8 => e.uint(self.buf, off, size as usize),
            _ => return 0,
        };
        r.unwrap_or_else(|| {
            self.crash.set(true);
            0
        })
    }

    fn byte(&self, off: usize) -> u8 {
        match self.buf.get(off) {
            Some(&b) => b,
            None => {
                self.crash.set(true);
                0
            }
        }
    }

    /// Host (little-endian) read, as libtraceevent's pointer casts do.
    fn host(&self, off: usize, size: usize) -> u64 {
        let mut v = 0u64;
        for k in 0..size {
            v |= (self.byte(off + k) as u64) << (8 * k);
        }
        v
    }

    /// A NUL-terminated string starting at `off`.
    fn cstr(&self, off: usize) -> &'d [u8] {
        let buf: &'d [u8] = self.buf;
        match buf.get(off..) {
            Some(rest) => match nul_at(rest) {
                Some(z) => &rest[..z],
                None => {
                    self.crash.set(true);
                    rest
                }
            },
            None => {
                self.crash.set(true);
                &[]
            }
        }
    }

    /// `check_data_offset_size()` with libtraceevent's int arithmetic: true when in range.
    fn in_record(&self, off: u32, size: u32) -> bool {
        (off as i32).wrapping_add(size as i32) <= self.size as i32
    }

    /// `dynamic_offset_field()`: (offset, length) of a `__data_loc`/`__rel_loc` payload.
    pub(crate) fn dyn_range(&self, f: &Field) -> (u32, u32) {
        if !self.in_record(f.offset, f.size) {
            return (0, 0);
        }
        let val = self.num(f.offset as usize, f.size);
        let dsize = self.size as u32;
        let o = (val & 0xffff) as u32;
        let l = if f.size == 2 {
            dsize.wrapping_sub(o)
        } else {
            ((val >> 16) & 0xffff) as u32
        };
        let mut off = if o > dsize { 0 } else { o };
        let len = if o.wrapping_add(l) > dsize { 0 } else { l };
        if f.flags.has(FieldFlags::RELATIVE) {
            off = off.wrapping_add(f.offset).wrapping_add(f.size);
        }
        (off, len)
    }

    fn eval_atom(&self, a: &super::printfmt::Atom) -> u64 {
        // a number is never rewritten: only identifiers get a `resolved` value
        if let Some(v) = a.number {
            return v;
        }
        if let Some(&v) = a.resolved.get() {
            return v;
        }
        *a.resolved
            .get_or_init(|| self.tep.kallsyms.address_of(&a.text))
    }

    /// `eval_num_arg()`.
    pub(crate) fn eval(&self, arg: &Arg) -> u64 {
        match arg {
            Arg::Null => 0,
            Arg::Atom(a) => self.eval_atom(a),
            Arg::Field { field: Some(i), .. } => {
                let f = self.field(*i);
                if !self.in_record(f.offset, f.size) {
                    return 0;
                }
                self.num(f.offset as usize, f.size)
            }
            Arg::Field { field: None, .. } => 0,
            Arg::Type { ty, item } => eval_type_str(self.eval(item), ty, false),
            Arg::Func { func, args } => {
                let mut scratch = Vec::new();
                self.defined_func(&mut scratch, *func, args)
            }
            Arg::Op {
                op, left, right, ..
            } => self.eval_op(op, left.as_deref(), right.as_deref()),
            Arg::DynArrayLen { field } => {
                let f = self.field(*field);
                if f.flags.has(FieldFlags::RELATIVE) && self.in_record(f.offset, f.size) {
                    // libtraceevent adds the relative base through a NULL offset pointer
                    self.crash.set(true);
                }
                self.dyn_range(f).1 as u64
            }
            Arg::DynArray { field } => {
                let (off, _) = self.dyn_range(self.field(*field));
                if !self.in_record(off, 0) {
                    return HOST_DATA_BASE;
                }
                HOST_DATA_BASE.wrapping_add(off as u64)
            }
            _ => 0,
        }
    }

    fn eval_op(&self, op: &str, left: Option<&Arg>, right: Option<&Arg>) -> u64 {
        let ev = |a: Option<&Arg>| match a {
            Some(a) => self.eval(a),
            None => {
                self.crash.set(true);
                0
            }
        };
        if op == "[" {
            let r = ev(right);
            let mut larg = match left {
                Some(l) => l,
                None => {
                    self.crash.set(true);
                    return 0;
                }
            };
            let mut typearg: Option<&str> = None;
            while let Arg::Type { ty, item } = larg {
                if typearg.is_none() {
                    typearg = Some(ty);
                }
                larg = item;
            }
            let mut field_size = self.tep.long_size;
            let offset: u32;
            match larg {
                Arg::DynArray { field } => {
                    let f = self.field(*field);
                    offset = self.dyn_range(f).0.wrapping_add(r as u32);
                    if f.element_size != 0 {
                        field_size = f.element_size;
                    }
                }
                Arg::Field { field: Some(i), .. } => {
                    let f = self.field(*i);
                    field_size = f.element_size;
                    offset = f
                        .offset
                        .wrapping_add((r as u32).wrapping_mul(f.element_size));
                }
                Arg::Field { field: None, .. } => return 0,
                _ => return self.binary(op, ev(left), r),
            }
            if !self.in_record(offset, field_size) {
                return 0;
            }
            let v = self.num(offset as usize, field_size);
            return match typearg {
                Some(t) => eval_type_str(v, t, true),
                None => v,
            };
        }
        if op == "?" {
            let l = ev(left);
            let Some(Arg::Op {
                left: a, right: b, ..
            }) = right
            else {
                self.crash.set(true);
                return 0;
            };
            return if l != 0 {
                ev(a.as_deref())
            } else {
                ev(b.as_deref())
            };
        }
        let l = ev(left);
        let r = ev(right);
        self.binary(op, l, r)
    }

    fn binary(&self, op: &str, l: u64, r: u64) -> u64 {
        BinOp::of(op).apply(l, r).unwrap_or_else(|| {
            self.crash.set(true);
            0
        })
    }

    /// `print_str_to_seq()`.
    fn str_to_seq(&self, out: &mut Vec<u8>, fmt: F<'_>, len_arg: i32, s: &[u8]) {
        if let (true, Some(spec)) = (len_arg < 0, fmt.spec) {
            if spec.conv == b's' {
                cprintf_str_spec(out, spec, s);
                return;
            }
        }
        let fmt = fmt.text;
        if len_arg >= 0 {
            cprintf(out, fmt, &[PArg::Int(len_arg as i64 as u64), PArg::Str(s)]);
        } else if memchr::memchr(b'*', fmt).is_some() {
            // A negative length drops the length argument, so the `*` takes the string
            // pointer and `%s` takes whatever the next register holds; with the library's
            // code that is the format itself (observed with 1.7.1 and 1.8.4 on x86-64).
            cprintf(out, fmt, &[PArg::Int(u64::MAX), PArg::Str(fmt)]);
        } else {
            cprintf(out, fmt, &[PArg::Str(s)]);
        }
    }

    /// `__print_flags`: the names of the flags set in `val`, joined by `delim`, then what is
    /// left in hex.
    #[allow(clippy::too_many_arguments)]
    fn print_flags(
        &self,
        out: &mut Vec<u8>,
        fmt: F<'_>,
        len_arg: i32,
        mut val: i64,
        delim: Option<&[u8]>,
        flags: &[FlagSym],
        any_negative: bool,
    ) {
        let mut printed = false;
        for fl in flags {
            if val == 0 && !any_negative {
                // nothing further can match (the GFP lists run to dozens)
                break;
            }
            let fval = fl.val;
            if val == 0 && fval < 0 {
                self.str_to_seq(out, fmt, len_arg, fl.name.as_bytes());
                break;
            }
            if fval > 0 && (val & fval) == fval {
                if let (true, Some(d)) = (printed, delim) {
                    put(out, d);
                }
                self.str_to_seq(out, fmt, len_arg, fl.name.as_bytes());
                printed = true;
                val &= !fval;
            }
        }
        if val != 0 {
            if let (true, Some(d)) = (printed, delim) {
                put(out, d);
            }
            out.extend_from_slice(b"0x");
            push_hex(out, val as u64, false);
        }
    }

    /// `__print_symbolic`: the name of `val`, else `val` in hex.
    fn print_symbol(
        &self,
        out: &mut Vec<u8>,
        fmt: F<'_>,
        len_arg: i32,
        val: i64,
        syms: &[FlagSym],
    ) {
        match syms.iter().find(|s| s.val == val) {
            Some(s) => self.str_to_seq(out, fmt, len_arg, s.name.as_bytes()),
            None => {
                out.extend_from_slice(b"0x");
                push_hex(out, val as u64, false);
            }
        }
    }

    /// [`Ctx::eval`] of a compiled argument.
    pub(crate) fn eval_expr(&self, e: &Expr) -> u64 {
        match e {
            Expr::Mask(e, mask) => self.operand(e) & mask,
            Expr::Bin(op, lr) => {
                let l = self.operand(&lr.0);
                let r = self.operand(&lr.1);
                op.apply(l, r).unwrap_or_else(|| {
                    self.crash.set(true);
                    0
                })
            }
            Expr::Cond(x) => {
                if self.operand(&x.0) != 0 {
                    self.operand(&x.1)
                } else {
                    self.operand(&x.2)
                }
            }
            leaf => self.operand(leaf),
        }
    }

    /// An operand: leaves here (most operands are), the rest by a call.
    #[inline(always)]
    pub(crate) fn operand(&self, e: &Expr) -> u64 {
        match e {
            Expr::Const(v) => *v,
            Expr::Field { off, size } => {
                if !self.in_record(*off, *size) {
                    return 0;
                }
                self.num(*off as usize, *size)
            }
            Expr::Sym(cell, name) => *cell.get_or_init(|| self.tep.kallsyms.address_of(name)),
            inner => self.eval_expr(inner),
        }
    }

    /// [`Ctx::print_str_arg`] of a compiled argument (a `%s` without `*`).
    fn print_str_expr(&self, out: &mut Vec<u8>, fmt: F<'_>, e: &StrExpr) {
        match e {
            StrExpr::Text(t) => self.str_to_seq(out, fmt, -1, t),
            StrExpr::Cond(x) => {
                let pick = if self.eval_expr(&x.0) != 0 {
                    &x.1
                } else {
                    &x.2
                };
                if let Some(p) = pick {
                    self.print_str_expr(out, fmt, p);
                }
            }
            StrExpr::Flags {
                id,
                value,
                delim,
                flags,
                any_negative,
            } => {
                let val = self.eval_expr(value) as i64;
                FlagsCache::with(*id, val, out, |out| {
                    self.print_flags(out, fmt, -1, val, delim.as_deref(), flags, *any_negative)
                });
            }
            StrExpr::Symbol { value, syms } => {
                let val = self.eval_expr(value) as i64;
                self.print_symbol(out, fmt, -1, val, syms);
            }
        }
    }

    /// `print_str_arg()`.
    pub(crate) fn print_str_arg(&self, out: &mut Vec<u8>, fmt: F<'_>, len_arg: i32, arg: &Arg) {
        match arg {
            Arg::Atom(a) => match a.resolved.get() {
                Some(&v) => {
                    let s = (v as i64).to_string();
                    self.str_to_seq(out, fmt, len_arg, s.as_bytes());
                }
                None => self.str_to_seq(out, fmt, len_arg, a.text.as_bytes()),
            },
            Arg::Field { field: Some(i), .. } => {
                let f = self.field(*i);
                let len: u32 = if f.size != 0 {
                    f.size
                } else {
                    (self.size as u32).wrapping_sub(f.offset)
                };
                let ls = self.tep.long_size;
                if !f.flags.has(FieldFlags::ARRAY) && f.size == ls {
                    let addr = self.host(f.offset as usize, if ls == 8 { 8 } else { 4 });
                    match self.tep.printk.find(addr) {
                        Some(p) => puts(out, &p.fmt),
                        None => push_hex(out, addr, false),
                    }
                    return;
                }
                let start = f.offset as usize;
                let end = start.saturating_add(len as usize);
                if end > self.buf.len() {
                    self.crash.set(true);
                }
                let s = self.buf.get(start..end.min(self.buf.len())).unwrap_or(&[]);
                self.str_to_seq(out, fmt, len_arg, s);
            }
            Arg::Flags {
                field,
                delim,
                flags,
                any_negative,
            } => {
                let val = self.eval(field) as i64;
                let delim = delim.as_ref().map(|d| d.as_bytes());
                self.print_flags(out, fmt, len_arg, val, delim, flags, *any_negative);
            }
            Arg::Symbol { field, syms } => {
                let val = self.eval(field) as i64;
                self.print_symbol(out, fmt, len_arg, val, syms);
            }
            Arg::Hex {
                field,
                size,
                is_str,
            } => {
                let Some(start) = self.array_start(field) else {
                    return;
                };
                let len = self.eval(size) as u32;
                for i in 0..len {
                    if i != 0 && !is_str {
                        out.push(b' ');
                    }
                    let b = self.byte(start.wrapping_add(i as usize));
                    if self.crash.get() {
                        return;
                    }
                    hex2(out, b);
                }
            }
            Arg::IntArray {
                field,
                count,
                el_size,
            } => {
                let Some(start) = self.array_start(field) else {
                    return;
                };
                let len = self.eval(count) as u32;
                let mut el = self.eval(el_size) as i32;
                let v18 = self.v18();
                if v18 {
                    out.push(b'{');
                }
                let mut p = start;
                for i in 0..len {
                    if i != 0 {
                        out.push(if v18 { b',' } else { b' ' });
                    }
                    let v = match el {
                        1 | 2 | 4 | 8 => self.host(p, el as usize),
                        _ => 0,
                    };
                    if self.crash.get() {
                        return;
                    }
                    match (el, v18) {
                        (1 | 2 | 4 | 8, true) => {
                            out.extend_from_slice(b"0x");
                            push_hex(out, v, false);
                        }
                        (1 | 2 | 4 | 8, false) => push_u64(out, v),
                        _ => {
                            out.extend_from_slice(b"BAD SIZE:");
                            push_i64(out, el as i64);
                            out.extend_from_slice(b" 0x");
                            push_hex(out, self.byte(p) as u64, false);
                            el = 1;
                        }
                    }
                    p = p.wrapping_add(el as usize);
                }
                if v18 {
                    out.push(b'}');
                }
            }
            Arg::Str { field: Some(i) } => {
                let (off, len) = self.dyn_range(self.field(*i));
                if len == 0 {
                    return;
                }
                let s = self.cstr(off as usize);
                self.str_to_seq(out, fmt, len_arg, s);
            }
            Arg::BStr(s) => self.str_to_seq(out, fmt, len_arg, s),
            Arg::Bitmask {
                field: Some(i),
                cpumask,
            } => {
                let (off, len) = self.dyn_range(self.field(*i));
                if *cpumask {
                    self.cpumask_to_seq(out, fmt, len_arg, off as usize, len as usize);
                } else {
                    self.bitmask_to_seq(out, fmt, len_arg, off as usize, len as usize);
                }
            }
            Arg::Bitmask {
                field: None,
                cpumask: true,
            } => self.crash.set(true),
            Arg::Op {
                op, left, right, ..
            } => {
                if !op.starts_with('?') {
                    return;
                }
                let l = match left {
                    Some(l) => self.eval(l),
                    None => 0,
                };
                if let Some(r) = right {
                    if let Arg::Op {
                        left: a, right: b, ..
                    } = &**r
                    {
                        let pick = if l != 0 { a } else { b };
                        if let Some(p) = pick {
                            self.print_str_arg(out, fmt, len_arg, p);
                        }
                    }
                }
            }
            Arg::Func { func, args } => {
                self.defined_func(out, *func, args);
            }
            _ => {}
        }
    }

    /// Start of the data of a `__print_hex`/`__print_array` first argument.
    fn array_start(&self, a: &Arg) -> Option<usize> {
        match a {
            Arg::DynArray { field } => Some(self.dyn_range(self.field(*field)).0 as usize),
            Arg::Field { field: Some(i), .. } => Some(self.field(*i).offset as usize),
            Arg::Field { field: None, .. } => None,
            _ => {
                // libtraceevent reads another union member as a field pointer
                self.crash.set(true);
                None
            }
        }
    }

    fn bitmask_to_seq(&self, out: &mut Vec<u8>, fmt: F<'_>, len_arg: i32, off: usize, size: usize) {
        let nr_bits = (size * 8) as i64;
        let str_size = ((nr_bits + 3) / 4 + (nr_bits - 1) / 32) as usize;
        let mut s = vec![0u8; str_size];
        let mut len = 0usize;
        let mut i = str_size as i64 - 2;
        let big = self.tep.endian == crate::Endian::Big;
        while i >= 0 {
            let index = if big { size.wrapping_sub(len + 1) } else { len };
            let b = self.byte(off.wrapping_add(index));
            const H: &[u8; 16] = b"0123456789abcdef";
            s[i as usize] = H[(b >> 4) as usize];
            s[i as usize + 1] = H[(b & 15) as usize];
            len += 1;
            if len & 3 == 0 && i > 0 {
                i -= 1;
                s[i as usize] = b',';
            }
            i -= 2;
        }
        self.str_to_seq(out, fmt, len_arg, &s);
    }

    fn cpumask_to_seq(&self, out: &mut Vec<u8>, fmt: F<'_>, len_arg: i32, off: usize, size: usize) {
        let nr_bits = (size * 8) as i32;
        let mut s: Vec<u8> = Vec::new();
        let mut first = true;
        let big = self.tep.endian == crate::Endian::Big;
        let mut firstone: i32 = -1;
        let mut firstzero: i32;
        for i in 0..size {
            let index = if big { size - (i + 1) } else { i };
            let mut byte = self.byte(off.wrapping_add(index)) as u32;
            loop {
                if firstone < 0 && byte != 0 {
                    firstone = byte.trailing_zeros() as i32;
                    byte |= (1u32 << firstone) - 1;
                    firstone += (i * 8) as i32;
                }
                if firstone < 0 {
                    break;
                }
                if (!byte) & 0xff != 0 {
                    firstzero = (!byte).trailing_zeros() as i32;
                    byte &= !((1u32 << firstzero) - 1);
                    firstzero += (i * 8) as i32;
                } else if i == size - 1 {
                    firstzero = nr_bits;
                    byte = 0;
                } else {
                    break;
                }
                if !first {
                    s.push(b',');
                }
                first = false;
                push_i64(&mut s, firstone as i64);
                if firstzero > firstone + 1 {
                    s.push(b'-');
                    push_i64(&mut s, (firstzero - 1) as i64);
                }
                firstone = -1;
                if byte == 0 {
                    break;
                }
            }
        }
        self.str_to_seq(out, fmt, len_arg, &s);
    }

    /// `process_defined_func()`: a plugin helper; prints into `out`, returns its value.
    fn defined_func(&self, out: &mut Vec<u8>, func: Func, args: &[Arg]) -> u64 {
        let params = func.params();
        let mut vals = [0u64; 3];
        for (k, p) in params.iter().enumerate() {
            let a = match args.get(k) {
                Some(a) => a,
                None => return u64::MAX,
            };
            match p {
                FuncArg::Int | FuncArg::Long | FuncArg::Ptr => vals[k] = self.eval(a),
            }
        }
        match func {
            Func::Le16ToCpup => {
                let p = vals[0];
                if p == 0 {
                    return 0;
                }
                if p < HOST_DATA_BASE || p - HOST_DATA_BASE + 2 > self.buf.len() as u64 {
                    self.crash.set(true);
                    return 0;
                }
                let off = (p - HOST_DATA_BASE) as usize;
                self.host(off, 2) as i16 as i64 as u64 & 0xffff
            }
            Func::Jbd2DevToName => {
                let dev = vals[0] as u32;
                push_i64(out, (dev >> 20) as i32 as i64);
                out.push(b':');
                push_i64(out, (dev & 0xfffff) as i32 as i64);
                0
            }
            Func::JiffiesToMsecs => {
                push_i64(out, vals[0] as i64);
                vals[0]
            }
            Func::IsWritablePte => vals[0] & 2,
            Func::ScsiTraceParseCdb => {
                let p = vals[1];
                if p < HOST_DATA_BASE || p - HOST_DATA_BASE > self.buf.len() as u64 {
                    self.crash.set(true);
                    return 0;
                }
                let off = (p - HOST_DATA_BASE) as usize;
                let mut cdb = [0u8; 32];
                for (k, b) in cdb.iter_mut().enumerate() {
                    *b = self.byte(off + k);
                }
                super::plugin_funcs::scsi_cdb(out, &cdb);
                0
            }
            Func::XenHypercallName => {
                out.extend_from_slice(super::plugin_funcs::xen_hypercall_name(vals[0] as u32));
                0
            }
        }
    }

    /// `print_function()` for `%ps %pS %pf %pF`.
    fn print_function(&self, out: &mut Vec<u8>, conv: u8, arg: &Arg, raw: bool) {
        self.print_function_value(out, conv, self.eval(arg), raw);
    }

    #[inline(never)]
    fn print_function_value(&self, out: &mut Vec<u8>, conv: u8, val: u64, raw: bool) {
        let found = self.tep.kallsyms.find(val);
        if let Some((sym, _)) = found {
            put(out, sym.name.as_bytes());
            if conv == b'F' || conv == b'S' {
                out.extend_from_slice(b"+0x");
                push_hex(out, val.wrapping_sub(sym.addr), false);
            }
        }
        let raw = raw && self.v18();
        if found.is_none() || raw {
            if raw {
                out.extend_from_slice(b" (");
            }
            out.extend_from_slice(b"0x");
            push_hex(out, val, false);
            if raw {
                out.push(b')');
            }
        }
    }

    /// `print_arg_pointer()`.
    fn print_arg_pointer(&self, out: &mut Vec<u8>, format: &[u8], plen: i32, arg: &Arg, raw: bool) {
        if let Arg::BStr(s) = arg {
            puts(out, s);
            return;
        }
        let (printer, p) = pointer_printer(format);
        match printer {
            Pointer::Function(c) => self.print_function(out, c, arg, raw),
            Pointer::Mac => self.print_mac(out, p, arg),
            Pointer::Ip => self.print_ip(out, p, arg),
            Pointer::Uuid => self.print_uuid(out, p, arg),
            Pointer::RawBuff => self.print_raw_buff(out, p, arg, plen),
            Pointer::Plain => plain_pointer(out, self.eval(arg)),
        }
    }

    fn not_field(&self, out: &mut Vec<u8>, arg: &Arg) {
        out.extend_from_slice(b"ARG TYPE NOT FIELD BUT ");
        push_i64(out, arg.type_num() as i64);
    }

    /// The field of a `%pM`/`%pI`/`%pU` argument after typecasts, or `None` when the
    /// argument was handled (printed an error or called a helper).
    fn pointer_field<'x>(
        &self,
        out: &mut Vec<u8>,
        arg: &'x Arg,
    ) -> Result<Option<&'t Field>, &'x Arg> {
        if let Arg::Func { func, args } = arg {
            self.defined_func(out, *func, args);
            return Ok(None);
        }
        let mut a = arg;
        while let Arg::Type { item, .. } = a {
            a = item;
        }
        match a {
            Arg::Field { field: Some(i), .. } => Ok(Some(self.field(*i))),
            Arg::Field { field: None, .. } => Ok(None),
            other => Err(other),
        }
    }

    fn print_mac(&self, out: &mut Vec<u8>, p: &[u8], arg: &Arg) {
        let f = match self.pointer_field(out, arg) {
            Ok(Some(f)) => f,
            Ok(None) => return,
            Err(a) => return self.not_field(out, a),
        };
        let sep: &[u8] = if p[0] == b'm' {
            b""
        } else if p[0] == b'M' && p.get(1) == Some(&b'F') {
            b"-"
        } else {
            b":"
        };
        let reverse = p.get(1) == Some(&b'R');
        if f.size != 6 {
            out.extend_from_slice(b"INVALIDMAC");
            return;
        }
        let off = f.offset as usize;
        for k in 0..6 {
            if k != 0 {
                put(out, sep);
            }
            let idx = if reverse { 5 - k } else { k };
            hex2(out, self.byte(off + idx));
        }
    }

    fn ip4_addr(&self, out: &mut Vec<u8>, i: u8, reverse: bool, off: usize) {
        let b: Vec<u8> = (0..4).map(|k| self.byte(off + k)).collect();
        for k in 0..4 {
            if k != 0 {
                out.push(b'.');
            }
            let v = if reverse { b[3 - k] } else { b[k] };
            if i == b'i' {
                cprintf(out, b"%03d", &[PArg::Int(v as u64)]);
            } else {
                push_u64(out, v as u64);
            }
        }
    }

    fn ip6_addr(&self, out: &mut Vec<u8>, i: u8, off: usize) {
        for j in (0..16).step_by(2) {
            hex2(out, self.byte(off + j));
            hex2(out, self.byte(off + j + 1));
            if i == b'I' && j < 14 {
                out.push(b':');
            }
        }
    }

    fn ip6c_addr(&self, out: &mut Vec<u8>, off: usize) {
        let a: Vec<u8> = (0..16).map(|k| self.byte(off + k)).collect();
        let w32 =
            |k: usize| u32::from_be_bytes([a[4 * k], a[4 * k + 1], a[4 * k + 2], a[4 * k + 3]]);
        let v4mapped = w32(0) | w32(1) == 0 && w32(2) == 0x0000_ffff;
        let isatap = (w32(2) | 0x0200_0000) == 0x0200_5efe;
        let use_v4 = v4mapped || isatap;
        let range = if use_v4 { 6 } else { 8 };
        let word = |k: usize| u16::from_be_bytes([a[2 * k], a[2 * k + 1]]);
        let mut zerolength = [0u8; 8];
        for (i, z) in zerolength.iter_mut().enumerate().take(range) {
            for j in i..range {
                if word(j) != 0 {
                    break;
                }
                *z += 1;
            }
        }
        let mut longest = 1u8;
        let mut colonpos: i32 = -1;
        for (i, &z) in zerolength.iter().enumerate().take(range) {
            if z > longest {
                longest = z;
                colonpos = i as i32;
            }
        }
        if longest == 1 {
            colonpos = -1;
        }
        let mut needcolon = false;
        let mut i = 0usize;
        while i < range {
            if i as i32 == colonpos {
                if needcolon || i == 0 {
                    out.push(b':');
                }
                out.push(b':');
                needcolon = false;
                i += longest as usize;
                continue;
            }
            if needcolon {
                out.push(b':');
            }
            let w = word(i);
            let (hi, lo) = ((w >> 8) as u8, w as u8);
            if hi != 0 {
                push_hex(out, hi as u64, false);
                hex2(out, lo);
            } else {
                push_hex(out, lo as u64, false);
            }
            needcolon = true;
            i += 1;
        }
        if use_v4 {
            if needcolon {
                out.push(b':');
            }
            for k in 0..4 {
                if k != 0 {
                    out.push(b'.');
                }
                push_u64(out, a[12 + k] as u64);
            }
        }
    }

    fn ip4_reverse(&self, c: u8) -> (bool, usize) {
        match c {
            b'h' => (self.tep.endian != crate::Endian::Big, 1),
            b'l' => (true, 1),
            b'n' | b'b' => (false, 1),
            _ => (false, 0),
        }
    }

    fn print_ip(&self, out: &mut Vec<u8>, p: &[u8], arg: &Arg) {
        let i = p[0];
        let rest = &p[1..];
        let at = |s: &[u8], k: usize| s.get(k).copied().unwrap_or(0);
        match at(rest, 0) {
            b'4' => {
                let (reverse, _) = self.ip4_reverse(at(rest, 1));
                let f = match self.pointer_field(out, arg) {
                    Ok(Some(f)) => f,
                    Ok(None) => return,
                    Err(a) => return self.not_field(out, a),
                };
                if f.size != 4 {
                    out.extend_from_slice(b"INVALIDIPv4");
                    return;
                }
                self.ip4_addr(out, i, reverse, f.offset as usize);
            }
            b'6' => {
                let have_c = i == b'I' && at(rest, 1) == b'c';
                let f = match self.pointer_field(out, arg) {
                    Ok(Some(f)) => f,
                    Ok(None) => return,
                    Err(a) => return self.not_field(out, a),
                };
                if f.size != 16 {
                    out.extend_from_slice(b"INVALIDIPv6");
                    return;
                }
                if have_c {
                    self.ip6c_addr(out, f.offset as usize);
                } else {
                    self.ip6_addr(out, i, f.offset as usize);
                }
            }
            b'S' => {
                let mut k = 1;
                let (mut have_p, mut have_c) = (false, false);
                if i == b'I' {
                    if at(rest, k) == b'p' {
                        have_p = true;
                        k += 1;
                    }
                    if at(rest, k) == b'c' {
                        have_c = true;
                        k += 1;
                    }
                }
                let (reverse, _) = self.ip4_reverse(at(rest, k));
                if let Arg::Func { func, args } = arg {
                    self.defined_func(out, *func, args);
                    return;
                }
                let mut a = arg;
                while let Arg::Type { item, .. } = a {
                    a = item;
                }
                let (off, len) = match a {
                    Arg::Field {
                        field: Some(fi), ..
                    } => {
                        let f = self.field(*fi);
                        (f.offset, f.size)
                    }
                    Arg::Field { field: None, .. } => return,
                    Arg::DynArray { field } => self.dyn_range(self.field(*field)),
                    other => {
                        out.extend_from_slice(b"ARG NOT FIELD NOR DYNAMIC ARRAY BUT TYPE ");
                        push_i64(out, other.type_num() as i64);
                        return;
                    }
                };
                let off = off as usize;
                let family = self.host(off, 2);
                if family == 2 {
                    if len < 16 {
                        out.extend_from_slice(b"INVALIDIPv4");
                        return;
                    }
                    self.ip4_addr(out, i, reverse, off + 4);
                    if have_p {
                        out.push(b':');
                        let port = ((self.byte(off + 2) as u64) << 8) | self.byte(off + 3) as u64;
                        push_u64(out, port);
                    }
                } else if family == 10 {
                    if len < 28 {
                        out.extend_from_slice(b"INVALIDIPv6");
                        return;
                    }
                    if have_p {
                        out.push(b'[');
                    }
                    if have_c {
                        self.ip6c_addr(out, off + 8);
                    } else {
                        self.ip6_addr(out, i, off + 8);
                    }
                    if have_p {
                        out.extend_from_slice(b"]:");
                        let port = ((self.byte(off + 2) as u64) << 8) | self.byte(off + 3) as u64;
                        push_u64(out, port);
                    }
                }
            }
            _ => {}
        }
    }

    fn print_uuid(&self, out: &mut Vec<u8>, p: &[u8], arg: &Arg) {
        const GUID: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
        let (upper, guid) = match p.get(1).copied().unwrap_or(0) {
            b'L' => (true, true),
            b'l' => (false, true),
            b'B' => (true, false),
            _ => (false, false),
        };
        let f = match self.pointer_field(out, arg) {
            Ok(Some(f)) => f,
            Ok(None) => return,
            Err(a) => return self.not_field(out, a),
        };
        if f.size != 16 {
            out.extend_from_slice(b"INVALIDUUID");
            return;
        }
        let off = f.offset as usize;
        for (i, &g) in GUID.iter().enumerate() {
            let b = self.byte(off + if guid { g } else { i });
            if upper {
                const H: &[u8; 16] = b"0123456789ABCDEF";
                out.push(H[(b >> 4) as usize]);
                out.push(H[(b & 15) as usize]);
            } else {
                hex2(out, b);
            }
            if matches!(i, 3 | 5 | 7 | 9) {
                out.push(b'-');
            }
        }
    }

    fn print_raw_buff(&self, out: &mut Vec<u8>, p: &[u8], arg: &Arg, plen: i32) {
        let delim: &[u8] = match p.get(1).copied().unwrap_or(0) {
            b'C' => b":",
            b'D' => b"-",
            b'N' => b"",
            _ => b" ",
        };
        if let Arg::Func { func, args } = arg {
            self.defined_func(out, *func, args);
            return;
        }
        let Arg::DynArray { field } = arg else {
            return self.not_field(out, arg);
        };
        let (off, arr_len) = self.dyn_range(self.field(*field));
        let mut n = plen as u32;
        if arr_len < n {
            n = arr_len;
        }
        if (n as i32) < 1 {
            return;
        }
        let off = off as usize;
        hex2(out, self.byte(off));
        for k in 1..n as usize {
            put(out, delim);
            hex2(out, self.byte(off + k));
        }
    }

    /// `print_arg_number()`.
    fn print_arg_number(&self, out: &mut Vec<u8>, fmt: F<'_>, plen: i32, ls: i32, arg: &Arg) {
        let Some(v) = ls_cast(self.eval(arg), ls) else {
            self.ev.runtime_failed.store(true, Ordering::Relaxed);
            return;
        };
        if plen >= 0 {
            cprintf(
                out,
                fmt.text,
                &[PArg::Int(plen as i64 as u64), PArg::Int(v)],
            );
        } else if let Some(spec) = fmt.spec.filter(|s| s.conv != b's') {
            cprintf_int_spec(out, spec, v);
        } else {
            cprintf(out, fmt.text, &[PArg::Int(v)]);
        }
    }

    /// `print_parse_data()`.
    #[inline(always)]
    pub(crate) fn print_parse(&self, out: &mut Vec<u8>, p: &PrintParse, args: &[Arg], raw: bool) {
        // The common cases, printed as the general path below would: an integer, pointer or
        // symbol of a compiled argument (most often a plain field read straight from the
        // record), a `__get_str` string.
        if let Some((e, how)) = &p.value {
            return self.print_value(out, p, *how, self.operand(e), raw);
        }
        if let (Some(i), Some(spec)) = (p.str_field, p.spec.as_ref()) {
            // as print_str_arg does for `__get_str`; the string's own NUL ends it, so the
            // output needs no NUL scan afterwards
            let (off, len) = self.dyn_range(self.field(i));
            if len == 0 {
                return;
            }
            if let Some(rest) = self.buf.get(off as usize..) {
                if let Some(z) = nul_at(rest) {
                    cprintf_str_spec(out, spec, &rest[..z]);
                    return;
                }
            }
        }
        self.print_parse_compiled(out, p, args, raw);
    }

    /// The value of an integer, bare `%p` or `%pS`-like conversion printed as
    /// `print_arg_number`, `%p` and `print_function` print it (`value_conv` decided `how`,
    /// making `Int` only for the lengths that cast, and only these printers).
    #[inline(always)]
    fn print_value(&self, out: &mut Vec<u8>, p: &PrintParse, how: FieldConv, v: u64, raw: bool) {
        match (how, p.spec.as_ref()) {
            (FieldConv::Int, Some(spec)) => {
                cprintf_int_spec(out, spec, ls_cast(v, p.ls).unwrap_or(v))
            }
            (FieldConv::Pointer(Pointer::Function(c)), _) => {
                self.print_function_value(out, c, v, raw)
            }
            _ => plain_pointer(out, v),
        }
    }

    /// `%s` conversions whose argument was compiled (see [`super::expr`]), printed as the
    /// general path would; the others go to the general path.
    #[inline(never)]
    fn print_parse_compiled(&self, out: &mut Vec<u8>, p: &PrintParse, args: &[Arg], raw: bool) {
        if let Some(t) = &p.text {
            let start = out.len();
            let fmt = F {
                text: &p.format,
                spec: p.spec.as_ref(),
            };
            self.print_str_expr(out, fmt, t);
            if let Some(z) = nul_at(&out[start..]) {
                out.truncate(start + z);
            }
            return;
        }
        self.print_parse_general(out, p, args, raw);
    }

    #[inline(never)]
    pub(super) fn print_parse_general(
        &self,
        out: &mut Vec<u8>,
        p: &PrintParse,
        args: &[Arg],
        raw: bool,
    ) {
        let arg = |i: Option<u32>| i.and_then(|i| args.get(i as usize));
        let len_arg: i32 = match arg(p.len_arg) {
            Some(a) => self.eval(a) as i32,
            None => 0,
        };
        let has_len = p.len_arg.is_some();
        if has_len && len_arg < 0 && p.kind == PKind::Digit {
            // libtraceevent then passes one argument too few to a `*` format: the value
            // becomes the width and the conversion reads whatever the next register holds
            // (a huge width makes it grow its buffer 4 KiB at a time, practically forever).
            // Strings are handled in str_to_seq.
            self.crash.set(true);
        }
        match p.kind {
            PKind::Digit => {
                if let Some(a) = arg(p.arg) {
                    self.print_arg_number(
                        out,
                        F {
                            text: &p.format,
                            spec: p.spec.as_ref(),
                        },
                        if has_len { len_arg } else { -1 },
                        p.ls,
                        a,
                    );
                }
            }
            PKind::Pointer => {
                if let Some(a) = arg(p.arg) {
                    self.print_arg_pointer(
                        out,
                        &p.format,
                        if has_len { len_arg } else { 1 },
                        a,
                        raw,
                    );
                }
            }
            PKind::String => {
                if let Some(a) = arg(p.arg) {
                    let start = out.len();
                    self.print_str_arg(
                        out,
                        F {
                            text: &p.format,
                            spec: p.spec.as_ref(),
                        },
                        if has_len { len_arg } else { -1 },
                        a,
                    );
                    if let Some(z) = nul_at(&out[start..]) {
                        out.truncate(start + z);
                    }
                }
            }
            // literals are cut at a NUL when parsed
            PKind::Literal => put(out, &p.format),
        }
    }

    /// `print_field_raw()`.
    pub(crate) fn print_field_raw(&self, out: &mut Vec<u8>, idx: u32) {
        let f = self.field(idx);
        if f.flags.has(FieldFlags::ARRAY) {
            let (off, len) = if f.flags.has(FieldFlags::DYNAMIC) {
                self.dyn_range(f)
            } else {
                (f.offset, f.size)
            };
            let is_string = f.flags.has(FieldFlags::STRING)
                && !self.ev.string_cleared(idx).load(Ordering::Relaxed);
            if is_string && self.printable(off as usize, len) {
                let s = self.cstr(off as usize);
                put(out, s);
            } else {
                out.extend_from_slice(b"ARRAY[");
                for i in 0..len {
                    if i != 0 {
                        out.extend_from_slice(b", ");
                    }
                    hex2(out, self.byte((off as usize).wrapping_add(i as usize)));
                    if self.crash.get() {
                        break;
                    }
                }
                out.push(b']');
                self.ev.string_cleared(idx).store(true, Ordering::Relaxed);
            }
            return;
        }
        let val = self.num(f.offset as usize, f.size);
        let fl = f.flags;
        if fl.has(FieldFlags::POINTER) {
            out.extend_from_slice(b"0x");
            push_hex(out, val, false);
        } else if fl.has(FieldFlags::SIGNED) {
            match f.size {
                4 => {
                    if fl.has(FieldFlags::LONG) {
                        out.extend_from_slice(b"0x");
                        push_hex(out, val as u32 as u64, false);
                    } else {
                        push_i64(out, val as i32 as i64);
                    }
                }
                2 => {
                    cprintf(out, b"%2d", &[PArg::Int(val as i16 as i64 as u64)]);
                }
                1 => {
                    cprintf(out, b"%1d", &[PArg::Int(val as i8 as i64 as u64)]);
                }
                _ => push_i64(out, val as i64),
            }
        } else if fl.has(FieldFlags::LONG) {
            out.extend_from_slice(b"0x");
            push_hex(out, val, false);
        } else {
            push_u64(out, val);
        }
    }

    /// `is_printable_array()`.
    fn printable(&self, off: usize, len: u32) -> bool {
        for i in 0..len as usize {
            let c = self.byte(off.wrapping_add(i));
            if c == 0 {
                break;
            }
            if !is_print(c) && !is_space(c) {
                return false;
            }
        }
        true
    }
}
