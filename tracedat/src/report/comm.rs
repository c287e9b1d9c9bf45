//! The pid → comm table, as libtraceevent keeps it (src/event-parse.c: `tep_register_comm`,
//! `find_cmdline`, `cmdline_init`, `add_new_comm`; `tep_parse_saved_cmdlines`).
//!
//! It starts from the file's saved_cmdlines (CMDLINES section) and grows while the report is
//! printed: the sched_switch and sched_wakeup plugins register every comm they print for a pid
//! that has none yet. Which lines show `<...>` therefore depends on event order, and this table
//! reproduces libtraceevent's: registrations before the first lookup go to a list that is then
//! sorted (stable, as glibc's merge-sort qsort); later ones are inserted in pid order and never
//! replace an existing entry; lookups use glibc's bsearch probe sequence, so a pid that appears
//! twice in saved_cmdlines resolves to the same one of its comms.

/// One saved or learned comm.
#[derive(Clone, Debug)]
struct Entry {
    pid: i32,
    comm: Box<[u8]>,
}

/// The comm table of one input file.
#[derive(Clone, Debug, Default)]
pub struct Comms {
    /// Registrations before the first lookup, newest first (libtraceevent's `cmdlist`).
    pending: Vec<Entry>,
    /// Sorted by pid once initialised (libtraceevent's `cmdlines` array).
    sorted: Vec<Entry>,
    initialised: bool,
    /// Recent lookups' `bsearch` results, by pid modulo [`RECENT`] (a trace's records come
    /// from a few pids at a time): `(pid, 0)` empty, `(pid, 1)` not found, `(pid, k + 2)`
    /// at `sorted[k]`. Made when the table is initialised, emptied by every insertion.
    recent: Vec<(i32, u32)>,
}

/// Lookups remembered.
const RECENT: usize = 64;

impl Comms {
    /// Parses saved_cmdlines text: lines of `"%d %m[^\n]s"`; parsing stops at the first line
    /// that does not match, as `tep_parse_saved_cmdlines` does.
    pub fn from_saved_cmdlines(text: &[u8]) -> Self {
        // libtraceevent parses a copy made with strdup: the text ends at its first NUL
        let text = &text[..memchr::memchr(0, text).unwrap_or(text.len())];
        let mut comms = Comms::default();
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match parse_line(line) {
                Some((pid, comm)) => comms.register(pid, comm),
                None => break,
            }
        }
        comms
    }

    /// `tep_register_comm`: adds `pid → comm` unless the pid already has one (after the table
    /// is initialised; before, duplicates are kept as libtraceevent keeps them).
    pub fn register(&mut self, pid: i32, comm: &[u8]) {
        // a C string (libtraceevent copies it with strdup): no NUL, which the report lines
        // rely on
        let comm = &comm[..memchr::memchr(0, comm).unwrap_or(comm.len())];
        if !self.initialised {
            self.pending.push(Entry {
                pid,
                comm: comm.into(),
            });
            return;
        }
        if pid == 0 || self.bsearch(pid).is_some() {
            return;
        }
        let at = self.sorted.partition_point(|e| e.pid < pid);
        self.recent.fill((0, 0));
        self.sorted.insert(
            at,
            Entry {
                pid,
                comm: comm.into(),
            },
        );
    }

    /// True when a registration for `pid` would be a no-op: lets plugins skip copying.
    pub fn knows(&mut self, pid: i32) -> bool {
        self.init();
        pid == 0 || self.bsearch(pid).is_some()
    }

    /// `find_cmdline`: `<idle>` for pid 0, the comm, or `<...>`.
    pub fn lookup(&mut self, pid: i32) -> &[u8] {
        if pid == 0 {
            return b"<idle>";
        }
        self.init();
        let slot = pid as u32 as usize % RECENT;
        let code = match self.recent[slot] {
            (p, code) if p == pid && code != 0 => code,
            _ => {
                let code = self.bsearch(pid).map_or(1, |k| k as u32 + 2);
                self.recent[slot] = (pid, code);
                code
            }
        };
        match self.sorted.get((code as usize).wrapping_sub(2)) {
            Some(e) => &e.comm,
            None => b"<...>",
        }
    }

    /// Lookup without initialising (for read-only users); `None` when unknown.
    pub fn get(&self, pid: i32) -> Option<&[u8]> {
        if self.initialised {
            self.bsearch(pid).map(|i| &*self.sorted[i].comm)
        } else {
            self.pending.iter().find(|e| e.pid == pid).map(|e| &*e.comm)
        }
    }

    /// All pids whose comm equals `comm`, in the order `tep_data_pid_from_comm` finds them:
    /// newest registration first while no lookup has sorted the table, else by pid.
    pub fn pids_before_lookup(&self, comm: &[u8]) -> Vec<i32> {
        let matching = |e: &&Entry| &*e.comm == comm;
        if self.initialised {
            self.sorted.iter().filter(matching).map(|e| e.pid).collect()
        } else {
            self.pending
                .iter()
                .rev()
                .filter(matching)
                .map(|e| e.pid)
                .collect()
        }
    }

    #[inline]
    fn init(&mut self) {
        if !self.initialised {
            self.sort_pending();
        }
    }

    #[cold]
    fn sort_pending(&mut self) {
        // The list was built by prepending: walk it newest first, then sort stably by pid.
        let mut v: Vec<Entry> = self.pending.drain(..).rev().collect();
        v.sort_by_key(|e| e.pid);
        self.sorted = v;
        self.recent = vec![(0, 0); RECENT];
        self.initialised = true;
    }

    /// glibc `bsearch`: probes the middle of [l, u) until it hits an equal key.
    fn bsearch(&self, pid: i32) -> Option<usize> {
        let (mut l, mut u) = (0usize, self.sorted.len());
        while l < u {
            let idx = (l + u) / 2;
            let p = self.sorted[idx].pid;
            if pid < p {
                u = idx;
            } else if pid > p {
                l = idx + 1;
            } else {
                return Some(idx);
            }
        }
        None
    }
}

