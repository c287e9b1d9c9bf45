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

const FIND_CACHE: usize = 256;

thread_local! {
    /// (table generation, address, bisection result) per slot.
    static FIND_CACHE_TLS: [Cell<(u64, u64, u32)>; FIND_CACHE] =
        const { [const { Cell::new((0, 0, 0)) }; FIND_CACHE] };
}

/// The symbol table: parsed on first use.
pub(crate) struct Kallsyms<'a> {
    text: &'a [u8],
    /// In registration (file) order.
    parsed: OnceLock<Vec<Symbol<'a>>>,
    /// Indexes into `parsed`, in libtraceevent's `func_map` order.
    sorted: OnceLock<(Vec<u32>, Vec<u64>, u64)>,
    /// libtraceevent builds `func_map` on the first address lookup; before that, a name is
    /// searched in its registration list (newest first).
    map_built: AtomicBool,
}

fn lossy(b: &[u8]) -> Cow<'_, str> {
    // symbol names are ASCII: the plain check is faster than the lossy chunker
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// Scans one line like libtraceevent's sscanf. `None` ends the parse.
fn scan_line(line: &[u8]) -> Option<Option<Symbol<'_>>> {
    let mut i = 0;
    let n = line.len();
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
    while j < lim && line[j].is_ascii_hexdigit() {
        addr = (addr << 4) | (line[j] as char).to_digit(16).unwrap_or(0) as u64;
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
    let ch = line[i];
    i += 1;
    while i < n && is_space(line[i]) {
        i += 1;
    }
    let func_start = i;
    while i < n && !is_space(line[i]) {
        i += 1;
    }
    if i == func_start {
        return None;
    }
    let func_end = i;
    let mut module = None;
    if i < n && line[i] == b'\t' && i + 1 < n && line[i + 1] == b'[' {
        let mod_start = i + 2;
        let mut k = mod_start;
        while k < n && is_space(line[k]) {
            k += 1;
        }
        let ws = k;
        while k < n && !is_space(line[k]) {
            k += 1;
        }
        if k > ws {
            module = Some(lossy(&line[mod_start..k - 1]));
        }
    }
    let func = &line[func_start..func_end];
    if func[0] == b'$' || ch == b'A' || ch == b'a' {
        return Some(None);
    }
    Some(Some(Symbol {
        addr,
        name: lossy(func),
        module,
    }))
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

    pub(crate) fn symbols(&self) -> &[Symbol<'a>] {
        self.parsed.get_or_init(|| {
            // the section is read into a NUL-terminated buffer
            let text = match memchr::memchr(0, self.text) {
                Some(z) => &self.text[..z],
                None => self.text,
            };
            let mut v = Vec::with_capacity(text.len() / 40);
            for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                match scan_line(line) {
                    None => break,
                    Some(Some(s)) => v.push(s),
                    Some(None) => {}
                }
            }
            v
        })
    }

    fn map(&self) -> &[u32] {
        &self.sorted_map().0
    }

    /// `func_map` as symbol indexes, and beside it their addresses (one more, 0, for the
    /// entry after the last): the bisection reads only the dense address array.
    fn sorted_map(&self) -> &(Vec<u32>, Vec<u64>, u64) {
        self.map_built.store(true, Ordering::Relaxed);
        self.sorted_arrays()
    }

    /// Parses and sorts the table now (on another thread while the report starts) without
    /// counting as the first address lookup.
    pub(crate) fn warm(&self) {
        self.sorted_arrays();
    }

    fn sorted_arrays(&self) -> &(Vec<u32>, Vec<u64>, u64) {
        self.sorted.get_or_init(|| {
            static GENERATION: AtomicU64 = AtomicU64::new(1);
            let syms = self.symbols();
            let mut keyed: Vec<(u64, u32)> = (0..syms.len() as u32)
                .rev()
                .map(|i| (syms[i as usize].addr, i))
                .collect();
            // stable, like glibc's merge sort
            keyed.sort_by_key(|e| e.0);
            let idx: Vec<u32> = keyed.iter().map(|e| e.1).collect();
            let mut addrs: Vec<u64> = keyed.iter().map(|e| e.0).collect();
            addrs.push(0);
            (idx, addrs, GENERATION.fetch_add(1, Ordering::Relaxed))
        })
    }

    /// libtraceevent's `find_func()`: the symbol containing `addr`, as an index into
    /// [`Kallsyms::symbols`], and the index of the next one in address order.
    pub(crate) fn find(&self, addr: u64) -> Option<(&Symbol<'a>, u64)> {
        let (map, addrs, generation) = self.sorted_map();
        let syms = self.symbols();
        // Traces hit the same few thousand addresses (call sites, handlers) millions of
        // times: a small per-thread cache of bisection results, keyed by this table's
        // generation so that another table never sees them.
        let slot = (addr ^ (addr >> 12) ^ (addr >> 24)) as usize % FIND_CACHE;
        let hit = FIND_CACHE_TLS.with(|c| {
            let e = c[slot].get();
            (e.0 == *generation && e.1 == addr).then_some(e.2)
        });
        let idx = match hit {
            Some(i) => i,
            None => {
                let i = Self::bisect(map, addrs, addr);
                FIND_CACHE_TLS.with(|c| c[slot].set((*generation, addr, i)));
                i
            }
        };
        if idx == u32::MAX {
            return None;
        }
        let idx = idx as usize;
        Some((&syms[map[idx] as usize], addrs[idx + 1]))
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
        let syms = self.symbols();
        if self.map_built.load(Ordering::Relaxed) {
            let map = self.map();
            map.iter()
                .map(|&i| &syms[i as usize])
                .find(|s| s.name == name)
                .map_or(0, |s| s.addr)
        } else {
            syms.iter()
                .rev()
                .find(|s| s.name == name)
                .map_or(0, |s| s.addr)
        }
    }

    /// The symbols in libtraceevent's `func_map` order (`tep_print_funcs`, `report -f`).
    pub(crate) fn in_map_order(&self) -> impl Iterator<Item = &Symbol<'a>> {
        let syms = self.symbols();
        self.map().iter().map(move |&i| &syms[i as usize])
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
        let names: Vec<&str> = k.symbols().iter().map(|s| &*s.name).collect();
        assert_eq!(names, ["_text", "startup_64", "foo", "bar"]);
        assert_eq!(k.symbols()[2].module.as_deref(), Some("ext4"));
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
