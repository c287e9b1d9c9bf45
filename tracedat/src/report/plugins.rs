//! Event handlers that replace an event's print format in `report`: the libtraceevent plugins
//! (`plugins/plugin_*.c` of libtraceevent 1.7.1 and 1.8.4: sched_switch, function, kmem,
//! hrtimer, futex, kvm, tlb, mac80211) and trace-cmd's own function_graph handlers
//! (`lib/trace-cmd/trace-ftrace.c`).
//!
//! A handler writes the event's info text and says whether the print format should follow
//! (libtraceevent's `print_pretty`: a handler returning non-zero, including its error value
//! -1, gets the normal print-fmt output appended).
//!
//! Field access follows libtraceevent's helpers exactly, including their error texts:
//! `tep_get_field_val` prints `<CANT FIND FIELD name>` for a missing field and ` name=INVALID`
//! for one whose size is not 1, 2, 4 or 8; `tep_print_num_field` prints
//! `CAN'T FIND FIELD "name"`.

use std::io::Write;

use crate::endian::Endian;
use crate::format::{EventFormat, Field};
use crate::tep::printf::push_hex;
use crate::Dialect;

use super::comm::Comms;

/// Kernel symbol lookup as libtraceevent's `find_func` does it.
pub trait Symbols {
    /// The function containing `addr` and its start address.
    fn find_func(&self, addr: u64) -> Option<(&str, u64)>;
}

/// Options that plugins read (`-O`), with libtraceevent's defaults.
#[derive(Clone, Debug)]
pub struct PluginOptions {
    /// ftrace:parent — print ` <-- parent` after functions.
    pub parent: bool,
    /// ftrace:indent — indent functions by their call depth (default on).
    pub indent: bool,
    /// ftrace:offset — print `+0x..` offsets after function names.
    pub offset: bool,
    /// fgraph:tailprint — print the function name at function exit.
    pub tailprint: bool,
    /// fgraph:depth — print the depth of each entry.
    pub depth: bool,
    /// fgraph:retval-skip (trace-cmd 3.3).
    pub retval_skip: bool,
    /// fgraph:retval-dec (trace-cmd 3.3).
    pub retval_dec: bool,
    /// fgraph:retval-hex (trace-cmd 3.3).
    pub retval_hex: bool,
}

impl Default for PluginOptions {
    fn default() -> Self {
        PluginOptions {
            parent: false,
            indent: true,
            offset: false,
            tailprint: false,
            depth: false,
            retval_skip: false,
            retval_dec: false,
            retval_hex: false,
        }
    }
}

/// What a handler needs from the file.
pub struct Ctx<'a> {
    pub endian: Endian,
    /// The file's kernel long size (4 or 8).
    pub long_size: usize,
    pub syms: &'a dyn Symbols,
    pub dialect: Dialect,
    pub opts: &'a PluginOptions,
}

/// State that handlers update as the report is printed, in stream order.
#[derive(Default)]
pub struct State {
    /// The function plugin's per-CPU parent stacks (`fstack`), for the indent option.
    func_stacks: Vec<Vec<Option<Box<str>>>>,
}

/// Read a field as libtraceevent's `tep_read_number_field`: `None` for odd sizes.
#[inline]
fn read_num(f: &Field, endian: Endian, data: &[u8]) -> Option<u64> {
    match f.size {
        1 | 2 | 4 | 8 => Some(f.read_uint(endian, data).unwrap_or(0)),
        _ => None,
    }
}

/// `get_field_val`: the value, or the libtraceevent error text and `None`.
fn get_val(
    out: &mut Vec<u8>,
    f: Option<&Field>,
    name: &str,
    endian: Endian,
    data: &[u8],
    err: bool,
) -> Option<u64> {
    let Some(f) = f else {
        if err {
            let _ = write!(out, "<CANT FIND FIELD {name}>");
        }
        return None;
    };
    match read_num(f, endian, data) {
        Some(v) => Some(v),
        None => {
            if err {
                let _ = write!(out, " {name}=INVALID");
            }
            None
        }
    }
}

/// How `tep_print_num_field` formats a value (the plugins' printf formats).
#[derive(Clone, Copy)]
enum NumFmt {
    /// `0x%llx`
    HexLL,
    /// `%llu`
    U64,
    /// `%ld` (a 64-bit long on the hosts the references run on)
    Long,
    /// `%d` (the low 32 bits as int)
    Int,
    /// `%#x` (the low 32 bits)
    AltHex,
    /// `%u`
    UInt,
    /// `%llx`
    HexNoPrefix,
}

fn put_num(out: &mut Vec<u8>, fmt: NumFmt, v: u64) {
    let _ = match fmt {
        NumFmt::HexLL => write!(out, "0x{v:x}"),
        NumFmt::U64 => write!(out, "{v}"),
        NumFmt::Long => write!(out, "{}", v as i64),
        NumFmt::Int => write!(out, "{}", v as u32 as i32),
        NumFmt::AltHex => {
            let w = v as u32;
            if w == 0 {
                write!(out, "0")
            } else {
                write!(out, "{w:#x}")
            }
        }
        NumFmt::UInt => write!(out, "{}", v as u32),
        NumFmt::HexNoPrefix => write!(out, "{v:x}"),
    };
}

const NUM_U64: (&str, NumFmt, &str) = ("", NumFmt::U64, "");

/// The hrtimer plugin's `hrtimer=` address: the `timer` field, or `hrtimer` on older kernels.
fn hrtimer_address(out: &mut Vec<u8>, f: &Fields, d: Data) {
    out.extend_from_slice(b"hrtimer=");
    let hex = ("", NumFmt::HexLL, "");
    if !print_num_field(out, hex, f.get(0), "timer", d, false) {
        print_num_field(out, hex, f.get(1), "hrtimer", d, true);
    }
}

/// A record to read fields from.
#[derive(Clone, Copy)]
struct Data<'d>(Endian, &'d [u8]);

/// `tep_print_num_field(s, pre + fmt + post, ...)`: prints or reports; true on success.
fn print_num_field(
    out: &mut Vec<u8>,
    (pre, fmt, post): (&str, NumFmt, &str),
    f: Option<&Field>,
    name: &str,
    Data(endian, data): Data,
    err: bool,
) -> bool {
    match f.and_then(|f| read_num(f, endian, data)) {
        Some(v) => {
            out.extend_from_slice(pre.as_bytes());
            put_num(out, fmt, v);
            out.extend_from_slice(post.as_bytes());
            true
        }
        None => {
            if err {
                let _ = write!(out, "CAN'T FIND FIELD \"{name}\"");
            }
            false
        }
    }
}

/// `%.*s` of a fixed-size char array: the bytes up to the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(n) => &b[..n],
        None => b,
    }
}

fn field_bytes<'d>(f: &Field, data: &'d [u8]) -> &'d [u8] {
    let start = (f.offset as usize).min(data.len());
    let end = (f.offset as usize + f.size as usize).min(data.len());
    &data[start..end]
}

/// Owned copies of the fields a handler reads, resolved once per event type.
#[derive(Clone, Debug)]
pub struct Fields(Vec<Option<Field>>);

