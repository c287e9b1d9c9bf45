//! `/proc/kallsyms` as trace-cmd stores it in trace.dat (KALLSYMS section) and as
//! libtraceevent's `tep_parse_kallsyms()` reads it, plus the address lookup of
//! `find_func()` (src/event-parse.c).
//!
//! Reproduced exactly: lines are split like `strtok(buf, "\n")` (empty lines vanish), each is
//! scanned like `sscanf("%16llx %c %n%*s%n%*1[\t][%n%*s%n")`, and the first line that does not
//! scan ends the parse (the symbols before it are kept); `$`-names and `A`/`a` (absolute)
//! symbols are skipped; a module name is whatever follows `\t[` minus its last byte. Symbols
//! are then ordered like glibc's stable merge-sort `qsort` of libtraceevent's list (which is in
//! reverse file order), and looked up with glibc's `bsearch` and libtraceevent's comparator
//! (`addr == start`, or `start < addr < next start`; the entry after the last one has address
//! 0, so addresses past the last symbol only match it exactly). Aliases at one address
//! therefore resolve to the same name libtraceevent picks.
//!
//! A trace.dat's kallsyms has 100k+ lines (several MB) and a report looks up a few thousand
//! of them, on start-up's critical path: the table keeps the text and indexes it. The parse
//! reads only what orders and filters a symbol (its address, type letter and the first byte
//! of its name) and records where its line starts; a lookup scans the name and module of the
//! line it lands on. Lines are found 64 bytes at a time (a bit per newline), and
//! `/proc/kallsyms` is in address order but for a few lines, so the order is usually found
//! without a sort. Names and modules are slices of the text, which is validated as UTF-8
//! once; the rare name or module that is not valid UTF-8 where it is (a module cut inside a
//! character, or bytes that are not UTF-8) is converted lossily into a side list.

use std::borrow::Cow;
use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::cnum::is_space;

/// One kernel symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    /// Start address.
    pub addr: u64,
    /// Symbol name.
    pub name: Cow<'a, str>,
    /// Module name (`[ext4]` → `ext4`), if any.
    pub module: Option<Cow<'a, str>>,
}

/// A symbol found by [`Kallsyms::find`], borrowed from the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SymRef<'s> {
    pub(crate) addr: u64,
    pub(crate) name: &'s str,
    pub(crate) module: Option<&'s str>,
}

const FIND_CACHE: usize = 256;

/// A lookup remembered: the table's generation, the address, and what was found (the
/// symbol and the next address), so that a hit reads none of the table's arrays (random
/// places in megabytes of them) and scans no line.
#[derive(Clone, Copy)]
struct Cached {
    generation: u64,
    addr: u64,
    found: Option<(Entry, u64)>,
}

thread_local! {
    static FIND_CACHE_TLS: [Cell<Cached>; FIND_CACHE] = const {
        [const {
            Cell::new(Cached {
                generation: 0,
                addr: 0,
                found: None,
            })
        }; FIND_CACHE]
    };
}

/// Where a name is: bytes `off..off + len` of the text, or (when `len` is `OWNED`) entry
/// `off` of the side list of lossily converted names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    off: u32,
    len: u32,
}

const OWNED: u32 = u32::MAX;
const NO_MODULE: Span = Span {
    off: 0,
    len: OWNED - 1,
};

/// A symbol as a lookup reads it from its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    addr: u64,
    name: Span,
    module: Span,
}

/// The KALLSYMS text: a `str` when it is valid UTF-8 as a whole, so that names are sliced
/// from it without a validation each.
enum Text<'a> {
    Str(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
}

impl<'a> Text<'a> {
    /// The text of `buf[range]` (cut at its first NUL: the section is read into a
    /// NUL-terminated buffer), and the range, which is `range` or shorter. Bytes of an owned
    /// buffer before the range are overwritten rather than the text moved (it is megabytes).
    fn new(buf: Cow<'a, [u8]>, range: Range<usize>) -> (Self, Range<usize>) {
        let start = range.start.min(buf.len());
        let range = start..range.end.clamp(start, buf.len());
        let mut end = match memchr::memchr(0, &buf[range.clone()]) {
            Some(z) => range.start + z,
            None => range.end,
        };
        // line starts are u32: a longer text (not a real kallsyms) is read up to 4 GiB
        end = end.min(u32::MAX as usize - 1).max(range.start);
        let text = match buf {
            Cow::Borrowed(b) => {
                let b = &b[range.start..end];
                let text = match std::str::from_utf8(b) {
                    Ok(s) => Text::Str(Cow::Borrowed(s)),
                    Err(_) => Text::Bytes(Cow::Borrowed(b)),
                };
                return (text, 0..b.len());
            }
            Cow::Owned(mut v) => {
                v.truncate(end);
                v[..range.start].fill(b' ');
                match String::from_utf8(v) {
                    Ok(s) => Text::Str(Cow::Owned(s)),
                    Err(e) => Text::Bytes(Cow::Owned(e.into_bytes())),
                }
            }
        };
        (text, range.start..end)
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Text::Str(s) => s.as_bytes(),
            Text::Bytes(b) => b,
        }
    }

    /// `r` as a `str`, if it is one there.
    fn get(&self, r: Range<usize>) -> Option<&str> {
        match self {
            Text::Str(s) => s.get(r),
            Text::Bytes(b) => std::str::from_utf8(b.get(r)?).ok(),
        }
    }
}

