#!/usr/bin/env python3
"""Writes the case files of tracedat/tests/data/filter/ (inputs only: the expected outputs
come from running them through tools/filter-oracle/oracle.c, see run.sh).

- basic.cases: hand-picked filters (every operator, strings, regexes, COMM/CPU, missing
  fields, parse errors, the parser's quirks) against records of real kernel event formats;
- bigendian.cases: the same kind of records written big-endian;
- random.cases: random filters (mostly well-formed, some token soup) and random records;
- regex.cases: POSIX basic regexes (hand-picked and random) and subjects.

Deterministic: the random generator is seeded.
"""
import os
import random
import struct
import sys

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tracedat", "tests", "data", "filter")

COMMON = [
    ("unsigned short common_type", 0, 2, 0),
    ("unsigned char common_flags", 2, 1, 0),
    ("unsigned char common_preempt_count", 3, 1, 0),
    ("int common_pid", 4, 4, 1),
]

# (system, name, id, fields); formats as the 6.1 kernel of the fixtures writes them, plus a
# synthetic event with every integer width and both dynamic string kinds.
EVENTS = [
    ("ftrace", "function", 1, [("unsigned long ip", 8, 8, 0), ("unsigned long parent_ip", 16, 8, 0)]),
    ("ftrace", "kernel_stack", 4, [("int size", 8, 4, 1), ("unsigned long caller[8]", 16, 64, 0)]),
    ("ftrace", "user_stack", 12, [("unsigned int tgid", 8, 4, 0), ("unsigned long caller[8]", 16, 64, 0)]),
    ("irq", "irq_handler_entry", 225, [("int irq", 8, 4, 1), ("__data_loc char[] name", 12, 4, 0)]),
    ("sched", "sched_switch", 319, [
        ("char prev_comm[16]", 8, 16, 1), ("pid_t prev_pid", 24, 4, 1), ("int prev_prio", 28, 4, 1),
        ("long prev_state", 32, 8, 1), ("char next_comm[16]", 40, 16, 1), ("pid_t next_pid", 56, 4, 1),
        ("int next_prio", 60, 4, 1)]),
    ("sched", "sched_wakeup", 321, [
        ("char comm[16]", 8, 16, 1), ("pid_t pid", 24, 4, 1), ("int prio", 28, 4, 1),
        ("int target_cpu", 32, 4, 1)]),
    ("sched", "sched_process_exec", 365, [
        ("__data_loc char[] filename", 8, 4, 0), ("pid_t pid", 12, 4, 1), ("pid_t old_pid", 16, 4, 1)]),
    ("timer", "hrtimer_start", 379, [
        ("void * hrtimer", 8, 8, 0), ("void * function", 16, 8, 0), ("s64 expires", 24, 8, 1),
        ("s64 softexpires", 32, 8, 1), ("enum hrtimer_mode mode", 40, 4, 0), ("bool was_armed", 44, 1, 0)]),
    ("kmem", "kmalloc", 658, [
        ("unsigned long call_site", 8, 8, 0), ("const void * ptr", 16, 8, 0), ("size_t bytes_req", 24, 8, 0),
        ("size_t bytes_alloc", 32, 8, 0), ("unsigned long gfp_flags", 40, 8, 0), ("int node", 48, 4, 1)]),
    ("synth", "synth", 900, [
        ("s8 sc", 8, 1, 1), ("u8 uc", 9, 1, 0), ("s16 ss", 10, 2, 1), ("u16 us", 12, 2, 0),
        ("char tag[4]", 14, 4, 1), ("s32 si", 20, 4, 1), ("u32 ui", 24, 4, 0), ("s64 sl", 32, 8, 1),
        ("u64 ul", 40, 8, 0), ("void * vp", 48, 8, 0), ("__rel_loc char[] rname", 56, 4, 0),
        ("__data_loc char[] dname", 60, 4, 0), ("long lv", 64, 8, 1), ("__data_loc char[] dl2", 72, 2, 0)]),
]
FIXED_LEN = {"synth": 76}