impl Fields {
    fn new(ev: &EventFormat, names: &[&str], any: bool) -> Self {
        Fields(
            names
                .iter()
                .map(|n| {
                    if any {
                        ev.any_field(n).cloned()
                    } else {
                        ev.field(n).cloned()
                    }
                })
                .collect(),
        )
    }
    #[inline]
    fn get(&self, i: usize) -> Option<&Field> {
        self.0[i].as_ref()
    }
}

/// The handler chosen for one event type.
#[derive(Clone, Debug)]
pub enum Handler {
    SchedSwitch(SchedSwitch),
    SchedWakeup(SchedWakeup),
    /// libtraceevent's function plugin.
    Function(Fields),
    /// function plugin + repeat count (`func_repeats`).
    FuncRepeats(Fields),
    KernelStack(Option<Field>),
    RawData(Fields),
    /// kmem: `(func+0x..) ` before the print format.
    CallSite(Option<Field>),
    HrtimerStart(Fields),
    HrtimerExpire(Fields),
    Futex(Fields),
    KvmExit(Fields),
    KvmEntry(Fields),
    KvmNestedVmexit(Fields),
    KvmNestedVmexitInject(Fields),
    KvmMmuGetPage(Fields),
    KvmMmuRole(Fields),
    KvmEmulateInsn(Fields),
    TlbFlush(Fields),
    Mac80211BssInfo(Fields),
    /// trace-cmd's funcgraph_entry handler (needs the peeked exit record).
    FgraphEntry(Fields),
    /// trace-cmd's funcgraph_exit handler.
    FgraphExit(Fields),
}

#[derive(Clone, Debug)]
pub struct SchedSwitch {
    f: Fields,
    /// 1.8.4: the state letters from the event's `__print_flags` for prev_state.
    states: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct SchedWakeup {
    f: Fields,
}

/// Which handler libtraceevent + trace-cmd would attach to `ev`, if any. `flag_states` are the
/// (value, letter) pairs of prev_state's `__print_flags`, needed by the 1.8.4 sched_switch
/// plugin; `None` when the print format has none.
pub fn handler_for(
    ev: &EventFormat,
    dialect: Dialect,
    flag_states: Option<&[(u64, u8)]>,
) -> Option<Handler> {
    let h = match (&*ev.system, &*ev.name) {
        ("sched", "sched_switch") => {
            let f = Fields::new(
                ev,
                &["prev_pid", "prev_prio", "next_pid", "next_prio"],
                false,
            );
            let mut f2 = Fields::new(ev, &["prev_comm", "prev_state", "next_comm"], true);
            f2.0.splice(0..0, f.0);
            let states = match dialect {
                Dialect::V3_1 => b"SDTtZXxW".to_vec(),
                Dialect::V3_3 => states_from_flags(flag_states),
            };
            Handler::SchedSwitch(SchedSwitch { f: f2, states })
        }
        ("sched", "sched_wakeup") | ("sched", "sched_wakeup_new") => {
            let mut f = Fields::new(ev, &["pid", "prio", "success", "target_cpu"], false);
            f.0.push(ev.any_field("comm").cloned());
            Handler::SchedWakeup(SchedWakeup { f })
        }
        ("ftrace", "function") => Handler::Function(Fields::new(ev, &["ip", "parent_ip"], false)),
        ("ftrace", "func_repeats") => Handler::FuncRepeats(Fields::new(
            ev,
            &[
                "ip",
                "parent_ip",
                "count",
                "top_delta_ts",
                "bottom_delta_ts",
            ],
            false,
        )),
        ("ftrace", "kernel_stack") => Handler::KernelStack(ev.any_field("caller").cloned()),
        ("ftrace", "raw_data") => {
            let mut f = Fields::new(ev, &["id"], false);
            f.0.push(ev.any_field("buf").cloned());
            Handler::RawData(f)
        }
        ("ftrace", "funcgraph_entry") => {
            Handler::FgraphEntry(Fields::new(ev, &["func", "depth"], false))
        }
        ("ftrace", "funcgraph_exit") => Handler::FgraphExit(Fields::new(
            ev,
            &["rettime", "calltime", "retval", "depth", "func"],
            false,
        )),
        ("kmem", "kfree")
        | ("kmem", "kmalloc")
        | ("kmem", "kmalloc_node")
        | ("kmem", "kmem_cache_alloc")
        | ("kmem", "kmem_cache_alloc_node")
        | ("kmem", "kmem_cache_free") => Handler::CallSite(ev.field("call_site").cloned()),
        ("timer", "hrtimer_start") => Handler::HrtimerStart(Fields::new(
            ev,
            &["timer", "hrtimer", "function", "expires", "softexpires"],
            false,
        )),
        ("timer", "hrtimer_expire_entry") => Handler::HrtimerExpire(Fields::new(
            ev,
            &["timer", "hrtimer", "now", "function"],
            false,
        )),
        ("syscalls", "sys_enter_futex") => Handler::Futex(Fields::new(
            ev,
            &["uaddr", "op", "val", "utime", "uaddr2", "val3"],
            false,
        )),
        ("kvm", "kvm_exit") => Handler::KvmExit(Fields::new(
            ev,
            &["exit_reason", "isa", "guest_rip", "info1", "info2"],
            false,
        )),
        ("kvm", "kvm_entry") => Handler::KvmEntry(Fields::new(ev, &["vcpu_id", "rip"], false)),
        ("kvm", "kvm_nested_vmexit") => {
            Handler::KvmNestedVmexit(Fields::new(ev, &KVM_NESTED_FIELDS, false))
        }
        ("kvm", "kvm_nested_vmexit_inject") => {
            Handler::KvmNestedVmexitInject(Fields::new(ev, &KVM_NESTED_FIELDS[..6], false))
        }
        ("kvm", "kvm_emulate_insn") => Handler::KvmEmulateInsn(Fields::new(
            ev,
            &["rip", "csbase", "len", "flags", "failed", "insn"],
            false,
        )),
        ("kvmmmu", "kvm_mmu_get_page") => Handler::KvmMmuGetPage(Fields::new(
            ev,
            &["role", "root_count", "unsync", "created", "gfn"],
            false,
        )),
        ("kvmmmu", "kvm_mmu_sync_page")
        | ("kvmmmu", "kvm_mmu_unsync_page")
        | ("kvmmmu", "kvm_mmu_zap_page")
        | ("kvmmmu", "kvm_mmu_prepare_zap_page") => {
            Handler::KvmMmuRole(Fields::new(ev, &["role", "root_count", "unsync"], false))
        }
        ("tlb", "tlb_flush") => Handler::TlbFlush(Fields::new(ev, &["pages", "reason"], false)),
        ("mac80211", "drv_bss_info_changed") => {
            Handler::Mac80211BssInfo(Fields::new(ev, &MAC80211_FIELDS, false))
        }
        _ => return None,
    };
    Some(h)
}

/// libtraceevent 1.8.4 `get_states`/`convert_sym`: letter i is the first character of the
/// symbol whose value's lowest set bit is i; the string ends at the first bit with no symbol.
fn states_from_flags(flags: Option<&[(u64, u8)]>) -> Vec<u8> {
    let Some(flags) = flags else {
        return b"SDTtXZPI".to_vec();
    };
    let mut slots = [0u8; 32];
    for &(value, letter) in flags {
        if value == 0 {
            // libtraceevent would loop forever here; no kernel emits such a table.
            continue;
        }
        let bit = value.trailing_zeros() as usize;
        if bit < 32 {
            slots[bit] = letter;
        }
    }
    let len = slots.iter().position(|&c| c == 0).unwrap_or(32);
    slots[..len].to_vec()
}

/// kvm_nested_vmexit's fields; kvm_nested_vmexit_inject has all but `rip`.
const KVM_NESTED_FIELDS: [&str; 7] = [
    "exit_code",
    "isa",
    "exit_info1",
    "exit_info2",
    "exit_int_info",
    "exit_int_info_err",
    "rip",
];

const MAC80211_FIELDS: [&str; 13] = [
    "wiphy_name",
    "vif_name",
    "vif_type",
    "assoc",
    "aid",
    "cts",
    "shortpre",
    "shortslot",
    "dtimper",
    "bcnint",
    "assoc_cap",
    "basic_rates",
    "enable_beacon",
];

/// The record being printed.
pub struct Rec<'d> {
    pub cpu: u32,
    pub ts: u64,
    pub data: &'d [u8],
}

