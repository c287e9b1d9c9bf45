//! The fixed columns of a report line: comm-pid, CPU, latency flags, timestamp and the padded
//! event name (tracecmd/trace-read.c `trace_show_data`, `print_event_name`, `time_format`;
//! libtraceevent `print_event_time`, `data_latency_format`).

use crate::outbuf::{decimal_at, pack16, pad, put, put_fixed};
use crate::tep::printf::{decimal_into, digits_into, pair_digits};

/// How timestamps are printed (`time_format()` in trace-read.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFmt {
    /// `%6.1000d`: µs, rounded to nearest — ns clocks, the default.
    Usecs,
    /// `%9.1d`: ns — ns clocks with `-t`.
    Nsecs,
    /// `%12d`: a raw integer — counter/tsc clocks (libtraceevent's 10^12 overflows an int,
    /// so it falls back to `%12llu`).
    Raw,
}

impl TimeFmt {
    /// The timestamp alone (libtraceevent `print_event_time`).
    #[inline]
    pub fn write(self, out: &mut Vec<u8>, ts: u64) {
        match self {
            TimeFmt::Usecs => {
                let t = ts.wrapping_add(500) / 1000;
                let secs = t / 1_000_000;
                let us = (t % 1_000_000) as u32;
                if secs < 100_000 {
                    // the usual case, `%5llu.%06u` in one fixed-width piece
                    let mut b = [b' '; 12];
                    let mut v = secs as u32;
                    let mut i = 5;
                    loop {
                        i -= 1;
                        b[i] = b'0' + (v % 10) as u8;
                        v /= 10;
                        if v == 0 {
                            break;
                        }
                    }
                    fraction_into(&mut b[5..], us, 6);
                    put(out, &b);
                } else {
                    write_u64_pad(out, secs, 5);
                    write_fraction(out, us, 6);
                }
            }
            TimeFmt::Nsecs => {
                write_u64_pad(out, ts / 1_000_000_000, 5);
                write_fraction(out, (ts % 1_000_000_000) as u32, 9);
            }
            TimeFmt::Raw => write_u64_pad(out, ts, 12),
        }
    }

    /// The timestamp column of a line: ` %6.1000d:` / ` %9.1d:` / `%12d:`.
    #[inline]
    pub fn write_column(self, out: &mut Vec<u8>, ts: u64) {
        if self == TimeFmt::Usecs {
            let t = ts.wrapping_add(500) / 1000;
            let secs = t / 1_000_000;
            if secs < 100_000 {
                // the usual column, ` %5llu.%06u:`, made in registers and stored at once
                put_usecs_column(out, usecs_column(secs as u32, (t % 1_000_000) as u32));
                return;
            }
        }
        if self != TimeFmt::Raw {
            out.push(b' ');
        }
        self.write(out, ts);
        out.push(b':');
    }
}

/// Appends the 14 bytes of a [`usecs_column`] value, in one store.
#[inline(always)]
fn put_usecs_column(out: &mut Vec<u8>, col: u128) {
    put_fixed(out, col.to_le_bytes(), 14);
}

/// ` %5u.%06u:` of `secs < 100000` and `us < 1000000`, as the little-endian value of its 14
/// bytes.
#[inline(always)]
fn usecs_column(secs: u32, us: u32) -> u128 {
    usecs_head(secs) as u128 | (usecs_tail(us) as u128) << 48
}

/// The first six bytes of [`usecs_column`]: ` %5u`.
#[inline(always)]
fn usecs_head(secs: u32) -> u64 {
    let pair = |v: u32| -> u64 { u16::from_le_bytes(pair_digits(v)) as u64 };
    let digits = (b'0' + (secs / 10_000) as u8) as u64
        | pair(secs / 100 % 100) << 8
        | pair(secs % 100) << 24;
    // `%5u`: the leading zeros but the last digit become spaces
    let n = secs.checked_ilog10().map_or(1, |l| l + 1);
    let blank = (1u64 << (8 * (5 - n))) - 1;
    let secs = (digits & !blank) | (0x20_2020_2020 & blank);
    b' ' as u64 | secs << 8
}

