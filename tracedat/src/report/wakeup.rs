//! `report -w`: wakeup latencies (tracecmd/trace-read.c `init_wakeup`, `process_wakeup`,
//! `add_wakeup`, `add_sched`, `finish_wakeup`).
//!
//! A successful sched_wakeup(_new) of a pid starts a timer; the next sched_switch to that pid
//! stops it, appends ` Latency: N.NNN usecs` to the sched_switch line and feeds the summary
//! printed after the trace (RT tasks — next_prio < 100 — also get their own summary).

use std::collections::HashMap;
use std::io::Write;

use crate::endian::Endian;
use crate::format::{EventFormat, Field};

/// The fields `-w` reads, found once.
#[derive(Clone, Debug)]
pub struct WakeupEvents {
    wakeup_id: u32,
    wakeup_pid: Field,
    wakeup_success: Option<Field>,
    wakeup_new: Option<(u32, Field, Option<Field>)>,
    sched_id: u32,
    sched_pid: Field,
    sched_prio: Field,
}

impl WakeupEvents {
    /// `init_wakeup`: `None` (and `-w` silently off) when the sched events are missing.
    pub fn find<'a>(mut find: impl FnMut(&str, &str) -> Option<&'a EventFormat>) -> Option<Self> {
        let w = find("sched", "sched_wakeup")?;
        let wakeup_pid = w.field("pid")?.clone();
        let wakeup_success = w.field("success").cloned();
        let wakeup_id = w.id;
        let s = find("sched", "sched_switch")?;
        let sched_pid = s.field("next_pid")?.clone();
        let sched_prio = s.field("next_prio")?.clone();
        let sched_id = s.id;
        let wakeup_new = match find("sched", "sched_wakeup_new") {
            None => None,
            Some(n) => Some((n.id, n.field("pid")?.clone(), n.field("success").cloned())),
        };
        Some(WakeupEvents {
            wakeup_id,
            wakeup_pid,
            wakeup_success,
            wakeup_new,
            sched_id,
            sched_pid,
            sched_prio,
        })
    }
}

#[derive(Default)]
struct Timings {
    total: u64,
    count: u64,
    max: u64,
    max_time: u64,
    min: u64,
    min_time: u64,
}

impl Timings {
    fn new() -> Self {
        Timings {
            min: u64::MAX,
            ..Default::default()
        }
    }
    fn add(&mut self, cal: u64, end: u64) {
        if cal > self.max {
            self.max = cal;
            self.max_time = end;
        }
        if cal < self.min {
            self.min = cal;
            self.min_time = end;
        }
        self.total = self.total.wrapping_add(cal);
        self.count += 1;
    }
    fn print(&self, out: &mut Vec<u8>) {
        let avg = self.total / self.count;
        let _ = write!(
            out,
            "\nAverage wakeup latency: {}.{:03} usecs\n",
            avg / 1000,
            avg % 1000
        );
        let _ = write!(
            out,
            "Maximum Latency: {}.{:03} usecs at ",
            self.max / 1000,
            self.max % 1000
        );
        let _ = writeln!(
            out,
            "timestamp: {}.{:06}",
            self.max_time / 1_000_000_000,
            (self.max_time.wrapping_add(500) % 1_000_000_000) / 1000
        );
        let _ = write!(
            out,
            "Minimum Latency: {}.{:03} usecs at ",
            self.min / 1000,
            self.min % 1000
        );
        let _ = write!(
            out,
            "timestamp: {}.{:06}\n\n",
            self.min_time / 1_000_000_000,
            (self.min_time.wrapping_add(500) % 1_000_000_000) / 1000
        );
    }
}

/// The running state of `-w`.
pub struct Wakeup {
    ev: WakeupEvents,
    endian: Endian,
    pending: HashMap<u32, u64>,
    all: Timings,
    rt: Timings,
}

impl Wakeup {
    pub fn new(ev: WakeupEvents, endian: Endian) -> Self {
        Wakeup {
            ev,
            endian,
            pending: HashMap::new(),
            all: Timings::new(),
            rt: Timings::new(),
        }
    }

    fn num(&self, f: &Field, data: &[u8]) -> Option<u64> {
        match f.size {
            1 | 2 | 4 | 8 => f.read_uint(self.endian, data),
            _ => None,
        }
    }

    /// `process_wakeup` for one printed record; appends ` Latency: ...` to the line.
    pub fn process(&mut self, id: u32, ts: u64, data: &[u8], out: &mut Vec<u8>) {
        let ev = &self.ev;
        let start = if id == ev.wakeup_id {
            Some((&ev.wakeup_pid, ev.wakeup_success.as_ref()))
        } else if let Some((nid, pid, success)) = &ev.wakeup_new {
            (id == *nid).then_some((pid, success.as_ref()))
        } else {
            None
        };
        if let Some((pid_f, success_f)) = start {
            if let Some(s) = success_f.and_then(|f| self.num(f, data)) {
                if s == 0 {
                    return;
                }
            }
            let Some(pid) = self.num(pid_f, data) else {
                return;
            };
            // A second wakeup before the switch restarts the timer.
            self.pending.insert(pid as u32, ts);
            return;
        }
        if id != ev.sched_id {
            return;
        }
        let Some(prio) = self.num(&ev.sched_prio, data) else {
            return;
        };
        let rt = prio <= 99;
        let Some(pid) = self.num(&ev.sched_pid, data) else {
            return;
        };
        let Some(begin) = self.pending.remove(&(pid as u32)) else {
            return;
        };
        let cal = ts.wrapping_sub(begin);
        let _ = write!(out, " Latency: {}.{:03} usecs", cal / 1000, cal % 1000);
        self.all.add(cal, ts);
        if rt {
            self.rt.add(cal, ts);
        }
    }

    /// `finish_wakeup`: the summaries, printed after everything else.
    pub fn finish(&self, out: &mut Vec<u8>) {
        if self.all.count == 0 {
            return;
        }
        self.all.print(out);
        if self.rt.count != 0 {
            out.extend_from_slice(b"RT task timings:\n");
            self.rt.print(out);
        }
    }
}
