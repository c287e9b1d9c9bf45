//! trace-cmd's layer over libtraceevent filters: `struct tracecmd_filter` and
//! `tracecmd_filter_match` (lib/trace-cmd/trace-filter.c, called for every record by
//! `tracecmd_iterate_events` before the report callback), and the command-line bookkeeping
//! of tracecmd/trace-read.c that decides which `-F` strings each input gets.

use super::{EventFilter, FilterEnv, FilterError, FilterMatch, MatchError};
use crate::endian::Endian;
use crate::format::EventFormat;
use crate::record::Record;
use crate::Dialect;

/// The filters of one input handle (`struct tracecmd_filter`).
///
/// A record is shown when some positive filter matches it (or there are none) and no
/// negative (`-v`) filter does. Events a positive filter does not name are hidden; a
/// `kernel_stack`/`user_stack` record is shown anyway when the previous record of its CPU
/// was shown. Errors while testing a record count as "no match", for positive and negative
/// filters alike.
#[derive(Clone, Debug)]
pub struct FilterSet {
    dialect: Dialect,
    positive: Vec<EventFilter>,
    negative: Vec<EventFilter>,
    /// `ftrace:kernel_stack`'s id, if the file has it.
    kernel_stack: Option<u32>,
    /// `ftrace:user_stack`'s id; trace-cmd leaves it 0 when the event is missing, so records
    /// of type 0 then count as stack traces.
    user_stack: u32,
    /// Whether the last record seen on each CPU was shown.
    last_printed: Vec<bool>,
}

impl FilterSet {
    /// An empty set for a file with `events` and `nr_cpus` CPUs.
    pub fn new<'e>(
        dialect: Dialect,
        events: impl IntoIterator<Item = &'e EventFormat>,
        nr_cpus: usize,
    ) -> Self {
        let mut kernel_stack = None;
        let mut user_stack = None;
        // tep_find_event_by_name: the first match in libtraceevent's (id) order.
        let mut all: Vec<&EventFormat> = events.into_iter().collect();
        all.sort_by_key(|e| e.id);
        for e in all {
            if &*e.system == "ftrace" {
                if &*e.name == "kernel_stack" && kernel_stack.is_none() {
                    kernel_stack = Some(e.id);
                }
                if &*e.name == "user_stack" && user_stack.is_none() {
                    user_stack = Some(e.id);
                }
            }
        }
        FilterSet {
            dialect,
            positive: Vec::new(),
            negative: Vec::new(),
            kernel_stack,
            user_stack: user_stack.unwrap_or(0),
            last_printed: vec![false; nr_cpus],
        }
    }

    /// `tracecmd_filter_add`: compiles and adds one `-F` (negative for `-v`).
    pub fn add<E: super::FilterEvent>(
        &mut self,
        text: &str,
        negative: bool,
        events: impl IntoIterator<Item = E>,
        endian: Endian,
    ) -> Result<(), FilterError> {
        self.push(EventFilter::parse(text, events, endian)?, negative);
        Ok(())
    }

    /// Adds an already compiled filter.
    pub fn push(&mut self, filter: EventFilter, negative: bool) {
        if negative {
            self.negative.push(filter);
        } else {
            self.positive.push(filter);
        }
    }

    /// True when no filter was added: trace-cmd then skips the test altogether.
    pub fn is_empty(&self) -> bool {
        self.positive.is_empty() && self.negative.is_empty()
    }

    fn record_type(&self, rec: &Record) -> Option<u32> {
        let f = self.positive.first().or(self.negative.first())?;
        f.record_type(rec)
    }

    /// `tracecmd_filter_match` == `TRACECMD_FILTER_MATCH`: whether the record is shown.
    /// Call it for every record in output order (it tracks the last shown record per CPU).
    /// An error is returned only where trace-cmd itself dies on this record
    /// ([`MatchError::is_reference_crash`]); other evaluation errors mean "no match".
    pub fn matches<E: FilterEnv + ?Sized>(
        &mut self,
        rec: &Record,
        env: &mut E,
    ) -> Result<bool, MatchError> {
        if self.is_empty() {
            return Ok(true);
        }
        let mut is_stack = false;
        if !self.positive.is_empty() && !any_passes(&self.positive, rec, env)? {
            let ty = self.record_type(rec);
            let cpu_shown = self
                .last_printed
                .get(rec.cpu as usize)
                .copied()
                .unwrap_or(false);
            let stack = ty.is_some() && (ty == self.kernel_stack || ty == Some(self.user_stack));
            if !(stack && cpu_shown) {
                return Ok(false);
            }
            is_stack = true;
        }
        let hidden = any_passes(&self.negative, rec, env)?;
        let cpu = rec.cpu as usize;
        if cpu >= self.last_printed.len() {
            self.last_printed.resize(cpu + 1, false);
        }
        // trace-cmd 3.3 stops after one stack record; 3.1 keeps showing them.
        self.last_printed[cpu] = match self.dialect {
            Dialect::V3_1 => !hidden,
            Dialect::V3_3 => !is_stack && !hidden,
        };
        Ok(!hidden)
    }
}

