//! Appending short pieces to an output line.
//!
//! A report line is built from a dozen or more pieces of a few bytes each (a comm, a pid's
//! digits, a field name from the print format, padding). `Vec::extend_from_slice` and
//! `Vec::resize` with a length only known at run time end in calls to libc's `memcpy` and
//! `memset`, whose call and size dispatch cost more than the copy itself at these sizes
//! (12% of `report`'s time went there). These helpers copy up to 32 bytes with a few
//! unaligned loads and stores when the vector has room, and fall back to the standard calls
//! otherwise.

/// Appends `s` to `out`.
#[inline(always)]
pub(crate) fn put(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    let len = out.len();
    if n <= 32 && out.capacity() - len >= 32 {
        // SAFETY: `out` has at least 32 bytes of spare capacity, so `dst..dst + 32` is
        // writable; every read is inside `s` (the overlapping pairs cover `s` exactly, from
        // both ends); `len + n <= capacity`, and those bytes are initialized by the writes.
        unsafe {
            let src = s.as_ptr();
            let dst = out.as_mut_ptr().add(len);
            if n >= 16 {
                let a = src.cast::<u128>().read_unaligned();
                let b = src.add(n - 16).cast::<u128>().read_unaligned();
                dst.cast::<u128>().write_unaligned(a);
                dst.add(n - 16).cast::<u128>().write_unaligned(b);
            } else if n >= 8 {
                let a = src.cast::<u64>().read_unaligned();
                let b = src.add(n - 8).cast::<u64>().read_unaligned();
                dst.cast::<u64>().write_unaligned(a);
                dst.add(n - 8).cast::<u64>().write_unaligned(b);
            } else if n >= 4 {
                let a = src.cast::<u32>().read_unaligned();
                let b = src.add(n - 4).cast::<u32>().read_unaligned();
                dst.cast::<u32>().write_unaligned(a);
                dst.add(n - 4).cast::<u32>().write_unaligned(b);
            } else if n > 0 {
                *dst = *src;
                *dst.add(n / 2) = *src.add(n / 2);
                *dst.add(n - 1) = *src.add(n - 1);
            }
            out.set_len(len + n);
        }
    } else {
        out.extend_from_slice(s);
    }
}

/// Appends the low `n` bytes (`n <= 8`) of `w`, first byte lowest: a piece made in a
/// register is stored at once (bytes stored one by one and read back as a word stall the
/// load).
#[inline(always)]
pub(crate) fn put_word(out: &mut Vec<u8>, w: u64, n: usize) {
    put_fixed(out, w.to_le_bytes(), n);
}

/// Appends the first `n` bytes of `bytes` (all `N` stored at once, the rest left beyond
/// the new length): one wide store instead of a copy of variable length.
#[inline(always)]
pub(crate) fn put_fixed<const N: usize>(out: &mut Vec<u8>, bytes: [u8; N], n: usize) {
    let n = n.min(N);
    let len = out.len();
    if out.capacity() - len < N {
        out.reserve(N);
    }
    // SAFETY: at least N bytes of spare capacity; `len + n <= capacity` and those bytes are
    // initialized by the write.
    unsafe {
        out.as_mut_ptr()
            .add(len)
            .cast::<[u8; N]>()
            .write_unaligned(bytes);
        out.set_len(len + n);
    }
}

/// Appends `n` copies of `byte` to `out`.
#[inline(always)]
pub(crate) fn pad(out: &mut Vec<u8>, n: usize, byte: u8) {
    let len = out.len();
    if n <= 32 && out.capacity() - len >= 32 {
        let v = u128::from_ne_bytes([byte; 16]);
        // SAFETY: 32 bytes of spare capacity are writable; `len + n <= capacity` and those
        // bytes are initialized by the two stores.
        unsafe {
            let dst = out.as_mut_ptr().add(len);
            dst.cast::<u128>().write_unaligned(v);
            dst.add(16).cast::<u128>().write_unaligned(v);
            out.set_len(len + n);
        }
    } else {
        out.resize(len + n, byte);
    }
}