/// The last eight bytes of [`usecs_column`]: `.%06u:`.
#[inline(always)]
fn usecs_tail(us: u32) -> u64 {
    let pair = |v: u32| -> u64 { u16::from_le_bytes(pair_digits(v)) as u64 };
    b'.' as u64
        | pair(us / 10_000) << 8
        | pair(us / 100 % 100) << 24
        | pair(us % 100) << 40
        | (b':' as u64) << 56
}

/// [`TimeFmt::write_column`] keeping the seconds part of the usual column made for the last
/// line: lines come in time order, and most share their second with the line before.
pub(crate) struct TimeColumn {
    /// The times whose column starts with `head`: `ts + 500` in `[lo, lo + 10^9)` (`lo` a
    /// whole second); empty (`lo` = `u64::MAX`) until the first usual column.
    lo: u64,
    head: u64,
}

impl Default for TimeColumn {
    fn default() -> Self {
        TimeColumn {
            lo: u64::MAX,
            head: 0,
        }
    }
}

impl TimeColumn {
    #[inline]
    pub(crate) fn write(&mut self, fmt: TimeFmt, out: &mut Vec<u8>, ts: u64) {
        if fmt != TimeFmt::Usecs {
            return fmt.write_column(out, ts);
        }
        let r = ts.wrapping_add(500);
        // within the kept second the microseconds come from a 32-bit division
        let mut ns = r.wrapping_sub(self.lo);
        if ns >= 1_000_000_000 || self.lo == u64::MAX {
            let secs = r / 1_000_000_000;
            if secs >= 100_000 {
                return fmt.write_column(out, ts);
            }
            self.lo = secs * 1_000_000_000;
            self.head = usecs_head(secs as u32);
            ns = r - self.lo;
        }
        let us = ns as u32 / 1000;
        put_usecs_column(out, self.head as u128 | (usecs_tail(us) as u128) << 48);
    }
}

/// `.` and `v` zero-padded to `digits` (6 or 9) digits, `v < 10^digits`.
#[inline]
fn write_fraction(out: &mut Vec<u8>, v: u32, digits: usize) {
    let mut b = [0u8; 10];
    fraction_into(&mut b, v, digits);
    put(out, &b[..=digits]);
}

/// [`write_fraction`] into `b[..=digits]`.
#[inline]
fn fraction_into(b: &mut [u8], v: u32, digits: usize) {
    b[0] = b'.';
    // two digits per step from the right; 9 digits end with a lone one
    let mut v = v;
    let mut i = digits + 1;
    while i >= 3 {
        let pair = pair_digits(v % 100);
        v /= 100;
        i -= 2;
        b[i] = pair[0];
        b[i + 1] = pair[1];
    }
    if i == 2 {
        b[1] = b'0' + v as u8;
    }
}

/// `%*llu`: right-aligned in `width`.
#[inline]
pub fn write_u64_pad(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [0u8; 24];
    let at = decimal_into(&mut buf, v);
    let n = buf.len() - at;
    if n < width {
        pad(out, width - n, b' ');
    }
    put(out, &buf[at..]);
}

#[inline]
fn fmt_u64(buf: &mut [u8; 24], v: u64) -> &[u8] {
    let at = decimal_into(buf, v);
    &buf[at..]
}

/// `%d` of an int.
#[inline]
pub fn write_i32(out: &mut Vec<u8>, v: i32) {
    if v < 0 {
        out.push(b'-');
    }
    let mut buf = [0u8; 24];
    put(out, fmt_u64(&mut buf, v.unsigned_abs() as u64));
}

/// `"%16s-%-5d [%03d]"` (or `"%8.8s-%-5d %3d"` with `-l`).
#[inline]
pub fn write_comm_pid_cpu(out: &mut Vec<u8>, comm: &[u8], pid: i32, cpu: u32, latency: bool) {
    if !latency && comm.len() <= 16 && cpu < 1000 {
        return write_comm_pid_cpu_packed(out, pack16(comm), comm.len(), pid, cpu);
    }
    let c = if latency {
        &comm[..comm.len().min(8)]
    } else {
        comm
    };
    let w = if latency { 8 } else { 16 };
    if c.len() < w {
        pad(out, w - c.len(), b' ');
    }
    put(out, c);
    out.push(b'-');
    let start = out.len();
    write_i32(out, pid);
    let n = out.len() - start;
    if n < 5 {
        pad(out, 5 - n, b' ');
    }
    let mut buf = [0u8; 24];
    let digits = fmt_u64(&mut buf, cpu as u64);
    if latency {
        out.push(b' ');
        if digits.len() < 3 {
            pad(out, 3 - digits.len(), b' ');
        }
        put(out, digits);
    } else {
        out.extend_from_slice(b" [");
        if digits.len() < 3 {
            pad(out, 3 - digits.len(), b'0');
        }
        put(out, digits);
        out.push(b']');
    }
}

