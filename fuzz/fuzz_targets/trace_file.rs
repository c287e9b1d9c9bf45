//! Whole trace.dat files: parse, metadata, every buffer's records in merged order.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tracedat::fuzzing::exercise(data);
});
