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
//! The table is compact because a trace.dat's kallsyms has 100k+ symbols: each symbol is an
//! address and the offsets of its name and module in one string arena (24 bytes a symbol
//! instead of an owned name). The arena holds only the names and modules (a run of symbols of
//! one module shares one copy), about half of the KALLSYMS text, so the text itself need not
//! stay in memory once parsed. Names that are not valid UTF-8 (never seen in practice, but
//! the text is untrusted) are converted lossily into a side list.

use std::borrow::Cow;
use std::cell::Cell;
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
/// places in megabytes of them).
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

/// Where a name is: bytes `off..off + len` of the arena, or (when `len` is `OWNED`) entry
/// `off` of the side list of lossily converted names.
#[derive(Clone, Copy)]
struct Span {
    off: u32,
    len: u32,
}

const OWNED: u32 = u32::MAX;
const NO_MODULE: Span = Span {
    off: 0,
    len: OWNED - 1,
};

#[derive(Clone, Copy)]
struct Entry {
    addr: u64,
    name: Span,
    module: Span,
}

#[derive(Default)]
struct Parsed {
    /// In registration (file) order.
    entries: Vec<Entry>,
    /// The names and modules.
    arena: String,
    owned: Vec<Box<str>>,
}

/// The text being parsed.
#[derive(Clone, Copy)]
struct Source<'t> {
    /// The text when it is valid UTF-8 as a whole: names are sliced from it without a
    /// per-name validation.
    text: Option<&'t str>,
    raw: &'t [u8],
}

impl Parsed {
    fn str_of(&self, s: Span) -> Option<&str> {
        if s.len == OWNED {
            Some(&self.owned[s.off as usize])
        } else if s.len == NO_MODULE.len {
            None
        } else {
            self.arena.get(s.off as usize..(s.off + s.len) as usize)
        }
    }

    fn sym(&self, e: &Entry) -> SymRef<'_> {
        SymRef {
            addr: e.addr,
            name: self.str_of(e.name).unwrap_or(""),
            module: self.str_of(e.module),
        }
    }

    /// Scans the lines of `raw[from..to]` into `entries`; true if a line that does not scan
    /// ended it.
    fn parse_lines(&mut self, src: Source, from: usize, to: usize) -> bool {
        let text = &src.raw[..to];
        // (text range, arena span) of the last module: a module's symbols are one run
        let mut last_module = (0..0, NO_MODULE);
        let mut start = from;
        while start < to {
            let end = memchr::memchr(b'\n', &text[start..]).map_or(to, |e| start + e);
            let line = &text[start..end];
            let base = start;
            start = end + 1;
            if line.is_empty() {
                continue;
            }
            let Some(l) = scan_line(line) else {
                return true;
            };
            if line[l.name.0] == b'$' || l.ty == b'A' || l.ty == b'a' {
                continue;
            }
            let name = self.span(src, base + l.name.0..base + l.name.1);
            let module = match l.module {
                Some((a, b)) => {
                    let r = base + a..base + b;
                    if text[r.clone()] != text[last_module.0.clone()]
                        || last_module.1.len == NO_MODULE.len
                    {
                        last_module = (r.clone(), self.span(src, r));
                    }
                    last_module.1
                }
                None => NO_MODULE,
            };
            self.entries.push(Entry {
                addr: l.addr,
                name,
                module,
            });
        }
        false
    }

    /// A span for `raw[r]` copied into the arena, or converted into the side list when not
    /// valid UTF-8 there.
    fn span(&mut self, src: Source, r: std::ops::Range<usize>) -> Span {
        // a valid text sliced on ASCII-whitespace boundaries: only a module cut before its
        // last byte can split a character
        let s = match src.text {
            Some(t) => t.get(r.clone()),
            None => std::str::from_utf8(&src.raw[r.clone()]).ok(),
        };
        if let Some(s) = s.filter(|s| self.arena.len() + s.len() < NO_MODULE.len as usize) {
            let off = self.arena.len() as u32;
            // SAFETY: appending the bytes of a `str` keeps the arena valid UTF-8.
            crate::outbuf::put(unsafe { self.arena.as_mut_vec() }, s.as_bytes());
            Span {
                off,
                len: s.len() as u32,
            }
        } else {
            let s = String::from_utf8_lossy(&src.raw[r]).into_owned();
            self.owned.push(s.into_boxed_str());
            Span {
                off: (self.owned.len() - 1) as u32,
                len: OWNED,
            }
        }
    }
}