impl Handler {
    /// True for handlers whose output depends on what was printed before (the function
    /// plugin's indent stacks, func_repeats) or on the records around it (function_graph's
    /// leaf merging): they must be printed in stream order.
    pub fn is_order_dependent(&self) -> bool {
        matches!(
            self,
            Handler::Function(_)
                | Handler::FuncRepeats(_)
                | Handler::FgraphEntry(_)
                | Handler::FgraphExit(_)
        )
    }

    /// For a handler whose output depends on the record's bytes alone (and prints nothing
    /// else, learns nothing): the offset and size of the field it reads, if any. `None` for
    /// the others.
    pub fn reads_record_only(&self) -> Option<Option<(u32, u32)>> {
        match self {
            Handler::CallSite(f) => Some(f.as_ref().map(|f| (f.offset, f.size))),
            _ => None,
        }
    }

    /// The comm registrations [`Handler::print`] makes for this record, without printing:
    /// the sched_switch and sched_wakeup plugins register each task they print (prev, then
    /// next; a pid that cannot be read stops the handler there).
    pub fn learn_comms(&self, ctx: &Ctx, comms: &mut Comms, data: &[u8]) {
        let e = ctx.endian;
        let learn = |comms: &mut Comms, pid_f: Option<&Field>, comm_f: Option<&Field>| {
            let Some(pid) = pid_f.and_then(|f| read_num(f, e, data)) else {
                return false;
            };
            if let Some(f) = comm_f {
                comms.register(pid as i32, c_str(field_bytes(f, data)));
            }
            true
        };
        match self {
            Handler::SchedSwitch(h) if learn(comms, h.f.get(0), h.f.get(4)) => {
                learn(comms, h.f.get(2), h.f.get(6));
            }
            Handler::SchedWakeup(h) => {
                learn(comms, h.f.get(0), h.f.get(4));
            }
            _ => {}
        }
    }

    /// Writes the handler's output; returns true when the print format must follow.
    /// `comms` (when given) learns the comms sched_switch/sched_wakeup print. `time_fmt` renders a
    /// timestamp the way the report does (for func_repeats' `last_ts`).
    pub fn print(
        &self,
        ctx: &Ctx,
        st: &mut State,
        comms: Option<&mut Comms>,
        rec: &Rec,
        out: &mut Vec<u8>,
        time_fmt: &dyn Fn(&mut Vec<u8>, u64),
    ) -> bool {
        let e = ctx.endian;
        let d = rec.data;
        match self {
            Handler::SchedSwitch(h) => {
                sched_switch(h, ctx, comms, d, out);
                false
            }
            Handler::SchedWakeup(h) => {
                sched_wakeup(h, ctx, comms, d, out);
                false
            }
            Handler::Function(f) => {
                function(f, ctx, st, rec, out);
                false
            }
            Handler::FuncRepeats(f) => {
                if !function(f, ctx, st, rec, out) {
                    return false;
                }
                let Some(count) = get_val(out, f.get(2), "count", e, d, true) else {
                    out.push(b'!');
                    return false;
                };
                let Some(top) = get_val(out, f.get(3), "top_delta_ts", e, d, true) else {
                    out.push(b'!');
                    return false;
                };
                let Some(bottom) = get_val(out, f.get(4), "bottom_delta_ts", e, d, true) else {
                    out.push(b'!');
                    return false;
                };
                let _ = write!(out, " (count: {}  last_ts: ", count as i64);
                time_fmt(out, rec.ts.wrapping_sub((top << 32) | bottom));
                out.push(b')');
                false
            }
            Handler::KernelStack(caller) => {
                kernel_stack(caller.as_ref(), ctx, d, out);
                false
            }
            Handler::RawData(f) => {
                raw_data(f, ctx, d, out);
                false
            }
            Handler::CallSite(f) => {
                if let Some(f) = f {
                    if let Some(v) = read_num(f, e, d) {
                        if let Some((name, start)) = ctx.syms.find_func(v) {
                            // "(%s+0x%x) "
                            out.push(b'(');
                            out.extend_from_slice(name.as_bytes());
                            out.extend_from_slice(b"+0x");
                            push_hex(out, v.wrapping_sub(start) as u32 as u64, false);
                            out.extend_from_slice(b") ");
                        }
                    }
                }
                true
            }
            Handler::HrtimerStart(f) => {
                hrtimer_address(out, f, Data(e, d));
                print_func_field(out, " function=", f.get(2), ctx, d);
                out.extend_from_slice(b" expires=");
                print_num_field(out, NUM_U64, f.get(3), "expires", Data(e, d), true);
                out.extend_from_slice(b" softexpires=");
                print_num_field(out, NUM_U64, f.get(4), "softexpires", Data(e, d), true);
                false
            }
            Handler::HrtimerExpire(f) => {
                hrtimer_address(out, f, Data(e, d));
                out.extend_from_slice(b" now=");
                print_num_field(out, NUM_U64, f.get(2), "now", Data(e, d), true);
                print_func_field(out, " function=", f.get(3), ctx, d);
                false
            }
            Handler::Futex(f) => futex(f, e, d, out),
            Handler::KvmExit(f) => kvm_exit(f, e, d, out),
            Handler::KvmEntry(f) => {
                print_num_field(
                    out,
                    (" vcpu ", NumFmt::UInt, ""),
                    f.get(0),
                    "vcpu_id",
                    Data(e, d),
                    true,
                );
                let Some(rip) = get_val(out, f.get(1), "rip", e, d, true) else {
                    return true;
                };
                let _ = write!(out, " rip 0x{rip:x}");
                false
            }
            Handler::KvmNestedVmexit(f) => {
                let Some(rip) = get_val(out, f.get(6), "rip", e, d, true) else {
                    return true;
                };
                let _ = write!(out, " rip {rip:x}");
                kvm_nested_vmexit_inject(f, e, d, out)
            }
            Handler::KvmNestedVmexitInject(f) => kvm_nested_vmexit_inject(f, e, d, out),
            Handler::KvmMmuGetPage(f) => {
                let Some(created) = get_val(out, f.get(3), "created", e, d, true) else {
                    return true;
                };
                out.extend_from_slice(if created != 0 { b"new " } else { b"existing " });
                let Some(gfn) = get_val(out, f.get(4), "gfn", e, d, true) else {
                    return true;
                };
                let _ = write!(out, "sp gfn {gfn:x} ");
                kvm_mmu_role(f, e, d, out)
            }
            Handler::KvmMmuRole(f) => kvm_mmu_role(f, e, d, out),
            Handler::KvmEmulateInsn(f) => kvm_emulate_insn(f, e, d, out),
            Handler::TlbFlush(f) => {
                out.extend_from_slice(b"pages=");
                print_num_field(
                    out,
                    ("", NumFmt::Long, ""),
                    f.get(0),
                    "pages",
                    Data(e, d),
                    true,
                );
                let Some(reason) = get_val(out, f.get(1), "reason", e, d, true) else {
                    return true;
                };
                out.extend_from_slice(b" reason=");
                out.extend_from_slice(match reason {
                    0 => &b"flush on task switch"[..],
                    1 => b"remote shootdown",
                    2 => b"local shootdown",
                    3 => b"local mm shootdown",
                    _ => b"",
                });
                let _ = write!(out, " ({})", reason as i64);
                false
            }
            Handler::Mac80211BssInfo(f) => {
                mac80211_bss_info(f, e, d, out);
                false
            }
            // The function_graph handlers need the merge iterator; see `fgraph_*`.
            Handler::FgraphEntry(_) | Handler::FgraphExit(_) => true,
        }
    }
}

