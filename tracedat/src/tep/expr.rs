//! Print-format arguments compiled into typed operations: the part of libtraceevent's
//! `eval_num_arg()` and `print_str_arg()` (src/event-parse.c) that most kernel events use
//! (fields, numbers, symbols, casts, arithmetic, comparisons, `?:`, `__print_flags`,
//! `__print_symbolic`), decided once per event instead of per record.
//!
//! The general evaluator walks the parsed [`Arg`] tree for every record: it matches operator
//! strings and cast type names each time. An [`Expr`] has those resolved (an operator enum,
//! a cast as a mask, a field (or a fixed array's element at a constant index) as its offset
//! and size); evaluating it gives what [`super::eval::Ctx::eval`] gives for the same
//! argument, crash flags included. Arguments with any other shape (other subscripts, helper
//! functions, dynamic arrays, missing operands) are not compiled and stay with the general
//! evaluator.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::printfmt::{eval_type_str, Arg, FlagSym};
use crate::format::EventFormat;

/// A binary operator as `eval_op()` reads its text: by its first two bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Not,
    Ne,
    BitNot,
    Or,
    LogOr,
    And,
    LogAnd,
    Lt,
    Shl,
    Le,
    Gt,
    Shr,
    Ge,
    Eq,
    Sub,
    Add,
    Div,
    Rem,
    Mul,
    /// Any other text: the C code's switch falls through to 0.
    Zero,
}

impl BinOp {
    pub(crate) fn of(op: &str) -> BinOp {
        let o = op.as_bytes();
        let second = o.get(1).copied().unwrap_or(0);
        match (o.first().copied().unwrap_or(0), second) {
            (b'!', 0) => BinOp::Not,
            (b'!', b'=') => BinOp::Ne,
            (b'~', _) => BinOp::BitNot,
            (b'|', 0) => BinOp::Or,
            (b'|', _) => BinOp::LogOr,
            (b'&', 0) => BinOp::And,
            (b'&', _) => BinOp::LogAnd,
            (b'<', 0) => BinOp::Lt,
            (b'<', b'<') => BinOp::Shl,
            (b'<', b'=') => BinOp::Le,
            (b'>', 0) => BinOp::Gt,
            (b'>', b'>') => BinOp::Shr,
            (b'>', b'=') => BinOp::Ge,
            (b'=', b'=') => BinOp::Eq,
            (b'-', _) => BinOp::Sub,
            (b'+', _) => BinOp::Add,
            (b'/', _) => BinOp::Div,
            (b'%', _) => BinOp::Rem,
            (b'*', _) => BinOp::Mul,
            _ => BinOp::Zero,
        }
    }

    /// The result; `None` for a zero divisor (where the C code crashes).
    #[inline]
    pub(crate) fn apply(self, l: u64, r: u64) -> Option<u64> {
        Some(match self {
            BinOp::Not => (r == 0) as u64,
            BinOp::Ne => (l != r) as u64,
            BinOp::BitNot => !r,
            BinOp::Or => l | r,
            BinOp::LogOr => (l != 0 || r != 0) as u64,
            BinOp::And => l & r,
            BinOp::LogAnd => (l != 0 && r != 0) as u64,
            BinOp::Lt => (l < r) as u64,
            BinOp::Shl => l.wrapping_shl(r as u32),
            BinOp::Le => (l <= r) as u64,
            BinOp::Gt => (l > r) as u64,
            BinOp::Shr => l.wrapping_shr(r as u32),
            BinOp::Ge => (l >= r) as u64,
            BinOp::Eq => (l == r) as u64,
            BinOp::Sub => l.wrapping_sub(r),
            BinOp::Add => l.wrapping_add(r),
            BinOp::Div => l.checked_div(r)?,
            BinOp::Rem => l.checked_rem(r)?,
            BinOp::Mul => l.wrapping_mul(r),
            BinOp::Zero => 0,
        })
    }
}

/// A numeric argument, as `eval_num_arg()` evaluates it.
#[derive(Debug)]
pub(crate) enum Expr {
    Const(u64),
    /// An identifier: the address of the kernel symbol of that name, looked up at the first
    /// evaluation and kept (the cell is the parsed atom's own, so both forms agree).
    Sym(Arc<OnceLock<u64>>, Box<str>),
    /// A field's value (0 when it lies beyond the record).
    Field {
        off: u32,
        size: u32,
    },
    /// A cast: the value masked to the type's width.
    Mask(Box<Expr>, u64),
    Bin(BinOp, Box<(Expr, Expr)>),
    /// `c ? a : b`.
    Cond(Box<(Expr, Expr, Expr)>),
}

