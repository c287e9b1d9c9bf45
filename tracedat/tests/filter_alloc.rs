//! Testing records against compiled filters allocates nothing (the regex crate's per-thread
//! caches are made on first use, so the count starts after one warm-up pass).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tracedat::filter::{EventFilter, FilterEnv, FilterMatch};
use tracedat::{Endian, EventFormat, Field, FieldFlags, Record};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn field(name: &str, offset: u32, size: u32, flags: u16) -> Field {
    Field {
        name: name.into(),
        type_name: "".into(),
        offset,
        size,
        array_len: 0,
        element_size: size,
        flags: FieldFlags(flags),
    }
}

/// sched_switch as the 6.1 kernel describes it.
fn sched_switch() -> EventFormat {
    let s = FieldFlags::SIGNED;
    let str_ = FieldFlags::STRING | FieldFlags::ARRAY;
    EventFormat {
        id: 319,
        system: "sched".into(),
        name: "sched_switch".into(),
        common_fields: vec![
            field("common_type", 0, 2, 0),
            field("common_flags", 2, 1, 0),
            field("common_preempt_count", 3, 1, 0),
            field("common_pid", 4, 4, s),
        ],
        fields: vec![
            field("prev_comm", 8, 16, str_),
            field("prev_pid", 24, 4, s),
            field("prev_prio", 28, 4, s),
            field("prev_state", 32, 8, s | FieldFlags::LONG),
            field("next_comm", 40, 16, str_),
            field("next_pid", 56, 4, s),
            field("next_prio", 60, 4, s),
        ],
        print_fmt: "".into(),
    }
}

struct Env;

impl FilterEnv for Env {
    fn comm(&mut self, pid: i32) -> &[u8] {
        if pid == 146 {
            b"sleep"
        } else {
            b"<...>"
        }
    }
    fn function(&mut self, addr: u64) -> Option<&[u8]> {
        (addr > 0xffff_0000_0000_0000).then_some(b"do_sys_openat2".as_slice())
    }
}

fn record(prev_pid: i32, comm: &[u8], state: i64) -> Vec<u8> {
    let mut d = vec![0u8; 64];
    d[0..2].copy_from_slice(&319u16.to_le_bytes());
    d[4..8].copy_from_slice(&prev_pid.to_le_bytes());
    d[8..8 + comm.len()].copy_from_slice(comm);
    d[24..28].copy_from_slice(&prev_pid.to_le_bytes());
    d[32..40].copy_from_slice(&state.to_le_bytes());
    d
}

#[test]
fn matching_does_not_allocate() {
    let events = [sched_switch()];
    let filters: Vec<EventFilter> = [
        "sched_switch:prev_pid == 146 && prev_prio < 5 || !(next_pid > 3)",
        "sched_switch:prev_comm =~ \"^sl.*p$\" || prev_comm != \"x\"",
        "sched_switch:COMM == \"sleep\" && CPU == 1",
        "sched_switch:prev_state == \"do_sys_openat2\" || prev_state =~ \"^0x\"",
        "sched_switch:(prev_state & 0xff) && prev_pid + 1",
        "sched_switch",
    ]
    .iter()
    .map(|t| EventFilter::parse(t, events.iter(), Endian::Little).unwrap())
    .collect();
    let datas = [
        record(146, b"sleep", -1),
        record(1, b"systemd", 0x7f),
        record(0, b"0123456789abcdef", 0),
    ];
    let mut env = Env;
    let mut run = || {
        let mut hits = 0;
        for d in &datas {
            for cpu in 0..2 {
                let rec = Record {
                    ts: 0,
                    cpu,
                    data: d,
                    missed_events: 0,
                    offset: 0,
                };
                for f in &filters {
                    if f.matches(&rec, &mut env) == FilterMatch::Match {
                        hits += 1;
                    }
                }
            }
        }
        hits
    };
    let warm = run();
    let before = ALLOCS.load(Ordering::Relaxed);
    assert!(before > 0, "the counting allocator is not in use");
    let again = run();
    let after = ALLOCS.load(Ordering::Relaxed);
    assert_eq!(warm, again);
    assert!(warm > 0);
    assert_eq!(after - before, 0, "allocations while matching");
}
