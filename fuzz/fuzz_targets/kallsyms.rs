//! KALLSYMS texts: the symbol table's parse and lookups, borrowed and from an owned buffer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tracedat::fuzzing::exercise_kallsyms(data);
});