impl Expr {
    /// The compiled form of `arg`, where it has one.
    pub(crate) fn compile(arg: &Arg, format: &EventFormat) -> Option<Expr> {
        Some(match arg {
            Arg::Null | Arg::Field { field: None } => Expr::Const(0),
            Arg::Atom(a) => match a.number {
                Some(v) => Expr::Const(v),
                None => Expr::Sym(a.resolved.clone(), a.text.as_str().into()),
            },
            Arg::Field { field: Some(i) } => {
                let f = format.field_at(*i)?;
                Expr::Field {
                    off: f.offset,
                    size: f.size,
                }
            }
            Arg::Type { ty, item } => {
                let inner = Expr::compile(item, format)?;
                match eval_type_str(u64::MAX, ty, false) {
                    u64::MAX => inner,
                    mask => Expr::Mask(Box::new(inner), mask),
                }
            }
            Arg::Op {
                op,
                left: Some(l),
                right: Some(r),
                ..
            } => {
                if op == "[" {
                    // `REC->array[n]` of a fixed array with a number for `n`: one element,
                    // read as eval_op's `[` reads it
                    let (Arg::Field { field: Some(i) }, Arg::Atom(a)) = (&**l, &**r) else {
                        return None;
                    };
                    let f = format.field_at(*i)?;
                    let n = a.number? as u32;
                    return Some(Expr::Field {
                        off: f.offset.wrapping_add(n.wrapping_mul(f.element_size)),
                        size: f.element_size,
                    });
                }
                if op == "?" {
                    let Arg::Op {
                        left: Some(a),
                        right: Some(b),
                        ..
                    } = &**r
                    else {
                        return None;
                    };
                    return Some(Expr::Cond(Box::new((
                        Expr::compile(l, format)?,
                        Expr::compile(a, format)?,
                        Expr::compile(b, format)?,
                    ))));
                }
                Expr::Bin(
                    BinOp::of(op),
                    Box::new((Expr::compile(l, format)?, Expr::compile(r, format)?)),
                )
            }
            _ => return None,
        })
    }

    /// Calls `f` with the offset and size of every record field this expression reads.
    pub(crate) fn each_field(&self, f: &mut dyn FnMut(u32, u32)) {
        match self {
            Expr::Const(_) | Expr::Sym(..) => {}
            Expr::Field { off, size } => f(*off, *size),
            Expr::Mask(e, _) => e.each_field(f),
            Expr::Bin(_, lr) => {
                lr.0.each_field(f);
                lr.1.each_field(f);
            }
            Expr::Cond(c) => {
                c.0.each_field(f);
                c.1.each_field(f);
                c.2.each_field(f);
            }
        }
    }
}

/// A `%s` argument, as `print_str_arg()` prints it.
#[derive(Debug)]
pub(crate) enum StrExpr {
    /// A string literal or identifier that is printed as its text (an identifier only
    /// becomes a number when evaluated numerically, which this argument never is).
    Text(Box<[u8]>),
    /// `c ? a : b`; `None` prints nothing.
    Cond(Box<(Expr, Option<StrExpr>, Option<StrExpr>)>),
    Flags {
        /// Identifies this list for [`FlagsCache`] (never reused, unlike an address).
        id: u64,
        value: Expr,
        delim: Option<Box<[u8]>>,
        flags: Box<[FlagSym]>,
        any_negative: bool,
    },
    Symbol {
        value: Expr,
        syms: Box<[FlagSym]>,
    },
}

impl StrExpr {
    /// The compiled form of `arg`, where it has one.
    pub(crate) fn compile(arg: &Arg, format: &EventFormat) -> Option<StrExpr> {
        Some(match arg {
            // an atom already resolved prints its number: leave those to the general path
            Arg::Atom(a) if a.resolved.get().is_none() => StrExpr::Text(a.text.as_bytes().into()),
            Arg::Op {
                op, left, right, ..
            } if op.starts_with('?') => {
                let c = match left {
                    Some(l) => Expr::compile(l, format)?,
                    None => Expr::Const(0),
                };
                let Some(Arg::Op {
                    left: a, right: b, ..
                }) = right.as_deref()
                else {
                    return None;
                };
                let branch = |x: &Option<Box<Arg>>| match x {
                    Some(x) => StrExpr::compile(x, format).map(Some),
                    None => Some(None),
                };
                StrExpr::Cond(Box::new((c, branch(a)?, branch(b)?)))
            }
            Arg::Flags {
                field,
                delim,
                flags,
                any_negative,
            } => StrExpr::Flags {
                id: NEXT_FLAGS_ID.fetch_add(1, Ordering::Relaxed),
                value: Expr::compile(field, format)?,
                delim: delim.as_ref().map(|d| d.as_bytes().into()),
                flags: flags.clone().into(),
                any_negative: *any_negative,
            },
            Arg::Symbol { field, syms } => StrExpr::Symbol {
                value: Expr::compile(field, format)?,
                syms: syms.clone().into(),
            },
            _ => return None,
        })
    }

    /// Calls `f` with the offset and size of every record field this argument reads.
    pub(crate) fn each_field(&self, f: &mut dyn FnMut(u32, u32)) {
        match self {
            StrExpr::Text(_) => {}
            StrExpr::Cond(c) => {
                c.0.each_field(f);
                for s in [&c.1, &c.2].into_iter().flatten() {
                    s.each_field(f);
                }
            }
            StrExpr::Flags { value, .. } | StrExpr::Symbol { value, .. } => value.each_field(f),
        }
    }
}