impl FilterSet {
    /// The record types this set may show. [`FilterSet::matches`] rejects a record whose
    /// type no positive filter names (and that is not a stack trace) without looking at
    /// anything else and without a trace of it in its state, so a reader can drop such
    /// records before they are merged. `None` when every record must be asked: no positive
    /// filter, or one that names no event (it passes everything).
    pub fn type_prefilter(&self) -> Option<TypePrefilter> {
        let first = self.positive.first()?;
        if self.positive.iter().any(|f| f.event_ids().next().is_none()) {
            return None;
        }
        let (endian, offset, size) = first.type_field()?;
        let mut ids: Vec<u32> = self.positive.iter().flat_map(|f| f.event_ids()).collect();
        ids.extend(self.kernel_stack);
        ids.push(self.user_stack);
        ids.sort_unstable();
        ids.dedup();
        Some(TypePrefilter {
            endian,
            offset,
            size,
            ids,
        })
    }
}

/// See [`FilterSet::type_prefilter`].
#[derive(Clone, Debug)]
pub struct TypePrefilter {
    endian: Endian,
    offset: usize,
    size: usize,
    /// Sorted.
    ids: Vec<u32>,
}

impl TypePrefilter {
    /// Whether records of event `id` may be shown.
    pub fn shows(&self, id: u32) -> bool {
        self.ids.binary_search(&id).is_ok()
    }

    /// False for a record the filters certainly reject: its type (read as they read it) is
    /// none they may show, or cannot be read.
    #[inline]
    pub fn may_show(&self, data: &[u8]) -> bool {
        match self.endian.uint(data, self.offset, self.size) {
            Some(v) => self.ids.binary_search(&(v as i32 as u32)).is_ok(),
            None => false,
        }
    }
}

/// Whether one of `filters` matches (or names no event), stopping at the first, as
/// trace-cmd's loops do.
fn any_passes<E: FilterEnv + ?Sized>(
    filters: &[EventFilter],
    rec: &Record,
    env: &mut E,
) -> Result<bool, MatchError> {
    for f in filters {
        match f.matches(rec, env) {
            FilterMatch::Match | FilterMatch::NoFilter => return Ok(true),
            FilterMatch::Error(e) if e.is_reference_crash() => return Err(e),
            _ => {}
        }
    }
    Ok(false)
}

/// One `-F` as given: its text and whether a `-v` came before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterArg {
    pub text: String,
    pub negative: bool,
}

/// A filter list of trace-read.c's `struct filter_str` chains.
#[derive(Clone, Debug)]
enum List {
    /// The first input's list when `-F` came before it: the same chain as the global one, so
    /// later additions to either are seen by both.
    SharesGlobal,
    Own(Vec<FilterArg>),
}