/// The parsed table.
struct Table<'a> {
    text: Text<'a>,
    /// Where the text's lines start in `text` (they end with it).
    start: usize,
    /// Where the lines the parse took end: a line that does not scan ends the parse.
    taken_end: usize,
    /// Where the symbols' lines start, in `func_map` order.
    lines: Vec<u32>,
    /// Their addresses, and one more, 0, for the entry after the last: the bisection reads
    /// only this dense array.
    addrs: Vec<u64>,
    /// The symbols of lines whose name or module is not valid UTF-8 where it is, by line
    /// start, and the lossily converted names they point to.
    lossy: Vec<(u32, Entry)>,
    owned: Vec<Box<str>>,
    /// Unique to this table: keys the lookup cache.
    generation: u64,
}

impl<'a> Table<'a> {
    fn build(buf: Cow<'a, [u8]>, range: Range<usize>) -> Self {
        static GENERATION: AtomicU64 = AtomicU64::new(1);
        let (text, range) = Text::new(buf, range);
        let mut t = Table {
            text,
            start: range.start,
            taken_end: range.end,
            lines: Vec::with_capacity(range.len() / 40),
            addrs: Vec::with_capacity(range.len() / 40 + 1),
            lossy: Vec::new(),
            owned: Vec::new(),
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
        };
        let mut sorted = true;
        let mut prev = 0u64;
        let (lines, addrs) = (&mut t.lines, &mut t.addrs);
        let (lossy, owned) = (&mut t.lossy, &mut t.owned);
        let (text, taken_end) = (&t.text, &mut t.taken_end);
        for_each_line(text.bytes(), range.clone(), |s, e, high| {
            let line = &text.bytes()[s..e];
            if line.is_empty() {
                return true;
            }
            let Some((addr, ty, at)) = head(line) else {
                *taken_end = s;
                return false;
            };
            if line[at] == b'$' || ty == b'A' || ty == b'a' {
                return true;
            }
            if high {
                if let Some(entry) = lossy_entry(text, s, line, (addr, ty, at), owned) {
                    lossy.push((s as u32, entry));
                }
            }
            sorted &= addr >= prev;
            prev = addr;
            lines.push(s as u32);
            addrs.push(addr);
            true
        });
        t.order(sorted);
        t.addrs.push(0);
        t
    }

    /// Puts the symbols (in file order) in `func_map` order: by address, then by file
    /// position descending (glibc's stable merge sort of the list in reverse file order).
    fn order(&mut self, sorted: bool) {
        if sorted {
            // only aliases (runs of one address) are out of order
            let mut i = 0;
            while i < self.addrs.len() {
                let a = self.addrs[i];
                let j = i + self.addrs[i..].iter().take_while(|&&b| b == a).count();
                self.lines[i..j].reverse();
                i = j;
            }
            return;
        }
        // unique (address, !position) keys, which the run-merging sort is quick on
        let mut keyed: Vec<(u64, u32)> = self
            .addrs
            .iter()
            .zip(&self.lines)
            .map(|(&a, &l)| (a, !l))
            .collect();
        keyed.sort_unstable();
        for (k, (a, l)) in keyed.into_iter().enumerate() {
            self.addrs[k] = a;
            self.lines[k] = !l;
        }
    }

    /// The line starting at `s`.
    fn line(&self, s: usize) -> &[u8] {
        let b = self.text.bytes();
        let e = memchr::memchr(b'\n', &b[s..]).map_or(b.len(), |e| s + e);
        &b[s..e]
    }

    /// The symbol of the line starting at `s` (a line the parse took).
    fn entry(&self, s: u32) -> Entry {
        if let Ok(k) = self.lossy.binary_search_by_key(&s, |l| l.0) {
            return self.lossy[k].1;
        }
        let line = self.line(s as usize);
        let h = head(line).unwrap_or((0, b' ', line.len()));
        text_entry(s as usize, line, h)
    }