/// Texts at least this long are parsed in two halves at once: the parse is on start-up's
/// critical path (the event formats are read meanwhile on the main thread and are done
/// first), and a full kallsyms is several MB.
const PARALLEL_AT: usize = 1 << 20;

/// Parses the KALLSYMS text, the second half of it on another thread when it is at least
/// `parallel_at` bytes long.
fn parse_text(raw: &[u8], parallel_at: usize) -> Parsed {
    parse_text_sorted(raw, parallel_at, false).0
}

/// The positions of `entries` in `func_map` order: by address, then by file position
/// descending (glibc's stable merge sort of the list in reverse file order). Sorted as
/// unique (address, !position) keys, which the run-merging sort is quick on (kallsyms has
/// long address-ordered runs).
fn func_map_order(entries: &[Entry]) -> Vec<u32> {
    let mut keyed: Vec<(u64, u32)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.addr, !(i as u32)))
        .collect();
    keyed.sort();
    keyed.iter().map(|k| !k.1).collect()
}

/// [`parse_text`], and with `sort` the symbols' `func_map` order as well: each half is
/// sorted by the thread that parsed it and the two are merged, which keeps the sort off
/// start-up's critical path as much as the parse.
fn parse_text_sorted(raw: &[u8], parallel_at: usize, sort: bool) -> (Parsed, Option<Vec<u32>>) {
    // the section is read into a NUL-terminated buffer
    let raw = match memchr::memchr(0, raw) {
        Some(z) => &raw[..z],
        None => raw,
    };
    let src = Source {
        text: std::str::from_utf8(raw).ok(),
        raw,
    };
    // the first part's arena gets room for the second's: names and modules are about half
    // of the text
    // (the pages of unused capacity are never touched, so sizing for the whole text costs
    // no memory, and appending the second part then needs no reallocation)
    let part = |from: usize, to: usize, room: usize| {
        let mut p = Parsed {
            entries: Vec::with_capacity(room / 40),
            arena: String::with_capacity(room / 2),
            owned: Vec::new(),
        };
        let stopped = p.parse_lines(src, from, to);
        let order = if sort {
            func_map_order(&p.entries)
        } else {
            Vec::new()
        };
        (p, stopped, order)
    };
    // split right after a newline, so both halves see whole lines
    let mid = if raw.len() >= parallel_at.max(1) && raw.len() < NO_MODULE.len as usize {
        memchr::memchr(b'\n', &raw[raw.len() / 2..]).map(|e| raw.len() / 2 + e + 1)
    } else {
        None
    };
    let Some(mid) = mid else {
        let (p, _, order) = part(0, raw.len(), raw.len());
        return (p, sort.then_some(order));
    };
    let ((mut p, stopped, first_order), second) = std::thread::scope(|s| {
        let second = s.spawn(|| part(mid, raw.len(), raw.len() - mid));
        (part(0, mid, raw.len()), second.join())
    });
    // a line that does not scan ends the parse: the second half counts only without one
    let mut order = None;
    if stopped {
        order = sort.then_some(first_order);
    } else {
        let (q, _, qorder) = second.unwrap_or_else(|e| std::panic::resume_unwind(e));
        if sort {
            order = Some(merge_orders(&p.entries, &first_order, &q.entries, &qorder));
        }
        // freed before the table grows by the second part: the start-up peak
        drop((first_order, qorder));
        let base = p.owned.len() as u32;
        // the arenas together are shorter than the text, which is split only when spans
        // can address all of it
        let at = p.arena.len() as u32;
        p.arena.push_str(&q.arena);
        let rebase = |mut sp: Span| {
            if sp.len == OWNED {
                sp.off += base;
            } else if sp.len != NO_MODULE.len {
                sp.off += at;
            }
            sp
        };
        p.entries.extend(q.entries.iter().map(|e| Entry {
            addr: e.addr,
            name: rebase(e.name),
            module: rebase(e.module),
        }));
        p.owned.extend(q.owned);
    }
    (p, order)
}