/// The usual `"%16s-%-5d [%03d]"`: a comm of `n <= 16` bytes packed by [`pack16`], a CPU
/// below 1000. Written in place, the comm right-aligned in one 16-byte store.
#[inline]
pub(crate) fn write_comm_pid_cpu_packed(
    out: &mut Vec<u8>,
    comm: u128,
    n: usize,
    pid: i32,
    cpu: u32,
) {
    const SPACES: u128 = u128::from_ne_bytes([b' '; 16]);
    debug_assert!(n <= 16 && cpu < 1000);
    // the comm's bytes moved up to end at column 16, spaces below them
    let body = if n == 0 { 0 } else { comm << ((16 - n) * 8) };
    let lead = if n == 16 { 0 } else { SPACES >> (n * 8) };
    out.reserve(48);
    let len = out.len();
    // SAFETY: the capacity is at least `len + 48`; the widest line written here is 16 + 1
    // + 11 (sign and ten digits) + 6 = 34 bytes, every byte of it written before the length
    // covers it.
    unsafe {
        let d = out.as_mut_ptr().add(len);
        d.cast::<[u8; 16]>()
            .write_unaligned((body | lead).to_le_bytes());
        *d.add(16) = b'-';
        // `%-5d` pads the sign and digits together to five
        d.add(17).cast::<[u8; 8]>().write_unaligned([b' '; 8]);
        let mut k = 17;
        if pid < 0 {
            *d.add(k) = b'-';
            k += 1;
        }
        k += decimal_at(d.add(k), pid.unsigned_abs() as u64);
        let k = k.max(22);
        d.add(k).cast::<[u8; 6]>().write_unaligned([
            b' ',
            b'[',
            b'0' + (cpu / 100) as u8,
            b'0' + (cpu / 10 % 10) as u8,
            b'0' + (cpu % 10) as u8,
            b']',
        ]);
        out.set_len(len + k + 6);
    }
}

/// The comm-pid-CPU columns of recent lines ([`write_comm_pid_cpu_packed`]), by pid: a
/// trace's lines come from a few tasks at a time, and copying a column made before takes a
/// fraction of making it (centring the comm, the pid's digits).
pub(crate) struct CommColumns {
    slots: Vec<ColumnSlot>,
}

/// Slots of [`CommColumns`].
const COLUMN_SLOTS: usize = 64;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct ColumnSlot {
    comm: u128,
    /// pid, CPU and comm length ([`column_key`]); `u64::MAX` in an empty slot.
    key: u64,
    len: u8,
    /// The column, then bytes never read: the copy is one fixed 48-byte move.
    bytes: [u8; 48],
}

#[inline(always)]
fn column_key(n: usize, pid: i32, cpu: u32) -> u64 {
    pid as u32 as u64 | (cpu as u64) << 32 | (n as u64) << 48
}

impl Default for CommColumns {
    fn default() -> Self {
        let empty = ColumnSlot {
            comm: 0,
            key: u64::MAX,
            len: 0,
            bytes: [0; 48],
        };
        CommColumns {
            slots: vec![empty; COLUMN_SLOTS],
        }
    }
}

impl CommColumns {
    /// [`write_comm_pid_cpu_packed`], from a slot when this pid's last column had the same
    /// comm and CPU.
    #[inline]
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, comm: u128, n: usize, pid: i32, cpu: u32) {
        let key = column_key(n, pid, cpu);
        let s = &mut self.slots[pid as u32 as usize % COLUMN_SLOTS];
        if s.key == key && s.comm == comm {
            put_fixed(out, s.bytes, s.len as usize);
            return;
        }
        let start = out.len();
        write_comm_pid_cpu_packed(out, comm, n, pid, cpu);
        let col = &out[start..];
        s.key = key;
        s.comm = comm;
        s.len = col.len() as u8;
        s.bytes[..col.len()].copy_from_slice(col);
    }
}