/// The order-dependent bookkeeping of `report`'s `-F`, `-v`, `-i` and `--pid`/`--comm`.
///
/// Feed it the options in command-line order, then ask [`Self::filters_for`] for each handle
/// in the order trace-cmd processes them. What it reproduces:
/// - `-v` makes every later `-F` negative; a second `-v` is an error;
/// - a `-F` before any input is global; after an input it belongs to the last input given;
/// - the first input (the first `-i`, the positional file, or the default `trace.dat`)
///   shares the global list when one exists;
/// - trace-cmd 3.3.1 applies the global list and then the input's list (so a filter before
///   `-i` with a single input is added twice, which only shows in `-T` output); 3.1.6 applies
///   only the input's list with several inputs and only the global one with a single input
///   (so `report -i f -F x` ignores `x`).
#[derive(Clone, Debug, Default)]
pub struct FilterArgs {
    global: Vec<FilterArg>,
    inputs: Vec<List>,
    negative: bool,
}

impl FilterArgs {
    pub fn new() -> Self {
        Self::default()
    }

    /// `-v`. Errors with trace-cmd's message on the second one.
    pub fn negate(&mut self) -> Result<(), &'static str> {
        if self.negative {
            return Err("Only 1 -v can be used");
        }
        self.negative = true;
        Ok(())
    }

    /// `-F TEXT`.
    pub fn filter(&mut self, text: &str) {
        let arg = FilterArg {
            text: text.to_owned(),
            negative: self.negative,
        };
        match self.inputs.last_mut() {
            None | Some(List::SharesGlobal) => self.global.push(arg),
            Some(List::Own(v)) => v.push(arg),
        }
    }

    /// An input file: `-i FILE`, a positional file or the default `trace.dat`, in the order
    /// trace-cmd adds them (positional files and the default after all options).
    pub fn input(&mut self) {
        let list = if self.inputs.is_empty() && !self.global.is_empty() {
            List::SharesGlobal
        } else {
            List::Own(Vec::new())
        };
        self.inputs.push(list);
    }

    fn list(&self, input: usize) -> &[FilterArg] {
        match self.inputs.get(input) {
            Some(List::SharesGlobal) => &self.global,
            Some(List::Own(v)) => v,
            None => &[],
        }
    }

    fn append(&mut self, input: Option<usize>, arg: FilterArg) {
        match input.and_then(|i| self.inputs.get_mut(i)) {
            Some(List::Own(v)) => v.push(arg),
            _ => self.global.push(arg),
        }
    }

    /// The filters `process_filters` adds to one handle, in order.
    ///
    /// `handle_input` is the handle's input when trace-cmd tracks it (several inputs), `None`
    /// for the single input of a one-file report. `pid_filter` is the text of
    /// [`pid_filter_text`] when `--pid`/`--comm` are used; trace-cmd builds it for the first
    /// handle only, appending it to that handle's list for good (3.1.6: to the global list
    /// for a single input).
    pub fn filters_for(
        &mut self,
        dialect: Dialect,
        handle_input: Option<usize>,
        pid_filter: Option<&str>,
    ) -> Vec<FilterArg> {
        let input = match dialect {
            Dialect::V3_3 => handle_input.or(self.inputs.len().checked_sub(1)),
            Dialect::V3_1 => handle_input,
        };
        if let Some(text) = pid_filter {
            self.append(
                input,
                FilterArg {
                    text: text.to_owned(),
                    negative: false,
                },
            );
        }
        match dialect {
            Dialect::V3_3 => {
                let mut v = self.global.clone();
                if let Some(i) = input {
                    v.extend_from_slice(self.list(i));
                }
                v
            }
            Dialect::V3_1 => match input {
                Some(i) => self.list(i).to_vec(),
                None => self.global.clone(),
            },
        }
    }

    /// Whether `-T` ends the program after the filters are added: 3.1.6 exits (status 0) once
    /// a handle got filters; 3.3.1 never does (its check is always false) and goes on to print
    /// the report after the test lines.
    pub fn test_mode_exits(dialect: Dialect, filters_added: bool) -> bool {
        dialect == Dialect::V3_1 && filters_added
    }
}

