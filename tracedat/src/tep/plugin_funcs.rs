//! Helper functions that libtraceevent plugins register for print formats
//! (`tep_register_print_function`): the xen hypercall names (plugins/plugin_xen.c). The other
//! helpers (jbd2, kvm, cfg80211) are one-liners in `eval.rs`.

const XEN_HYPERCALLS: [(u32, &[u8]); 42] = [
    (0, b"(set_trap_table)"),
    (1, b"(mmu_update)"),
    (2, b"(set_gdt)"),
    (3, b"(stack_switch)"),
    (4, b"(set_callbacks)"),
    (5, b"(fpu_taskswitch)"),
    (6, b"(sched_op_compat)"),
    (7, b"(dom0_op)"),
    (8, b"(set_debugreg)"),
    (9, b"(get_debugreg)"),
    (10, b"(update_descriptor)"),
    (12, b"(memory_op)"),
    (13, b"(multicall)"),
    (14, b"(update_va_mapping)"),
    (15, b"(set_timer_op)"),
    (16, b"(event_channel_op_compat)"),
    (17, b"(xen_version)"),
    (18, b"(console_io)"),
    (19, b"(physdev_op_compat)"),
    (20, b"(grant_table_op)"),
    (21, b"(vm_assist)"),
    (22, b"(update_va_mapping_otherdomain)"),
    (23, b"(iret)"),
    (24, b"(vcpu_op)"),
    (25, b"(set_segment_base)"),
    (26, b"(mmuext_op)"),
    (27, b"(acm_op)"),
    (28, b"(nmi_op)"),
    (29, b"(sched_op)"),
    (30, b"(callback_op)"),
    (31, b"(xenoprof_op)"),
    (32, b"(event_channel_op)"),
    (33, b"(physdev_op)"),
    (34, b"(hvm_op)"),
    (48, b"(arch_0)"),
    (49, b"(arch_1)"),
    (50, b"(arch_2)"),
    (51, b"(arch_3)"),
    (52, b"(arch_4)"),
    (53, b"(arch_5)"),
    (54, b"(arch_6)"),
    (55, b"(arch_7)"),
];

/// `xen_hypercall_name()`: the name in parentheses, empty for unknown numbers.
pub(crate) fn xen_hypercall_name(op: u32) -> &'static [u8] {
    XEN_HYPERCALLS
        .iter()
        .find(|(n, _)| *n == op)
        .map_or(b"", |(_, s)| s)
}

/// A CDB byte shifted into a 32-bit C `int` and widened to a 64-bit `sector_t`: bytes from
/// 0x80 up set the sign bit, which then fills the upper half (the plugin does the shifts in
/// `int` arithmetic).
fn int_shift(b: u8, sh: u32) -> u64 {
    (((b as u32) << sh) as i32) as i64 as u64
}

fn be32_int(c: &[u8; 32], at: usize) -> u64 {
    int_shift(c[at], 24) | int_shift(c[at + 1], 16) | int_shift(c[at + 2], 8) | c[at + 3] as u64
}

fn be64(c: &[u8; 32], at: usize) -> u64 {
    ((c[at] as u64) << 56)
        | ((c[at + 1] as u64) << 48)
        | ((c[at + 2] as u64) << 40)
        | ((c[at + 3] as u64) << 32)
        | be32_int(c, at + 4)
}

/// The scsi plugin's `scsi_trace_parse_cdb(p, cdb, len)` (plugins/plugin_scsi.c, after the
/// kernel's drivers/scsi/scsi_trace.c): a one-line decoding of a SCSI command descriptor
/// block, followed by a NUL (which ends the text when it is printed through `%s`).
pub(crate) fn scsi_cdb(out: &mut Vec<u8>, c: &[u8; 32]) {
    use std::io::Write;
    let protect = |b: u8| b >> 5;
    let sa32 = ((c[8] as u32) << 8) | c[9] as u32;
    let rw32 = |out: &mut Vec<u8>| {
        let cmd = match sa32 {
            0x09 => "READ",
            0x0a => "VERIFY",
            0x0b => "WRITE",
            0x0d => "WRITE_SAME",
            _ => {
                out.extend_from_slice(b"UNKNOWN");
                return;
            }
        };
        let lba = be64(c, 12);
        let ei = be32_int(c, 20) as u32;
        let txlen = be32_int(c, 28);
        let _ = write!(
            out,
            "{cmd}_32 lba={lba} txlen={txlen} protect={} ei_lbrt={ei}",
            protect(c[10])
        );
        if sa32 == 0x0d {
            let _ = write!(out, " unmap={}", c[10] >> 3 & 1);
        }
    };
    match c[0] {
        0x08 | 0x0a => {
            let lba = (((c[1] & 0x1f) as u64) << 16) | ((c[2] as u64) << 8) | c[3] as u64;
            let _ = write!(out, "lba={lba} txlen={}", c[4]);
        }
        0x28 | 0x2f | 0x2a | 0x41 => {
            let lba = be32_int(c, 2);
            let txlen = ((c[7] as u64) << 8) | c[8] as u64;
            let _ = write!(out, "lba={lba} txlen={txlen} protect={}", protect(c[1]));
            if c[0] == 0x41 {
                let _ = write!(out, " unmap={}", c[1] >> 3 & 1);
            }
        }
        0xa8 | 0xaf | 0xaa => {
            let _ = write!(
                out,
                "lba={} txlen={} protect={}",
                be32_int(c, 2),
                be32_int(c, 6),
                protect(c[1])
            );
        }
        0x88 | 0x8f | 0x8a | 0x93 => {
            let _ = write!(
                out,
                "lba={} txlen={} protect={}",
                be64(c, 2),
                be32_int(c, 10),
                protect(c[1])
            );
            if c[0] == 0x93 {
                let _ = write!(out, " unmap={}", c[1] >> 3 & 1);
            }
        }
        0x42 => {
            let regions = ((c[7] as u32) << 8) | c[8] as u32;
            let _ = write!(out, "regions={}", regions.wrapping_sub(8) / 16);
        }
        0x9e => {
            let cmd = match c[1] & 0x1f {
                0x10 => "READ_CAPACITY_16",
                0x12 => "GET_LBA_STATUS",
                _ => "",
            };
            if cmd.is_empty() {
                out.extend_from_slice(b"UNKNOWN");
            } else {
                let _ = write!(
                    out,
                    "{cmd} lba={} alloc_len={}",
                    be64(c, 2),
                    be32_int(c, 10) as u32
                );
            }
        }
        0x7f if matches!(sa32, 0x09 | 0x0a | 0x0b | 0x0d) => rw32(out),
        _ => out.push(b'-'),
    }
    out.push(0);
}