/// Merges the `func_map` orders of the first part (`a`) and of the second (`b`, whose
/// positions follow all of `a`'s) into one. On equal addresses the later position comes
/// first, and every position of the second part is later.
fn merge_orders(a: &[Entry], ao: &[u32], b: &[Entry], bo: &[u32]) -> Vec<u32> {
    let base = a.len() as u32;
    let mut out = Vec::with_capacity(ao.len() + bo.len());
    let (mut i, mut j) = (0, 0);
    while i < ao.len() && j < bo.len() {
        if b[bo[j] as usize].addr <= a[ao[i] as usize].addr {
            out.push(base + bo[j]);
            j += 1;
        } else {
            out.push(ao[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&ao[i..]);
    out.extend(bo[j..].iter().map(|&k| base + k));
    out
}

/// The symbol table: parsed on first use, or at once by [`Kallsyms::parse_now`].
pub(crate) struct Kallsyms<'a> {
    text: &'a [u8],
    parsed: OnceLock<Parsed>,
    /// Indexes into `parsed`, in libtraceevent's `func_map` order.
    sorted: OnceLock<(Vec<u32>, Vec<u64>, u64)>,
    /// libtraceevent builds `func_map` on the first address lookup; before that, a name is
    /// searched in its registration list (newest first).
    map_built: AtomicBool,
}

/// One scanned line: the address, the type letter and the name and module ranges (of the
/// line).
struct Line {
    addr: u64,
    ty: u8,
    name: (usize, usize),
    module: Option<(usize, usize)>,
}

/// Each byte's value as a hex digit, 0x80 when it is not one.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b'0'..=b'9' => c as u8 - b'0',
            b'a'..=b'f' => c as u8 - b'a' + 10,
            b'A'..=b'F' => c as u8 - b'A' + 10,
            _ => 0x80,
        };
        c += 1;
    }
    t
};