/// Two decimal digits for each value below 100.
pub(crate) const DEC_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends the decimal digits of `m`. They are written in place, right to left, once their
/// count is known: digits made in a buffer on the stack and then copied are read back by
/// wide loads that span several narrow stores, which the CPU cannot forward (each such
/// number stalls for the stores to complete).
#[inline]
pub(crate) fn push_decimal(out: &mut Vec<u8>, m: u64) {
    out.reserve(20);
    let len = out.len();
    // SAFETY: the capacity is at least `len + 20`, room for any u64's digits, which
    // decimal_at writes before the length covers them.
    unsafe {
        let n = decimal_at(out.as_mut_ptr().add(len), m);
        out.set_len(len + n);
    }
}

/// How many decimal digits `m` has (1 to 20).
#[inline(always)]
pub(crate) fn decimal_len(m: u64) -> usize {
    m.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// Writes the decimal digits of `m` at `dst`; returns how many.
///
/// # Safety
///
/// `dst..dst + decimal_len(m)` must be writable.
#[inline(always)]
pub(crate) unsafe fn decimal_at(dst: *mut u8, m: u64) -> usize {
    let n = decimal_len(m);
    let mut i = n;
    let mut m = m;
    // SAFETY: every write is below `dst + n`, which the caller made writable.
    unsafe {
        while m >= 100 {
            let r = (m % 100) as usize * 2;
            m /= 100;
            i -= 2;
            *dst.add(i) = DEC_PAIRS[r];
            *dst.add(i + 1) = DEC_PAIRS[r + 1];
        }
        if m >= 10 {
            let r = m as usize * 2;
            *dst = DEC_PAIRS[r];
            *dst.add(1) = DEC_PAIRS[r + 1];
        } else {
            *dst = b'0' + m as u8;
        }
    }
    n
}

/// The bytes of `s` (at most 16) as a little-endian number, zeros above: loaded in a few
/// overlapping reads and kept in registers, so a short string can be stored in one piece.
#[inline(always)]
pub(crate) fn pack16(s: &[u8]) -> u128 {
    let n = s.len();
    debug_assert!(n <= 16);
    let le8 = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("eight bytes"));
    let le4 = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("four bytes"));
    if n >= 8 {
        // the second read overlaps the first: drop the bytes it shares with it
        let hi = if n > 8 {
            le8(&s[n - 8..n]) >> ((16 - n) * 8)
        } else {
            0
        };
        le8(&s[..8]) as u128 | (hi as u128) << 64
    } else if n >= 4 {
        let hi = if n > 4 {
            le4(&s[n - 4..n]) >> ((8 - n) * 8)
        } else {
            0
        };
        (le4(&s[..4]) as u64 | (hi as u64) << 32) as u128
    } else {
        let mut v = 0u128;
        for (i, &b) in s.iter().enumerate() {
            v |= (b as u128) << (8 * i);
        }
        v
    }
}

/// `%x`/`%X` of `m`: its hexadecimal digits appended in place (as [`push_decimal`]).
#[inline]
pub(crate) fn push_hex(out: &mut Vec<u8>, m: u64, upper: bool) {
    let n = hex_len(m);
    out.reserve(16);
    let len = out.len();
    // the digits first, then zeros
    let b = (hex16(m, upper) >> (8 * (16 - n))).to_le_bytes();
    // SAFETY: the capacity is at least `len + 16`; the 16 bytes are written before the
    // length covers the first `n` of them.
    unsafe {
        std::ptr::copy_nonoverlapping(b.as_ptr(), out.as_mut_ptr().add(len), 16);
        out.set_len(len + n);
    }
}

/// How many hex digits `m` has (one for zero).
#[inline]
pub(crate) fn hex_len(m: u64) -> usize {
    ((67 - m.leading_zeros() as usize) / 4).max(1)
}