/// `print_event_name`: ` name: ` then spaces up to 20 columns of name.
#[inline]
pub fn write_event_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b' ');
    put(out, name);
    out.extend_from_slice(b": ");
    if name.len() < 20 {
        pad(out, 20 - name.len(), b' ');
    }
}

/// Where the latency-format fields are in every record (libtraceevent looks them up once,
/// on the lowest-id event, and remembers whether lock_depth/migrate_disable exist).
#[derive(Clone, Copy, Debug, Default)]
pub struct LatencyFields {
    /// common_flags (offset, size)
    pub flags: Option<(usize, usize)>,
    /// common_preempt_count
    pub preempt: Option<(usize, usize)>,
    /// common_migrate_disable (old RT kernels)
    pub migrate_disable: Option<(usize, usize)>,
    /// common_lock_depth (old kernels)
    pub lock_depth: Option<(usize, usize)>,
    /// The offsets of one-byte flags and preempt_count fields when there are no others (every
    /// kernel since 2.6.3x): five columns made straight from two bytes.
    bytes: Option<(usize, usize)>,
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The three flag columns for each value of the five TRACE_FLAG_* bits below.
const FLAG_COLUMNS: [[u8; 3]; 32] = {
    let mut t = [[0u8; 3]; 32];
    let mut f = 0;
    while f < 32 {
        t[f][0] = if f as u32 & FLAG_IRQS_OFF != 0 {
            b'd'
        } else if f as u32 & FLAG_IRQS_NOSUPPORT != 0 {
            b'X'
        } else {
            b'.'
        };
        t[f][1] = if f as u32 & FLAG_NEED_RESCHED != 0 {
            b'N'
        } else {
            b'.'
        };
        let hard = f as u32 & FLAG_HARDIRQ != 0;
        let soft = f as u32 & FLAG_SOFTIRQ != 0;
        t[f][2] = match (hard, soft) {
            (true, true) => b'H',
            (true, false) => b'h',
            (false, true) => b's',
            _ => b'.',
        };
        f += 1;
    }
    t
};

/// TRACE_FLAG_* bits of common_flags.
pub const FLAG_IRQS_OFF: u32 = 0x01;
pub const FLAG_IRQS_NOSUPPORT: u32 = 0x02;
pub const FLAG_NEED_RESCHED: u32 = 0x04;
pub const FLAG_HARDIRQ: u32 = 0x08;
pub const FLAG_SOFTIRQ: u32 = 0x10;

impl LatencyFields {
    pub fn new(
        flags: Option<(usize, usize)>,
        preempt: Option<(usize, usize)>,
        migrate_disable: Option<(usize, usize)>,
        lock_depth: Option<(usize, usize)>,
    ) -> Self {
        let bytes = match (flags, preempt, migrate_disable, lock_depth) {
            (Some((f, 1)), Some((p, 1)), None, None) => Some((f, p)),
            _ => None,
        };
        LatencyFields {
            flags,
            preempt,
            migrate_disable,
            lock_depth,
            bytes,
        }
    }

    fn read(e: crate::Endian, data: &[u8], f: Option<(usize, usize)>) -> Option<i64> {
        let (off, size) = f?;
        let v = e.uint(data, off, size).unwrap_or(0);
        // __parse_common reads with tep_read_number and returns an int.
        Some(v as u32 as i32 as i64)
    }

    /// `tep_data_flags`: common_flags, or -1 when the field is missing.
    pub fn flags(&self, e: crate::Endian, data: &[u8]) -> i64 {
        Self::read(e, data, self.flags).unwrap_or(-1)
    }

    /// `data_latency_format`: `d`/`X`/`.`, `N`/`.`, `H`/`h`/`s`/`.`, preempt depth, migrate
    /// disable (high nibble), then optional migrate_disable and lock_depth columns.
    pub fn write(&self, out: &mut Vec<u8>, e: crate::Endian, data: &[u8]) {
        if let Some((fo, po)) = self.bytes {
            if let (Some(&flags), Some(&pc)) = (data.get(fo), data.get(po)) {
                let f = &FLAG_COLUMNS[(flags & 0x1f) as usize];
                let digit = |d: u8| if d != 0 { HEX_DIGITS[d as usize] } else { b'.' } as u64;
                let w = f[0] as u64
                    | (f[1] as u64) << 8
                    | (f[2] as u64) << 16
                    | digit(pc & 0xf) << 24
                    | digit(pc >> 4) << 32;
                crate::outbuf::put_word(out, w, 5);
                return;
            }
        }
        self.write_general(out, e, data)
    }

