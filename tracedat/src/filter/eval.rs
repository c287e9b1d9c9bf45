//! Evaluating a parsed filter against a record: libtraceevent's `test_filter`, `test_op`,
//! `test_num`, `test_str`, `get_arg_value`, `get_exp_value`, `get_value` and `get_field_str`
//! (src/parse-filter.c).
//!
//! Semantics kept from C: numbers are sign-extended from the field size when the format says
//! `signed:1` and then compared as *unsigned* 64-bit values (so `prev_prio < 0` is false for
//! -1); arithmetic wraps; `/` and `%` by zero kill the C with SIGFPE and are
//! [`MatchError::DivisionByZero`] here; a field of a
//! size other than 1, 2, 4 or 8 reads an uninitialised value in C and 0 here; `COMM` used as a
//! number is the address of the comm string (see [`super::parse::COMM_ADDR`]); a string
//! comparison on a field that is not a string compares the kernel symbol of a pointer or
//! `long` field, else the value printed as `0x%llx`; `__data_loc` descriptors are read as a
//! host (little-endian) `unsigned int` whatever the file's byte order, as C does. Errors stop
//! the evaluation and make the whole record a non-match (`tep_filter_match` returns the error).

use super::parse::{Arg, BoolOp, Cmp, ExpOp, FieldKind, FieldRef, Id, StrCmp, Tree, Value};
use super::parse::{CHAR_ADDR, COMM_ADDR};
use super::{FilterEnv, MatchError};
use crate::endian::Endian;
use crate::format::FieldFlags;
use crate::record::Record;

/// Where a record's pid is (libtraceevent takes `common_pid` of its first event).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PidField {
    pub offset: u32,
    pub size: u32,
}

pub(crate) struct Ctx<'r, 'e, E: FilterEnv + ?Sized> {
    pub endian: Endian,
    pub pid: Option<PidField>,
    pub rec: &'r Record<'r>,
    pub env: &'e mut E,
}

impl<E: FilterEnv + ?Sized> Ctx<'_, '_, E> {
    fn pid(&self) -> i32 {
        match self.pid {
            Some(p) => self
                .endian
                .uint(self.rec.data, p.offset as usize, p.size as usize)
                .map_or(-1, |v| v as i32),
            None => -1,
        }
    }

    /// `get_value`.
    fn field_value(&mut self, f: &FieldRef) -> u64 {
        match f.kind {
            FieldKind::Comm => {
                // The lookup is done for its side effects on the comm table; the value is the
                // string's address.
                let pid = self.pid();
                let _ = self.env.comm(pid);
                COMM_ADDR
            }
            FieldKind::Cpu => u64::from(self.rec.cpu),
            FieldKind::Event => {
                let v = match f.size {
                    1 | 2 | 4 | 8 => self
                        .endian
                        .uint(self.rec.data, f.offset as usize, f.size as usize)
                        .unwrap_or(0),
                    _ => 0,
                };
                if !f.flags.has(FieldFlags::SIGNED) {
                    return v;
                }
                match f.size {
                    1 => v as u8 as i8 as i64 as u64,
                    2 => v as u16 as i16 as i64 as u64,
                    4 => v as u32 as i32 as i64 as u64,
                    _ => v,
                }
            }
        }
    }
}

/// The bytes of a C string starting at `off` in `data`, up to its NUL (or the record's end).
fn c_str_at(data: &[u8], off: usize, max: Option<usize>) -> &[u8] {
    let Some(tail) = data.get(off..) else {
        return &[];
    };
    let tail = match max {
        Some(m) if m < tail.len() => &tail[..m],
        _ => tail,
    };
    match memchr::memchr(0, tail) {
        Some(n) => &tail[..n],
        None => tail,
    }
}

/// `get_field_str` for a string field: the bytes the C would hand to `strcmp`/`regexec`.
fn string_field<'d>(f: &FieldRef, data: &'d [u8]) -> &'d [u8] {
    let mut start = f.offset as usize;
    let mut size = f.size as usize;
    if f.flags.has(FieldFlags::DYNAMIC) {
        let d = data
            .get(start..start + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        size = (d >> 16) as usize;
        let mut addr = (d & 0xffff) as usize;
        if f.flags.has(FieldFlags::RELATIVE) {
            addr += f.offset as usize + f.size as usize;
        }
        start = addr;
    }
    // C checks the last byte of the string; when it is not NUL it copies `field->size` bytes
    // (the descriptor's size for dynamic fields) into a NUL-terminated buffer.
    let last = (start + size).wrapping_sub(1);
    let last_byte = data.get(last).copied().unwrap_or(0);
    if last_byte != 0 {
        c_str_at(data, start, Some(f.size as usize))
    } else {
        c_str_at(data, start, None)
    }
}

/// Formats `0x%llx` into `buf`, returning the used part.
fn hex(v: u64, buf: &mut [u8; 18]) -> &[u8] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut tmp = [0u8; 16];
    let mut n = 0;
    let mut x = v;
    loop {
        tmp[n] = DIGITS[(x & 15) as usize];
        n += 1;
        x >>= 4;
        if x == 0 {
            break;
        }
    }
    buf[0] = b'0';
    buf[1] = b'x';
    for i in 0..n {
        buf[2 + i] = tmp[n - 1 - i];
    }
    &buf[..2 + n]
}

impl Tree {
    /// `test_filter` on the root.
    pub(crate) fn test<E: FilterEnv + ?Sized>(
        &self,
        cx: &mut Ctx<'_, '_, E>,
    ) -> Result<bool, MatchError> {
        self.test_filter(self.root, cx)
    }