/// `comm:pid` as the sched plugins print a task (`write_and_save_comm` + `%lld`), learning the
/// comm; `None` (after libtraceevent's `!`) when the pid field cannot be read.
fn task(
    out: &mut Vec<u8>,
    comms: &mut Option<&mut Comms>,
    (pid_f, pid_name): (Option<&Field>, &str),
    comm_f: Option<&Field>,
    Data(e, d): Data,
) -> Option<()> {
    let Some(pid) = get_val(out, pid_f, pid_name, e, d, true) else {
        out.push(b'!');
        return None;
    };
    if let Some(f) = comm_f {
        let comm = c_str(field_bytes(f, d));
        out.extend_from_slice(comm);
        if let Some(c) = comms {
            c.register(pid as i32, comm);
        }
        out.push(b':');
    }
    let _ = write!(out, "{}", pid as i64);
    Some(())
}

fn sched_switch(
    h: &SchedSwitch,
    ctx: &Ctx,
    mut comms: Option<&mut Comms>,
    d: &[u8],
    out: &mut Vec<u8>,
) {
    let e = ctx.endian;
    let f = &h.f;
    // Order in `f`: prev_pid, prev_prio, next_pid, next_prio, prev_comm, prev_state, next_comm.
    if task(
        out,
        &mut comms,
        (f.get(0), "prev_pid"),
        f.get(4),
        Data(e, d),
    )
    .is_none()
    {
        return;
    }
    out.push(b' ');
    if let Some(prio) = get_val(out, f.get(1), "prev_prio", e, d, true) {
        let _ = write!(out, "[{}] ", prio as u32 as i32);
    }
    match ctx.dialect {
        Dialect::V3_1 => {
            if let Some(v) = get_val(out, f.get(5), "prev_state", e, d, true) {
                write_state(out, &h.states, v as u32 as i32 as i64 as u64);
            }
        }
        Dialect::V3_3 => {
            if let Some(sf) = f.get(5) {
                let v = read_num(sf, e, d).unwrap_or(0);
                write_state(out, &h.states, v);
            }
        }
    }
    out.extend_from_slice(b" ==> ");
    if task(
        out,
        &mut comms,
        (f.get(2), "next_pid"),
        f.get(6),
        Data(e, d),
    )
    .is_none()
    {
        return;
    }
    if let Some(prio) = get_val(out, f.get(3), "next_prio", e, d, true) {
        let _ = write!(out, " [{}]", prio as u32 as i32);
    }
}

fn write_state(out: &mut Vec<u8>, states: &[u8], val: u64) {
    let mut found = false;
    for (i, &c) in states.iter().enumerate() {
        if val & (1u64 << i) == 0 {
            continue;
        }
        if found {
            out.push(b'|');
        }
        found = true;
        out.push(c);
    }
    if !found {
        out.push(b'R');
    }
}

fn sched_wakeup(
    h: &SchedWakeup,
    ctx: &Ctx,
    mut comms: Option<&mut Comms>,
    d: &[u8],
    out: &mut Vec<u8>,
) {
    let e = ctx.endian;
    let f = &h.f;
    // Order: pid, prio, success, target_cpu, comm (any field).
    if task(out, &mut comms, (f.get(0), "pid"), f.get(4), Data(e, d)).is_none() {
        return;
    }
    if let Some(prio) = get_val(out, f.get(1), "prio", e, d, true) {
        let _ = write!(out, " [{}]", prio as i64);
    }
    if let Some(s) = get_val(out, f.get(2), "success", e, d, false) {
        let _ = write!(out, " success={}", s as i64);
    }
    if let Some(c) = get_val(out, f.get(3), "target_cpu", e, d, false) {
        let _ = write!(out, " CPU:{c:03}");
    }
}

/// The function plugin (`function_handler`); returns false when it stopped with `!`.
fn function(f: &Fields, ctx: &Ctx, st: &mut State, rec: &Rec, out: &mut Vec<u8>) -> bool {
    let e = ctx.endian;
    let d = rec.data;
    let Some(ip) = get_val(out, f.get(0), "ip", e, d, true) else {
        out.push(b'!');
        return false;
    };
    let func = ctx.syms.find_func(ip);
    let Some(pip) = get_val(out, f.get(1), "parent_ip", e, d, true) else {
        out.push(b'!');
        return false;
    };
    let parent = ctx.syms.find_func(pip);
    let mut index = 0;
    if let Some((pname, _)) = parent {
        if ctx.opts.indent {
            index = add_and_get_index(st, pname, func.map(|f| f.0), rec.cpu as usize);
        }
    }
    out.resize(out.len() + index * 3, b' ');
    match func {
        Some((name, start)) => show_function(out, ctx, name, start, ip),
        None => {
            let _ = write!(out, "0x{ip:x}");
        }
    }
    if ctx.opts.parent {
        out.extend_from_slice(b" <-- ");
        match parent {
            Some((name, start)) => show_function(out, ctx, name, start, pip),
            None => {
                let _ = write!(out, "0x{pip:x}");
            }
        }
    }
    true
}

fn show_function(out: &mut Vec<u8>, ctx: &Ctx, name: &str, start: u64, addr: u64) {
    out.extend_from_slice(name.as_bytes());
    if ctx.opts.offset {
        let _ = write!(out, "+0x{:x} ", addr.wrapping_sub(start) as u32);
    }
}

/// The function plugin's `add_and_get_index`: the depth at which `parent` sits in this CPU's
/// stack of recent callers (entries compared by name, as the plugin does).
fn add_and_get_index(st: &mut State, parent: &str, child: Option<&str>, cpu: usize) -> usize {
    if st.func_stacks.len() <= cpu {
        st.func_stacks.resize_with(cpu + 1, Vec::new);
    }
    let stack = &mut st.func_stacks[cpu];
    let mut i = 0;
    while i < stack.len() {
        match &stack[i] {
            Some(s) if &**s == parent => {
                add_child(stack, child, i + 1);
                return i;
            }
            Some(_) => i += 1,
            None => break,
        }
    }
    add_child(stack, Some(parent), 0);
    add_child(stack, child, 1);
    0
}