    fn write_general(&self, out: &mut Vec<u8>, e: crate::Endian, data: &[u8]) {
        let flags = self.flags(e, data) as u32;
        let pc = Self::read(e, data, self.preempt).unwrap_or(-1) as u32;
        // the columns, built here and copied once; the flag letters depend on five bits
        let mut b = [0u8; 12];
        b[..3].copy_from_slice(&FLAG_COLUMNS[(flags & 0x1f) as usize]);
        b[3] = if pc & 0xf != 0 {
            HEX_DIGITS[(pc & 0xf) as usize]
        } else {
            b'.'
        };
        let mut n = 4;
        if pc & 0xf0 != 0 {
            // "%x" of pc >> 4: more than one digit when the upper bits are set
            let mut d = [0u8; 24];
            let i = digits_into(&mut d, (pc >> 4) as u64, 16, false);
            let k = d.len() - i;
            b[n..n + k].copy_from_slice(&d[i..]);
            n += k;
        } else {
            b[n] = b'.';
            n += 1;
        }
        put(out, &b[..n]);
        for f in [self.migrate_disable, self.lock_depth] {
            if let Some(v) = Self::read(e, data, f) {
                if v < 0 {
                    out.push(b'.');
                } else {
                    write_i32(out, v as i32);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_columns_of_byte_fields_as_the_general_writer() {
        let lat = LatencyFields::new(Some((2, 1)), Some((3, 1)), None, None);
        assert!(lat.bytes.is_some());
        let (mut fast, mut general) = (Vec::new(), Vec::new());
        for flags in 0..=255u8 {
            for pc in 0..=255u8 {
                let data = [7, 0, flags, pc, 1, 2, 3, 4];
                fast.clear();
                general.clear();
                lat.write(&mut fast, crate::Endian::Little, &data);
                lat.write_general(&mut general, crate::Endian::Little, &data);
                assert_eq!(fast, general, "flags {flags:#x} pc {pc:#x}");
            }
        }
        // a record too short for the fields
        fast.clear();
        general.clear();
        lat.write(&mut fast, crate::Endian::Little, &[1, 0, 3]);
        lat.write_general(&mut general, crate::Endian::Little, &[1, 0, 3]);
        assert_eq!(fast, general);
    }

    #[test]
    fn time_formats() {
        let mut v = Vec::new();
        TimeFmt::Usecs.write_column(&mut v, 71_145_939_500);
        assert_eq!(v, b"    71.145940:");
        for (ts, want) in [
            (0, "    0.000000"),
            (999_999_499, "    0.999999"),
            (999_999_500, "    1.000000"),
            (99_999_999_999_499, "99999.999999"),
            (99_999_999_999_500, "100000.000000"),
            (1_234_567_890_123_456, "1234567.890123"),
            (3_818_094_098_000, " 3818.094098"),
        ] {
            v.clear();
            TimeFmt::Usecs.write(&mut v, ts);
            assert_eq!(String::from_utf8_lossy(&v), want, "{ts}");
        }
        // the column made in registers against the general writer
        for ts in [
            0u64,
            499,
            500,
            999_999_499,
            999_999_500,
            9_999_999_999,
            12_345_678_901_234,
            99_999_999_999_499,
            99_999_999_999_500,
        ]
        .into_iter()
        .chain((0..2000).map(|k| k * 48_271_337_919 % 99_999_999_999_999))
        {
            v.clear();
            TimeFmt::Usecs.write_column(&mut v, ts);
            let mut w = vec![b' '];
            TimeFmt::Usecs.write(&mut w, ts);
            w.push(b':');
            assert_eq!(
                String::from_utf8_lossy(&v),
                String::from_utf8_lossy(&w),
                "{ts}"
            );
        }
        v.clear();
        TimeFmt::Nsecs.write_column(&mut v, 71_145_939_500);
        assert_eq!(v, b"    71.145939500:");
        v.clear();
        TimeFmt::Raw.write_column(&mut v, 2);
        assert_eq!(v, b"           2:");
        v.clear();
        TimeFmt::Raw.write_column(&mut v, 6268068829420);
        assert_eq!(v, b"6268068829420:");
    }

    #[test]
    fn kept_seconds_make_the_same_time_columns() {
        // times going on within a second, across seconds, back in time, and each format
        let mut tc = TimeColumn::default();
        let mut v = Vec::new();
        tc.write(TimeFmt::Usecs, &mut v, 1_500);
        assert_eq!(v, b"     0.000002:");
        for ts in [
            u64::MAX - 500,
            u64::MAX,
            99_999_999_999_499,
            99_999_999_999_500,
            0,
        ] {
            let mut w = Vec::new();
            v.clear();
            tc.write(TimeFmt::Usecs, &mut v, ts);
            TimeFmt::Usecs.write_column(&mut w, ts);
            assert_eq!(v, w, "{ts}");
        }
        let mut ts = 0u64;
        let mut w = Vec::new();
        for k in 0..20_000u64 {
            ts = match k % 7 {
                0 => ts + 999_999_900,
                1 => ts.saturating_sub(3_000_000_000),
                2 if k % 1000 == 2 => 99_999_999_999_000 + k,
                _ => ts + k * 7_919 % 400_000,
            };
            let fmt = match k % 97 {
                0 => TimeFmt::Nsecs,
                1 => TimeFmt::Raw,
                _ => TimeFmt::Usecs,
            };
            v.clear();
            w.clear();
            tc.write(fmt, &mut v, ts);
            fmt.write_column(&mut w, ts);
            assert_eq!(
                String::from_utf8_lossy(&v),
                String::from_utf8_lossy(&w),
                "{ts}"
            );
        }
    }

    #[test]
    fn kept_comm_columns_are_the_columns_made() {
        // pids sharing a slot, a pid changing comm or CPU, negative pids, long comms
        let comms: [&[u8]; 5] = [b"", b"sh", b"kworker/u8:3", b"sixteen-bytes-xx", b"a b"];
        let mut cc = CommColumns::default();
        let (mut v, mut w) = (Vec::new(), Vec::new());
        for k in 0..5_000u32 {
            let pid = match k % 5 {
                0 => 7,
                1 => 7 + 64,
                2 => -57,
                3 => (k * 31) as i32,
                _ => i32::MAX - (k % 3) as i32,
            };
            let comm = comms[(k / 3 % 5) as usize];
            let cpu = k / 7 % 3 * 499;
            v.clear();
            w.clear();
            cc.write(&mut v, pack16(comm), comm.len(), pid, cpu);
            write_comm_pid_cpu_packed(&mut w, pack16(comm), comm.len(), pid, cpu);
            assert_eq!(v, w, "{pid} {cpu}");
            v.clear();
            write_comm_pid_cpu(&mut v, comm, pid, cpu, false);
            assert_eq!(v, w, "{pid} {cpu}");
        }
    }

    #[test]
    fn comm_columns() {
        let mut v = Vec::new();
        write_comm_pid_cpu(&mut v, b"trace-cmd", 145, 0, false);
        assert_eq!(v, b"       trace-cmd-145   [000]");
        v.clear();
        write_comm_pid_cpu(&mut v, b"make-cores", 3502, 0, true);
        assert_eq!(v, b"make-cor-3502    0");
        v.clear();
        write_comm_pid_cpu(&mut v, b"<idle>", -1, 123, false);
        assert_eq!(v, b"          <idle>--1    [123]");
        v.clear();
        write_comm_pid_cpu(&mut v, b"a-very-long-comm-name", 1234567, 1, true);
        assert_eq!(v, b"a-very-l-1234567   1");
        v.clear();
        // the one-piece layout against the general one, around its edges
        for comm in [&b""[..], b"a", b"sixteen-bytes-ab", b"seventeen-bytes-a"] {
            for pid in [0, 7, -1, 12345, 123456, 1234567, -99999, i32::MIN, i32::MAX] {
                for cpu in [0, 5, 42, 999, 1000, 12345] {
                    v.clear();
                    write_comm_pid_cpu(&mut v, comm, pid, cpu, false);
                    let want = format!(
                        "{:>16}-{:<5} [{:03}]",
                        String::from_utf8_lossy(comm),
                        pid,
                        cpu
                    );
                    assert_eq!(String::from_utf8_lossy(&v), want);
                }
            }
        }
        v.clear();
        write_event_name(&mut v, b"sched_switch");
        assert_eq!(v, b" sched_switch:         ");
    }
}