FUNCS = [
    (0xffffffff81000000, "_stext"),
    (0xffffffff81100000, "do_sys_openat2"),
    (0xffffffff81100400, "__x64_sys_openat"),
    (0xffffffff81200000, "kmalloc_trace"),
    (0xffffffff81300000, "hrtimer_wakeup"),
]
COMMS = [(1, "systemd"), (120, "sh"), (146, "sleep"), (147, "Sleep"), (200, "a.b")]
PIDS = [0, 1, 120, 146, 147, 200, 999, -1]


def fname(decl):
    if decl.endswith("]"):
        return decl[:decl.index("[")].split()[-1]
    return decl.split()[-1]


def format_text(sysname, name, eid, fields):
    out = [f"name: {name}", f"ID: {eid}", "format:"]
    for decl, off, size, signed in COMMON:
        out.append(f"\tfield:{decl};\toffset:{off};\tsize:{size};\tsigned:{signed};")
    out.append("")
    for decl, off, size, signed in fields:
        out.append(f"\tfield:{decl};\toffset:{off};\tsize:{size};\tsigned:{signed};")
    out.append("")
    out.append('print fmt: "x"')
    return out


def event(name):
    for e in EVENTS:
        if e[1] == name:
            return e
    raise KeyError(name)


def record(name, vals, big=False, pad=8):
    """Builds a record of event `name`: vals maps field names to ints or bytes."""
    sysname, _, eid, fields = event(name)
    e = ">" if big else "<"
    size = FIXED_LEN.get(name, max(off + sz for _, off, sz, _ in COMMON + fields))
    data = bytearray(size)
    tail = bytearray()
    allf = COMMON + fields
    base = dict(common_type=vals.pop("common_type", eid), common_flags=0, common_preempt_count=0,
                common_pid=vals.pop("common_pid", 0))
    base.update(vals)
    for decl, off, sz, signed in allf:
        n = fname(decl)
        if n not in base:
            continue
        v = base[n]
        if "__data_loc" in decl or "__rel_loc" in decl:
            s, keep_len = v if isinstance(v, tuple) else (v, None)
            start = size + len(tail)
            tail += s
            ln = len(s) if keep_len is None else keep_len
            where = start - (off + sz) if "__rel_loc" in decl else start
            # libtraceevent reads the descriptor as a host (little-endian) int.
            if sz == 2:
                data[off:off + 2] = struct.pack("<H", where & 0xffff)
            else:
                data[off:off + 4] = struct.pack("<I", (ln << 16) | (where & 0xffff))
        elif isinstance(v, (bytes, bytearray)):
            b = bytes(v)[:sz]
            data[off:off + len(b)] = b
        else:
            fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[sz]
            data[off:off + sz] = struct.pack(e + fmt, v & ((1 << (8 * sz)) - 1))
    return bytes(data + tail + bytes(pad))


def header(big=False):
    out = ["# generated by tools/filter-oracle/gen.py; expectations by oracle.c (run.sh)"]
    out.append("endian big" if big else "endian little")
    for sysname, name, eid, fields in EVENTS:
        out.append(f"format {sysname}")
        out += format_text(sysname, name, eid, fields)
        out.append("end")
    for pid, c in COMMS:
        out.append(f"comm {pid} {c}")
    for a, n in FUNCS:
        out.append(f"func {a:x} {n}")
    return out


def cstr(s, n):
    b = s.encode()
    return b[:n] + bytes(max(0, n - len(b)))