fn add_child(stack: &mut Vec<Option<Box<str>>>, child: Option<&str>, pos: usize) {
    let Some(child) = child else { return };
    if pos >= stack.len() {
        // The plugin grows its array in blocks of 10 NULL slots.
        let new_len = (pos / 10 + 1) * 10;
        stack.resize(new_len.max(stack.len() + 10), None);
    }
    match &mut stack[pos] {
        Some(s) if &**s == child => {}
        slot => *slot = Some(child.into()),
    }
}

fn kernel_stack(caller: Option<&Field>, ctx: &Ctx, d: &[u8], out: &mut Vec<u8>) {
    let Some(f) = caller else {
        out.extend_from_slice(b"<CANT FIND FIELD caller>");
        return;
    };
    out.extend_from_slice(b"<stack trace >\n");
    let ls = ctx.long_size;
    let mut off = f.offset as usize;
    while off < d.len() {
        let addr = ctx.endian.uint(d, off, ls).unwrap_or(0);
        if (ls == 8 && addr == u64::MAX) || addr as u32 == u32::MAX {
            break;
        }
        match ctx.syms.find_func(addr) {
            Some((name, start)) => {
                out.extend_from_slice(b"=> ");
                show_function(out, ctx, name, start, addr);
                let _ = writeln!(out, " ({addr:x})");
            }
            None => {
                let _ = writeln!(out, "=> {addr:x}");
            }
        }
        off += ls;
    }
}

fn raw_data(f: &Fields, ctx: &Ctx, d: &[u8], out: &mut Vec<u8>) {
    let Some(id) = get_val(out, f.get(0), "id", ctx.endian, d, true) else {
        out.push(b'!');
        return;
    };
    let _ = write!(out, "# {id:x}");
    let Some(buf) = f.get(1) else {
        out.extend_from_slice(b"<CANT FIND FIELD buf>");
        return;
    };
    let mut off = buf.offset as usize;
    // The plugin steps by the file's long size but prints host sizeof(long) (8) bytes.
    while off < d.len() {
        let n = 8.min(d.len() - off);
        for b in &d[off..off + n] {
            let _ = write!(out, " {b:02x}");
        }
        off += ctx.long_size;
    }
}

/// `tep_print_func_field(s, " function=%s", ...)` with err=0.
fn print_func_field(out: &mut Vec<u8>, pre: &str, f: Option<&Field>, ctx: &Ctx, d: &[u8]) {
    let Some(v) = f.and_then(|f| read_num(f, ctx.endian, d)) else {
        return;
    };
    out.extend_from_slice(pre.as_bytes());
    let start = out.len();
    match ctx.syms.find_func(v) {
        Some((name, addr)) => {
            let _ = write!(out, "{}/0x{:x}", name, addr.wrapping_sub(v));
        }
        None => {
            let _ = write!(out, "0x{v:08x}");
        }
    }
    // snprintf into a 128-byte buffer.
    out.truncate(start + (out.len() - start).min(127));
}

/// A futex op: its name and how it prints val, utime (or val2), uaddr2 and val3 (`u` decimal,
/// `x8` as `0x%08llx`, `None` not at all).
type FutexOp = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

const FUTEX_OPS: [FutexOp; 13] = [
    ("FUTEX_WAIT", Some("x8"), Some("x8"), None, None),
    ("FUTEX_WAKE", Some("u"), None, None, None),
    ("FUTEX_FD", Some("u"), None, None, None),
    ("FUTEX_REQUEUE", Some("u"), Some("u"), Some("x8"), None),
    (
        "FUTEX_CMP_REQUEUE",
        Some("u"),
        Some("u"),
        Some("x8"),
        Some("x8"),
    ),
    (
        "FUTEX_WAKE_OP",
        Some("u"),
        Some("u"),
        Some("x8"),
        Some("x8"),
    ),
    ("FUTEX_LOCK_PI", None, Some("x8"), None, None),
    ("FUTEX_UNLOCK_PI", None, None, None, None),
    ("FUTEX_TRYLOCK_PI", None, None, None, None),
    (
        "FUTEX_WAIT_BITSET",
        Some("x8"),
        Some("x8"),
        None,
        Some("x8"),
    ),
    ("FUTEX_WAKE_BITSET", Some("u"), None, None, Some("x8")),
    (
        "FUTEX_WAIT_REQUEUE_PI",
        Some("x8"),
        Some("x8"),
        Some("x8"),
        Some("x8"),
    ),
    (
        "FUTEX_CMP_REQUEUE_PI",
        Some("u"),
        Some("u"),
        Some("x8"),
        Some("x8"),
    ),
];

fn futex(f: &Fields, e: Endian, d: &[u8], out: &mut Vec<u8>) -> bool {
    let names = ["uaddr", "op", "val", "utime", "uaddr2", "val3"];
    let mut v = [0u64; 6];
    for i in 0..6 {
        match get_val(out, f.get(i), names[i], e, d, true) {
            Some(x) => v[i] = x,
            None => return true,
        }
    }
    let [uaddr, op, val, utime, uaddr2, val3] = v;
    let cmd = (op & 0x7f) as usize;
    let Some(&(name, fval, futime, fuaddr2, fval3)) = FUTEX_OPS.get(cmd) else {
        return true;
    };
    let _ = write!(out, "op={name}");
    if op & 128 != 0 {
        out.extend_from_slice(b"|FUTEX_PRIVATE_FLAG");
    }
    if op & 256 != 0 {
        out.extend_from_slice(b"|FUTEX_CLOCK_REALTIME");
    }
    let _ = write!(out, " uaddr=0x{uaddr:08x}");
    let put = |out: &mut Vec<u8>, label: &str, kind: Option<&str>, x: u64| {
        let _ = match kind {
            Some("u") => write!(out, " {label}={x}"),
            Some(_) => write!(out, " {label}=0x{x:08x}"),
            None => Ok(()),
        };
    };
    put(out, "val", fval, val);
    let utime_label = if futime == Some("u") { "val2" } else { "utime" };
    put(out, utime_label, futime, utime);
    put(out, "uaddr2", fuaddr2, uaddr2);
    put(out, "val3", fval3, val3);
    false
}

