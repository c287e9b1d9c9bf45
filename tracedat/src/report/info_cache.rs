//! The event info of report lines (the text after the event name) kept per printing thread
//! and reused for records whose bytes are equal.
//!
//! A trace repeats itself: the same allocation from the same call site, the same system call
//! returning the same value. The info text is a function of the record's bytes when the
//! event's print format is compiled throughout and its plugin, if any, reads only the record
//! ([`crate::tep::Event::pretty_reads`], [`crate::tep::Tep::pretty_key`]); for those, the
//! text printed for one record is kept under those bytes, and an equal record later copies
//! it instead of evaluating the format again (symbol lookups, flag tables, a dozen number
//! conversions). Events whose records rarely repeat (pointers, counters) stop being looked
//! up for a while, so they pay little for the cache.

use crate::tep::{Event, PrettyReads, Tep};

/// The longest key kept.
pub(super) const KEY_MAX: usize = 128;
/// Slots, in sets of two ways chosen by hash.
const SLOTS: usize = 4096;
/// Bytes of key and text a slot holds; longer pairs are not kept.
const BYTES: usize = 288;
/// Lookups of an event between decisions whether the cache pays for it.
const WINDOW: u32 = 4096;
/// Records of an event printed without the cache after a window with few hits.
const PAUSE: u32 = 1 << 16;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    hash: u64,
    /// File and event index; `u64::MAX` in an empty slot.
    ev: u64,
    /// The record's length.
    len: u32,
    klen: u16,
    vlen: u16,
    /// Where the event's hole ([`crate::tep::Hole`]) goes in the text, [`NO_CUT`] if it
    /// has none.
    cut: u16,
    /// The text has no NUL and does not end in a newline.
    clean: bool,
    /// In a set's first slot: the way used last.
    mru: u8,
    bytes: [u8; BYTES],
}

impl Slot {
    const EMPTY: Slot = Slot {
        hash: 0,
        ev: u64::MAX,
        len: 0,
        klen: 0,
        vlen: 0,
        cut: NO_CUT,
        clean: false,
        mru: 0,
        bytes: [0; BYTES],
    };
}

const NO_CUT: u16 = u16::MAX;

/// Appends a record's text for its event's hole ([`crate::tep::Tep::print_hole`]).
pub(super) type HoleText<'h> = &'h dyn Fn(&mut Vec<u8>);

/// Hits in the current window of an event, or how long it is left out.
#[derive(Clone, Copy, Default)]
struct EvStat {
    tries: u32,
    hits: u32,
    paused: u32,
}

impl EvStat {
    fn hit(&mut self) {
        self.tries += 1;
        self.hits += 1;
    }
}

/// A record's place in the cache, from [`InfoCache::probe`].
#[derive(Clone, Copy)]
pub(super) struct Probe {
    ev: u64,
    len: u32,
    h: u64,
    k: usize,
    /// The event's place in `stats`.
    stat: usize,
}

#[derive(Default)]
pub(super) struct InfoCache {
    /// Made at the first insertion.
    slots: Vec<Slot>,
    stats: Vec<EvStat>,
    /// By file, then event index: where the event's [`EvStat`] is in `stats`, plus one (0
    /// until its first record).
    stat_at: Vec<Vec<u32>>,
}

/// A hash of the key from five words of it (its ends and middle, overlapping when short):
/// independent multiplications rather than a chain through every word, which took longer
/// than the rest of a hit. Keys equal in those words share a set; the comparison of the
/// whole key decides.
fn hash(ev: u64, len: u32, key: &[u8]) -> u64 {
    const K: [u64; 5] = [
        0x9e37_79b9_7f4a_7c15,
        0xc2b2_ae3d_27d4_eb4f,
        0x1656_67b1_9e37_79f9,
        0x85eb_ca77_c2b2_ae63,
        0x27d4_eb2f_1656_67c5,
    ];
    let n = key.len();
    let w = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().unwrap());
    let (a, b, c, d, e) = if n >= 16 {
        (w(0), w(8), w(n - 16), w(n - 8), w(n / 2 - 4))
    } else if n >= 8 {
        (w(0), w(n - 8), 0, 0, 0)
    } else {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(key);
        (u64::from_le_bytes(b), 0, 0, 0, 0)
    };
    let meta = ev ^ (len as u64) << 40 ^ (n as u64) << 24;
    (a ^ meta).wrapping_mul(K[0])
        ^ b.wrapping_mul(K[1])
        ^ c.wrapping_mul(K[2])
        ^ d.wrapping_mul(K[3])
        ^ e.wrapping_mul(K[4])
}