/// The 16 hex digits of `m`, zero-padded, as the bytes of a little-endian `u128` (the first
/// digit in its lowest byte). Every nibble at once: numbers are most of a report's hex
/// (pointers, pfns, syscall arguments), and a digit per step waited on the one before.
#[inline]
pub(crate) fn hex16(m: u64, upper: bool) -> u128 {
    // a nibble per byte, the least significant nibble in the lowest byte
    fn spread(x: u32) -> u64 {
        let x = x as u64;
        let x = (x | x << 16) & 0x0000_ffff_0000_ffff;
        let x = (x | x << 8) & 0x00ff_00ff_00ff_00ff;
        (x | x << 4) & 0x0f0f_0f0f_0f0f_0f0f
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    let letter = if upper { 7 } else { 0x27 };
    let ascii = |v: u64| {
        // 1 in each byte holding 10 or more
        let big = ((v + 6 * ONES) >> 4) & ONES;
        v + 0x30 * ONES + big * letter
    };
    // the most significant digit first in memory: the low half's bytes reversed come last
    let lo = ascii(spread(m as u32)).swap_bytes();
    let hi = ascii(spread((m >> 32) as u32)).swap_bytes();
    hi as u128 | (lo as u128) << 64
}

/// Where the first NUL in `s` is. The strings of a record (names, comms) are short: their
/// first 32 bytes are looked at eight at a time before `memchr` takes the rest.
#[inline(always)]
pub(crate) fn nul_at(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let head = s.len().min(32);
    let mut i = 0;
    while i + 8 <= head {
        let x = u64::from_le_bytes(s[i..i + 8].try_into().expect("eight bytes"));
        // a zero byte is the lowest one whose high bit this sets (borrows only run upward)
        let z = x.wrapping_sub(LO) & !x & HI;
        if z != 0 {
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    if s.len() > 32 {
        return memchr::memchr(0, &s[i..]).map(|k| i + k);
    }
    s[i..].iter().position(|&b| b == 0).map(|k| i + k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digits_as_format() {
        let mut v = Vec::new();
        let mut vals: Vec<u64> = vec![0, 1, 9, 10, 15, 16, 255, 0xabcdef, u64::MAX, 1 << 63];
        vals.extend((0..64).map(|k| 1u64 << k));
        vals.extend((0..64).map(|k| (1u64 << k) - 1));
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vals.push(x >> (x % 64));
        }
        for m in vals {
            for upper in [false, true] {
                v.clear();
                v.extend_from_slice(b"x=");
                push_hex(&mut v, m, upper);
                let want = if upper {
                    format!("x={m:X}")
                } else {
                    format!("x={m:x}")
                };
                assert_eq!(String::from_utf8_lossy(&v), want);
            }
        }
    }

    #[test]
    fn packed_strings() {
        let src: Vec<u8> = (1..=16).collect();
        for n in 0..=16 {
            let mut want = [0u8; 16];
            want[..n].copy_from_slice(&src[..n]);
            assert_eq!(pack16(&src[..n]).to_le_bytes(), want, "n {n}");
        }
    }

    #[test]
    fn digits_in_place() {
        let mut vals = vec![
            0u64,
            1,
            9,
            10,
            15,
            16,
            99,
            100,
            255,
            256,
            999,
            1000,
            u64::MAX,
        ];
        for k in 0..64 {
            vals.extend([1u64 << k, (1u64 << k) - 1, 10u64.saturating_pow(k % 20)]);
        }
        for v in vals {
            for cap in [0, 3, 100] {
                let mut o = Vec::with_capacity(cap);
                o.push(b'>');
                push_decimal(&mut o, v);
                push_hex(&mut o, v, false);
                push_hex(&mut o, v, true);
                assert_eq!(String::from_utf8_lossy(&o), format!(">{v}{v:x}{v:X}"));
            }
        }
    }

    #[test]
    fn every_short_length_with_and_without_room() {
        let src: Vec<u8> = (1..=40).collect();
        for n in 0..=40 {
            for cap in [0, 8, 40, 64, 100] {
                let mut v = Vec::with_capacity(cap);
                v.extend_from_slice(b"ab");
                put(&mut v, &src[..n]);
                let mut want = b"ab".to_vec();
                want.extend_from_slice(&src[..n]);
                assert_eq!(v, want, "n={n} cap={cap}");
                pad(&mut v, n, b' ');
                want.resize(want.len() + n, b' ');
                assert_eq!(v, want, "pad n={n} cap={cap}");
            }
        }
    }

    #[test]
    fn nul_anywhere() {
        for n in 0..70 {
            let mut s = vec![0x80u8; n];
            assert_eq!(nul_at(&s), None, "n={n}");
            for z in 0..n {
                s[z] = 0;
                assert_eq!(nul_at(&s), Some(z), "n={n} z={z}");
                s[z] = 0x01;
                assert_eq!(nul_at(&s), None, "n={n} z={z}");
                s[z] = 0x80;
            }
            if n > 3 {
                s[1] = 0;
                s[3] = 0;
                assert_eq!(nul_at(&s), Some(1));
            }
        }
    }
}