const VMX_EXIT_REASONS: &[(&str, i64)] = &[
    ("EXCEPTION_NMI", 0),
    ("EXTERNAL_INTERRUPT", 1),
    ("TRIPLE_FAULT", 2),
    ("PENDING_INTERRUPT", 7),
    ("NMI_WINDOW", 8),
    ("TASK_SWITCH", 9),
    ("CPUID", 10),
    ("HLT", 12),
    ("INVD", 13),
    ("INVLPG", 14),
    ("RDPMC", 15),
    ("RDTSC", 16),
    ("VMCALL", 18),
    ("VMCLEAR", 19),
    ("VMLAUNCH", 20),
    ("VMPTRLD", 21),
    ("VMPTRST", 22),
    ("VMREAD", 23),
    ("VMRESUME", 24),
    ("VMWRITE", 25),
    ("VMOFF", 26),
    ("VMON", 27),
    ("CR_ACCESS", 28),
    ("DR_ACCESS", 29),
    ("IO_INSTRUCTION", 30),
    ("MSR_READ", 31),
    ("MSR_WRITE", 32),
    ("MWAIT_INSTRUCTION", 36),
    ("MONITOR_INSTRUCTION", 39),
    ("PAUSE_INSTRUCTION", 40),
    ("MCE_DURING_VMENTRY", 41),
    ("TPR_BELOW_THRESHOLD", 43),
    ("APIC_ACCESS", 44),
    ("EOI_INDUCED", 45),
    ("EPT_VIOLATION", 48),
    ("EPT_MISCONFIG", 49),
    ("INVEPT", 50),
    ("PREEMPTION_TIMER", 52),
    ("WBINVD", 54),
    ("XSETBV", 55),
    ("APIC_WRITE", 56),
    ("INVPCID", 58),
    ("PML_FULL", 62),
    ("XSAVES", 63),
    ("XRSTORS", 64),
];

const SVM_EXIT_REASONS: &[(&str, i64)] = &[
    ("EXIT_READ_CR0", 0x000),
    ("EXIT_READ_CR3", 0x003),
    ("EXIT_READ_CR4", 0x004),
    ("EXIT_READ_CR8", 0x008),
    ("EXIT_WRITE_CR0", 0x010),
    ("EXIT_WRITE_CR3", 0x013),
    ("EXIT_WRITE_CR4", 0x014),
    ("EXIT_WRITE_CR8", 0x018),
    ("EXIT_READ_DR0", 0x020),
    ("EXIT_READ_DR1", 0x021),
    ("EXIT_READ_DR2", 0x022),
    ("EXIT_READ_DR3", 0x023),
    ("EXIT_READ_DR4", 0x024),
    ("EXIT_READ_DR5", 0x025),
    ("EXIT_READ_DR6", 0x026),
    ("EXIT_READ_DR7", 0x027),
    ("EXIT_WRITE_DR0", 0x030),
    ("EXIT_WRITE_DR1", 0x031),
    ("EXIT_WRITE_DR2", 0x032),
    ("EXIT_WRITE_DR3", 0x033),
    ("EXIT_WRITE_DR4", 0x034),
    ("EXIT_WRITE_DR5", 0x035),
    ("EXIT_WRITE_DR6", 0x036),
    ("EXIT_WRITE_DR7", 0x037),
    ("EXIT_EXCP_DE", 0x040),
    ("EXIT_EXCP_DB", 0x041),
    ("EXIT_EXCP_BP", 0x043),
    ("EXIT_EXCP_OF", 0x044),
    ("EXIT_EXCP_BR", 0x045),
    ("EXIT_EXCP_UD", 0x046),
    ("EXIT_EXCP_NM", 0x047),
    ("EXIT_EXCP_DF", 0x048),
    ("EXIT_EXCP_TS", 0x04a),
    ("EXIT_EXCP_NP", 0x04b),
    ("EXIT_EXCP_SS", 0x04c),
    ("EXIT_EXCP_GP", 0x04d),
    ("EXIT_EXCP_PF", 0x04e),
    ("EXIT_EXCP_MF", 0x050),
    ("EXIT_EXCP_AC", 0x051),
    ("EXIT_EXCP_MC", 0x052),
    ("EXIT_EXCP_XF", 0x053),
    ("EXIT_INTR", 0x060),
    ("EXIT_NMI", 0x061),
    ("EXIT_SMI", 0x062),
    ("EXIT_INIT", 0x063),
    ("EXIT_VINTR", 0x064),
    ("EXIT_CR0_SEL_WRITE", 0x065),
    ("EXIT_IDTR_READ", 0x066),
    ("EXIT_GDTR_READ", 0x067),
    ("EXIT_LDTR_READ", 0x068),
    ("EXIT_TR_READ", 0x069),
    ("EXIT_IDTR_WRITE", 0x06a),
    ("EXIT_GDTR_WRITE", 0x06b),
    ("EXIT_LDTR_WRITE", 0x06c),
    ("EXIT_TR_WRITE", 0x06d),
    ("EXIT_RDTSC", 0x06e),
    ("EXIT_RDPMC", 0x06f),
    ("EXIT_PUSHF", 0x070),
    ("EXIT_POPF", 0x071),
    ("EXIT_CPUID", 0x072),
    ("EXIT_RSM", 0x073),
    ("EXIT_IRET", 0x074),
    ("EXIT_SWINT", 0x075),
    ("EXIT_INVD", 0x076),
    ("EXIT_PAUSE", 0x077),
    ("EXIT_HLT", 0x078),
    ("EXIT_INVLPG", 0x079),
    ("EXIT_INVLPGA", 0x07a),
    ("EXIT_IOIO", 0x07b),
    ("EXIT_MSR", 0x07c),
    ("EXIT_TASK_SWITCH", 0x07d),
    ("EXIT_FERR_FREEZE", 0x07e),
    ("EXIT_SHUTDOWN", 0x07f),
    ("EXIT_VMRUN", 0x080),
    ("EXIT_VMMCALL", 0x081),
    ("EXIT_VMLOAD", 0x082),
    ("EXIT_VMSAVE", 0x083),
    ("EXIT_STGI", 0x084),
    ("EXIT_CLGI", 0x085),
    ("EXIT_SKINIT", 0x086),
    ("EXIT_RDTSCP", 0x087),
    ("EXIT_ICEBP", 0x088),
    ("EXIT_WBINVD", 0x089),
    ("EXIT_MONITOR", 0x08a),
    ("EXIT_MWAIT", 0x08b),
    ("EXIT_MWAIT_COND", 0x08c),
    ("EXIT_XSETBV", 0x08d),
    ("EXIT_NPF", 0x400),
    ("EXIT_AVIC_INCOMPLETE_IPI", 0x401),
    ("EXIT_AVIC_UNACCELERATED_ACCESS", 0x402),
    ("EXIT_ERR", -1),
];

/// `find_exit_reason(isa, val)` with `val` an int.
fn find_exit_reason(isa: u64, val: u64) -> Option<&'static str> {
    let table = match isa as u32 {
        1 => VMX_EXIT_REASONS,
        2 => SVM_EXIT_REASONS,
        _ => return Some("UNKNOWN-ISA"),
    };
    let v = val as u32 as i32 as i64;
    table.iter().find(|(_, x)| *x == v).map(|(s, _)| *s)
}

/// `print_exit_reason`; false when the field was missing (the handler then returns -1).
fn print_exit_reason(
    f: &Fields,
    code: usize,
    name: &str,
    e: Endian,
    d: &[u8],
    out: &mut Vec<u8>,
) -> bool {
    let Some(val) = get_val(out, f.get(code), name, e, d, true) else {
        return false;
    };
    let isa = get_val(out, f.get(1), "isa", e, d, false).unwrap_or(1);
    match find_exit_reason(isa, val) {
        Some(r) => {
            let _ = write!(out, "reason {r}");
        }
        None => {
            let _ = write!(out, "reason UNKNOWN ({val})");
        }
    }
    true
}