impl InfoCache {
    /// Where the [`EvStat`] of event `evx` of `file` is in `stats`.
    #[inline]
    fn stat_index(&mut self, file: u32, evx: u32) -> usize {
        let (f, e) = (file as usize, evx as usize);
        match self.stat_at.get(f).and_then(|v| v.get(e)) {
            Some(&k) if k != 0 => k as usize - 1,
            _ => self.new_stat(f, e),
        }
    }

    #[cold]
    fn new_stat(&mut self, f: usize, e: usize) -> usize {
        if self.stat_at.len() <= f {
            self.stat_at.resize_with(f + 1, Vec::new);
        }
        let at = &mut self.stat_at[f];
        if at.len() <= e {
            at.resize(e + 1, 0);
        }
        self.stats.push(EvStat::default());
        at[e] = self.stats.len() as u32;
        self.stats.len() - 1
    }

    /// False while event `evx` of `file` is left out (its records are then printed without
    /// the cache, their key not even made); counts those records.
    #[cfg(test)]
    fn active(&mut self, file: u32, evx: u32) -> bool {
        let k = self.stat_index(file, evx);
        self.active_at(k)
    }

    #[inline]
    fn active_at(&mut self, k: usize) -> bool {
        let st = &mut self.stats[k];
        if st.paused > 0 {
            st.paused -= 1;
            return false;
        }
        true
    }

    /// The key of `data`, a record of event `evx` (`ev`) of input `file` whose info text
    /// `reads` describes, gathered into `kbuf`, and its place in the cache
    /// ([`InfoCache::probe`]). `None` where the text is printed without the cache: the event
    /// is left out for now ([`InfoCache::active`]), or the text may depend on other bytes.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn key<'k, 'a>(
        &mut self,
        file: u32,
        evx: u32,
        reads: &PrettyReads,
        tep: &Tep<'a>,
        ev: &Event<'_, 'a>,
        data: &'k [u8],
        kbuf: &'k mut [u8; KEY_MAX],
    ) -> Option<(&'k [u8], Probe)> {
        let stat = self.stat_index(file, evx);
        if !self.active_at(stat) {
            return None;
        }
        let key = tep.pretty_key(ev, reads, data, kbuf)?;
        Some((key, self.probe_at(stat, file, evx, data.len(), key)))
    }

    #[cfg(test)]
    fn probe(&mut self, file: u32, evx: u32, len: usize, key: &[u8]) -> Probe {
        let stat = self.stat_index(file, evx);
        self.probe_at(stat, file, evx, len, key)
    }

    /// Where the text of a record of event `evx` of input `file`, `len` bytes long, whose
    /// text depends on `key` (and `len`) alone, is kept; its memory is asked for (the slots
    /// are too many to stay in the nearest caches). `stat`: the event's [`EvStat`].
    #[inline]
    fn probe_at(&self, stat: usize, file: u32, evx: u32, len: usize, key: &[u8]) -> Probe {
        let ev = (file as u64) << 32 | evx as u64;
        let len = len as u32;
        let h = hash(ev, len, key);
        // the set's first slot
        let k = (h >> (65 - SLOTS.trailing_zeros())) as usize * 2;
        #[cfg(target_arch = "x86_64")]
        if let Some(set) = self.slots.get(k..k + 2) {
            // SAFETY: prefetches are hints; the addresses are inside the slots.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch::<_MM_HINT_T0>((&set[0] as *const Slot).cast());
                _mm_prefetch::<_MM_HINT_T0>((&set[1] as *const Slot).cast());
            }
        }
        Probe {
            ev,
            len,
            h,
            k,
            stat,
        }
    }

    /// Appends the info text of the record `p` was made for (with its `key`): from the
    /// cache, or made by `render` (which appends it to `out`; `nul_free` when its text can
    /// hold no NUL). Where the event's key leaves out a hole, `hole` appends the record's
    /// text for it: the kept text is what surrounds it. Returns true when the text is known
    /// to have no NUL and not to end in a newline (the line then needs neither cut).
    pub(super) fn print(
        &mut self,
        p: Probe,
        key: &[u8],
        nul_free: bool,
        out: &mut Vec<u8>,
        render: impl FnOnce(&mut Vec<u8>),
        hole: Option<HoleText<'_>>,
    ) -> bool {
        let Probe {
            ev,
            len,
            h,
            k,
            stat,
        } = p;
        if let Some(set) = self.slots.get_mut(k..k + 2) {
            for w in 0..2 {
                let s = &set[w];
                if s.hash == h
                    && s.ev == ev
                    && s.len == len
                    && s.klen as usize == key.len()
                    && s.bytes[..key.len()] == *key
                {
                    let text = &s.bytes[key.len()..key.len() + s.vlen as usize];
                    match hole {
                        Some(h) if s.cut != NO_CUT => {
                            let (before, after) = text.split_at(s.cut as usize);
                            out.extend_from_slice(before);
                            h(out);
                            out.extend_from_slice(after);
                        }
                        _ => out.extend_from_slice(text),
                    }
                    let clean = s.clean;
                    set[0].mru = w as u8;
                    self.stats[stat].hit();
                    return clean;
                }
            }
        }
        let st = &mut self.stats[stat];
        st.tries += 1;
        let start = out.len();
        render(out);
        if st.tries >= WINDOW {
            if st.hits < WINDOW / 4 {
                st.paused = PAUSE;
            }
            st.tries = 0;
            st.hits = 0;
        }
        let end = out.len();
        let clean = clean(&out[start..], nul_free);
        // The hole's text, printed after the line for a moment: where it is found once in
        // the text, the text around it is what every record of this key prints around it.
        let cut = match hole {
            Some(h) => {
                h(out);
                let (text, alone) = out[start..].split_at(end - start);
                let found = memchr::memmem::find(text, alone).filter(|&at| {
                    !alone.is_empty() && memchr::memmem::find(&text[at + 1..], alone).is_none()
                });
                let n = alone.len();
                out.truncate(end);
                match found {
                    Some(at) => Some((at, n)),
                    None => return clean,
                }
            }
            None => None,
        };
        let text = &out[start..];
        let hole_len = cut.map_or(0, |c| c.1);
        if key.len() + text.len() - hole_len > BYTES {
            return clean;
        }
        if self.slots.is_empty() {
            self.slots = vec![Slot::EMPTY; SLOTS];
        }
        let w = 1 - self.slots[k].mru as usize;
        self.slots[k].mru = w as u8;
        let s = &mut self.slots[k + w];
        s.hash = h;
        s.ev = ev;
        s.len = len;
        s.klen = key.len() as u16;
        s.clean = clean;
        s.bytes[..key.len()].copy_from_slice(key);
        let kept = &mut s.bytes[key.len()..];
        match cut {
            Some((at, n)) => {
                let rest = text.len() - at - n;
                kept[..at].copy_from_slice(&text[..at]);
                kept[at..at + rest].copy_from_slice(&text[at + n..]);
                s.vlen = (text.len() - n) as u16;
                s.cut = at as u16;
            }
            None => {
                kept[..text.len()].copy_from_slice(text);
                s.vlen = text.len() as u16;
                s.cut = NO_CUT;
            }
        }
        clean
    }
}