def sample_records(big=False):
    """A fixed set of records covering every event and edge values."""
    r = []
    def add(cpu, ev, **vals):
        r.append(f"record r{len(r)} {cpu} {record(ev, vals, big).hex()}")
    add(0, "sched_switch", common_pid=146, prev_comm=cstr("sleep", 16), prev_pid=146, prev_prio=120,
        prev_state=1, next_comm=cstr("swapper/0", 16), next_pid=0, next_prio=120)
    add(1, "sched_switch", common_pid=0, prev_comm=cstr("swapper/1", 16), prev_pid=0, prev_prio=-1,
        prev_state=0, next_comm=b"0123456789abcdefXX", next_pid=-1, next_prio=-100)
    add(2, "sched_switch", common_pid=120, prev_comm=cstr("SH", 16), prev_pid=120, prev_prio=0x7fffffff,
        prev_state=-1, next_comm=cstr("", 16), next_pid=1, next_prio=5)
    add(0, "sched_wakeup", common_pid=999, comm=cstr("rcu_preempt", 16), pid=15, prio=120, target_cpu=1)
    add(3, "sched_wakeup", common_pid=1, comm=cstr("a.b", 16), pid=200, prio=-5, target_cpu=3)
    add(0, "sched_process_exec", common_pid=146, filename=b"/bin/sleep\0", pid=146, old_pid=146)
    add(1, "sched_process_exec", common_pid=147, filename=(b"/usr/bin/env", 12), pid=147, old_pid=3)
    add(1, "sched_process_exec", common_pid=147, filename=(b"\0", 0), pid=-7, old_pid=0)
    add(0, "irq_handler_entry", common_pid=0, irq=11, name=b"eth0\0")
    add(1, "irq_handler_entry", common_pid=0, irq=-1, name=b"virtio0-input.0\0")
    add(0, "function", common_pid=146, ip=0xffffffff81100000, parent_ip=0xffffffff81100410)
    add(0, "kernel_stack", common_pid=146, size=5, caller=bytes(64))
    add(1, "function", common_pid=120, ip=0xffffffff81300010, parent_ip=0x1234)
    add(1, "user_stack", common_pid=120, tgid=120, caller=bytes(64))
    add(0, "hrtimer_start", common_pid=0, hrtimer=0xffff888003e1a000, function=0xffffffff81300000,
        expires=-5, softexpires=70000000000, mode=1, was_armed=1)
    add(1, "kmalloc", common_pid=1, call_site=0xffffffff81200010, ptr=0xffff888004000000, bytes_req=100,
        bytes_alloc=128, gfp_flags=0xcc0, node=-1)
    add(2, "kmalloc", common_pid=200, call_site=0xffffffff81400000, ptr=0, bytes_req=0,
        bytes_alloc=0, gfp_flags=0, node=0)
    add(3, "synth", common_pid=1, sc=-1, uc=255, ss=-300, us=65535, tag=b"ABCD", si=-2, ui=0xffffffff,
        sl=-(1 << 40), ul=(1 << 64) - 1, vp=0xffffffff81000000, rname=b"rel\0", dname=b"dyn\0",
        lv=-9, dl2=b"old\0")
    add(2, "synth", common_pid=147, sc=127, uc=0, ss=1, us=2, tag=b"x\0yz", si=7, ui=7, sl=7, ul=7,
        vp=0xffffffff81100401, rname=(b"nonul", 5), dname=(b"ab", 2), lv=0x7fffffffffffffff, dl2=b"\0")
    # an id no format has
    add(0, "synth", common_type=777, common_pid=1)
    return r


