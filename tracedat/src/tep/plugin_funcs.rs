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