/// `sscanf(line, "%d %m[^\n]s", &pid, &comm)`: optional leading space, a decimal int, space,
/// then the rest of the line (at least one byte).
fn parse_line(line: &[u8]) -> Option<(i32, &[u8])> {
    let mut i = 0;
    while i < line.len() && line[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    if i < line.len() && (line[i] == b'-' || line[i] == b'+') {
        i += 1;
    }
    let digits = i;
    while i < line.len() && line[i].is_ascii_digit() {
        i += 1;
    }
    if i == digits {
        return None;
    }
    let pid = std::str::from_utf8(&line[start..i])
        .ok()?
        .parse::<i64>()
        .ok()? as i32;
    while i < line.len() && line[i].is_ascii_whitespace() {
        i += 1;
    }
    if i >= line.len() {
        return None;
    }
    Some((pid, &line[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_then_learned() {
        let mut c = Comms::from_saved_cmdlines(b"12 bash\n7 kworker/0:1\n");
        assert_eq!(c.lookup(0), b"<idle>");
        assert_eq!(c.lookup(12), b"bash");
        assert_eq!(c.lookup(13), b"<...>");
        c.register(13, b"sleep");
        c.register(12, b"not-bash");
        assert_eq!(c.lookup(13), b"sleep");
        assert_eq!(c.lookup(12), b"bash");
        assert_eq!(c.lookup(7), b"kworker/0:1");
    }

    #[test]
    fn remembered_lookups_follow_insertions() {
        // pids that share a slot of the recent lookups, and insertions that move entries
        let mut c = Comms::from_saved_cmdlines(b"100 a\n164 b\n");
        for _ in 0..2 {
            assert_eq!(c.lookup(100), b"a");
            assert_eq!(c.lookup(164), b"b");
            assert_eq!(c.lookup(36), b"<...>");
            assert_eq!(c.lookup(-28), b"<...>");
        }
        c.register(36, b"c");
        c.register(50, b"d");
        assert_eq!(c.lookup(36), b"c");
        assert_eq!(c.lookup(100), b"a");
        assert_eq!(c.lookup(164), b"b");
        c.register(-28, b"neg");
        assert_eq!(c.lookup(-28), b"neg");
        assert_eq!(c.lookup(164), b"b");
        assert_eq!(c.lookup(50), b"d");
    }

    #[test]
    fn comms_end_at_a_nul() {
        let mut c = Comms::from_saved_cmdlines(b"1 in\0it\n2 kthreadd\n");
        assert_eq!(c.lookup(1), b"in");
        assert_eq!(c.lookup(2), b"<...>");
        c.register(3, b"ab\0cd");
        assert_eq!(c.lookup(3), b"ab");
    }

    #[test]
    fn parsing_stops_at_a_bad_line() {
        let mut c = Comms::from_saved_cmdlines(b"1 init\nbogus\n2 kthreadd\n");
        assert_eq!(c.lookup(1), b"init");
        assert_eq!(c.lookup(2), b"<...>");
    }

    #[test]
    fn comm_keeps_inner_spaces() {
        let mut c = Comms::from_saved_cmdlines(b"42 Web Content\n");
        assert_eq!(c.lookup(42), b"Web Content");
    }
}