BASIC_FILTERS = r"""
sched_switch
sched
SCHED_SWITCH
sched/sched_switch
sched_.*
sched_sw
.*
sched_switch,sched_wakeup
sched_wakeup,sched_switch,sched_wakeup
sched\|irq
sched_switch\|kmalloc
/sched_switch
sched/
sched/sched_switch/extra
 sched / sched_switch :prev_pid==0
nosuch
[
sched/[
,sched
sched,
:prev_pid == 0
nosuch:prev_pid == 0
sched_switch:prev_comm == "a,b"
sched_switch,nosuch:prev_pid == 0
sched_switch:
sched_switch:prev_pid == 0
sched_switch:prev_pid != 0
sched_switch:prev_pid > -1
sched_switch:prev_pid < 0
sched_switch:prev_prio < 0
sched_switch:prev_prio > 100
sched_switch:prev_pid <= 120 && prev_pid >= 120
sched_switch:prev_state == 1
sched_switch:prev_state & 1
sched_switch:prev_state & 0x1
sched_switch:prev_state & 010
sched_switch:prev_state | 0
sched_switch:prev_state ^ 1
sched_switch:prev_pid + 1
sched_switch:prev_pid - 146
sched_switch:prev_pid * 0
sched_switch:prev_pid / 2
sched_switch:prev_pid / 0
sched_switch:prev_pid % 0
sched_switch:prev_pid % 7
sched_switch:prev_pid >> 1
sched_switch:prev_pid << 70
sched_switch:prev_pid ~ 1
sched_switch:prev_pid + 1 == 147
sched_switch:prev_pid == 1 + 2
sched_switch:1 == prev_pid
sched_switch:1 & prev_pid
sched_switch:prev_pid == next_pid
sched_switch:prev_pid == 0 && next_pid == 0
sched_switch:prev_pid == 0 || next_pid == 0
sched_switch:prev_pid == 0 || next_pid == 1 && prev_prio == 0
sched_switch:prev_pid == 0 && (next_pid == 1 || prev_prio == 0)
sched_switch:(prev_pid == 0)
sched_switch:((prev_pid == 0))
sched_switch:((prev_pid == 0)
sched_switch:(prev_pid == 0))
sched_switch:()
sched_switch:!prev_pid == 0
sched_switch:!(prev_pid == 0)
sched_switch:!!(prev_pid == 0)
sched_switch:! prev_pid
sched_switch:prev_pid == 0 !next_pid == 0
sched_switch:prev_pid == 0 next_pid == 1
sched_switch:prev_pid == 0 && && next_pid == 1
sched_switch:prev_pid == 0 &&
sched_switch:prev_pid ==
sched_switch:prev_pid
sched_switch:== 1
sched_switch:prev_pid = 1
sched_switch:prev_pid === 1
sched_switch:prev_pid $ 1
sched_switch:prev_pid -> 1
sched_switch:prev_pid, 1
sched_switch:prev_pid == 1.5
sched_switch:prev_pid == 0x
sched_switch:prev_pid == 0xg
sched_switch:prev_pid == 99999999999999999999999
sched_switch:prev_pid == 18446744073709551615
sched_switch:next_pid == 0xffffffffffffffff
sched_switch:next_pid == 4294967295
sched_switch:prev_comm == "sleep"
sched_switch:prev_comm != "sleep"
sched_switch:prev_comm == "SLEEP"
sched_switch:prev_comm =~ "SLEEP"
sched_switch:prev_comm =~ "^sl"
sched_switch:prev_comm =~ "p$"
sched_switch:prev_comm !~ "^sw"
sched_switch:prev_comm =~ "sw.*/1"
sched_switch:prev_comm =~ "sl(e)"
sched_switch:prev_comm =~ "sl\(e\)"
sched_switch:prev_comm =~ "sle+p"
sched_switch:prev_comm =~ "sle\+p"
sched_switch:prev_comm =~ "sleep|sh"
sched_switch:prev_comm =~ "sleep\|sh"
sched_switch:prev_comm =~ "["
sched_switch:prev_comm =~ "\a"
sched_switch:prev_comm =~ "[[:digit:]]"
sched_switch:next_comm =~ "^0123456789abcdef$"
sched_switch:next_comm == "0123456789abcdef"
sched_switch:next_comm == ""
sched_switch:prev_comm ~ "s*"
sched_switch:prev_comm > "a"
sched_switch:prev_comm & "a"
sched_switch:prev_pid & "x"
sched_switch:prev_pid == 0 || prev_pid & "x"
sched_switch:prev_pid == 146 || prev_pid & "x"
sched_switch:prev_comm == 'sleep'
sched_switch:prev_comm == 's'
sched_switch:prev_comm =~ 's'
sched_switch:prev_pid == 'R'
sched_switch:prev_pid != 'R'
sched_switch:prev_pid < 'R'
sched_switch:prev_pid == "1"
sched_switch:prev_pid =~ "1"
sched_switch:prev_pid =~ 1
sched_switch:prev_comm == "a" "b"
sched_switch:prev_comm == "sl" "eep"
sched_switch:prev_comm == "sleep" 1
sched_switch:prev_comm == "sleep" 1 2
sched_switch:prev_comm == "unterminated
sched_switch:prev_comm == "\"sleep\""
sched_switch:COMM == "sleep"
sched_switch:COMM =~ "^S"
sched_switch:COMM != "<idle>"
sched_switch:COMM == "<...>"
sched_switch:COMM > 5
sched_switch:COMM == 5
sched_switch:COMM & 1
sched_switch:CPU == 1
sched_switch:CPU > 1
sched_switch:CPU
sched_switch:CPU == "0x1"
sched_switch:CPU =~ "1"
sched_switch:prev_pid == 1 && CPU == "1"
sched_switch:common_pid == 146
sched_switch:common_type == 319
sched_switch:common_flags == 0
sched_switch:common_preempt_count != 0
sched_switch:pid == 1
sched_switch:pid == 1 || prev_pid == 0
sched_switch:pid != 1 && prev_pid == 0
sched_switch:!(pid == 1)
sched_switch:!(pid == 1) && prev_pid == 0
sched_switch:!(pid == 1) || prev_pid == 0
sched_switch:pid & 1
sched_switch:prev_pid & pid
sched_switch:pid == "x"
sched_switch:pid =~ "["
sched_switch:prev_pid == pid
sched_switch:pid ==
sched_switch:pid == 1 &&
sched_switch:pid == 1 ||
sched_switch:prev_pid == 1 ||
sched_switch:(pid == 1 || prev_pid == 0) && next_pid == 0
sched_switch:!(pid == 1 || prev_pid == 0)
sched_switch:!(pid == 1 && prev_pid == 0)
sched_switch:prev_pid == 0 && !(pid == 1)
sched:prev_pid == 0 || pid == 15
sched:(prev_pid & 4) || (pid == 3)
.*:common_pid == 146
.*:ip == 0
.*:COMM == "sleep"
.*:(common_pid==146)||(pid==146)||(next_pid==146)
.*:(common_pid==146)||(pid==146)||(next_pid==146)||(common_pid==120)||(pid==120)||(next_pid==120)
timer:expires > 0
hrtimer_start:expires < 0
hrtimer_start:function == "hrtimer_wakeup"
hrtimer_start:function =~ "wakeup"
hrtimer_start:hrtimer == "0xffff888003e1a000"
hrtimer_start:was_armed
hrtimer_start:was_armed == 1
hrtimer_start:mode == 1
function:ip == "do_sys_openat2"
function:parent_ip == "__x64_sys_openat"
function:parent_ip == "0x1234"
function:ip =~ "^hrtimer"
function:ip > 0
kmalloc:call_site == "kmalloc_trace"
kmalloc:call_site =~ "^0x"
kmalloc:ptr == "0x0"
kmalloc:gfp_flags & 0xc00
kmalloc:node < 0
kmalloc:node == -1
kmalloc:bytes_alloc - bytes_req
irq_handler_entry:name == "eth0"
irq_handler_entry:name =~ "^virtio"
irq_handler_entry:irq == -1
irq_handler_entry:irq + 1
sched_process_exec:filename == "/bin/sleep"
sched_process_exec:filename == "/usr"
sched_process_exec:filename =~ "env"
sched_process_exec:filename == ""
sched_process_exec:filename > 0
sched_process_exec:pid != old_pid
synth:sc == -1
synth:sc > 0
synth:sc == 255
synth:sc == 0xffffffffffffffff
synth:uc == 255
synth:ss < 0
synth:us == 65535
synth:si == 4294967294
synth:ui == 4294967295
synth:sl < 0
synth:ul == 18446744073709551615
synth:ul + 1
synth:lv > 0
synth:tag == "ABCD"
synth:tag == "x"
synth:tag =~ "^AB"
synth:vp == "_stext"
synth:vp == "__x64_sys_openat"
synth:vp =~ "0x"
synth:rname == "rel"
synth:rname == "nonu"
synth:rname =~ "non"
synth:dname == "dyn"
synth:dname == "ab"
synth:dl2 == "old"
synth:dl2 == ""
synth:dl2 > 0
synth:tag & 1
synth:sc & 1 || uc & 1
kernel_stack:size == 5
user_stack:tgid == 120
sched_switch:prev_comm == LOCAL_PR_FMT
sched_switch:prev_comm == STA_PR_FMT
"""