fn kvm_exit(f: &Fields, e: Endian, d: &[u8], out: &mut Vec<u8>) -> bool {
    if !print_exit_reason(f, 0, "exit_reason", e, d, out) {
        return true;
    }
    let Some(rip) = get_val(out, f.get(2), "guest_rip", e, d, true) else {
        return true;
    };
    let _ = write!(out, " rip 0x{rip:x}");
    if let (Some(i1), Some(i2)) = (
        get_val(out, f.get(3), "info1", e, d, false),
        get_val(out, f.get(4), "info2", e, d, false),
    ) {
        let _ = write!(out, " info {i1:x} {i2:x}");
    }
    false
}

fn kvm_nested_vmexit_inject(f: &Fields, e: Endian, d: &[u8], out: &mut Vec<u8>) -> bool {
    if !print_exit_reason(f, 0, "exit_code", e, d, out) {
        return true;
    }
    print_num_field(
        out,
        (" info1 ", NumFmt::HexNoPrefix, ""),
        f.get(2),
        "exit_info1",
        Data(e, d),
        true,
    );
    print_num_field(
        out,
        (" info2 ", NumFmt::HexNoPrefix, ""),
        f.get(3),
        "exit_info2",
        Data(e, d),
        true,
    );
    print_num_field(
        out,
        (" int_info ", NumFmt::HexNoPrefix, ""),
        f.get(4),
        "exit_int_info",
        Data(e, d),
        true,
    );
    print_num_field(
        out,
        (" int_info_err ", NumFmt::HexNoPrefix, ""),
        f.get(5),
        "exit_int_info_err",
        Data(e, d),
        true,
    );
    false
}

fn kvm_mmu_role(f: &Fields, e: Endian, d: &[u8], out: &mut Vec<u8>) -> bool {
    const ACCESS: [&str; 8] = ["---", "--x", "w--", "w-x", "-u-", "-ux", "wu-", "wux"];
    let Some(val) = get_val(out, f.get(0), "role", e, d, true) else {
        return true;
    };
    let w = val as u32;
    // The plugin reads the role through a host-endian bitfield union: only meaningful when
    // the file is little-endian like the x86 hosts that run the references.
    if e == Endian::Little {
        let level = w & 0xf;
        let cr4_pae = (w >> 4) & 1;
        let quadrant = (w >> 5) & 3;
        let direct = (w >> 7) & 1;
        let access = (w >> 8) & 7;
        let invalid = (w >> 11) & 1;
        let nxe = (w >> 12) & 1;
        let cr0_wp = (w >> 13) & 1;
        let smep = (w >> 14) & 1;
        let smap = (w >> 15) & 1;
        let smm = (w >> 24) & 0xff;
        let _ = write!(
            out,
            "{} q{}{} {}{} {}pae {}nxe {}wp{}{}{}",
            level,
            quadrant,
            if direct != 0 { " direct" } else { "" },
            ACCESS[access as usize],
            if invalid != 0 { " invalid" } else { "" },
            if cr4_pae != 0 { "" } else { "!" },
            if nxe != 0 { "" } else { "!" },
            if cr0_wp != 0 { "" } else { "!" },
            if smep != 0 { " smep" } else { "" },
            if smap != 0 { " smap" } else { "" },
            if smm != 0 { " smm" } else { "" },
        );
    } else {
        let _ = write!(out, "WORD: {w:08x}");
    }
    print_num_field(
        out,
        (" root ", NumFmt::UInt, " "),
        f.get(1),
        "root_count",
        Data(e, d),
        true,
    );
    let Some(unsync) = get_val(out, f.get(2), "unsync", e, d, true) else {
        return true;
    };
    out.extend_from_slice(if unsync != 0 { b"unsync" } else { b"sync" });
    out.push(0);
    false
}

fn kvm_emulate_insn(f: &Fields, e: Endian, d: &[u8], out: &mut Vec<u8>) -> bool {
    let names = ["rip", "csbase", "len", "flags", "failed"];
    let mut v = [0u64; 5];
    for i in 0..5 {
        match get_val(out, f.get(i), names[i], e, d, true) {
            Some(x) => v[i] = x,
            None => return true,
        }
    }
    let [rip, csbase, len, _flags, failed] = v;
    let Some(insn) = f.get(5) else {
        out.extend_from_slice(b"<CANT FIND FIELD insn>");
        return true;
    };
    let bytes = field_bytes(insn, d);
    let _ = write!(out, "{csbase:x}:{rip:x}: ");
    // Without udis86 the plugin prints the instruction bytes as hex.
    let n = (len as usize).min(15);
    let mut text = Vec::with_capacity(n * 3);
    for i in 0..n {
        let _ = write!(text, "{:02x} ", bytes.get(i).copied().unwrap_or(0));
    }
    text.pop();
    out.extend_from_slice(&text);
    if failed != 0 {
        out.extend_from_slice(b" FAIL");
    }
    false
}

fn mac80211_bss_info(f: &Fields, e: Endian, d: &[u8], out: &mut Vec<u8>) {
    let string = |out: &mut Vec<u8>, i: usize, name: &str| {
        let Some(fl) = f.get(i) else {
            let _ = write!(out, "NOTFOUND:{name}");
            return;
        };
        let (mut off, mut len) = (fl.offset as usize, fl.size as usize);
        if fl.type_name.starts_with("__data_loc") {
            match read_num(fl, e, d) {
                Some(v) => {
                    off = (v & 0xffff) as usize;
                    len = (v >> 16) as usize;
                }
                None => {
                    out.extend_from_slice(b"invalid_data_loc");
                    return;
                }
            }
        }
        let s = d.get(off..(off + len).min(d.len())).unwrap_or(&[]);
        out.extend_from_slice(c_str(s));
    };
    string(out, 0, "wiphy_name");
    out.extend_from_slice(b" vif:");
    string(out, 1, "vif_name");
    print_num_field(
        out,
        ("(", NumFmt::Int, ")"),
        f.get(2),
        "vif_type",
        Data(e, d),
        true,
    );
    let indent = |out: &mut Vec<u8>| {
        out.push(b'\n');
        out.resize(out.len() + 65, b' ');
    };
    let sf = |out: &mut Vec<u8>, i: usize, hex: bool| {
        let name = MAC80211_FIELDS[i];
        let pre = format!("{name}:");
        let fmt = if hex { NumFmt::AltHex } else { NumFmt::Int };
        print_num_field(out, (&pre, fmt, ""), f.get(i), name, Data(e, d), false);
    };
    indent(out);
    for i in 3..9 {
        sf(out, i, false);
        out.push(b' ');
    }
    indent(out);
    sf(out, 9, false);
    out.push(b' ');
    sf(out, 10, true);
    out.push(b' ');
    sf(out, 11, true);
    out.push(b' ');
    sf(out, 12, false);
    indent(out);
}

// ---------------------------------------------------------------------------------------
// function_graph (trace-cmd lib/trace-cmd/trace-ftrace.c)

/// `print_graph_overhead`: the duration marker.
fn graph_overhead(out: &mut Vec<u8>, duration: Option<u64>) {
    let m: &[u8] = match duration {
        None => b"  ",
        Some(d) if d > 1_000_000_000 => b"$ ",
        Some(d) if d > 1_000_000 => b"# ",
        Some(d) if d > 100_000 => b"! ",
        Some(d) if d > 10_000 => b"+ ",
        Some(_) => b"  ",
    };
    out.extend_from_slice(m);
}