/// The filter `--pid`/`--comm` turn into (`append_pid_filter`), for pids in the order
/// trace-cmd keeps them: its list is built by prepending, so the pids of `--pid a,b` come out
/// as `b, a`, and the pids found for `--comm` names (looked up after all `--pid`s, each name in
/// reverse order, each pid prepended) come first. `None` without pids.
pub fn pid_filter_text<S: AsRef<str>>(pids: &[S]) -> Option<String> {
    let mut out: Option<String> = None;
    for p in pids {
        let p = p.as_ref();
        let clause = format!("(common_pid=={p})||(pid=={p})||(next_pid=={p})");
        match &mut out {
            None => out = Some(format!(".*:{clause}")),
            Some(s) => {
                s.push_str("||");
                s.push_str(&clause);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::NoEnv;
    use crate::format::{Field, FieldFlags};

    fn event(id: u32, system: &str, name: &str) -> EventFormat {
        let field = |name: &str, offset, size| Field {
            name: name.into(),
            type_name: "int".into(),
            offset,
            size,
            array_len: 0,
            element_size: size,
            flags: FieldFlags(0),
        };
        EventFormat {
            id,
            system: system.into(),
            name: name.into(),
            common_fields: vec![field("common_type", 0, 2), field("common_pid", 4, 4)],
            fields: vec![field("v", 8, 4)],
            print_fmt: "".into(),
        }
    }

    #[test]
    fn the_prefilter_drops_only_what_matches_rejects() {
        let events = [
            event(1, "sched", "sched_switch"),
            event(2, "kmem", "kfree"),
            event(3, "ftrace", "kernel_stack"),
            event(4, "sched", "sched_wakeup"),
        ];
        let le = Endian::Little;
        let mut set = FilterSet::new(Dialect::V3_3, &events, 2);
        assert!(
            set.type_prefilter().is_none(),
            "no filter: every record is asked"
        );
        set.add("sched_switch,sched_wakeup:v > 5", false, &events, le)
            .unwrap();
        set.add("sched_wakeup", true, &events, le).unwrap();
        let pre = set
            .type_prefilter()
            .expect("positive filters naming events");
        // the named events, the kernel stack, and type 0 (user_stack is missing)
        for ty in 0..6u16 {
            assert_eq!(pre.may_show(&ty.to_le_bytes()), [0, 1, 3, 4].contains(&ty));
        }
        assert!(!pre.may_show(&[1]), "a type that cannot be read");
        // what it drops, the set rejects, whatever came before on that CPU
        let bytes = |t: u16| {
            let mut d = [0u8; 12];
            d[..2].copy_from_slice(&t.to_le_bytes());
            d[8..].copy_from_slice(&9u32.to_le_bytes());
            d
        };
        fn rec(d: &[u8]) -> Record<'_> {
            Record {
                ts: 0,
                cpu: 0,
                data: d,
                missed_events: 0,
                offset: 0,
            }
        }
        for prev in [1u16, 2] {
            for ty in [2u16, 5] {
                let (a, b) = (bytes(prev), bytes(ty));
                let mut s = set.clone();
                assert_eq!(s.matches(&rec(&a), &mut NoEnv).unwrap(), prev == 1);
                assert!(!pre.may_show(&b));
                assert!(
                    !s.matches(&rec(&b), &mut NoEnv).unwrap(),
                    "after {prev}: {ty}"
                );
            }
        }
        // only negative filters: every record is shown unless one matches
        let mut neg = FilterSet::new(Dialect::V3_3, &events, 2);
        neg.add("kfree", true, &events, le).unwrap();
        assert!(neg.type_prefilter().is_none());
    }

    fn texts(v: &[FilterArg]) -> Vec<&str> {
        v.iter().map(|f| f.text.as_str()).collect()
    }

    // Expectations observed with trace-cmd 3.1.6 and 3.3.1 on
    // ../shared/fixtures/qemu-6.1/{fg_sched_mix,func_stack}.dat: `-T` prints one line per
    // filter added, and the report shows whether a filter applied.
    #[test]
    fn single_input_order() {
        // `report -i f -F sched_switch`: 3.1.6 printed all 409 lines (filter ignored).
        let mut a = FilterArgs::new();
        a.input();
        a.filter("sched_switch");
        assert!(a.clone().filters_for(Dialect::V3_1, None, None).is_empty());
        // 3.3.1: filtered, `-T` printed one line.
        assert_eq!(
            texts(&a.filters_for(Dialect::V3_3, None, None)),
            ["sched_switch"]
        );

        // `report -T -F sched_switch -i f`: 3.1.6 one line then exit; 3.3.1 two lines.
        let mut a = FilterArgs::new();
        a.filter("sched_switch");
        a.input();
        assert_eq!(
            texts(&a.clone().filters_for(Dialect::V3_1, None, None)),
            ["sched_switch"]
        );
        assert_eq!(
            texts(&a.filters_for(Dialect::V3_3, None, None)),
            ["sched_switch", "sched_switch"]
        );
        assert!(FilterArgs::test_mode_exits(Dialect::V3_1, true));
        assert!(!FilterArgs::test_mode_exits(Dialect::V3_3, true));
    }

    #[test]
    fn several_inputs() {
        // `-T -F sched_switch -i a -i b`: 3.3.1 printed three lines (a twice, b once);
        // 3.1.6 filtered a and printed b unfiltered.
        let mut a = FilterArgs::new();
        a.filter("sched_switch");
        a.input();
        a.input();
        let mut b = a.clone();
        assert_eq!(a.filters_for(Dialect::V3_3, Some(0), None).len(), 2);
        assert_eq!(
            texts(&a.filters_for(Dialect::V3_3, Some(1), None)),
            ["sched_switch"]
        );
        assert_eq!(b.filters_for(Dialect::V3_1, Some(0), None).len(), 1);
        assert!(b.filters_for(Dialect::V3_1, Some(1), None).is_empty());

        // `-T -i a -F sched_switch -i b -F function`: 3.3.1 printed one line for each file.
        let mut a = FilterArgs::new();
        a.input();
        a.filter("sched_switch");
        a.input();
        a.filter("function");
        assert_eq!(
            texts(&a.filters_for(Dialect::V3_3, Some(0), None)),
            ["sched_switch"]
        );
        assert_eq!(
            texts(&a.filters_for(Dialect::V3_3, Some(1), None)),
            ["function"]
        );
    }

    #[test]
    fn negation() {
        // `-v -F a -F b`: both negative (3.3.1 hid sched_switch prev_pid==0 and sched_wakeup);
        // a second -v dies with "Only 1 -v can be used".
        let mut a = FilterArgs::new();
        a.filter("x");
        a.negate().unwrap();
        a.filter("y");
        a.filter("z");
        a.input();
        let v = a.filters_for(Dialect::V3_1, None, None);
        assert_eq!(
            v.iter().map(|f| f.negative).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert_eq!(a.negate(), Err("Only 1 -v can be used"));
    }

    #[test]
    fn pid_filter() {
        // 3.3.1 -T with `--pid 146` printed ' 'timer_init: common_pid == 146'' for events
        // without pid/next_pid, i.e. this text collapsed.
        assert_eq!(
            pid_filter_text(&["146"]).unwrap(),
            ".*:(common_pid==146)||(pid==146)||(next_pid==146)"
        );
        assert_eq!(
            pid_filter_text(&["1", "2"]).unwrap(),
            ".*:(common_pid==1)||(pid==1)||(next_pid==1)||(common_pid==2)||(pid==2)||(next_pid==2)"
        );
        assert!(pid_filter_text::<&str>(&[]).is_none());
    }
}