# filters with bytes a line cannot hold: (description, text)
BASIC_HEX = [
    "sched_switch:prev_pid == 0 \x01 garbage",
    "sched_switch:prev_pid == 0 \u00e9 || next_pid == 0",
    "sched_switch:prev_comm == \"sl\u00e9ep\"",
    "sched_switch:((prev_pid == 0)\x01 next_pid == 0",
    "sched_switch:(((prev_pid == 0)\x01 next_pid == 0",
    "sched_switch:prev_pid == 0\n&& next_pid == 0",
    "sched_switch:prev_comm == \"a\nb\"",
    "sched_switch:prev_comm == \"tab\tinside\"",
    "sched_switch:prev_pid\t==\t0",
    "sched_switch:prev_pid\r==\x0b0",
]


def basic(big=False):
    out = header(big)
    recs = sample_records(big)
    out += recs
    test = "test " + " ".join(l.split()[1] for l in recs)
    for f in BASIC_FILTERS.strip("\n").split("\n"):
        out.append(f"filter {f}")
        out.append(test)
    for f in BASIC_HEX:
        out.append("filterx " + f.encode().hex())
        out.append(test)
    return out


# ---------------------------------------------------------------- random filters

NUM_FIELDS = {
    "sched_switch": ["prev_pid", "prev_prio", "prev_state", "next_pid", "next_prio"],
    "sched_wakeup": ["pid", "prio", "target_cpu"],
    "sched_process_exec": ["pid", "old_pid", "filename"],
    "irq_handler_entry": ["irq", "name"],
    "function": ["ip", "parent_ip"],
    "kernel_stack": ["size"],
    "user_stack": ["tgid"],
    "hrtimer_start": ["hrtimer", "function", "expires", "softexpires", "mode", "was_armed"],
    "kmalloc": ["call_site", "ptr", "bytes_req", "bytes_alloc", "gfp_flags", "node"],
    "synth": ["sc", "uc", "ss", "us", "tag", "si", "ui", "sl", "ul", "vp", "lv"],
}
STR_FIELDS = ["prev_comm", "next_comm", "comm", "filename", "name", "tag", "rname", "dname", "dl2",
              "ip", "function", "call_site", "vp", "hrtimer", "prev_pid", "COMM"]