    fn str_of(&self, s: Span) -> Option<&str> {
        if s.len == OWNED {
            self.owned.get(s.off as usize).map(|b| &**b)
        } else if s.len == NO_MODULE.len {
            None
        } else {
            self.text.get(s.off as usize..(s.off + s.len) as usize)
        }
    }

    fn sym(&self, e: &Entry) -> SymRef<'_> {
        SymRef {
            addr: e.addr,
            name: self.str_of(e.name).unwrap_or(""),
            module: self.str_of(e.module),
        }
    }
}

/// The symbol of `line` (starting at `s` in the text) with its name and module as spans of
/// the text.
fn text_entry(s: usize, line: &[u8], (addr, _, at): (u64, u8, usize)) -> Entry {
    let (name, module) = scan_names(line, at);
    let span = |r: Range<usize>| Span {
        off: (s + r.start) as u32,
        len: r.len() as u32,
    };
    Entry {
        addr,
        name: span(name),
        module: module.map_or(NO_MODULE, span),
    }
}

/// The symbol of `line` when its name or module is not a `str` where it is: then with
/// lossily converted copies in `owned`.
fn lossy_entry(
    text: &Text,
    s: usize,
    line: &[u8],
    h: (u64, u8, usize),
    owned: &mut Vec<Box<str>>,
) -> Option<Entry> {
    let mut e = text_entry(s, line, h);
    let mut fix = |sp: &mut Span| {
        let r = sp.off as usize..(sp.off + sp.len) as usize;
        if text.get(r.clone()).is_none() {
            owned.push(String::from_utf8_lossy(&text.bytes()[r]).into());
            *sp = Span {
                off: (owned.len() - 1) as u32,
                len: OWNED,
            };
            true
        } else {
            false
        }
    };
    let name = fix(&mut e.name);
    let module = e.module != NO_MODULE && fix(&mut e.module);
    (name || module).then_some(e)
}

/// Calls `f(start, end, high)` for each line of `text[range]` (without its newline; a last
/// line without one too) until it returns false; `high` is true when the line may have a
/// byte that is not ASCII (it is exact when false).
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
fn for_each_line(text: &[u8], range: Range<usize>, mut f: impl FnMut(usize, usize, bool) -> bool) {
    let (mut s, mut blk, end) = (range.start, range.start, range.end);
    let mut high = false;
    #[cfg(target_arch = "x86_64")]
    while let Some(b) = text.get(blk..blk + 64).filter(|_| blk + 64 <= end) {
        let (mut nl, h) = block_sse2(b.try_into().unwrap_or(&[0; 64]));
        high |= h;
        while nl != 0 {
            let e = blk + nl.trailing_zeros() as usize;
            nl &= nl - 1;
            if !f(s, e, high) {
                return;
            }
            s = e + 1;
            high = h;
        }
        blk += 64;
    }
    lines_from(text, s, blk, end, high, f);
}

/// [`for_each_line`] from `s` (a line start), with the newlines before `blk` found already
/// and `high` for the bytes from `s` to `blk`.
fn lines_from(
    text: &[u8],
    mut s: usize,
    blk: usize,
    end: usize,
    mut high: bool,
    mut f: impl FnMut(usize, usize, bool) -> bool,
) {
    for e in memchr::memchr_iter(b'\n', &text[blk..end]).map(|e| blk + e) {
        if !f(s, e, high || !text[s.max(blk)..e].is_ascii()) {
            return;
        }
        s = e + 1;
        high = false;
    }
    if s < end {
        f(s, end, high || !text[s.max(blk)..end].is_ascii());
    }
}

/// The newlines of 64 bytes as bits, and whether any byte is not ASCII.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_sse2(b: &[u8; 64]) -> (u64, bool) {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, and the four unaligned loads read the 64
    // bytes of `b`.
    unsafe {
        let p = b.as_ptr() as *const __m128i;
        let nl = _mm_set1_epi8(b'\n' as i8);
        let (a0, a1, a2, a3) = (
            _mm_loadu_si128(p),
            _mm_loadu_si128(p.add(1)),
            _mm_loadu_si128(p.add(2)),
            _mm_loadu_si128(p.add(3)),
        );
        let m = |a| _mm_movemask_epi8(_mm_cmpeq_epi8(a, nl)) as u16 as u64;
        let high = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a0, a1), _mm_or_si128(a2, a3)));
        (m(a0) | m(a1) << 16 | m(a2) << 32 | m(a3) << 48, high != 0)
    }
}