static NEXT_FLAGS_ID: AtomicU64 = AtomicU64::new(1);

/// `__print_flags` output by (list, value), per thread. A list such as the GFP flags runs to
/// dozens of entries, each tested against the value in order for every record, while a trace
/// uses a handful of values; the output depends on the two alone.
pub(crate) struct FlagsCache {
    keys: [(u64, i64); FlagsCache::SLOTS],
    spans: [(u32, u32); FlagsCache::SLOTS],
    text: Vec<u8>,
}

impl FlagsCache {
    const SLOTS: usize = 64;
    /// Text kept before the cache starts over: bounds it whatever the values.
    const TEXT_MAX: usize = 16 << 10;

    const fn new() -> Self {
        FlagsCache {
            keys: [(0, 0); Self::SLOTS],
            spans: [(0, 0); Self::SLOTS],
            text: Vec::new(),
        }
    }

    fn slot(id: u64, val: i64) -> usize {
        let h = (val as u64 ^ id.rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 58) as usize
    }

    /// Appends the output for (`id`, `val`) to `out`, from the cache or made by `render`
    /// (which appends it to `out`).
    pub(crate) fn with(id: u64, val: i64, out: &mut Vec<u8>, render: impl FnOnce(&mut Vec<u8>)) {
        thread_local! {
            static CACHE: RefCell<FlagsCache> = const { RefCell::new(FlagsCache::new()) };
        }
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            let k = Self::slot(id, val);
            if c.keys[k] == (id, val) {
                let (at, len) = c.spans[k];
                out.extend_from_slice(&c.text[at as usize..(at + len) as usize]);
                return;
            }
            let start = out.len();
            render(out);
            let made = &out[start..];
            if c.text.len() + made.len() > Self::TEXT_MAX {
                c.text.clear();
                c.keys = [(0, 0); Self::SLOTS];
                if made.len() > Self::TEXT_MAX {
                    return;
                }
            }
            let at = c.text.len() as u32;
            c.text.extend_from_slice(made);
            c.keys[k] = (id, val);
            c.spans[k] = (at, made.len() as u32);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_as_the_c_switch_reads_them() {
        let (l, r) = (12u64, 5u64);
        for (op, want) in [
            ("!", Some(0)),
            ("!=", Some(1)),
            ("!x", Some(0)),
            ("~", Some(!5)),
            ("|", Some(13)),
            ("||", Some(1)),
            ("&", Some(4)),
            ("&&", Some(1)),
            ("<", Some(0)),
            ("<<", Some(384)),
            ("<=", Some(0)),
            ("<>", Some(0)),
            (">", Some(1)),
            (">>", Some(0)),
            (">=", Some(1)),
            ("==", Some(0)),
            ("=", Some(0)),
            ("-", Some(7)),
            ("+", Some(17)),
            ("/", Some(2)),
            ("%", Some(2)),
            ("*", Some(60)),
            ("^", Some(0)),
            ("", Some(0)),
        ] {
            assert_eq!(BinOp::of(op).apply(l, r), want, "{op}");
        }
        assert_eq!(BinOp::of("!").apply(3, 0), Some(1));
        assert_eq!(BinOp::of("-").apply(1, 2), Some(u64::MAX));
        assert_eq!(BinOp::of("<<").apply(1, 65), Some(2));
        assert_eq!(BinOp::of("/").apply(1, 0), None);
        assert_eq!(BinOp::of("%").apply(1, 0), None);
    }

    #[test]
    fn flags_cache_renders_each_value_once_and_stays_bounded() {
        let id = NEXT_FLAGS_ID.fetch_add(2, Ordering::Relaxed);
        let mut renders = 0;
        let mut out = Vec::new();
        for _ in 0..3 {
            for (k, val) in [(id, 1i64), (id, 2), (id + 1, 1)] {
                FlagsCache::with(k, val, &mut out, |o| {
                    renders += 1;
                    o.extend_from_slice(format!("<{k}:{val}>").as_bytes());
                });
            }
        }
        assert_eq!(renders, 3);
        let one = format!("<{id}:1><{id}:2><{}:1>", id + 1);
        assert_eq!(String::from_utf8_lossy(&out), one.repeat(3));
        // values that do not fit start the cache over, and still print
        let big = vec![b'x'; FlagsCache::TEXT_MAX / 2 + 1];
        out.clear();
        for val in 10..14 {
            FlagsCache::with(id, val, &mut out, |o| o.extend_from_slice(&big));
        }
        assert_eq!(out.len(), 4 * big.len());
        let huge = vec![b'y'; FlagsCache::TEXT_MAX + 1];
        out.clear();
        for _ in 0..2 {
            FlagsCache::with(id, 99, &mut out, |o| o.extend_from_slice(&huge));
        }
        assert_eq!(out.len(), 2 * huge.len());
    }
}
