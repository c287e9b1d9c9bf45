//! The C library's number parsers with glibc's semantics (`strtoul`, `strtoull`, `strtoll`,
//! `strtol`, `atoi`, `atoll`), as trace-cmd and libtraceevent call them on text from a
//! trace.dat file or the command line: which prefix is accepted, where parsing stops (a NUL
//! included) and what overflow gives decide versions, option values, field offsets, event
//! ids, flag values and constant folding.

/// Parses like glibc `strtoull(s, NULL, base)` (base 0 or 16): leading white space, an
/// optional sign (a `-` negates in two's complement), a `0x` prefix for base 16/0, octal for a
/// leading `0` in base 0. Overflow saturates to `u64::MAX`. Returns 0 when nothing parses.
pub fn strtoull(s: &[u8], base: u32) -> u64 {
    match parse(s, base) {
        None => 0,
        Some(p) if p.overflow => u64::MAX,
        Some(p) if p.neg => p.mag.wrapping_neg(),
        Some(p) => p.mag,
    }
}

struct Parsed {
    neg: bool,
    mag: u64,
    overflow: bool,
}

fn parse(s: &[u8], base: u32) -> Option<Parsed> {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut base = base;
    if (base == 0 || base == 16)
        && i + 2 < s.len()
        && s[i] == b'0'
        && (s[i + 1] | 0x20) == b'x'
        && s[i + 2].is_ascii_hexdigit()
    {
        base = 16;
        i += 2;
    } else if base == 0 {
        base = if i < s.len() && s[i] == b'0' { 8 } else { 10 };
    }
    let start = i;
    let mut mag: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match s[i] {
            c @ b'0'..=b'9' => (c - b'0') as u32,
            c @ b'a'..=b'z' => (c - b'a') as u32 + 10,
            c @ b'A'..=b'Z' => (c - b'A') as u32 + 10,
            _ => break,
        };
        if d >= base {
            break;
        }
        match mag
            .checked_mul(base as u64)
            .and_then(|x| x.checked_add(d as u64))
        {
            Some(n) => mag = n,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return None;
    }
    Some(Parsed { neg, mag, overflow })
}

/// glibc `strtoll(s, NULL, base)` (base 0 or 10; `strtol` on LP64 too): like [`strtoull`]
/// but saturating to the `i64` range.
pub fn strtoll(s: &[u8], base: u32) -> i64 {
    match parse(s, base) {
        None => 0,
        Some(p) if p.neg => {
            if p.overflow || p.mag > 1u64 << 63 {
                i64::MIN
            } else {
                (p.mag as i64).wrapping_neg()
            }
        }
        Some(p) => {
            if p.overflow || p.mag > i64::MAX as u64 {
                i64::MAX
            } else {
                p.mag as i64
            }
        }
    }
}

/// glibc `atoi`: `(int) strtol(s, NULL, 10)`.
pub fn atoi(s: &[u8]) -> i32 {
    strtoll(s, 10) as i32
}

/// glibc `atoll`: `strtoll(s, NULL, 10)`.
pub fn atoll(s: &[u8]) -> i64 {
    strtoll(s, 10)
}

/// C `isspace` in the C locale.
#[inline]
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C `isprint` in the C locale (bytes >= 0x80 are not printable).
#[inline]
pub(crate) fn is_print(c: u8) -> bool {
    (0x20..0x7f).contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull_prefixes_and_stops() {
        assert_eq!(strtoull(b"0x10", 0), 16);
        assert_eq!(strtoull(b"010", 0), 8);
        assert_eq!(strtoull(b"08", 0), 0);
        assert_eq!(strtoull(b"  42abc", 0), 42);
        assert_eq!(strtoull(b"0x", 0), 0);
        assert_eq!(strtoull(b"-1", 0), u64::MAX);
        assert_eq!(strtoull(b"ffffffff81000000", 16), 0xffff_ffff_8100_0000);
        assert_eq!(strtoull(b"0xffffffff81000000", 16), 0xffff_ffff_8100_0000);
        assert_eq!(strtoull(b"99999999999999999999999", 0), u64::MAX);
        assert_eq!(strtoull(b"HRTIMER_MODE_ABS", 0), 0);
        assert_eq!(strtoull(b"1UL", 0), 1);
    }

    #[test]
    fn atoi_and_atoll() {
        assert_eq!(atoi(b"1.2.11"), 1);
        assert_eq!(atoi(b"  -3x"), -3);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"0x10"), 0);
        assert_eq!(atoll(b"-12abc"), -12);
        assert_eq!(atoll(b"99999999999999999999"), i64::MAX);
    }

    #[test]
    fn strtoll_base0_like_glibc() {
        assert_eq!(strtoll(b"0x10", 0), 16);
        assert_eq!(strtoll(b"  -0x10", 0), -16);
        assert_eq!(strtoll(b"010", 0), 8);
        assert_eq!(strtoll(b"123abc", 0), 123);
        assert_eq!(strtoll(b"0x", 0), 0);
        assert_eq!(strtoll(b"0xfffffffffffffc18", 0), i64::MAX);
        assert_eq!(strtoll(b"-99999999999999999999", 0), i64::MIN);
        assert_eq!(strtoll(b"-9223372036854775808", 0), i64::MIN);
        assert_eq!(strtoll(b"12\x0034", 0), 12);
        assert_eq!(strtoll(b"", 0), 0);
    }

    #[test]
    fn strtoll_saturates() {
        assert_eq!(strtoll(b"-5", 0), -5);
        assert_eq!(strtoll(b"0x7fffffffffffffff", 0), i64::MAX);
        assert_eq!(strtoll(b"0xffffffffffffffff", 0), i64::MAX);
        assert_eq!(strtoll(b"-0x8000000000000000", 0), i64::MIN);
        assert_eq!(strtoll(b"abc", 0), 0);
    }
}