    fn test_filter<E: FilterEnv + ?Sized>(
        &self,
        id: Id,
        cx: &mut Ctx<'_, '_, E>,
    ) -> Result<bool, MatchError> {
        match self.node(id) {
            Arg::Boolean(b) => Ok(*b),
            Arg::Op { op, left, right } => match op {
                BoolOp::And => Ok(self.test_opt(*left, cx)? && self.test_opt(*right, cx)?),
                BoolOp::Or => Ok(self.test_opt(*left, cx)? || self.test_opt(*right, cx)?),
                BoolOp::Not => Ok(!self.test_opt(*right, cx)?),
            },
            Arg::Num { cmp, left, right } => {
                let l = self.value_opt(*left, cx);
                let r = self.value_opt(*right, cx);
                let (l, r) = (l?, r?);
                Ok(match cmp {
                    Cmp::Eq => l == r,
                    Cmp::Ne => l != r,
                    Cmp::Gt => l > r,
                    Cmp::Lt => l < r,
                    Cmp::Ge => l >= r,
                    Cmp::Le => l <= r,
                    Cmp::Regex | Cmp::NotRegex => return Err(MatchError::IllegalIntegerCmp),
                })
            }
            Arg::Str {
                cmp,
                field,
                val,
                regex,
            } => {
                let mut buf = [0u8; 18];
                let hit = |s: &[u8]| match cmp {
                    StrCmp::Match => s == &val[..],
                    StrCmp::NotMatch => s != &val[..],
                    StrCmp::Regex => regex.as_ref().is_some_and(|r| r.is_match(s)),
                    StrCmp::NotRegex => !regex.as_ref().is_some_and(|r| r.is_match(s)),
                };
                match field.kind {
                    // get_field_str reads the pseudo-field's NULL event: SIGSEGV in C.
                    FieldKind::Cpu => Err(MatchError::CpuStringCompare),
                    FieldKind::Comm => {
                        let pid = cx.pid();
                        let s = cx.env.comm(pid);
                        Ok(hit(c_str_at(s, 0, None)))
                    }
                    _ if field.flags.has(FieldFlags::STRING) => {
                        Ok(hit(string_field(field, cx.rec.data)))
                    }
                    _ => {
                        let addr = cx.field_value(field);
                        if field.flags.0 & (FieldFlags::POINTER | FieldFlags::LONG) != 0 {
                            if let Some(name) = cx.env.function(addr) {
                                return Ok(hit(c_str_at(name, 0, None)));
                            }
                        }
                        Ok(hit(hex(addr, &mut buf)))
                    }
                }
            }
            Arg::Exp { .. } | Arg::Value(_) | Arg::Field(_) => Ok(self.value(id, cx)? != 0),
            Arg::Free => Err(MatchError::InvalidArgType),
        }
    }

    fn test_opt<E: FilterEnv + ?Sized>(
        &self,
        id: Option<Id>,
        cx: &mut Ctx<'_, '_, E>,
    ) -> Result<bool, MatchError> {
        // The collapsed tree has no holes; a hole would have crashed the C at parse time.
        self.test_filter(id.ok_or(MatchError::InvalidArgType)?, cx)
    }

    fn value_opt<E: FilterEnv + ?Sized>(
        &self,
        id: Option<Id>,
        cx: &mut Ctx<'_, '_, E>,
    ) -> Result<u64, MatchError> {
        self.value(id.ok_or(MatchError::InvalidArgType)?, cx)
    }

    /// `get_arg_value`. Both sides of an expression are evaluated before an error is looked
    /// at, as in C (a `COMM` lookup on the other side still happens).
    fn value<E: FilterEnv + ?Sized>(
        &self,
        id: Id,
        cx: &mut Ctx<'_, '_, E>,
    ) -> Result<u64, MatchError> {
        match self.node(id) {
            Arg::Field(f) => Ok(cx.field_value(f)),
            Arg::Value(Value::Number(n)) => Ok(*n),
            Arg::Value(Value::CharAddr) => Ok(CHAR_ADDR),
            Arg::Value(_) => Err(MatchError::NotANumber),
            Arg::Exp { op, left, right } => {
                let l = self.value_opt(*left, cx);
                let r = self.value_opt(*right, cx);
                let (l, r) = (l?, r?);
                Ok(match op {
                    ExpOp::Add => l.wrapping_add(r),
                    ExpOp::Sub => l.wrapping_sub(r),
                    ExpOp::Mul => l.wrapping_mul(r),
                    ExpOp::Div => l.checked_div(r).ok_or(MatchError::DivisionByZero)?,
                    ExpOp::Mod => l.checked_rem(r).ok_or(MatchError::DivisionByZero)?,
                    // x86 masks the shift count to 6 bits.
                    ExpOp::Rshift => l.wrapping_shr((r & 63) as u32),
                    ExpOp::Lshift => l.wrapping_shl((r & 63) as u32),
                    ExpOp::And => l & r,
                    ExpOp::Or => l | r,
                    ExpOp::Xor => l ^ r,
                    ExpOp::Not => return Err(MatchError::InvalidExpType),
                })
            }
            _ => Err(MatchError::InvalidArgType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_formatting() {
        let mut b = [0u8; 18];
        assert_eq!(hex(0, &mut b), b"0x0");
        assert_eq!(hex(0x1f, &mut b), b"0x1f");
        assert_eq!(hex(u64::MAX, &mut b), b"0xffffffffffffffff");
    }
}