/// The address, type letter and where the name starts, scanned like libtraceevent's
/// `sscanf("%16llx %c %n%*s")`. `None` ends the parse.
fn head(line: &[u8]) -> Option<(u64, u8, usize)> {
    let n = line.len();
    let word = |at: usize| {
        line.get(at..at + 8)
            .map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
    };
    // the layouts /proc/kallsyms always has: 16 (or on 32-bit kernels 8) hex digits, a space,
    // the type, a space, the name
    if n > 19 && line[16] == b' ' && line[18] == b' ' && !is_space(line[17]) && !is_space(line[19])
    {
        if let (Some(h), Some(l)) = (word(0).and_then(hex8), word(8).and_then(hex8)) {
            return Some(((h as u64) << 32 | l as u64, line[17], 19));
        }
    }
    if n > 11 && line[8] == b' ' && line[10] == b' ' && !is_space(line[9]) && !is_space(line[11]) {
        if let Some(a) = word(0).and_then(hex8) {
            return Some((a as u64, line[9], 11));
        }
    }
    let mut i = 0;
    while i < n && is_space(line[i]) {
        i += 1;
    }
    // %16llx: sign, optional 0x, hex digits, 16 bytes at most
    let lim = (i + 16).min(n);
    let mut j = i;
    let mut neg = false;
    if j < lim && (line[j] == b'+' || line[j] == b'-') {
        neg = line[j] == b'-';
        j += 1;
    }
    if j + 1 < lim && line[j] == b'0' && (line[j + 1] | 0x20) == b'x' {
        j += 2;
    }
    let ds = j;
    let mut addr: u64 = 0;
    while j < lim {
        let Some(d) = (line[j] as char).to_digit(16) else {
            break;
        };
        addr = (addr << 4) | d as u64;
        j += 1;
    }
    if j == ds {
        // "0x" alone still converts the 0 it read
        if ds >= i + 2 && line[ds - 1] | 0x20 == b'x' {
            addr = 0;
        } else {
            return None;
        }
    }
    if neg {
        addr = addr.wrapping_neg();
    }
    i = j;
    while i < n && is_space(line[i]) {
        i += 1;
    }
    if i >= n {
        return None;
    }
    let ty = line[i];
    i += 1;
    while i < n && is_space(line[i]) {
        i += 1;
    }
    if i >= n || is_space(line[i]) {
        return None;
    }
    Some((addr, ty, i))
}

/// The value of eight hex digits (in text order, loaded little-endian), or `None` if one is
/// not a hex digit: all eight at once.
#[inline(always)]
fn hex8(x: u64) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    // each byte below 0x80: adding 0x80 - lo sets its high bit when it is at least lo,
    // adding 0x7f - hi when it is above hi, and no byte carries into the next
    let within = |x: u64, lo: u8, hi: u8| {
        let ge = x.wrapping_add(ONES * (0x80 - lo) as u64);
        let gt = x.wrapping_add(ONES * (0x7f - hi) as u64);
        ge & !gt & HIGH
    };
    if x & HIGH != 0 {
        return None;
    }
    let digit = within(x, b'0', b'9');
    let letter = within(x | (ONES * 0x20), b'a', b'f');
    if digit | letter != HIGH {
        return None;
    }
    let v = (x & (ONES * 0x0f)) + (letter >> 7) * 9;
    // the first digit is the most significant: join neighbours, then pairs, then quads
    let v = ((v << 4) | (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = ((v << 8) | (v >> 16)) & 0x0000_ffff_0000_ffff;
    let v = ((v << 16) | (v >> 32)) & 0x0000_0000_ffff_ffff;
    Some(v as u32)
}

/// The index of the first space (C `isspace`) in `line` at or after `i`, or its length.
/// Names are most of the text, so they are scanned eight bytes at a time for a byte below
/// 0x21 (all spaces are): the lowest flagged byte of the subtraction trick is exact, and a
/// flagged control byte that is not a space resumes the scan after it.
fn space_at(line: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(chunk) = line.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let m = x.wrapping_sub(ONES * 0x21) & !x & (ONES * 0x80);
        if m == 0 {
            i += 8;
            continue;
        }
        let j = i + (m.trailing_zeros() / 8) as usize;
        if is_space(line[j]) {
            return j;
        }
        i = j + 1;
    }
    while i < line.len() && !is_space(line[i]) {
        i += 1;
    }
    i
}

/// The name (from its first byte, not a space, at `func_start`) and module ranges of a line.
fn scan_names(line: &[u8], func_start: usize) -> (Range<usize>, Option<Range<usize>>) {
    let n = line.len();
    let i = space_at(line, func_start);
    let mut module = None;
    if i < n && line[i] == b'\t' && i + 1 < n && line[i + 1] == b'[' {
        let mod_start = i + 2;
        let mut k = mod_start;
        while k < n && is_space(line[k]) {
            k += 1;
        }
        let ws = k;
        k = space_at(line, k);
        if k > ws {
            module = Some(mod_start..k - 1);
        }
    }
    (func_start..i, module)
}