/// True when an info `text` (`nul_free` if its event's cannot hold a NUL) has no NUL and
/// does not end in a newline: its line then needs neither of the cuts trace-cmd's lines get
/// (nothing before the info on a line can hold a NUL: comms are C strings).
pub(super) fn clean(text: &[u8], nul_free: bool) -> bool {
    text.last() != Some(&b'\n') && (nul_free || memchr::memchr(0, text).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders `key` as text, counting the renders.
    fn run(c: &mut InfoCache, file: u32, evx: u32, key: &[u8], renders: &mut usize) -> Vec<u8> {
        let mut out = b"prefix ".to_vec();
        let mut render = |o: &mut Vec<u8>| {
            *renders += 1;
            o.extend_from_slice(b"text of ");
            o.extend_from_slice(key);
            o.extend_from_slice(&[b'0' + file as u8, b'0' + evx as u8]);
        };
        if c.active(file, evx) {
            let p = c.probe(file, evx, key.len() + 8, key);
            c.print(p, key, false, &mut out, render, None);
        } else {
            render(&mut out);
        }
        out
    }

    #[test]
    fn equal_records_reuse_the_text_and_others_do_not() {
        let mut c = InfoCache::default();
        let mut renders = 0;
        let a = run(&mut c, 0, 1, b"abc", &mut renders);
        assert_eq!(a, b"prefix text of abc01");
        assert_eq!(run(&mut c, 0, 1, b"abc", &mut renders), a);
        assert_eq!(renders, 1);
        // same bytes of another event, another file, other bytes: rendered
        assert_eq!(
            run(&mut c, 0, 2, b"abc", &mut renders),
            b"prefix text of abc02"
        );
        assert_eq!(
            run(&mut c, 1, 1, b"abc", &mut renders),
            b"prefix text of abc11"
        );
        assert_eq!(
            run(&mut c, 0, 1, b"abd", &mut renders),
            b"prefix text of abd01"
        );
        assert_eq!(renders, 4);
        // a text too long to keep is rendered each time
        let long = vec![b'x'; BYTES];
        run(&mut c, 0, 1, &long, &mut renders);
        run(&mut c, 0, 1, &long, &mut renders);
        assert_eq!(renders, 6);
    }

    #[test]
    fn texts_with_a_nul_or_a_last_newline_are_not_clean() {
        let mut c = InfoCache::default();
        let mut out = Vec::new();
        for (k, text, clean) in [
            (&b"a"[..], &b"plain"[..], true),
            (b"b", b"nul\0inside", false),
            (b"c", b"newline\n", false),
            (b"d", b"", true),
        ] {
            for _ in 0..2 {
                let p = c.probe(0, 0, 8, k);
                let got = c.print(p, k, false, &mut out, |o| o.extend_from_slice(text), None);
                assert_eq!(got, clean, "{text:?}");
            }
        }
    }

    #[test]
    fn two_records_of_one_set_are_both_kept() {
        let mut c = InfoCache::default();
        let mut renders = 0;
        // keys until two fall in one set
        let set_of = |k: &[u8]| hash(0, k.len() as u32 + 8, k) >> (65 - SLOTS.trailing_zeros());
        let first = 0u64.to_le_bytes();
        let other = (1..)
            .map(|i: u64| i.to_le_bytes())
            .find(|k| set_of(k) == set_of(&first))
            .unwrap();
        run(&mut c, 0, 0, &first, &mut renders);
        run(&mut c, 0, 0, &other, &mut renders);
        run(&mut c, 0, 0, &first, &mut renders);
        run(&mut c, 0, 0, &other, &mut renders);
        assert_eq!(renders, 2);
    }

    #[test]
    fn a_hole_is_printed_anew_between_the_kept_texts() {
        let mut c = InfoCache::default();
        let renders = std::cell::Cell::new(0);
        // (key, hole text, the whole text the record prints)
        let mut run = |key: &[u8], hole: &str, text: &str| {
            let mut out = b"line ".to_vec();
            let p = c.probe(0, 5, 16, key);
            let h = |o: &mut Vec<u8>| o.extend_from_slice(hole.as_bytes());
            let render = |o: &mut Vec<u8>| {
                renders.set(renders.get() + 1);
                o.extend_from_slice(text.as_bytes())
            };
            c.print(p, key, false, &mut out, render, Some(&h));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(run(b"a", "0x10", "x ptr=0x10 n=1"), "line x ptr=0x10 n=1");
        // the same key: the kept text around a new hole
        assert_eq!(run(b"a", "0x20", "x ptr=0x20 n=1"), "line x ptr=0x20 n=1");
        assert_eq!(
            run(b"a", "(nil)", "x ptr=(nil) n=1"),
            "line x ptr=(nil) n=1"
        );
        // at either end of the text
        assert_eq!(run(b"b", "0x1", "0x1 tail"), "line 0x1 tail");
        assert_eq!(run(b"b", "0x2", "0x2 tail"), "line 0x2 tail");
        assert_eq!(run(b"c", "0x1", "head 0x1"), "line head 0x1");
        assert_eq!(run(b"c", "0x3", "head 0x3"), "line head 0x3");
        assert_eq!(renders.get(), 3);
        // a hole text found twice could be either: the text is not kept
        assert_eq!(run(b"d", "0x5", "0x5 and 0x5"), "line 0x5 and 0x5");
        assert_eq!(run(b"d", "0x5", "0x5 and 0x5"), "line 0x5 and 0x5");
        assert_eq!(renders.get(), 5);
    }

    #[test]
    fn the_record_length_is_part_of_the_key() {
        let mut c = InfoCache::default();
        let mut n = 0;
        let mut out = Vec::new();
        let p = c.probe(0, 0, 16, b"k");
        let a = |o: &mut Vec<u8>| {
            n += 1;
            o.push(b'a')
        };
        c.print(p, b"k", false, &mut out, a, None);
        let p = c.probe(0, 0, 17, b"k");
        let b = |o: &mut Vec<u8>| {
            n += 1;
            o.push(b'b')
        };
        c.print(p, b"k", false, &mut out, b, None);
        assert_eq!((out.as_slice(), n), (&b"ab"[..], 2));
    }

    #[test]
    fn an_event_that_never_repeats_is_left_out_for_a_while() {
        let mut c = InfoCache::default();
        let mut renders = 0;
        for i in 0..WINDOW as u64 {
            run(&mut c, 0, 3, &i.to_le_bytes(), &mut renders);
        }
        let k = c.stat_index(0, 3);
        assert_eq!(c.stats[k].paused, PAUSE);
        // while left out, repeats are rendered too (and nothing is looked up)
        let again = 5u64.to_le_bytes();
        run(&mut c, 0, 3, &again, &mut renders);
        run(&mut c, 0, 3, &again, &mut renders);
        assert_eq!(renders, WINDOW as usize + 2);
        // an event that repeats keeps its cache
        for _ in 0..WINDOW {
            run(&mut c, 0, 4, b"same", &mut renders);
        }
        let k = c.stat_index(0, 4);
        assert_eq!(c.stats[k].paused, 0);
        assert_eq!(renders, WINDOW as usize + 3);
    }
}