COMMON_NUM = ["common_pid", "common_type", "common_flags", "common_preempt_count", "CPU"]
MISSING = ["pid", "nosuch", "expires", "irq", "x"]
EVENT_SPECS = ["sched_switch", "sched", "sched/sched_switch", "sched_.*", ".*", "synth",
               "sched_switch,sched_wakeup", "irq,kmalloc", "function", "ftrace",
               "timer/hrtimer_start", "sched_process_exec", "SYNTH", "s.*\\|k.*"]
STRINGS = ["sleep", "sh", "SH", "swapper/0", "", "eth0", "/bin/sleep", "rel", "dyn", "ab",
           "do_sys_openat2", "kmalloc_trace", "0x0", "0xffffffff81000000", "<idle>", "<...>",
           "a.b", "ABCD", "x"]
REGEXES = ["^s", "p$", "s.*p", "^$", "[a-z]*", "[[:upper:]]", "\\(sh\\|sleep\\)", "e\\{2\\}",
           "^.\\{3\\}$", "\\<a", "b\\>", "[^a-z]", "x*", "\\.", ".", "0x[0-9a-f]*", "[", "a\\{",
           "*", "\\(", "[]]", "SLEEP", "\\w\\W", "[.]b", "do_.*2", "^_"]
NUMBERS = ["0", "1", "-1", "146", "120", "0x10", "010", "255", "65535", "4294967295",
           "18446744073709551615", "0xffffffffffffffff", "3", "0x7fffffff", "100000000000", "'a'",
           "'ab'", "\"1\""]
NUM_OPS = ["==", "!=", "<", ">", "<=", ">=", "&", "|", "^", "+", "-", "*", "%", "/", ">>", "<<"]
STR_OPS = ["==", "!=", "=~", "!~"]
BAD_OPS = ["=", "===", "$", "~", ".", "->", "&&&", "=>", "!"]


def rand_num_field(r, ev):
    pool = COMMON_NUM + MISSING
    if ev in NUM_FIELDS:
        pool = pool + NUM_FIELDS[ev] * 3
    return r.choice(pool)