/// `print_graph_duration`: µs, then `.nnn` while the number has fewer than 7 digits, padded
/// to the column.
fn graph_duration(out: &mut Vec<u8>, duration: u64) {
    let usecs = duration / 1000;
    let nsecs = duration % 1000;
    let start = out.len();
    let _ = write!(out, "{usecs}");
    let digits = out.len() - start;
    if digits < 7 {
        // snprintf(nsecs_str, MIN(sizeof(nsecs_str), 8 - len), "%03lu", ...) where `len` is
        // the trace_seq length before the number: large, so always the full 5-byte buffer.
        let _ = write!(out, ".{nsecs:03}");
    }
    let len = out.len() - start;
    out.extend_from_slice(b" us ");
    for _ in len..7 {
        out.push(b' ');
    }
    out.extend_from_slice(b"|  ");
}

fn is_linux_err(v: u64) -> bool {
    v >= (-4095i64) as u64
}

fn graph_retval(out: &mut Vec<u8>, ctx: &Ctx, retval: Option<u64>) {
    let Some(r) = retval else { return };
    if ctx.dialect == Dialect::V3_1 || ctx.opts.retval_skip {
        return;
    }
    let _ = if ctx.opts.retval_dec {
        write!(out, " (ret={})", r as i64)
    } else if ctx.opts.retval_hex || !is_linux_err(r) {
        write!(out, " (ret=0x{r:x})")
    } else {
        write!(out, " (ret={})", r as i64)
    };
}

/// The funcgraph_exit fields trace-cmd reads (resolved on the exit event).
fn exit_vals(xf: &Fields, ctx: &Ctx, d: &[u8], out: &mut Vec<u8>) -> Option<(u64, Option<u64>)> {
    let e = ctx.endian;
    let rettime = get_val(out, xf.get(0), "rettime", e, d, true)?;
    let calltime = get_val(out, xf.get(1), "calltime", e, d, true)?;
    let retval = if ctx.dialect == Dialect::V3_3 && xf.get(2).is_some() {
        Some(get_val(out, xf.get(2), "retval", e, d, true)?)
    } else {
        None
    };
    Some((rettime.wrapping_sub(calltime), retval))
}

/// funcgraph_entry: `leaf` is the matching funcgraph_exit record when the report found one
/// (it is then consumed and never printed on its own).
pub fn fgraph_entry(
    ef: &Fields,
    xf: &Fields,
    ctx: &Ctx,
    data: &[u8],
    leaf: Option<&[u8]>,
    out: &mut Vec<u8>,
) {
    let e = ctx.endian;
    // A leaf prints its duration and `func();`, a nested entry a blank time and `func() {`.
    let (retval, tail) = match leaf {
        Some(x) => {
            let Some((duration, retval)) = exit_vals(xf, ctx, x, out) else {
                out.push(b'!');
                return;
            };
            graph_overhead(out, Some(duration));
            graph_duration(out, duration);
            (retval, &b"();"[..])
        }
        None => {
            graph_overhead(out, None);
            out.extend_from_slice(b"           |  ");
            (None, &b"() {"[..])
        }
    };
    let Some(depth) = get_val(out, ef.get(1), "depth", e, data, true) else {
        out.push(b'!');
        return;
    };
    indent_depth(out, depth);
    let Some(func) = get_val(out, ef.get(0), "func", e, data, true) else {
        out.push(b'!');
        return;
    };
    match ctx.syms.find_func(func) {
        Some((name, _)) => out.extend_from_slice(name.as_bytes()),
        None => {
            let _ = write!(out, "{func:x}");
        }
    }
    out.extend_from_slice(tail);
    if ctx.opts.depth {
        let _ = write!(out, " ({})", depth as i64);
    }
    graph_retval(out, ctx, retval);
}

/// funcgraph_exit printed on its own (a nested function's closing brace).
pub fn fgraph_exit(xf: &Fields, ctx: &Ctx, data: &[u8], out: &mut Vec<u8>) {
    let e = ctx.endian;
    let Some((duration, retval)) = exit_vals(xf, ctx, data, out) else {
        out.push(b'!');
        return;
    };
    graph_overhead(out, Some(duration));
    graph_duration(out, duration);
    let Some(depth) = get_val(out, xf.get(3), "depth", e, data, true) else {
        out.push(b'!');
        return;
    };
    indent_depth(out, depth);
    out.push(b'}');
    if ctx.opts.tailprint {
        let Some(func) = xf.get(4).and_then(|f| read_num(f, e, data)) else {
            return;
        };
        let Some((name, _)) = ctx.syms.find_func(func) else {
            return;
        };
        let _ = write!(out, " /* {name} */");
    }
    if ctx.opts.depth {
        let _ = write!(out, " ({})", depth as i64);
    }
    graph_retval(out, ctx, retval);
}

/// `for (i = 0; i < (int)(depth * 2); i++)`: the product is truncated to int.
fn indent_depth(out: &mut Vec<u8>, depth: u64) {
    let n = depth.wrapping_mul(2) as u32 as i32;
    if n > 0 {
        out.resize(out.len() + n as usize, b' ');
    }
}

impl Handler {
    /// The resolved fields of a function_graph handler.
    pub fn fgraph_fields(&self) -> Option<&Fields> {
        match self {
            Handler::FgraphEntry(f) | Handler::FgraphExit(f) => Some(f),
            _ => None,
        }
    }

    /// For a leaf check: the exit record's `common_pid` and `func` must match the entry's.
    pub fn fgraph_entry_func(&self, ctx: &Ctx, data: &[u8]) -> Option<u64> {
        match self {
            Handler::FgraphEntry(f) => f.get(0).and_then(|f| read_num(f, ctx.endian, data)),
            _ => None,
        }
    }

    /// The `func` of a funcgraph_exit record.
    pub fn fgraph_exit_func(&self, ctx: &Ctx, data: &[u8]) -> Option<u64> {
        match self {
            Handler::FgraphExit(f) => f.get(4).and_then(|f| read_num(f, ctx.endian, data)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_duration_columns() {
        let mut v = Vec::new();
        graph_duration(&mut v, 3385);
        assert_eq!(v, b"3.385 us   |  ");
        v.clear();
        graph_duration(&mut v, 15033);
        assert_eq!(v, b"15.033 us  |  ");
        v.clear();
        graph_duration(&mut v, 123_456_789_012);
        assert_eq!(v, b"123456789 us |  ");
    }

    #[test]
    fn states_table_from_flags() {
        let flags = [
            (1, b'S'),
            (2, b'D'),
            (4, b'T'),
            (8, b't'),
            (0x10, b'X'),
            (0x20, b'Z'),
            (0x40, b'P'),
            (0x80, b'I'),
        ];
        assert_eq!(states_from_flags(Some(&flags)), b"SDTtXZPI");
        let mut v = Vec::new();
        write_state(&mut v, b"SDTtXZPI", 0x80);
        assert_eq!(v, b"I");
        v.clear();
        write_state(&mut v, b"SDTtZXxW", 0x80);
        assert_eq!(v, b"W");
        v.clear();
        write_state(&mut v, b"SDTtXZPI", 0x100);
        assert_eq!(v, b"R");
    }
}