/// The symbol table: parsed on first use, or at once by [`Kallsyms::parse_now`].
pub(crate) struct Kallsyms<'a> {
    /// The text to parse on first use.
    lazy: &'a [u8],
    table: OnceLock<Table<'a>>,
    /// libtraceevent builds `func_map` on the first address lookup; before that, a name is
    /// searched in its registration list (newest first).
    map_built: AtomicBool,
}

impl<'a> Kallsyms<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        Kallsyms {
            lazy: text,
            table: OnceLock::new(),
            map_built: AtomicBool::new(false),
        }
    }

    /// The table of the text at `range` of `buf`, parsed now; an owned buffer is kept (not
    /// copied).
    pub(crate) fn parse_now(buf: Cow<'a, [u8]>, range: Range<usize>) -> Self {
        let k = Kallsyms::new(&[]);
        let _ = k.table.set(Table::build(buf, range));
        k
    }

    fn table(&self) -> &Table<'a> {
        self.table
            .get_or_init(|| Table::build(Cow::Borrowed(self.lazy), 0..self.lazy.len()))
    }

    /// The table as an address lookup sees it: the first one builds libtraceevent's map.
    fn mapped(&self) -> &Table<'a> {
        // a store on every lookup would take the cache line from the other printing threads
        if !self.map_built.load(Ordering::Relaxed) {
            self.map_built.store(true, Ordering::Relaxed);
        }
        self.table()
    }

    /// The symbols in registration (file) order.
    #[cfg(test)]
    fn in_file_order(&self) -> impl Iterator<Item = SymRef<'_>> {
        let t = self.table();
        let mut lines = t.lines.clone();
        lines.sort_unstable();
        lines.into_iter().map(move |l| t.sym(&t.entry(l)))
    }

    /// libtraceevent's `find_func()`: the symbol containing `addr`, and the address of the
    /// next one in address order.
    pub(crate) fn find(&self, addr: u64) -> Option<(SymRef<'_>, u64)> {
        let t = self.mapped();
        // Traces hit the same few thousand addresses (call sites, handlers) millions of
        // times: a small per-thread cache of bisection results, keyed by this table's
        // generation so that another table never sees them.
        let slot = (addr ^ (addr >> 12) ^ (addr >> 24)) as usize % FIND_CACHE;
        let hit = FIND_CACHE_TLS.with(|c| {
            let e = c[slot].get();
            (e.generation == t.generation && e.addr == addr).then_some(e.found)
        });
        let found = match hit {
            Some(f) => f,
            None => {
                let idx = Self::bisect(&t.addrs, addr);
                let found = (idx != u32::MAX).then(|| {
                    let idx = idx as usize;
                    (t.entry(t.lines[idx]), t.addrs[idx + 1])
                });
                FIND_CACHE_TLS.with(|c| {
                    c[slot].set(Cached {
                        generation: t.generation,
                        addr,
                        found,
                    })
                });
                found
            }
        };
        found.map(|(e, next)| (t.sym(&e), next))
    }

    /// glibc's bsearch with libtraceevent's comparator over the symbols' addresses (and the
    /// 0 after them): the index in `func_map` or `u32::MAX`.
    fn bisect(addrs: &[u64], addr: u64) -> u32 {
        let (mut l, mut u) = (0usize, addrs.len() - 1);
        while l < u {
            let idx = (l + u) / 2;
            let a = addrs[idx];
            if addr == a || (addr > a && addr < addrs[idx + 1]) {
                return idx as u32;
            } else if addr < a {
                u = idx;
            } else {
                l = idx + 1;
            }
        }
        u32::MAX
    }

    /// `test_for_symbol()`: the address of the symbol named `name` (0 if none).
    ///
    /// Names are not indexed: the text is searched for `name` and each place it occurs is
    /// checked to be the name of a symbol the parse took (a format names a few symbols, a
    /// table has 100k+).
    pub(crate) fn address_of(&self, name: &str) -> u64 {
        let t = self.table();
        let in_map = self.map_built.load(Ordering::Relaxed);
        // (address, line start) of the symbol found so far: the first in `func_map` order
        // (by address, later lines first) once the map is built, the newest registration
        // (the last line) before
        let mut best: Option<(u64, u32)> = None;
        let mut consider = |e: &Entry, s: u32| {
            if t.str_of(e.name) != Some(name) {
                return;
            }
            let better = match best {
                None => true,
                Some((a, l)) if in_map => (e.addr, !s) < (a, !l),
                Some((_, l)) => s > l,
            };
            if better {
                best = Some((e.addr, s));
            }
        };
        let text = &t.text.bytes()[..t.taken_end];
        let from = t.start;
        if !name.is_empty() {
            for p in memchr::memmem::find_iter(&text[from..], name.as_bytes()) {
                let p = from + p;
                let s = memchr::memrchr(b'\n', &text[from..p]).map_or(from, |i| from + i + 1);
                let line = t.line(s);
                match head(line) {
                    Some((_, ty, at)) if s + at == p && line[at] != b'$' && ty | 0x20 != b'a' => {
                        consider(&t.entry(s as u32), s as u32)
                    }
                    _ => {}
                }
            }
        }
        // names converted lossily are not in the text as they read
        for (s, e) in &t.lossy {
            consider(e, *s);
        }
        best.map_or(0, |b| b.0)
    }

    /// The symbols in libtraceevent's `func_map` order (`tep_print_funcs`, `report -f`).
    pub(crate) fn in_map_order(&self) -> impl Iterator<Item = Symbol<'_>> {
        let t = self.table();
        t.lines.iter().map(move |&l| {
            let s = t.sym(&t.entry(l));
            Symbol {
                addr: s.addr,
                name: Cow::Borrowed(s.name),
                module: s.module.map(Cow::Borrowed),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    type Owned = Vec<(u64, String, Option<String>)>;

    fn owned<'s>(it: impl Iterator<Item = SymRef<'s>>) -> Owned {
        it.map(|s| (s.addr, s.name.to_string(), s.module.map(str::to_string)))
            .collect()
    }

    #[test]
    fn scan_rules() {
        let t = b"ffffffff81000000 T _text\nffffffff81000000 T startup_64\n\n\
ffffffff81001000 t foo\t[ext4]\n0000000000000000 A fixed_percpu_data\n\
ffffffff81002000 t $x.1\nffffffff81003000 t bar\nzzz line\nffffffff81004000 t after\n";
        let k = Kallsyms::new(t);
        let s = owned(k.in_file_order());
        let names: Vec<&str> = s.iter().map(|s| &*s.1).collect();
        assert_eq!(names, ["_text", "startup_64", "foo", "bar"]);
        assert_eq!(s[2].2.as_deref(), Some("ext4"));
        assert_eq!(s[3].2, None);
        // short, prefixed, upper-case and signed addresses, and other spacing
        let k = Kallsyms::new(
            b"c0001000 T a\n0x2000 t b\n  ABCD t c\nC0001000  t d\n-1 t e\n0x t f\n\
0123456789abcdef0 t g\nffffffff81000000 t h\tx\n",
        );
        let got: Vec<(u64, String)> = owned(k.in_file_order())
            .into_iter()
            .map(|s| (s.0, s.1))
            .collect();
        let want = [
            (0xc000_1000, "a"),
            (0x2000, "b"),
            (0xabcd, "c"),
            (0xc000_1000, "d"),
            (u64::MAX, "e"),
            (0, "f"),
            (0x0123_4567_89ab_cdef, "t"),
            (0xffff_ffff_8100_0000, "h"),
        ];
        let want: Vec<(u64, String)> = want.iter().map(|&(a, n)| (a, n.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn hex_words() {
        let reference = |w: &[u8; 8]| -> Option<u32> {
            w.iter()
                .all(u8::is_ascii_hexdigit)
                .then(|| u32::from_str_radix(std::str::from_utf8(w).unwrap(), 16).unwrap())
        };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200 {
            let mut w = [0u8; 8];
            for b in &mut w {
                *b = b"0123456789abcdefABCDEF"[rng.below(22)];
            }
            for pos in 0..8 {
                for c in 0..=255u8 {
                    let mut x = w;
                    x[pos] = c;
                    assert_eq!(hex8(u64::from_le_bytes(x)), reference(&x), "{x:?}");
                }
            }
        }
    }

    #[test]
    fn lines_like_split() {
        let mut rng = Rng(12345);
        for round in 0..300 {
            let n = rng.below(400);
            let text: Vec<u8> = (0..n)
                .map(|_| match rng.below(20) {
                    0..=2 => b'\n',
                    3 if round % 3 == 0 => 0x80 | rng.below(128) as u8,
                    _ => b'a' + rng.below(26) as u8,
                })
                .collect();
            let from = rng.below(n + 1);
            let from = text[..from]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            let mut want = Vec::new();
            let mut s = from;
            for (i, &b) in text.iter().enumerate().skip(from) {
                if b == b'\n' {
                    want.push((s, i, !text[s..i].is_ascii()));
                    s = i + 1;
                }
            }
            if s < n {
                want.push((s, n, !text[s..].is_ascii()));
            }
            let mut got = Vec::new();
            for_each_line(&text, from..n, |s, e, high| {
                got.push((s, e, high));
                true
            });
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert_eq!((g.0, g.1), (w.0, w.1));
                // may say "maybe not ASCII" for an ASCII line, never the reverse
                assert!(g.2 || !w.2, "{g:?} {w:?}");
            }
            // stopping
            let mut calls = 0;
            for_each_line(&text, from..n, |_, _, _| {
                calls += 1;
                calls < 2
            });
            assert_eq!(calls, want.len().min(2));
        }
    }

    #[test]
    fn order_like_libtraceevent() {
        let mut rng = Rng(777);
        for round in 0..40 {
            let n = 1 + rng.below(300) as u64;
            let mut addrs: Vec<u64> = (0..n)
                .map(|_| 0xffff_0000 + rng.below(200) as u64 * 16)
                .collect();
            if round % 2 == 0 {
                // /proc/kallsyms' usual: in order, with aliases
                addrs.sort();
            }
            let mut text = String::new();
            for (i, a) in addrs.iter().enumerate() {
                text.push_str(&format!("{a:016x} t s{i}\n"));
            }
            let k = Kallsyms::new(text.as_bytes());
            // glibc's merge sort is stable; libtraceevent's list is in reverse file order
            let mut want: Vec<(u64, String)> = addrs
                .iter()
                .enumerate()
                .rev()
                .map(|(i, &a)| (a, format!("s{i}")))
                .collect();
            want.sort_by_key(|w| w.0);
            let got: Vec<(u64, String)> = k
                .in_map_order()
                .map(|s| (s.addr, s.name.into_owned()))
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn space_scan() {
        for (t, want) in [
            (&b"abcdefghijklmnop"[..], 16),
            (b"abcdefgh\tijk", 8),
            (b"abc\x01def\x02gh ij", 10),
            (b"a\x7f\xa1\xffbcdefghij\rk", 13),
            (b"abcdefghijklmn\x0bo", 14),
            (b"", 0),
        ] {
            assert_eq!(space_at(t, 0), want, "{t:?}");
            let slow = t.iter().position(|&b| is_space(b)).unwrap_or(t.len());
            assert_eq!(space_at(t, 0), slow);
        }
        assert_eq!(space_at(b"ab cdefghijkl mn", 3), 13);
    }

    #[test]
    fn invalid_utf8_names_are_lossy() {
        // a name with an invalid byte, and a module cut inside a two-byte character
        let t = b"ffffffff81000000 T a\xffb\nffffffff81001000 t foo\t[m\xc3\xa9\nffffffff81002000 t ok\t[x]\n";
        let k = Kallsyms::new(t);
        let s = owned(k.in_file_order());
        assert_eq!(s[0].1, "a\u{fffd}b");
        assert_eq!(s[1].1, "foo");
        assert_eq!(s[1].2.as_deref(), Some("m\u{fffd}"));
        assert_eq!(s[2].2.as_deref(), Some("x"));
        assert_eq!(k.find(0xffffffff81000001).unwrap().0.name, "a\u{fffd}b");
        // the same module cut in an otherwise valid text, past the first 64 bytes
        let mut t = "ffffffff81000000 t ".to_string() + &"x".repeat(70) + "\n";
        t.push_str("ffffffff81001000 t foo\t[m\u{e9}\n");
        let k = Kallsyms::new(t.as_bytes());
        let s = owned(k.in_file_order());
        assert_eq!(s[1].2.as_deref(), Some("m\u{fffd}"));
        assert_eq!(k.address_of("foo"), 0xffffffff81001000);
        assert_eq!(
            k.find(0xffffffff81001000).unwrap().0.module,
            Some("m\u{fffd}")
        );
    }

    #[test]
    fn parsed_now_keeps_its_buffer() {
        let text = b"ffffffff81000000 T _text\nffffffff81001000 t foo\t[ext4]\n\
ffffffff81002000 t bar\t[ext4]\nffffffff81003000 t baz\t[xfs]\nffffffff81004000 t qux\t[ext4]\n";
        let want = owned(Kallsyms::new(text).in_file_order());
        assert_eq!(want[3].2.as_deref(), Some("xfs"));
        // as a section holds it: a size before it (not UTF-8) and a NUL after it
        let mut buf = vec![0xff, 0xfe, 0, 0];
        buf.extend_from_slice(text);
        buf.extend_from_slice(b"\0ffffffff81005000 t junk\n");
        let range = 4..buf.len();
        let borrowed = Kallsyms::parse_now(Cow::Borrowed(&buf), range.clone());
        assert_eq!(owned(borrowed.in_file_order()), want);
        let now = Kallsyms::parse_now(Cow::Owned(buf.clone()), range);
        drop(buf);
        assert_eq!(owned(now.in_file_order()), want);
        assert_eq!(now.find(0xffffffff81002010).unwrap().0.name, "bar");
        assert_eq!(now.find(0xffffffff81002010).unwrap().1, 0xffffffff81003000);
        // an invalid byte in the text keeps it as bytes
        let mut buf = vec![0xff, 0xfe, 0, 0];
        buf.extend_from_slice(b"ffffffff81000000 T a\xffb\nffffffff81001000 t c\n");
        let n = buf.len();
        let k = Kallsyms::parse_now(Cow::Owned(buf), 4..n);
        assert!(matches!(k.table().text, Text::Bytes(_)));
        // a range past the buffer or backwards is an empty text, not a panic
        for r in [3..1, 9..20] {
            let k = Kallsyms::parse_now(Cow::Borrowed(b"ffffffff81000000 T a\n"), r);
            assert!(k.find(0xffffffff81000000).is_none());
        }
        let s = owned(k.in_file_order());
        assert_eq!((&*s[0].1, &*s[1].1), ("a\u{fffd}b", "c"));
    }

    #[test]
    fn lookup_like_bsearch() {
        let t = b"ffffffff81000000 T _text\nffffffff81000000 T startup_64\n\
ffffffff81001000 t foo\nffffffff81003000 t bar\n";
        let k = Kallsyms::new(t);
        // the list is reversed before the stable sort ([startup_64, _text, foo, bar]) and the
        // bisection meets index 1 first
        assert_eq!(k.find(0xffffffff81000010).unwrap().0.name, "_text");
        assert_eq!(k.find(0xffffffff81000000).unwrap().0.name, "_text");
        assert_eq!(k.find(0xffffffff81001fff).unwrap().0.name, "foo");
        // past the last symbol only an exact match resolves
        assert_eq!(k.find(0xffffffff81003000).unwrap().0.name, "bar");
        assert!(k.find(0xffffffff81003001).is_none());
        assert!(k.find(0x10).is_none());
        assert!(Kallsyms::new(b"").find(0x10).is_none());
    }

    #[test]
    fn names_found_like_a_search_of_the_list() {
        let mut rng = Rng(4242);
        for round in 0..200 {
            let mut text = Vec::new();
            for i in 0..rng.below(40) {
                if round % 4 == 0 && i == 20 {
                    text.extend_from_slice(b"zzz stop\n");
                }
                let a = 0xffff_0000 + rng.below(8) as u64 * 16;
                let ty = [b't', b'T', b'A', b'a', b'd'][rng.below(5)];
                let name: &[u8] = [&b"ab"[..], b"a", b"b", b"a\xff", b"$ab", b"xab"][rng.below(6)];
                text.extend_from_slice(format!("{a:016x} ").as_bytes());
                text.push(ty);
                text.push(b' ');
                text.extend_from_slice(name);
                match rng.below(4) {
                    0 => text.extend_from_slice(b"\t[ab]"),
                    1 => text.extend_from_slice(b" ab"),
                    _ => {}
                }
                text.push(b'\n');
            }
            for name in ["ab", "a", "b", "a\u{fffd}", "$ab", "", "zzz", "stop", "[ab"] {
                let k = Kallsyms::new(&text);
                // libtraceevent: newest registration first, then the map's order
                let last = owned(k.in_file_order())
                    .into_iter()
                    .rev()
                    .find(|s| s.1 == name)
                    .map_or(0, |s| s.0);
                assert_eq!(
                    k.address_of(name),
                    last,
                    "{name:?} in {:?}",
                    String::from_utf8_lossy(&text)
                );
                let _ = k.find(0);
                let first = k
                    .in_map_order()
                    .find(|s| s.name == name)
                    .map_or(0, |s| s.addr);
                assert_eq!(
                    k.address_of(name),
                    first,
                    "{name:?} in {:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    #[test]
    fn names_before_and_after_the_map() {
        // before the first lookup the newest registration wins, after it the map's order
        let t = b"ffffffff81001000 t dup\nffffffff81000000 t dup\nffffffff81002000 t x\n";
        let k = Kallsyms::new(t);
        assert_eq!(k.address_of("dup"), 0xffffffff81000000);
        let k = Kallsyms::new(t);
        k.table();
        assert_eq!(k.address_of("dup"), 0xffffffff81000000);
        assert!(k.find(0xffffffff81002000).is_some());
        assert_eq!(k.address_of("dup"), 0xffffffff81000000);
        let t = b"ffffffff81000000 t dup\nffffffff81001000 t dup\n";
        let k = Kallsyms::new(t);
        assert_eq!(k.address_of("dup"), 0xffffffff81001000);
        assert!(k.find(0xffffffff81000000).is_some());
        assert_eq!(k.address_of("dup"), 0xffffffff81000000);
        assert_eq!(k.address_of("none"), 0);
    }
}