def rand_cmp(r, ev):
    k = r.random()
    if k < 0.45:
        f = rand_num_field(r, ev)
        op = r.choice(NUM_OPS)
        v = r.choice(NUMBERS)
        if f == "CPU" and v.startswith(("'", '"')):
            v = "1"
        if op in ("/", "%") and r.random() < 0.8:
            v = r.choice(["1", "2", "7"])
        return f"{f} {op} {v}"
    if k < 0.85:
        f = r.choice(STR_FIELDS + MISSING)
        op = r.choice(STR_OPS)
        if op in ("=~", "!~"):
            v = r.choice(REGEXES)
        else:
            v = r.choice(STRINGS)
        q = '"' if r.random() < 0.9 else "'"
        if f == "CPU":
            f = "COMM"
        return f"{f} {op} {q}{v}{q}"
    if k < 0.93:
        f = rand_num_field(r, ev)
        return f"{f} {r.choice(NUM_OPS)} {rand_num_field(r, ev)}"
    return f"{rand_num_field(r, ev)} {r.choice(BAD_OPS)} {r.choice(NUMBERS)}"


def rand_expr(r, ev, depth=0):
    k = r.random()
    if depth > 3 or k < 0.4:
        return rand_cmp(r, ev)
    if k < 0.6:
        return f"({rand_expr(r, ev, depth + 1)})"
    if k < 0.7:
        return f"!({rand_expr(r, ev, depth + 1)})"
    if k < 0.75:
        return f"!{rand_cmp(r, ev)}"
    op = r.choice(["&&", "||", "&&", "||", "&", ""])
    return f"{rand_expr(r, ev, depth + 1)} {op} {rand_expr(r, ev, depth + 1)}"


def token_soup(r, ev):
    toks = ["(", ")", "!", "&&", "||", "==", "!=", "<", "&", "+", "-", "~", "=~", ",", "'c'",
            '"s"', "1", "0x2", "COMM", "CPU"] + NUM_FIELDS.get(ev, []) + MISSING
    return " ".join(r.choice(toks) for _ in range(r.randint(1, 9)))


def spec_event(spec):
    for n in NUM_FIELDS:
        if spec.lower().startswith(n):
            return n
    return r_default


r_default = "sched_switch"


def rand_record(r, big, idx, name):
    _, _, eid, fields = event(name)
    vals = {"common_pid": r.choice(PIDS)}
    if r.random() < 0.05:
        vals["common_type"] = r.choice([2, 320, 899])
    for decl, off, sz, signed in fields:
        n = fname(decl)
        if "__data_loc" in decl or "__rel_loc" in decl:
            s = r.choice(STRINGS).encode()
            if sz == 2:
                vals[n] = s + b"\0"
            elif r.random() < 0.2:
                vals[n] = (s, len(s))
            else:
                vals[n] = s + b"\0"
        elif "[" in decl:
            s = r.choice(STRINGS).encode()
            vals[n] = s[:sz] + (b"" if r.random() < 0.1 else bytes(max(0, sz - len(s))))
        elif sz == 8 and ("*" in decl or "long" in decl) and r.random() < 0.5:
            a, _ = r.choice(FUNCS)
            vals[n] = a + r.choice([0, 1, 0x10, 0x400, 0x100000])
        else:
            vals[n] = r.choice([0, 1, -1, 2, 3, 7, 146, 120, 255, 65535, 0x7fffffff, -2 ** 31,
                                2 ** 32 - 1, 2 ** 63 - 1, r.randint(-1000, 1000)])
    return f"record q{idx} {r.randint(0, 3)} {record(name, vals, big).hex()}"


def random_cases(seed, n, big=False):
    r = random.Random(seed)
    out = header(big)
    by_event = {}
    recs = []
    for idx in range(80):
        ev = r.choice([e[1] for e in EVENTS])
        recs.append(rand_record(r, big, idx, ev))
        by_event.setdefault(ev, []).append(f"q{idx}")
    out += recs
    names = [l.split()[1] for l in recs]
    for _ in range(n):
        spec = r.choice(EVENT_SPECS)
        ev = spec_event(spec)
        if r.random() < 0.1:
            text = f"{spec}:{token_soup(r, ev)}"
        else:
            text = f"{spec}:{rand_expr(r, ev)}"
        out.append(f"filter {text}")
        own = by_event.get(ev, [])
        picks = r.sample(own, min(4, len(own))) + r.sample(names, 2)
        out.append("test " + " ".join(picks))
    return out