/// Scans one line like libtraceevent's sscanf. `None` ends the parse.
fn scan_line(line: &[u8]) -> Option<Line> {
    let n = line.len();
    // the layout /proc/kallsyms always has: 16 hex digits, a space, the type, a space
    if n > 19 && line[16] == b' ' && line[18] == b' ' && !is_space(line[17]) {
        // a table lookup per digit; a non-digit sets the high bit of `bad`
        let mut addr = 0u64;
        let mut bad = 0u8;
        for &c in &line[..16] {
            let d = HEX_VALUE[c as usize];
            bad |= d;
            addr = (addr << 4) | (d & 15) as u64;
        }
        if bad & 0x80 == 0 && !is_space(line[19]) {
            return Some(scan_names(line, addr, line[17], 19));
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
        let d = HEX_VALUE[line[j] as usize];
        if d & 0x80 != 0 {
            break;
        }
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
    Some(scan_names(line, addr, ty, i))
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

/// The rest of a line from the name's first byte (not a space) at `func_start`.
fn scan_names(line: &[u8], addr: u64, ty: u8, func_start: usize) -> Line {
    let n = line.len();
    let i = space_at(line, func_start);
    let func_end = i;
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
            module = Some((mod_start, k - 1));
        }
    }
    Line {
        addr,
        ty,
        name: (func_start, func_end),
        module,
    }
}

/// The sorted map from symbol indexes in `func_map` order: the indexes, their addresses (one
/// more, 0, for the entry after the last) and a generation unique to this table.
fn sorted_from(entries: &[Entry], order: Vec<u32>) -> (Vec<u32>, Vec<u64>, u64) {
    static GENERATION: AtomicU64 = AtomicU64::new(1);
    let mut addrs: Vec<u64> = Vec::with_capacity(order.len() + 1);
    addrs.extend(order.iter().map(|&i| entries[i as usize].addr));
    addrs.push(0);
    (order, addrs, GENERATION.fetch_add(1, Ordering::Relaxed))
}

impl<'a> Kallsyms<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        Kallsyms {
            text,
            parsed: OnceLock::new(),
            sorted: OnceLock::new(),
            map_built: AtomicBool::new(false),
        }
    }

    /// The table of `text` parsed now, so that the text can be freed.
    pub(crate) fn parse_now(text: &[u8]) -> Self {
        let k = Kallsyms::new(&[]);
        let (p, order) = parse_text_sorted(text, PARALLEL_AT, true);
        if let Some(order) = order {
            let _ = k.sorted.set(sorted_from(&p.entries, order));
        }
        let _ = k.parsed.set(p);
        k
    }

    fn parsed(&self) -> &Parsed {
        self.parsed
            .get_or_init(|| parse_text(self.text, PARALLEL_AT))
    }

    /// The symbols in registration (file) order.
    #[cfg(test)]
    fn symbols(&self) -> Vec<SymRef<'_>> {
        let p = self.parsed();
        p.entries.iter().map(|e| p.sym(e)).collect()
    }

    fn map(&self) -> &[u32] {
        &self.sorted_map().0
    }

    /// `func_map` as symbol indexes, and beside it their addresses (one more, 0, for the
    /// entry after the last): the bisection reads only the dense address array.
    fn sorted_map(&self) -> &(Vec<u32>, Vec<u64>, u64) {
        // a store on every lookup would take the cache line from the other printing threads
        if !self.map_built.load(Ordering::Relaxed) {
            self.map_built.store(true, Ordering::Relaxed);
        }
        self.sorted_arrays()
    }

    /// Parses and sorts the table now (on another thread while the report starts) without
    /// counting as the first address lookup.
    pub(crate) fn warm(&self) {
        self.sorted_arrays();
    }

    fn sorted_arrays(&self) -> &(Vec<u32>, Vec<u64>, u64) {
        self.sorted.get_or_init(|| {
            let entries = &self.parsed().entries;
            sorted_from(entries, func_map_order(entries))
        })
    }

    /// libtraceevent's `find_func()`: the symbol containing `addr`, and the address of the
    /// next one in address order.
    pub(crate) fn find(&self, addr: u64) -> Option<(SymRef<'_>, u64)> {
        let (map, addrs, generation) = self.sorted_map();
        let p = self.parsed();
        // Traces hit the same few thousand addresses (call sites, handlers) millions of
        // times: a small per-thread cache of bisection results, keyed by this table's
        // generation so that another table never sees them.
        let slot = (addr ^ (addr >> 12) ^ (addr >> 24)) as usize % FIND_CACHE;
        let hit = FIND_CACHE_TLS.with(|c| {
            let e = c[slot].get();
            (e.generation == *generation && e.addr == addr).then_some(e.found)
        });
        let found = match hit {
            Some(f) => f,
            None => {
                let idx = Self::bisect(map, addrs, addr);
                let found = (idx != u32::MAX).then(|| {
                    let idx = idx as usize;
                    (p.entries[map[idx] as usize], addrs[idx + 1])
                });
                FIND_CACHE_TLS.with(|c| {
                    c[slot].set(Cached {
                        generation: *generation,
                        addr,
                        found,
                    })
                });
                found
            }
        };
        found.map(|(e, next)| (p.sym(&e), next))
    }

    /// glibc's bsearch with libtraceevent's comparator: the index in `func_map` or
    /// `u32::MAX`.
    fn bisect(map: &[u32], addrs: &[u64], addr: u64) -> u32 {
        let at = |k: usize| -> u64 { addrs[k] };
        let (mut l, mut u) = (0usize, map.len());
        while l < u {
            let idx = (l + u) / 2;
            let a = at(idx);
            let cmp = if addr == a || (addr > a && addr < at(idx + 1)) {
                0
            } else if addr < a {
                -1
            } else {
                1
            };
            match cmp {
                -1 => u = idx,
                1 => l = idx + 1,
                _ => return idx as u32,
            }
        }
        u32::MAX
    }

    /// `test_for_symbol()`: the address of the symbol named `name` (0 if none).
    pub(crate) fn address_of(&self, name: &str) -> u64 {
        let p = self.parsed();
        if self.map_built.load(Ordering::Relaxed) {
            self.map()
                .iter()
                .map(|&i| p.sym(&p.entries[i as usize]))
                .find(|s| s.name == name)
                .map_or(0, |s| s.addr)
        } else {
            p.entries
                .iter()
                .rev()
                .map(|e| p.sym(e))
                .find(|s| s.name == name)
                .map_or(0, |s| s.addr)
        }
    }

    /// The symbols in libtraceevent's `func_map` order (`tep_print_funcs`, `report -f`).
    pub(crate) fn in_map_order(&self) -> impl Iterator<Item = Symbol<'_>> {
        let p = self.parsed();
        self.map().iter().map(move |&i| {
            let s = p.sym(&p.entries[i as usize]);
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

    #[test]
    fn scan_rules() {
        let t = b"ffffffff81000000 T _text\nffffffff81000000 T startup_64\n\n\
ffffffff81001000 t foo\t[ext4]\n0000000000000000 A fixed_percpu_data\n\
ffffffff81002000 t $x.1\nffffffff81003000 t bar\nzzz line\nffffffff81004000 t after\n";
        let k = Kallsyms::new(t);
        let names: Vec<&str> = k.symbols().iter().map(|s| s.name).collect();
        assert_eq!(names, ["_text", "startup_64", "foo", "bar"]);
        assert_eq!(k.symbols()[2].module, Some("ext4"));
        assert_eq!(k.symbols()[3].module, None);
        // short, prefixed and upper-case addresses take the sscanf-like path
        let k = Kallsyms::new(b"c0001000 T a\n0x2000 t b\n  ABCD t c\n");
        let got: Vec<(u64, &str)> = k.symbols().iter().map(|s| (s.addr, s.name)).collect();
        assert_eq!(got, [(0xc000_1000, "a"), (0x2000, "b"), (0xabcd, "c")]);
    }

    #[test]
    fn halves_parse_like_one() {
        let mut t = Vec::new();
        for i in 0..400u64 {
            let name: &[u8] = match i % 7 {
                0 => b"bad\xffname",
                3 => b"$skip",
                _ => b"sym",
            };
            let addr = 0xffffffff81000000 + (i * 37) % 1000;
            t.extend_from_slice(format!("{addr:016x} t ").as_bytes());
            t.extend_from_slice(name);
            if i % 5 == 0 {
                t.extend_from_slice(b"\t[m\xc3");
            }
            t.extend_from_slice(b"\n\n");
        }
        let names = |p: &Parsed| -> Vec<(u64, String, Option<String>)> {
            p.entries
                .iter()
                .map(|e| {
                    let s = p.sym(e);
                    (s.addr, s.name.to_string(), s.module.map(str::to_string))
                })
                .collect()
        };
        // the halves sorted apart and merged give the order of one sort of the whole
        let order = |p: &Parsed| func_map_order(&p.entries);
        let one = parse_text(&t, usize::MAX);
        assert_eq!(one.entries.len(), 400 - 57);
        assert_eq!(names(&parse_text(&t, 0)), names(&one));
        let (halves, merged) = parse_text_sorted(&t, 0, true);
        assert_eq!(names(&halves), names(&one));
        assert_eq!(merged, Some(order(&one)));
        assert_eq!(parse_text_sorted(&t, usize::MAX, true).1, Some(order(&one)));
        // a bad line in the first half ends the parse there
        let bad = t.len() / 4;
        let nl = bad + t[bad..].iter().position(|&b| b == b'\n').unwrap();
        t.splice(nl + 1..nl + 1, b"zzz\n".iter().copied());
        let one = parse_text(&t, usize::MAX);
        assert!(one.entries.len() < 150);
        assert_eq!(names(&parse_text(&t, 0)), names(&one));
        assert_eq!(parse_text_sorted(&t, 0, true).1, Some(order(&one)));
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
        let s = k.symbols();
        assert_eq!(s[0].name, "a\u{fffd}b");
        assert_eq!(s[1].name, "foo");
        assert_eq!(s[1].module, Some("m\u{fffd}"));
        assert_eq!(s[2].module, Some("x"));
        assert_eq!(k.find(0xffffffff81000001).unwrap().0.name, "a\u{fffd}b");
        // the same module cut in an otherwise valid text
        let k = Kallsyms::new("ffffffff81001000 t foo\t[m\u{e9}\n".as_bytes());
        assert_eq!(k.symbols()[0].module, Some("m\u{fffd}"));
        assert_eq!(k.address_of("foo"), 0xffffffff81001000);
    }

    #[test]
    fn parsed_now_outlives_its_text() {
        let text = b"ffffffff81000000 T _text\nffffffff81001000 t foo\t[ext4]\n\
ffffffff81002000 t bar\t[ext4]\nffffffff81003000 t baz\t[xfs]\nffffffff81004000 t qux\t[ext4]\n"
            .to_vec();
        let lazy = Kallsyms::new(&text);
        let want: Vec<(u64, String, Option<String>)> = lazy
            .symbols()
            .iter()
            .map(|s| (s.addr, s.name.to_string(), s.module.map(str::to_string)))
            .collect();
        let now = Kallsyms::parse_now(&text);
        drop(lazy);
        drop(text);
        let got: Vec<(u64, String, Option<String>)> = now
            .symbols()
            .iter()
            .map(|s| (s.addr, s.name.to_string(), s.module.map(str::to_string)))
            .collect();
        assert_eq!(got, want);
        assert_eq!(got[2].2.as_deref(), Some("ext4"));
        assert_eq!(got[3].2.as_deref(), Some("xfs"));
        assert_eq!(got[4].2.as_deref(), Some("ext4"));
        // one copy of a module for a run of its symbols
        let p = now.parsed();
        assert_eq!(p.arena, "_textfooext4barbazxfsquxext4");
        assert_eq!(now.find(0xffffffff81002010).unwrap().0.name, "bar");
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
    }
}