# ---------------------------------------------------------------- regexes

REGEX_HAND = r"""
\{1\}a
a\{,3\}
\(*a\)
^*
a\|*b
[Z-a]
[[=a=]]
x\{1
a\{2,1\}
\(a
a\)
a\{32767\}
a\{32768\}
\n
[[:foo:]]
[a
\<a
a**
a*\{2\}
$a
a$b
a^b
\(^a\)
a\|^b
\(a$\)
a$\|b
\$
\1\(a\)
a\?
\?
\+a
a\{1\}\{2\}
[[.a.]]
[[.-.]]
[[.hyphen.]]
[]a]
[^]a]
[a-]
\
a\|
\(\)

\{
a\{
a\{x\}
a\{1,2
[[:upper:]]
[_-a]
\w\W
\`a
a\'
\b*
\a
\A
[\a]
a*\+
a\+*
a\?\?
\(ab\)*c
^\{1\}
\(*\)
[[:alpha:]-z]
[[.a.]-c]
[[=a=]-c]
[%--]
[!--]
[[.[.]]
[]
[^]
[]-a]
a\{0,0\}b
a\{,\}
\(a\|b\)\{2\}
^^
$$
a\{01\}
*\{2\}
\(^*\)
a\|*
\**
\<*
[[:ALPHA:]]
[a-b-c]
[a-c-]
[-a]
[a--]
[[:alpha:]-]
[[]
[[a]
[[.].]]
[\\]
\B
a\Bb
\bb
[[:punct:]]
[[:space:]]x
[[:cntrl:]]
[[:xdigit:]]\{2\}
\s\S
[[..]-a]
[[=ab=]]
a\{1\,2\}
\(a\)\{0\}b
"""

SUBJECTS = ["a", "A", "b", "*a", "*", "xa", "a*b", "aa", "aaa", "n", "$a", "a$b", "a^b", "]", "-",
            "Z", "_", "^", "a a", "", "ab", "abab", "c", "[", "\\", "1", "z", "sleep", "SLEEP",
            "x y", "a\tb", "\u00e9", "_b", "a_b", "ba"]


def rand_bre(r):
    atoms = ["a", "b", "A", ".", "\\.", "x", "[ab]", "[^a]", "[a-c]", "[[:alpha:]]", "\\w", "\\W",
             "\\s", "^", "$", "*", "\\(", "\\)", "\\|", "\\{1\\}", "\\{0,2\\}", "\\+", "\\?", "\\<",
             "\\>", "\\b", "\\B", "[", "]", "-", "\\a", "\\B", "_", " ", "\\`", "\\'", "[]a]",
             "\\{", "\\}", "{", "}", "(", ")", "|", "+", "?"]
    return "".join(r.choice(atoms) for _ in range(r.randint(1, 4)))


def regex_cases(seed, n):
    r = random.Random(seed)
    out = ["# generated by tools/filter-oracle/gen.py; expectations by oracle.c (run.sh)"]
    subjects = SUBJECTS + ["".join(r.choice("aAbB_-*. ^$x") for _ in range(r.randint(0, 6)))
                           for _ in range(40)]
    out.append("subjects " + " ".join(s.encode().hex() for s in subjects))
    pats = REGEX_HAND.strip("\n").split("\n") + [rand_bre(r) for _ in range(n)]
    for p in pats:
        if any(f"\\{d}" in p for d in "123456789"):
            # back-references: glibc accepts them, the regex crate cannot match them
            continue
        out.append("regexx " + p.encode().hex())
    return out


def write(name, lines):
    with open(os.path.join(OUT, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    write("basic.cases", basic())
    write("bigendian.cases", basic(big=True))
    write("random.cases", random_cases(1, 3000))
    write("regex.cases", regex_cases(2, 4000))


if __name__ == "__main__":
    sys.exit(main())
